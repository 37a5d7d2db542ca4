"""A real campaign run produces every format of the dossier, consistent with results.json."""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from segur_mss.evidence.rem_import import ANS_COLUMNS
from segur_mss.evidence.workbook import COLUMNS

from ..conftest import load_results

FORMATS = ("report.html", "results.json", "junit.xml", "convergence.xlsx", "manifest.json", "run.json",
           "campagne.log")


def _scenarios(results: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(req, sc) for req in results["requirements"] for sc in req["scenarios"]]


def test_a_run_writes_every_format_and_the_bundle(campaign_run: dict[str, Any]) -> None:
    out: Path = campaign_run["out"]
    for name in FORMATS:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert any((out / "allure-results").glob("*-result.json"))
    assert campaign_run["zip"].is_file()
    assert "Archive scellée" in campaign_run["proc"].stdout
    with zipfile.ZipFile(campaign_run["zip"]) as archive:
        names = set(archive.namelist())
    assert {f"run/{n}" for n in FORMATS} <= names


def test_results_keep_the_contract_and_record_versions(campaign_run: dict[str, Any]) -> None:
    results = load_results(campaign_run["out"])
    assert set(results) >= {"harness", "run", "requirements"}
    assert set(results["harness"]) >= {"version", "catalogue", "validators"}
    assert {"pytest", "python", "segur-mss"} <= set(results["harness"]["tools"])
    assert results["run"]["complete"] is True
    for _, sc in _scenarios(results):
        assert set(sc) >= {"id", "name", "status", "proofs", "failures"}
        for proof in sc["proofs"]:
            assert set(proof) >= {"id", "kind", "path", "sha256", "created"}
            assert hashlib.sha256((campaign_run["out"] / proof["path"]).read_bytes()).hexdigest() == proof["sha256"]


def test_junit_has_a_testcase_per_scenario_with_the_requirement(campaign_run: dict[str, Any]) -> None:
    out: Path = campaign_run["out"]
    results = load_results(out)
    root = ET.parse(out / "junit.xml").getroot()
    cases = root.findall(".//testcase")
    expected = _scenarios(results)
    assert len(cases) == len(expected) == int(root.get("tests"))
    by_scenario = {}
    for case in cases:
        props = {p.get("name"): p.get("value") for p in case.findall("properties/property")}
        by_scenario[props["scenario"]] = (case, props)
    for req, sc in expected:
        case, props = by_scenario[sc["id"]]
        assert props["requirement"] == req["id"] == case.get("classname")
        assert props["status"] == sc["status"]
        if sc["status"] == "failed":
            assert case.find("failure") is not None
        elif sc["status"] == "error":
            assert case.find("error") is not None
        elif sc["status"] == "passed":
            assert case.find("failure") is None and case.find("error") is None and case.find("skipped") is None
    failures = sum(1 for _, sc in expected if sc["status"] == "failed")
    assert int(root.get("failures")) == failures


def test_allure_results_carry_the_requirement_as_label_and_link(campaign_run: dict[str, Any]) -> None:
    out: Path = campaign_run["out"]
    results = load_results(out)
    found = {}
    for path in (out / "allure-results").glob("*-result.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        labels = {label["name"]: label["value"] for label in data.get("labels", [])}
        links = data.get("links", [])
        assert labels.get("framework") == "pytest-bdd"
        requirement = labels["requirement"]
        assert any(link["name"] == requirement and link["url"].endswith("#" + requirement.replace("/", "_"))
                   for link in links)
        found[data["name"]] = requirement
    assert len(found) == len(_scenarios(results))
    assert set(found.values()) == {req["id"] for req, _ in _scenarios(results)}


def test_convergence_workbook_has_the_ans_columns_and_a_row_per_proof(campaign_run: dict[str, Any]) -> None:
    out: Path = campaign_run["out"]
    results = load_results(out)
    workbook = load_workbook(out / "convergence.xlsx", read_only=True)
    rows = list(workbook["Preuves"].iter_rows(values_only=True))
    header = list(rows[0])
    assert header[: len(ANS_COLUMNS)] == list(ANS_COLUMNS)
    assert header == list(COLUMNS) and {"Statut", "Fichier de preuve", "SHA-256"} <= set(header)
    records = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    proofs = {p["id"]: (req, sc, p) for req, sc in _scenarios(results) for p in sc["proofs"]}
    by_proof = {r["N° preuve"]: r for r in records if r["N° preuve"]}
    assert set(by_proof) == set(proofs)
    for proof_id, (req, sc, proof) in proofs.items():
        row = by_proof[proof_id]
        assert (row["ID"], row["N° scénario"]) == (req["id"], sc["id"])
        assert row["SHA-256"] == proof["sha256"] and row["Fichier de preuve"] == proof["path"]
        assert row["Code statut"] == sc["status"]
    covered = {r["ID"] for r in records}
    assert covered == {req["id"] for req in results["requirements"]}  # uncovered ones have a row, « non testé »
    info = dict(workbook["Exécution"].iter_rows(values_only=True))
    assert info["Candidat"] == "reference" and info["REM officiel importé"] == "non"
    workbook.close()


def test_report_regenerates_from_json_and_evidence(campaign_run: dict[str, Any], tmp_path: Path) -> None:
    import shutil

    from ..conftest import run_cli

    copy = tmp_path / "copie"
    shutil.copytree(campaign_run["out"], copy)
    for name in ("report.html", "junit.xml", "convergence.xlsx", "manifest.json"):
        (copy / name).unlink()
    before = load_results(copy)
    proc = run_cli("report", str(copy))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in ("report.html", "junit.xml", "convergence.xlsx", "manifest.json"):
        assert (copy / name).is_file(), name
    assert (tmp_path / "copie.zip").is_file()
    after = load_results(copy)
    assert after["run"] == before["run"] and after["requirements"] == before["requirements"]
    assert run_cli("report", "verify", str(tmp_path / "copie.zip")).returncode == 0
