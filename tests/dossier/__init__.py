"""Tests of the evidence dossier: formats, report in a browser, bundle, REM import, interrupted and parallel runs."""
