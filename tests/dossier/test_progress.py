"""The live progress reads the run folder: requirements done / total, the current scenario."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from segur_mss.evidence.dossier import write_run
from segur_mss.evidence.progress import CampaignProgress, snapshot
from segur_mss.evidence.store import ScenarioEvidence


def test_snapshot_follows_the_evidence_folder(tmp_path: Path) -> None:
    assert snapshot(tmp_path).started is False
    write_run(tmp_path, {"id": "x", "planned": {"SC.MSS/CONF.16": ["SC.MSS/CONF.16.01", "SC.MSS/CONF.16.02"],
                                                "SC.MSS/CONF.14": ["SC.MSS/CONF.14.01"]}})
    snap = snapshot(tmp_path)
    assert (snap.requirements_done, snap.requirements_total, snap.scenarios_total) == (0, 2, 3)
    first = ScenarioEvidence(tmp_path, "SC.MSS/CONF.14", "SC.MSS/CONF.14.01", "INS qualifiée")
    assert snapshot(tmp_path).running == ["SC.MSS/CONF.14.01 — INS qualifiée"]
    first.finish("failed", "X-MSS-INS absent")
    snap = snapshot(tmp_path)
    assert (snap.requirements_done, snap.scenarios_done, snap.failed, snap.running) == (1, 1, 1, [])
    assert snap.last == "SC.MSS/CONF.14.01 : non conforme"
    ScenarioEvidence(tmp_path, "SC.MSS/CONF.16", "SC.MSS/CONF.16.01", "a").finish("passed")
    ScenarioEvidence(tmp_path, "SC.MSS/CONF.16", "SC.MSS/CONF.16.02", "b").finish("passed")
    snap = snapshot(tmp_path)
    assert (snap.requirements_done, snap.scenarios_done) == (2, 3)


def test_display_renders_counts_and_current_scenario(tmp_path: Path) -> None:
    write_run(tmp_path, {"id": "x", "planned": {"SC.MSS/CONF.16": ["SC.MSS/CONF.16.01"]}})
    ScenarioEvidence(tmp_path, "SC.MSS/CONF.16", "SC.MSS/CONF.16.01", "Courriel simple")
    buffer = io.StringIO()
    console = Console(file=buffer, width=120, force_terminal=False)
    with CampaignProgress(tmp_path, console, interval=0.05) as progress:
        assert progress.refresh().running
    text = buffer.getvalue()
    assert "Exigences" in text and "0/1" in text and "En cours : SC.MSS/CONF.16.01 — Courriel simple" in text


def test_run_shows_the_final_progress(campaign_run: dict) -> None:
    """Off a terminal, `segur-mss run` prints the last state of its live display: everything done."""
    import re

    stdout = " ".join(campaign_run["proc"].stdout.split())
    requirements = re.search(r"Exigences \S* ?(\d+)/(\d+)", stdout)
    scenarios = re.search(r"Scénarios \S* ?(\d+)/(\d+)", stdout)
    assert requirements and scenarios, stdout
    assert requirements.group(1) == requirements.group(2) and int(requirements.group(2)) >= 1
    assert scenarios.group(1) == scenarios.group(2)
    assert "Dernier verdict : SC.MSS/" in stdout
