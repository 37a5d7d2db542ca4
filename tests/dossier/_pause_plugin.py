"""Test-only pytest plugin for the interruption test (`PYTEST_ADDOPTS=-p tests.dossier._pause_plugin`).

When the second scenario starts (the first one has its verdict and the dossier was rewritten), it writes the marker
file `$SEGUR_MSS_TEST_PAUSE_MARKER` and sleeps, so the test can kill the run at a known point.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

_started: list[str] = []


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_logstart(nodeid: str, location: object) -> None:
    _started.append(nodeid)
    marker = os.environ.get("SEGUR_MSS_TEST_PAUSE_MARKER")
    if marker and len(_started) == 2:
        Path(marker).write_text(nodeid, encoding="utf-8")
        time.sleep(float(os.environ.get("SEGUR_MSS_TEST_PAUSE_SECONDS", "120")))
