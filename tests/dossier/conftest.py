"""Fixtures of the dossier tests: one real campaign run shared by the modules, and a synthetic dossier that has
every kind of proof and every status (the real campaign cannot produce them all yet)."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest

from segur_mss.catalogue import load_catalogue
from segur_mss.evidence.dossier import write_dossier, write_run
from segur_mss.evidence.meta import tool_versions
from segur_mss.evidence.store import ScenarioEvidence
from segur_mss.redaction import Redactor
from segur_mss.verdicts import Check

from ..conftest import ROOT

ARTIFACTS = ROOT / "out" / "test-artifacts"
SECRET_TOKEN = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiI4MDAwMDAwMDAwMSJ9.c2lnbmF0dXJlLWR1LWpldG9u"


@pytest.fixture(autouse=True)
def _isolated_rem(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never read or write the user's REM overlay (~/.config/segur-mss): every test gets its own path."""
    path = tmp_path_factory.mktemp("rem") / "rem_officiel.yaml"
    monkeypatch.setenv("SEGUR_MSS_REM", str(path))
    return path


def flat(text: str) -> str:
    """Console text without rich's line wrapping."""
    return " ".join(text.split())


def run_campaign(out: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 600,
                 rem: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`segur-mss run --out OUT …` in a child process, with an isolated REM overlay."""
    full_env = dict(os.environ, **(env or {}))
    full_env["SEGUR_MSS_REM"] = str(rem or out.parent / "absent-rem.yaml")
    return subprocess.run([sys.executable, "-m", "segur_mss.cli", "run", "--out", str(out), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, env=full_env)


@pytest.fixture(scope="session")
def campaign_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One full serial campaign against the reference candidate, with every secret of the run recorded aside."""
    base = tmp_path_factory.mktemp("campagne")
    secrets_dir = base / "secrets"
    out = base / "run"
    proc = run_campaign(out, env={"PYTEST_ADDOPTS": "-p tests.dossier._secrets_plugin",
                                  "SEGUR_MSS_TEST_SECRETS_DIR": str(secrets_dir)})
    assert (out / "results.json").exists(), proc.stdout + proc.stderr
    return {"out": out, "proc": proc, "secrets_dir": secrets_dir, "zip": base / "run.zip"}


# -- a synthetic dossier ------------------------------------------------------------------------------------
def png(width: int = 40, height: int = 24, rgb: tuple[int, int, int] = (31, 95, 168)) -> bytes:
    """A small valid PNG (no imaging library needed)."""
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


MESSAGE = (
    "From: DR Jean MEDECIN-TEST <emetteur@test.mssante.fr>\r\nTo: correspondant@test.mssante.fr\r\n"
    "Subject: XDM/1.0/DDM+Compte rendu TEST Camille 14/05/1985\r\nX-MSS-NIL: SEGUR-MSS-REF-0001\r\n"
    "X-MSS-CODECDA: 11502-2\r\nX-MSS-INS: O\r\nMessage-ID: <1@test>\r\n\r\ncorps\r\n"
)
VALIDATION = {
    "validator": "cda", "version": "cda/1.0 (segur-mss 0.1.0)", "subject": "CR-BIO.xml", "valid": False,
    "counts": {"error": 1, "warning": 1, "info": 0},
    "findings": [
        {"rule_id": "MSS-CDA-INS-01", "severity": "error", "location": "/ClinicalDocument/recordTarget",
         "message": "INS absente du document", "requirement": "SC.MSS/CONF.14", "expected": "une INS qualifiée",
         "observed": "aucune"},
        {"rule_id": "MSS-CDA-SET-02", "severity": "warning", "location": "/ClinicalDocument/setId",
         "message": "setId sans extension", "requirement": None},
    ],
    "extra": {},
}


def build_synthetic_run(run_dir: Path, *, complete: bool = True) -> dict[str, Any]:
    """A dossier with passed / failed / error / awaiting / not-applicable scenarios and every proof kind."""
    redactor = Redactor()
    redactor.register(SECRET_TOKEN)
    catalogue = load_catalogue()
    planned = {
        "SC.MSS/CONF.16": ["SC.MSS/CONF.16.01", "SC.MSS/CONF.16.02"],
        "SC.MSS/CONF.14": ["SC.MSS/CONF.14.01"],
        "SC.MSS/UX.10": ["SC.MSS/UX.10.01"],
        "SC.MSS/CONF.17": ["SC.MSS/CONF.17.01"],
        "SC.MSS/CONF.04": ["SC.MSS/CONF.04.01"],
    }
    write_run(run_dir, {"id": run_dir.name, "started": "2026-01-05T09:00:00.000Z", "finished": None,
                        "complete": False, "candidate": "faulty:synthetique", "profile": None, "env": "embedded",
                        "product_reference": "SEGUR-MSS-REF-0001", "requirements_selected": None,
                        "planned": planned, "validators": {"cda_kit": "kit ANS 2025.01 (sha256 0123abcd)"},
                        "versions": tool_versions()})

    def scenario(req: str, sid: str, name: str) -> ScenarioEvidence:
        return ScenarioEvidence(run_dir, req, sid, name, redactor=redactor)

    ok = scenario("SC.MSS/CONF.16", "SC.MSS/CONF.16.01", "Courriel simple avec X-MSS-NIL")
    transcript = ok.add_proof("transcript", "smtp.log",
                              f"C AUTH XOAUTH2 {SECRET_TOKEN}\nS 235 2.7.0 Authentication successful\n"
                              f"C MAIL FROM:<emetteur@test.mssante.fr>\n", "transcription SMTP")
    message = ok.add_proof("message", "msg.eml", MESSAGE, "courriel soumis", media_type="message/rfc822")
    ok.record_check(Check("SC.MSS/CONF.16", "en-tête X-MSS-NIL", "SEGUR-MSS-REF-0001", "SEGUR-MSS-REF-0001", True,
                          [message.id, transcript.id]))
    ok.finish("passed")

    ko = scenario("SC.MSS/CONF.16", "SC.MSS/CONF.16.02", "Courriel de document avec X-MSS-NIL")
    m2 = ko.add_proof("message", "msg2.eml", MESSAGE.replace("X-MSS-NIL: SEGUR-MSS-REF-0001\r\n", ""),
                      "courriel soumis", media_type="message/rfc822")
    ko.record_check(Check("SC.MSS/CONF.16", "en-tête X-MSS-NIL", "SEGUR-MSS-REF-0001", "en-tête X-MSS-NIL absent",
                          False, [m2.id]))
    ko.finish("failed", "[SC.MSS/CONF.16] en-tête X-MSS-NIL — attendu : SEGUR-MSS-REF-0001 ; observé : absent")

    val = scenario("SC.MSS/CONF.14", "SC.MSS/CONF.14.01", "Document CDA avec INS qualifiée")
    report = val.add_proof("validator_report", "cda.json", json.dumps(VALIDATION, ensure_ascii=False),
                           "rapport du validateur CDA", media_type="application/json")
    val.record_check(Check("SC.MSS/CONF.14", "X-MSS-INS", "O", f"jeton {SECRET_TOKEN}", False, [report.id]))
    val.finish("error", f"le candidat a cassé : jeton {SECRET_TOKEN} refusé")

    shot = scenario("SC.MSS/UX.10", "SC.MSS/UX.10.01", "Recherche multicritère dans l'annuaire")
    shot.mode = "attesté"
    shot.add_proof("screenshot", "ecran.png", png(), "capture de l'écran de recherche", media_type="image/png")
    shot.add_proof("statement", "attestation.txt", "Je soussigné atteste que la recherche multicritère fonctionne.",
                   "attestation de l'éditeur")
    shot.add_proof("video", "demo.webm", b"\x1aE\xdf\xa3fake-webm", "vidéo de démonstration",
                   media_type="video/webm")
    shot.finish("awaiting_evidence", "preuve attestée à fournir : vidéo signée")

    na = scenario("SC.MSS/CONF.17", "SC.MSS/CONF.17.01", "Traces des envois")
    na.finish("not_applicable", "exigence non applicable au profil")
    # SC.MSS/CONF.04.01 never starts: an interrupted dossier lacks it.
    return write_dossier(run_dir, catalogue, final=True, complete=complete, bundle=True)


@pytest.fixture
def synthetic_run(tmp_path: Path) -> Path:
    run_dir = tmp_path / "synthetique"
    build_synthetic_run(run_dir)
    return run_dir


# -- browser ------------------------------------------------------------------------------------------------
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium_path() -> str | None:
    import shutil

    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Debian's headless Chromium driven by Playwright (no browser download), with a fresh profile.

    Module scope on purpose: while Playwright's sync API is open, its event loop counts as running in the main
    thread, so any later test of the same process calling `asyncio.run` would fail.
    """
    executable = chromium_path()
    if executable is None:
        pytest.skip("Chromium absent : installez le paquet Debian « chromium » (apt-get install chromium), "
                    "comme le fait .ci/run")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright absent : pip install playwright (extra dev du pyproject) ; aucun navigateur "
                    "n'est téléchargé, le Chromium de Debian est utilisé")
    profile = tmp_path_factory.mktemp("chromium-profil")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=executable, headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 900}, locale="fr-FR",
        )
        try:
            yield context
        finally:
            context.close()
