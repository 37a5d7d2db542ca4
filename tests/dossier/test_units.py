"""Unit checks of the dossier writers on the synthetic dossier (every status, every proof kind)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from openpyxl import load_workbook

from segur_mss.evidence.allure import AllureRedaction
from segur_mss.evidence.store import ScenarioEvidence
from segur_mss.evidence.workbook import build_workbook
from segur_mss.redaction import Redactor
from segur_mss.verdicts import Check

from ..conftest import load_results
from .conftest import SECRET_TOKEN, png


def test_junit_maps_every_status(synthetic_run: Path) -> None:
    root = ET.parse(synthetic_run / "junit.xml").getroot()
    cases = {c.find("properties/property[@name='scenario']").get("value"): c for c in root.iter("testcase")}
    assert cases["SC.MSS/CONF.16.01"].find("failure") is None
    failure = cases["SC.MSS/CONF.16.02"].find("failure")
    assert "attendu : SEGUR-MSS-REF-0001 ; observé : en-tête X-MSS-NIL absent" in failure.get("message")
    assert cases["SC.MSS/CONF.14.01"].find("error") is not None
    assert cases["SC.MSS/UX.10.01"].find("skipped").get("message").startswith("preuve attendue : ")
    assert cases["SC.MSS/CONF.17.01"].find("skipped").get("message").startswith("non applicable")
    assert root.get("tests") == "5" and root.get("failures") == "1" and root.get("errors") == "1"
    assert root.get("skipped") == "2"
    suite = next(s for s in root.iter("testsuite") if s.get("name") == "SC.MSS/CONF.16")
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props["requirement"] == "SC.MSS/CONF.16" and props["requirement_statut"] == "non conforme"


def test_workbook_writes_candidate_values_as_text_never_formulas(synthetic_run: Path, tmp_path: Path) -> None:
    results = load_results(synthetic_run)
    results["requirements"][0]["scenarios"] = [{
        "id": "SC.MSS/CONF.01.01", "name": "=HYPERLINK(\"http://x\")", "status": "failed", "proofs": [],
        "failures": [{"check": "TLS", "expected": "TLS 1.2", "observed": "=1+1\x07"}], "reason": None,
    }]
    path = tmp_path / "c.xlsx"
    path.write_bytes(build_workbook(results, overlay={}))
    sheet = load_workbook(path)["Preuves"]
    header = [c.value for c in sheet[1]]
    row = {h: c for h, c in zip(header, sheet[2], strict=True)}
    assert row["Scénario de conformité"].value == "=HYPERLINK(\"http://x\")"
    assert row["Scénario de conformité"].data_type == "s"
    assert "observé : =1+1\ufffd" in row["Observations"].value


def test_store_keeps_files_and_redacts_checks(tmp_path: Path) -> None:
    redactor = Redactor()
    redactor.register(SECRET_TOKEN)
    ev = ScenarioEvidence(tmp_path, "SC.MSS/UX.10", "SC.MSS/UX.10.01", "capture", redactor=redactor)
    image = tmp_path / "capture.png"
    image.write_bytes(png())
    proof = ev.add_file("screenshot", image, "capture d'écran")
    assert proof.media_type == "image/png" and (tmp_path / proof.path).read_bytes() == png()
    ev.record_check(Check("SC.MSS/UX.10", "jeton", "rien", f"Bearer {SECRET_TOKEN}", False))
    ev.finish("failed")
    record = json.loads((ev.directory / "scenario.json").read_text(encoding="utf-8"))
    assert SECRET_TOKEN not in json.dumps(record) and record["finished"] and record["proofs"][0]["created"]


def test_allure_results_and_attachments_are_redacted(tmp_path: Path) -> None:
    from allure_commons.model2 import StatusDetails, TestResult, TestStepResult

    redactor = Redactor()
    redactor.register("jeton-opaque-123456")
    plugin = AllureRedaction(tmp_path, redactor)
    result = TestResult(name="scénario", statusDetails=StatusDetails(message="refusé : jeton-opaque-123456",
                                                                     trace=f"E   {SECRET_TOKEN}"),
                        steps=[TestStepResult(name="Bearer jeton-opaque-123456")])
    plugin.report_result(result)
    assert "jeton-opaque" not in result.statusDetails.message and SECRET_TOKEN not in result.statusDetails.trace
    assert result.steps[0].name == "Bearer [EXPURGÉ]"
    (tmp_path / "a-attachment.txt").write_text("log: jeton-opaque-123456", encoding="utf-8")
    plugin.report_attached_data(b"", "a-attachment.txt")
    assert (tmp_path / "a-attachment.txt").read_text(encoding="utf-8") == "log: [EXPURGÉ]"


def test_campaign_log_is_redacted_before_sealing(tmp_path: Path) -> None:
    from segur_mss.evidence.commands import redact_log

    log = f"E   assert '{SECRET_TOKEN}' == ''\nAuthorization: Bearer abcdefghijkl0123\n"
    (tmp_path / "campagne.log").write_text(log, encoding="utf-8")
    redact_log(tmp_path)
    text = (tmp_path / "campagne.log").read_text(encoding="utf-8")
    assert SECRET_TOKEN not in text and "abcdefghijkl0123" not in text and text.count("[EXPURGÉ]") == 2
