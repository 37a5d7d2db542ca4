"""A run killed mid-way (a signal to the CLI, or the campaign process killed outright) leaves an openable report
marked incomplete, with the evidence gathered so far, and a bundle that verifies."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from segur_mss.evidence.bundle import verify

from ..conftest import ROOT, load_results, requirement
from .conftest import flat

CONF16 = "SC.MSS/CONF.16"


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@pytest.mark.parametrize("how", ["sigint-cli", "sigterm-cli", "sigkill-campagne"])
def test_killed_run_leaves_an_openable_incomplete_dossier(tmp_path: Path, how: str) -> None:
    out = tmp_path / "run"
    marker = tmp_path / "pause"
    env = dict(os.environ, PYTEST_ADDOPTS="-p tests.dossier._pause_plugin", SEGUR_MSS_TEST_PAUSE_MARKER=str(marker),
               SEGUR_MSS_REM=str(tmp_path / "absent.yaml"))
    command = [sys.executable, "-m", "segur_mss.cli", "run", "--out", str(out), "--requirements", CONF16]
    cli = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 180
        while not marker.exists():
            assert cli.poll() is None, cli.communicate()
            assert time.monotonic() < deadline, "la campagne n'a jamais atteint son deuxième scénario"
            time.sleep(0.1)
        if how == "sigint-cli":
            cli.send_signal(signal.SIGINT)
        elif how == "sigterm-cli":
            cli.send_signal(signal.SIGTERM)
        else:
            for child in _children(cli.pid):
                os.kill(child, signal.SIGKILL)
        stdout, stderr = cli.communicate(timeout=120)
    finally:
        if cli.poll() is None:
            cli.kill()
    assert cli.returncode == 1, stdout + stderr
    assert "dossier incomplet" in flat(stderr)

    results = load_results(out)
    assert results["run"]["complete"] is False and results["run"]["finished"]
    conf16 = requirement(results, CONF16)
    # the first scenario is there with its verdict and its proofs; the second never ran, and the report says so
    assert [s["id"] for s in conf16["scenarios"]] == [f"{CONF16}.01"]
    scenario = conf16["scenarios"][0]
    assert scenario["status"] == "passed" and len(scenario["proofs"]) >= 2
    for proof in scenario["proofs"]:
        assert hashlib.sha256((out / proof["path"]).read_bytes()).hexdigest() == proof["sha256"]
    assert conf16["status"] == "not_tested"
    assert conf16["reason"].startswith(f"exécution interrompue avant les scénarios {CONF16}.02")

    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Dossier incomplet" in html and scenario["id"] in html and html.rstrip().endswith("</html>")
    for name in ("junit.xml", "convergence.xlsx", "manifest.json"):
        assert (out / name).is_file(), name
    check = verify(tmp_path / "run.zip")
    assert check.ok and check.run["complete"] is False, check.lines()
