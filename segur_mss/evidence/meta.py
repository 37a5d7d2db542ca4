"""Versions of the tools behind a run (shown in the report header and recorded in the bundle manifest)."""

from __future__ import annotations

import platform
from importlib import metadata

from segur_mss import __version__

#: Distributions whose version matters to a reviewer (the harness, the test engine, the validators, the reports).
TOOLS = (
    "pytest",
    "pytest-bdd",
    "pytest-xdist",
    "allure-pytest-bdd",
    "aiosmtpd",
    "pymap",
    "cryptography",
    "lxml",
    "saxonche",
    "jinja2",
    "openpyxl",
)


def tool_versions() -> dict[str, str]:
    """`{"segur-mss": "0.1.0", "python": "3.11.9", "pytest": "…", …}`; absent tools are left out."""
    versions = {"segur-mss": __version__, "python": platform.python_version(), "plateforme": platform.platform()}
    for name in TOOLS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions
