"""SC.MSS/CONF.16 end to end through the CLI: passes on the reference candidate, fails on faulty ones."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from .conftest import ROOT, load_results, requirement, run_cli

CONF16 = "SC.MSS/CONF.16"


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path]:
    out = tmp_path_factory.mktemp("ref") / "run"
    proc = run_cli("run", "--candidate", "reference", "--out", str(out))
    return proc.returncode, out


def test_reference_candidate_passes_conf16(reference_run) -> None:
    code, out = reference_run
    results = load_results(out)
    conf16 = requirement(results, CONF16)
    assert code == 0, (out / "campagne.log").read_text()
    assert conf16["status"] == "passed"
    assert [s["id"] for s in conf16["scenarios"]] == [f"SC.MSS/CONF.16.0{n}" for n in range(1, 5)]
    assert all(s["status"] == "passed" for s in conf16["scenarios"])
    assert results["run"]["complete"] is True


def test_results_follow_the_contract(reference_run) -> None:
    _, out = reference_run
    results = load_results(out)
    assert set(results) >= {"harness", "run", "requirements"}
    assert set(results["harness"]) >= {"version", "catalogue", "validators"}
    assert set(results["run"]) >= {"id", "started", "finished", "complete", "candidate", "profile", "env"}
    for req in results["requirements"]:
        assert set(req) >= {"id", "title", "status", "scenarios"}
        for sc in req["scenarios"]:
            assert set(sc) >= {"id", "name", "status", "proofs", "failures"}
            for proof in sc["proofs"]:
                assert set(proof) >= {"id", "kind", "path", "sha256"}
                assert proof["id"].startswith(sc["id"] + ".")


def test_proofs_are_stored_and_hashed(reference_run) -> None:
    _, out = reference_run
    conf16 = requirement(load_results(out), CONF16)
    kinds = set()
    for sc in conf16["scenarios"]:
        for proof in sc["proofs"]:
            data = (out / proof["path"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == proof["sha256"]
            kinds.add(proof["kind"])
        assert any(c["passed"] and "X-MSS-NIL" in c["check"] for c in sc["checks"])
    assert kinds == {"message", "transcript"}


def test_transcript_shows_the_exchange_with_secrets_redacted(reference_run) -> None:
    _, out = reference_run
    sc = requirement(load_results(out), CONF16)["scenarios"][0]
    transcript = next(p for p in sc["proofs"] if p["kind"] == "transcript")
    text = (out / transcript["path"]).read_text(encoding="utf-8")
    assert "STARTTLS" in text and "AUTH XOAUTH2 [EXPURGÉ]" in text and "TLSv1." in text
    assert "eyJ" not in text  # no JWT


def test_uncovered_requirements_are_not_tested_with_a_reason(reference_run) -> None:
    _, out = reference_run
    results = load_results(out)
    for req in results["requirements"]:
        if not req["scenarios"]:
            assert req["status"] == "not_tested" and req["reason"], req["id"]
    assert requirement(results, "SC.MSS/CONF.12")["status"] == "not_tested"


def test_report_is_written_in_french(reference_run) -> None:
    _, out = reference_run
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'lang="fr"' in html and "SC.MSS/CONF.16" in html and "conforme" in html
    assert "SC.MSS/CONF.16.01.01" in html
    assert "<script src" not in html and "<link" not in html  # self-contained


@pytest.mark.parametrize(
    ("defect", "observed"),
    [("no-x-mss-nil", "en-tête X-MSS-NIL absent"), ("wrong-x-mss-nil", "AUTRE-PRODUIT-0000")],
)
def test_faulty_candidate_fails_conf16(tmp_path: Path, defect: str, observed: str) -> None:
    out = tmp_path / "run"
    proc = run_cli("run", "--candidate", f"faulty:{defect}", "--requirements", CONF16, "--out", str(out))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    conf16 = requirement(load_results(out), CONF16)
    assert conf16["status"] == "failed"
    failures = [f for sc in conf16["scenarios"] for f in sc["failures"]]
    assert failures and all(f["observed"] == observed for f in failures)
    assert all(f["expected"] == "SEGUR-MSS-REF-0001" for f in failures)


def test_configured_reference_is_the_expected_value(tmp_path: Path) -> None:
    config = tmp_path / "produit.toml"
    config.write_text('[produit]\nreference_convergence = "MON-LOGICIEL-42"\n', encoding="utf-8")
    out = tmp_path / "run"
    # The reference candidate is configured with the harness's value: it still passes with a new value.
    proc = run_cli("run", "--requirements", CONF16, "--config", str(config), "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    checks = [c for sc in requirement(load_results(out), CONF16)["scenarios"] for c in sc["checks"]]
    assert any(c["expected"] == "MON-LOGICIEL-42" and c["observed"] == "MON-LOGICIEL-42" for c in checks)


def test_plain_pytest_runs_the_campaign(tmp_path: Path) -> None:
    import subprocess
    import sys

    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "scenarios/", "-q", "-p", "no:cacheprovider",
         "--candidate=faulty:no-x-mss-nil", f"--segur-out={out}"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 1
    assert requirement(load_results(out), CONF16)["status"] == "failed"
