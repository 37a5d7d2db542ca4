"""Shared helpers of the harness's own tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]

# A developer's imported official REM must not change what the tests see (the CLI children inherit this).
os.environ["SEGUR_MSS_REM"] = str(Path(tempfile.mkdtemp(prefix="segur-mss-tests-")) / "rem_officiel.yaml")
SHARED = ROOT.parent / "shared"


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "segur_mss.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def load_results(out: Path) -> dict[str, Any]:
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


def requirement(results: dict[str, Any], req_id: str) -> dict[str, Any]:
    return next(r for r in results["requirements"] if r["id"] == req_id)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.exists():
        pytest.skip(f"dossier partagé absent ({SHARED}) : données ANS indisponibles")
    return SHARED
