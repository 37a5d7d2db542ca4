"""segur-mss: conformity harness for the Ségur wave-2 MSSanté requirements."""

__version__ = "0.1.0"
