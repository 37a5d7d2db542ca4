"""HTTP adapter: JSON POSTs to the editor's test endpoint, timeouts, bounded retries, same verdicts as in-process."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from segur_mss.candidates.base import Action
from segur_mss.candidates.http import HttpCandidate, HttpSettings, http_settings
from segur_mss.candidates.reference import CandidateError
from segur_mss.candidates.spec import CandidateSpecError, parse_candidate_spec

from ..conftest import load_results, requirement, run_cli
from .conftest import make_env, outcome_verdicts, verdicts
from .reference_server import ReferenceServer

FAST = HttpSettings(timeout=2.0, retries=2, connect_timeout=1.0, backoff=0.01)


class Tokens:
    access_token = "jeton-http-0123456789"
    refresh_token = "rafraichissement-http-0123456789"
    expires_in = 120


@pytest.fixture
def server() -> Iterator[ReferenceServer]:
    srv = ReferenceServer().start()
    yield srv
    srv.stop()


def candidate_for(tmp_path: Path, url: str, settings: HttpSettings = FAST) -> tuple[HttpCandidate, object]:
    env, evidence = make_env(tmp_path, login=lambda address: Tokens())
    return HttpCandidate(env, url, settings=settings), evidence


def test_capabilities_come_from_the_endpoint(tmp_path: Path, server: ReferenceServer) -> None:
    candidate, _ = candidate_for(tmp_path, server.url)
    assert candidate.capabilities() == {Action.CONNECT_MAILBOX, Action.SEND_MESSAGE, Action.SEND_DOCUMENT}
    candidate.close()


def test_action_is_a_json_post_with_login_and_environment(tmp_path: Path, server: ReferenceServer) -> None:
    candidate, evidence = candidate_for(tmp_path, server.url)
    result = candidate.connect_mailbox("claire.martin@test.mssante.fr")
    assert result.ok and "connecté" in result.detail
    sent = server.requests[-1]
    assert sent["path"] == "/segur/connect_mailbox"
    assert sent["body"]["payload"] == {"address": "claire.martin@test.mssante.fr"}
    assert sent["body"]["login"]["access_token"] == Tokens.access_token
    assert sent["body"]["environment"]["smtp"] == {"host": "127.0.0.1", "port": 2525, "tls": "starttls"}
    assert sent["headers"]["X-Segur-Mss-Scenario"] == "SC.MSS/CONF.16.01"
    log = (evidence.run_dir / evidence.proofs[-1].path).read_text(encoding="utf-8")
    assert "HTTP 200" in log and Tokens.access_token not in log
    candidate.close()
    assert server.requests[-1]["path"] == "/segur/close"


def test_503_is_retried_with_the_same_idempotency_key(tmp_path: Path, server: ReferenceServer) -> None:
    server.statuses = [503, 503]
    candidate, _ = candidate_for(tmp_path, server.url)
    assert candidate.connect_mailbox("claire.martin@test.mssante.fr").ok
    posts = [r for r in server.requests if r["path"].endswith("/connect_mailbox")]
    assert len(posts) == 3
    assert len({r["headers"]["Idempotency-Key"] for r in posts}) == 1
    candidate.close()


def test_retries_are_bounded(tmp_path: Path, server: ReferenceServer) -> None:
    server.statuses = [503, 503, 503, 503]
    candidate, _ = candidate_for(tmp_path, server.url)
    with pytest.raises(CandidateError, match="injoignable après 3 essai"):
        candidate.connect_mailbox("claire.martin@test.mssante.fr")
    candidate.close()


def test_a_read_timeout_is_not_retried(tmp_path: Path, server: ReferenceServer) -> None:
    server.delay = 1.5
    candidate, _ = candidate_for(tmp_path, server.url, HttpSettings(timeout=0.5, retries=2, connect_timeout=0.5))
    started = time.monotonic()
    with pytest.raises(CandidateError, match=r"n'a pas répondu dans le délai de 0\.5 s"):
        candidate.connect_mailbox("claire.martin@test.mssante.fr")
    assert time.monotonic() - started < 2.5
    assert len([r for r in server.requests if r["path"].endswith("/connect_mailbox")]) == 1
    candidate.close()


def test_unreachable_endpoint_is_an_error(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    candidate, _ = candidate_for(tmp_path, f"http://127.0.0.1:{port}/segur")
    with pytest.raises(CandidateError, match="injoignable après 3 essai"):
        candidate.capabilities()
    candidate.close()


def test_product_failure_is_an_error_with_its_message(tmp_path: Path, server: ReferenceServer) -> None:
    candidate, _ = candidate_for(tmp_path, server.url)
    candidate.env = make_env(tmp_path)[0]  # no login: the product cannot connect
    with pytest.raises(CandidateError, match=r"HTTP 500.*aucun jeton Pro Santé Connect"):
        candidate.connect_mailbox("claire.martin@test.mssante.fr")
    candidate.close()


def test_bad_http_spec_and_settings_are_usage_errors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(CandidateSpecError, match="http: attend"):
        parse_candidate_spec("http:ftp://x")
    assert parse_candidate_spec("http:http://127.0.0.1:8080/segur/").value == "http://127.0.0.1:8080/segur"
    with pytest.raises(ValueError, match="SEGUR_MSS_HTTP_ESSAIS"):
        http_settings({"SEGUR_MSS_HTTP_ESSAIS": "beaucoup"})
    assert http_settings({"SEGUR_MSS_HTTP_DELAI": "5", "SEGUR_MSS_HTTP_ESSAIS": "0"}).retries == 0
    proc = run_cli("run", "--candidate", "http:pas-une-url", "--out", str(tmp_path / "run"))
    assert proc.returncode == 2 and "http: attend" in proc.stderr and "Traceback" not in proc.stderr


# -- campaigns through the HTTP adapter ---------------------------------------------------------------------
def test_full_campaign_through_the_http_adapter_matches_the_reference(
    tmp_path: Path, server: ReferenceServer, reference_outcome
) -> None:
    out = tmp_path / "run"
    # The endpoint offers everything the wrapped reference candidate does (the person attests nothing here).
    server.capabilities = sorted(a.value for a in Action if a is not Action.ATTEST)
    try:
        run_cli("run", "--candidate", f"http:{server.url}", "--out", str(out))
    finally:
        server.capabilities = ["connect_mailbox", "send_message", "send_document"]
    results = load_results(out)
    assert verdicts(results) == outcome_verdicts(reference_outcome), (out / "campagne.log").read_text()
    assert requirement(results, "SC.MSS/CONF.16")["status"] == "passed"
    assert not server.candidates  # every scenario was closed


def test_faulty_endpoint_fails_conf16(tmp_path: Path) -> None:
    srv = ReferenceServer(defect="wrong-x-mss-nil").start()
    try:
        out = tmp_path / "run"
        proc = run_cli("run", "--candidate", f"http:{srv.url}", "--requirements", "SC.MSS/CONF.16", "--out", str(out))
    finally:
        srv.stop()
    assert proc.returncode == 1
    conf16 = requirement(load_results(out), "SC.MSS/CONF.16")
    assert conf16["status"] == "failed"
    assert {f["observed"] for sc in conf16["scenarios"] for f in sc["failures"]} == {"AUTRE-PRODUIT-0000"}
