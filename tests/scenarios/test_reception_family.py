"""The receiving, integrating and tracing family end to end (issue 9): CONF.17, CONF.18, UX.01, 05, 07, 11 (its
receiving scenarios, .01 to .50), 25, 28, 31, 37, 38, 39, 40. The reference candidate passes every automated
scenario; each faulty candidate fails its own requirement and, within the family, nothing else than what
`defects.yaml` declares; the attested display scenarios pass when a person gives the prepared answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from segur_mss.candidates.spec import load_defects
from segur_mss.catalogue import load_catalogue

from ..conftest import ROOT, load_results, requirement, run_cli

FAMILY = ("SC.MSS/CONF.17", "SC.MSS/CONF.18", "SC.MSS/UX.01", "SC.MSS/UX.05", "SC.MSS/UX.07", "SC.MSS/UX.11",
          "SC.MSS/UX.25", "SC.MSS/UX.28", "SC.MSS/UX.31", "SC.MSS/UX.37", "SC.MSS/UX.38", "SC.MSS/UX.39",
          "SC.MSS/UX.40")
ATTESTED = ("SC.MSS/UX.25.01", "SC.MSS/UX.28.01", "SC.MSS/UX.31.01")
MDN_FAILURES = {"SC.MSS/UX.05.02", "SC.MSS/UX.05.03", "SC.MSS/UX.11.01", "SC.MSS/UX.11.02", "SC.MSS/UX.11.03",
                "SC.MSS/UX.11.04", "SC.MSS/UX.11.07"}
#: defect → the scenarios of the family it must make fail (and no other).
FAULTY = {
    "not-xdm-aware": {"SC.MSS/UX.01.01"},
    "replacement-hides-previous": {"SC.MSS/UX.05.01"},
    "accepts-wrong-version": {"SC.MSS/UX.05.02"},
    "accepts-any-replacement-author": {"SC.MSS/UX.05.03"},
    "integrates-on-ins-mismatch": {"SC.MSS/UX.07.05", "SC.MSS/UX.11.03"},
    "integrates-without-traits": {"SC.MSS/UX.07.04", "SC.MSS/UX.11.04"},
    "no-mdn-on-integration-failure": MDN_FAILURES,
    "mdn-wrong-format": MDN_FAILURES | {"SC.MSS/UX.11.05"},
    "mdn-when-dnt-differs": {"SC.MSS/UX.11.06"},
    "no-update-notification": {"SC.MSS/UX.38.01"},
    "no-manual-import": {"SC.MSS/UX.39.01"},
    "no-new-document-notification": {"SC.MSS/UX.40.01"},
    "no-trace-on-deletion": {"SC.MSS/CONF.17.01"},
    "no-trace-on-failure": {"SC.MSS/CONF.17.01", "SC.MSS/CONF.18.01", "SC.MSS/UX.37.01"},
    "traces-message-content": {"SC.MSS/CONF.18.01"},
    "no-trace-on-integration": {"SC.MSS/CONF.17.01", "SC.MSS/UX.37.01"},
}


def _own(scenario_id: str) -> bool:
    """UX.11 scenarios from .51 on are the sending family's (acknowledgement requests)."""
    return not scenario_id.startswith("SC.MSS/UX.11.") or int(scenario_id.rsplit(".", 1)[1]) < 51


def _campaign(out: Path, candidate: str, *extra: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    args = [sys.executable, "-m", "segur_mss.cli", "run", "--candidate", candidate, "--requirements",
            ",".join(FAMILY), "--out", str(out), *extra]
    if env is None:
        proc = run_cli(*args[3:])
    else:
        proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert (out / "results.json").is_file(), proc.stdout + proc.stderr
    return proc.returncode, load_results(out)


def _scenarios(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {sc["id"]: sc for req in results["requirements"] if req["id"] in FAMILY for sc in req["scenarios"]
            if _own(sc["id"])}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("reception-reference") / "run"
    _, results = _campaign(out, "reference")
    return out, results


# -- the reference campaign -------------------------------------------------------------------------------------
def test_reference_passes_every_automated_scenario_of_the_family(reference) -> None:
    _, results = reference
    scenarios = _scenarios(results)
    assert len(scenarios) == 28, sorted(scenarios)
    for scenario_id, sc in scenarios.items():
        if scenario_id in ATTESTED:
            assert sc["status"] == "awaiting_evidence" and "capture d'écran" in sc["reason"], sc
            assert any(p["kind"] == "message" for p in sc["proofs"])  # the delivered mail the person looks at
        else:
            assert sc["status"] == "passed", (scenario_id, sc.get("reason"), sc["failures"])
    statuses = {req: requirement(results, req)["status"] for req in FAMILY if req != "SC.MSS/UX.11"}
    awaiting = {"SC.MSS/UX.25", "SC.MSS/UX.28", "SC.MSS/UX.31"}
    assert statuses == {r: "awaiting_evidence" if r in awaiting else "passed" for r in statuses}, statuses
    assert results["run"]["complete"] is True


def test_dossier_shows_the_delivered_mail_the_mdn_and_the_findings(reference) -> None:
    out, results = reference
    sc = _scenarios(results)["SC.MSS/UX.11.03"]
    by_kind = {p["kind"]: p for p in sc["proofs"]}
    delivered = (out / by_kind["message"]["path"]).read_bytes()
    assert b"Disposition-Notification-To:" in delivered and b"IHE_XDM.zip" in delivered
    report = json.loads((out / by_kind["validator_report"]["path"]).read_text(encoding="utf-8"))
    assert report["extra"]["error_code"] == 904 and report["extra"]["expected_code"] == 904
    mdn = next(p for p in sc["proofs"] if p["kind"] == "message" and "soumis par le candidat" in p["title"])
    raw = (out / mdn["path"]).read_bytes()
    assert b"multipart/report" in raw and b"message/disposition-notification" in raw
    check = sc["checks"][0]
    assert "processed/Error: 904^" in check["observed"] and "Final-Recipient" in check["expected"]


def test_dossier_shows_the_sequence_and_the_trace_export(reference) -> None:
    out, results = reference
    sc = _scenarios(results)["SC.MSS/CONF.18.01"]
    log = next(p for p in sc["proofs"] if p["kind"] == "log")
    journal = (out / log["path"]).read_text(encoding="utf-8")
    assert "envoi-echoue" in journal and "550 5.1.1" in journal and "remplacement" in journal
    export = next(p for p in sc["proofs"] if p["kind"] == "export")
    traces = json.loads((out / export["path"]).read_text(encoding="utf-8"))
    assert {t["action"] for t in traces} >= {"consultation", "envoi", "suppression", "integration",
                                              "echec_integration"}
    assert [c["passed"] for c in sc["checks"]] == [True, True, True]
    conf17 = _scenarios(results)["SC.MSS/CONF.17.01"]
    assert any("conservation des traces déclarée : 183 jours" in n for n in conf17["notes"])


def test_catalogue_and_features_say_what_is_not_public() -> None:
    catalogue = load_catalogue()
    for req in FAMILY:
        assert catalogue.get(req).not_tested_reason is None, req
    for req in ("SC.MSS/UX.38", "SC.MSS/UX.39", "SC.MSS/UX.40"):
        assert catalogue.get(req).provenance == "regroupement" and "automatique" in catalogue.get(req).modes
    features = ROOT / "features" / "reception"
    for name in ("UX.38_information_mise_a_jour.feature", "UX.39_import_manuel.feature"):
        assert "n'est pas public" in (features / name).read_text(encoding="utf-8")


# -- faulty candidates ------------------------------------------------------------------------------------------------
def test_every_defect_of_the_family_is_listed_here() -> None:
    family = {name for name, d in load_defects().items() if d.requirement in FAMILY
              and not (d.requirement == "SC.MSS/UX.11" and name in {"no-read-receipt-request", "no-dsn-request",
                                                                     "dsn-not-acknowledged"})}
    assert family == set(FAULTY)


@pytest.mark.parametrize("defect", sorted(FAULTY))
def test_faulty_candidate_fails_its_requirement_only(defect: str, reference, tmp_path: Path) -> None:
    _, ref_results = reference
    declared = load_defects()[defect]
    code, results = _campaign(tmp_path / "run", f"faulty:{defect}")
    assert code == 1
    scenarios = _scenarios(results)
    failed = {i for i, sc in scenarios.items() if sc["status"] == "failed"}
    assert failed == FAULTY[defect], (failed, {i: scenarios[i]["failures"] for i in failed})
    assert requirement(results, declared.requirement)["status"] == "failed"
    for req in FAMILY:
        if req != declared.requirement and req not in declared.collateral:
            assert requirement(results, req)["status"] == requirement(ref_results, req)["status"], req
    for scenario_id in FAULTY[defect]:
        assert scenarios[scenario_id]["failures"], scenario_id  # the failed check says expected vs observed
    touched = {i.rsplit(".", 1)[0] for i in failed}
    assert touched <= {declared.requirement, *declared.collateral}, touched


# -- the attested display rules with a person giving prepared answers -------------------------------------------------
def test_attested_display_scenarios_pass_with_prepared_answers(tmp_path: Path) -> None:
    answers = tmp_path / "reponses.yaml"
    lines = ["scenarios:"]
    for scenario_id, shown in (("SC.MSS/UX.25.01", "patient ou professionnel"), ("SC.MSS/UX.28.01", "objet"),
                               ("SC.MSS/UX.31.01", "identité du patient")):
        picture = tmp_path / f"{scenario_id.rsplit('/', 1)[1]}.png"
        picture.write_bytes(b"\x89PNG\r\n\x1a\n" + scenario_id.encode() + b"\x00" * 32)
        lines += [f"  {scenario_id}:", f'    declaration: "La capture montre : {shown}."',
                  f"    fichiers:\n      - {{chemin: {picture.name}, type: screenshot}}"]
    answers.write_text("\n".join(lines) + "\n", encoding="utf-8")
    addopts = f"{os.environ.get('PYTEST_ADDOPTS', '')} -p tests.scenarios._personne_attestante".strip()
    env = dict(os.environ, PYTEST_ADDOPTS=addopts)
    env.pop("CI", None)
    out = tmp_path / "run"
    args = [sys.executable, "-m", "segur_mss.cli", "run", "--candidate", "reference", "--requirements",
            "SC.MSS/UX.25,SC.MSS/UX.28,SC.MSS/UX.31", "--answers", str(answers), "--out", str(out)]
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    results = load_results(out)
    for req in ("SC.MSS/UX.25", "SC.MSS/UX.28", "SC.MSS/UX.31"):
        entry = requirement(results, req)
        assert entry["status"] == "passed", (proc.stdout[-2000:], entry)
        (sc,) = entry["scenarios"]
        kinds = [p["kind"] for p in sc["proofs"]]
        assert "screenshot" in kinds and "statement" in kinds and "message" in kinds, kinds
        statement = next(p for p in sc["proofs"] if p["kind"] == "statement")
        text = (out / statement["path"]).read_text(encoding="utf-8")
        assert "sha256" in text and "capture d'écran" in text
