"""Evidence store, verdict aggregation and results of an interrupted run."""

from __future__ import annotations

import json
from pathlib import Path

from segur_mss.catalogue import load_catalogue
from segur_mss.evidence.dossier import write_dossier, write_run
from segur_mss.evidence.store import ScenarioEvidence
from segur_mss.redaction import Redactor
from segur_mss.verdicts import Check, combine


def test_combine_is_passed_only_when_all_applicable_passed() -> None:
    assert combine(["passed", "passed"]) == "passed"
    assert combine(["passed", "failed"]) == "failed"
    assert combine(["passed", "error"]) == "error"
    assert combine(["passed", "not_applicable"]) == "passed"
    assert combine(["passed", "awaiting_evidence"]) == "awaiting_evidence"
    assert combine(["not_applicable"]) == "not_applicable"


def test_proofs_are_numbered_hashed_and_redacted(tmp_path: Path) -> None:
    redactor = Redactor()
    redactor.register("s3cr3t-token-value")
    ev = ScenarioEvidence(tmp_path, "SC.MSS/CONF.16", "SC.MSS/CONF.16.01", "essai", redactor=redactor)
    first = ev.add_proof("transcript", "a.log", "AUTH with s3cr3t-token-value", "t")
    second = ev.add_proof("message", "b.eml", b"Subject: x\r\n\r\nbody", "m", media_type="message/rfc822")
    assert (first.id, second.id) == ("SC.MSS/CONF.16.01.01", "SC.MSS/CONF.16.01.02")
    stored = (tmp_path / first.path).read_text(encoding="utf-8")
    assert "s3cr3t" not in stored and "[EXPURGÉ]" in stored
    record = json.loads((ev.directory / "scenario.json").read_text(encoding="utf-8"))
    assert record["status"] == "running" and len(record["proofs"]) == 2


def test_interrupted_run_leaves_an_incomplete_dossier(tmp_path: Path) -> None:
    catalogue = load_catalogue()
    write_run(tmp_path, {"id": "x", "candidate": "reference", "complete": False,
                         "planned": {"SC.MSS/CONF.16": ["SC.MSS/CONF.16.01", "SC.MSS/CONF.16.02"]}})
    ev = ScenarioEvidence(tmp_path, "SC.MSS/CONF.16", "SC.MSS/CONF.16.01", "essai")
    ev.record_check(Check("SC.MSS/CONF.16", "c", "a", "a", True))
    results = write_dossier(tmp_path, catalogue)  # the scenario never got its verdict
    conf16 = next(r for r in results["requirements"] if r["id"] == "SC.MSS/CONF.16")
    assert results["run"]["complete"] is False
    assert conf16["status"] == "error"
    assert conf16["scenarios"][0]["reason"].startswith("scénario interrompu")
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Dossier incomplet" in html
