"""The connection family's judgement logic on hand-made transcripts: TLS, command order, authentications,
sessions, reopening; the `[connexion]` configuration; the token scan of CONF.28."""

from __future__ import annotations

from pathlib import Path

import pytest

from segur_mss.config import ConfigError, load_config
from segur_mss.judgement import transcripts as tr
from segur_mss.judgement.connection_policy import ConnectionPolicy, ConnectionPolicyError
from segur_mss.judgement.token_storage import scan_for_tokens
from segur_mss.operator.clock import Clock
from segur_mss.operator.recording import Recorder, Transcript
from segur_mss.operator.tls_profiles import ANSSI_TLS12_CIPHERS

TLS13 = {"version": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384", "client_cert": None}
TOKEN = {"sub": "810000000011", "jti_sha256": "aaaa", "client_id": "lps"}


@pytest.fixture
def recorder(tmp_path: Path) -> Recorder:
    return Recorder(tmp_path / "rec", Clock())


def imap(recorder: Recorder, lines: list[str | tuple[str, dict]], *, implicit: bool = False) -> Transcript:
    """An IMAP transcript: client lines (`C …`), or events as (name, data)."""
    t = recorder.open_transcript("imaps" if implicit else "imap", "127.0.0.1:1")
    if implicit:
        t.event("port", "TLS implicite", implicit_tls=True)
    for item in lines:
        if isinstance(item, tuple):
            name, data = item
            t.event(name, name, **data)
        else:
            t.line("C", item)
    return t


def smtp(recorder: Recorder, lines: list[str | tuple[str, dict]]) -> Transcript:
    t = recorder.open_transcript("smtp", "127.0.0.1:2")
    for item in lines:
        if isinstance(item, tuple):
            t.event(item[0], item[0], **item[1])
        else:
            t.line("C", item)
    return t


def ok_auth(mechanism: str = "XOAUTH2", token: dict | None = None) -> tuple[str, dict]:
    return ("auth", {"mechanism": mechanism, "success": True, "token": token or TOKEN})


GOOD_IMAP = ["a0 CAPABILITY", "a1 STARTTLS", ("tls", TLS13), "a2 CAPABILITY", "a3 AUTHENTICATE XOAUTH2", ok_auth(),
             "a4 SELECT INBOX", "a5 LOGOUT"]
GOOD_SMTP = ["EHLO lps", "STARTTLS", ("tls", TLS13), "EHLO lps", "AUTH XOAUTH2 [EXPURGÉ]", ok_auth(),
             "MAIL FROM:<a@b>", "RCPT TO:<c@d>", "DATA", "QUIT"]


def test_reading_finds_commands_tls_and_authentications(recorder: Recorder) -> None:
    reading = tr.read_connection(imap(recorder, GOOD_IMAP))
    assert reading.commands == ("CAPABILITY", "STARTTLS", "CAPABILITY", "AUTHENTICATE", "SELECT", "LOGOUT")
    assert reading.tls_at == 2 and reading.before_tls() == ("CAPABILITY", "STARTTLS")
    assert reading.accepted and reading.closed_by_client()
    implicit = tr.read_connection(imap(recorder, ["a0 AUTHENTICATE XOAUTH2", ok_auth()], implicit=True))
    assert implicit.tls_at == 0 and tr.imap_order_problem(implicit) is None


@pytest.mark.parametrize(("lines", "problem"), [
    (GOOD_SMTP, None),
    (["EHLO x", "AUTH XOAUTH2 [EXPURGÉ]", "STARTTLS", ("tls", TLS13), "EHLO x"], "en clair avant TLS : AUTH"),
    (["EHLO x", "STARTTLS", ("tls", TLS13), "AUTH XOAUTH2 [EXPURGÉ]"], "pas de nouvel EHLO"),
    (["EHLO x", "STARTTLS", ("tls", TLS13), "EHLO x", "MAIL FROM:<a@b>", "AUTH XOAUTH2 x"], "MAIL FROM avant"),
    (["EHLO x", "MAIL FROM:<a@b>"], "en clair avant TLS : MAIL"),
])
def test_smtp_order(recorder: Recorder, lines: list, problem: str | None) -> None:
    found = tr.smtp_order_problem(tr.read_connection(smtp(recorder, lines)))
    assert (found is None) if problem is None else (found is not None and problem in found), found


def test_imap_order_and_password_logins(recorder: Recorder) -> None:
    good = tr.read_connection(imap(recorder, GOOD_IMAP))
    early = tr.read_connection(imap(recorder, ["a0 CAPABILITY", "a1 AUTHENTICATE XOAUTH2", "a2 STARTTLS",
                                               ("tls", TLS13)]))
    login = tr.read_connection(imap(recorder, ["a0 STARTTLS", ("tls", TLS13), "a1 LOGIN x y"]))
    assert tr.imap_order_problem(good) is None
    assert tr.imap_order_problem(early) == "en clair avant TLS : AUTHENTICATE"
    assert tr.command_order([good], tr.imap_order_problem).passed
    assert not tr.command_order([good, early], tr.imap_order_problem, only_clear=True).passed
    assert not tr.command_order([], tr.imap_order_problem).passed  # nothing observed is not a pass
    assert tr.password_logins([good]).passed
    verdict = tr.password_logins([good, login])
    assert not verdict.passed and "LOGIN" in verdict.observed


def test_tls_versions_and_suites(recorder: Recorder) -> None:
    strong = tr.read_connection(imap(recorder, GOOD_IMAP))
    old = tr.read_connection(imap(recorder, ["a0 STARTTLS", ("tls", {"version": "TLSv1", "cipher": "AES128-SHA"})]))
    assert tr.tls_versions([strong]).passed
    assert not tr.tls_versions([strong, old]).passed and "TLSv1" in tr.tls_versions([old]).observed
    assert not tr.tls_versions([]).passed
    allowed = ConnectionPolicy().authorised_suites
    assert tr.tls_suites([strong], allowed).passed
    verdict = tr.tls_suites([old], allowed)
    assert not verdict.passed and "AES128-SHA (non autorisée)" in verdict.observed


def test_refusal_needs_an_attempt_and_nothing_accepted(recorder: Recorder) -> None:
    refused = tr.read_connection(imap(recorder, ["a0 CAPABILITY", "a1 STARTTLS", ("tls_echec", {"error": "x"})]))
    accepted = tr.read_connection(imap(recorder, GOOD_IMAP))
    assert tr.refused_to_proceed([refused], 0).passed
    assert not tr.refused_to_proceed([], 0).passed
    assert not tr.refused_to_proceed([refused, accepted], 0).passed
    assert not tr.refused_to_proceed([refused], 1).passed


def test_bearer_mechanism_and_token_origin(recorder: Recorder) -> None:
    good = tr.read_connection(imap(recorder, GOOD_IMAP))
    bearer = tr.read_connection(imap(recorder, ["a0 STARTTLS", ("tls", TLS13), ok_auth("OAUTHBEARER")]))
    assert tr.bearer_after_tls([good]).passed
    assert not tr.bearer_after_tls([good, bearer]).passed and tr.used_oauthbearer([bearer])
    assert tr.tokens_from_psc([good], {"aaaa"}, lambda rpps: rpps == TOKEN["sub"]).passed
    assert not tr.tokens_from_psc([good], {"bbbb"}, lambda rpps: True).passed  # not issued by PSC
    verdict = tr.tokens_from_psc([good], {"aaaa"}, lambda rpps: False)
    assert not verdict.passed and "non habilité" in verdict.observed


def test_certificate_authentication(recorder: Recorder) -> None:
    tls = {**TLS13, "client_cert": "CN=LPS reference, O=Clinique"}
    good = tr.read_connection(imap(recorder, ["a0 STARTTLS", ("tls", tls), "a1 AUTHENTICATE EXTERNAL",
                                              ("auth", {"mechanism": "EXTERNAL", "success": True,
                                                        "certificate": "CN=LPS reference"})]))
    assert tr.certificate_authentications([good]).passed
    assert not tr.certificate_authentications([tr.read_connection(imap(recorder, GOOD_IMAP))]).passed


def test_sessions_closed_and_no_attempt_after_refusal(recorder: Recorder) -> None:
    closed = tr.read_connection(imap(recorder, GOOD_IMAP))
    still_open = tr.read_connection(imap(recorder, GOOD_IMAP[:-1]))
    assert tr.open_sessions([closed]).passed
    verdict = tr.open_sessions([closed, still_open])
    assert not verdict.passed and still_open.id in verdict.observed
    refused = ("auth", {"mechanism": "XOAUTH2", "success": False, "reason": "expired"})
    once = tr.read_connection(imap(recorder, ["a0 STARTTLS", ("tls", TLS13), "a1 AUTHENTICATE XOAUTH2", refused]))
    assert tr.attempts_after_refusal([closed, once]).passed
    again = tr.read_connection(imap(recorder, ["a0 STARTTLS", ("tls", TLS13), "a1 AUTHENTICATE XOAUTH2", refused]))
    verdict = tr.attempts_after_refusal([once, again])
    assert not verdict.passed and "tentatives ensuite : 1" in verdict.observed


def test_reopening_delay_and_fresh_token(tmp_path: Path) -> None:
    clock = Clock()
    recorder = Recorder(tmp_path / "rec", clock)
    first = imap(recorder, [*GOOD_IMAP[:-1], ("faute", {"fault": "bye"})])
    clock.advance(1.5)
    second = imap(recorder, ["b0 STARTTLS", ("tls", TLS13), ok_auth(token={**TOKEN, "jti_sha256": "bbbb"})])
    readings = [tr.read_connection(first), tr.read_connection(second)]
    found = tr.reopening(readings)
    assert found is not None and found.reopened is not None and found.reopened.id == second.id
    assert found.delay is not None and 1.4 <= found.delay <= 1.7
    assert tr.judge_reopening(found, 5).passed and not tr.judge_reopening(found, 1).passed
    assert tr.judge_fresh_token(found).passed
    same = imap(recorder, ["c0 STARTTLS", ("tls", TLS13), ok_auth()])
    stale = tr.reopening([tr.read_connection(first), tr.read_connection(same)])
    assert not tr.judge_fresh_token(stale).passed
    alone = tr.reopening([tr.read_connection(first)])
    assert alone is not None and alone.reopened is None and not tr.judge_reopening(alone, 5).passed
    assert not tr.judge_reopening(None, 5).passed


def test_connection_policy_defaults_and_configuration(tmp_path: Path) -> None:
    default = ConnectionPolicy.from_config({})
    assert default.tls12_suites == ANSSI_TLS12_CIPHERS and "TLS_AES_256_GCM_SHA384" in default.authorised_suites
    assert "ANSSI" in default.describe() and "ECDHE-RSA-AES256-GCM-SHA384" in default.describe()
    custom = ConnectionPolicy.from_config({"suites_tls12": ["ECDHE-RSA-AES256-GCM-SHA384"], "suites_tls13": [],
                                           "delai_reouverture_s": 2}, "produit.toml")
    assert custom.authorised_suites == ("ECDHE-RSA-AES256-GCM-SHA384",) and custom.reopen_delay == 2
    assert "produit.toml" in custom.describe()
    for bad in ({"suites": []}, {"suites_tls12": "ECDHE"}, {"delai_reouverture_s": -1},
                {"suites_tls12": [], "suites_tls13": []}):
        with pytest.raises(ConnectionPolicyError):
            ConnectionPolicy.from_config(bad)
    path = tmp_path / "produit.toml"
    path.write_text('[connexion]\nsuites_tls12 = ["ECDHE-RSA-AES256-GCM-SHA384"]\n', encoding="utf-8")
    assert load_config(path).connection == {"suites_tls12": ["ECDHE-RSA-AES256-GCM-SHA384"]}
    path.write_text("[connexion]\ndelai_reouverture_s = \"cinq\"\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[connexion\].*delai_reouverture_s"):
        load_config(path)


def test_token_scan_finds_whole_tokens_and_signatures(tmp_path: Path) -> None:
    token = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiI4MTAwMDAwMDAwMTEifQ.c2lnbmF0dXJlLWR1LWpldG9uLWQtYWNjZXMtdGVzdA"
    clean = tmp_path / "propre"
    clean.mkdir()
    (clean / "traces.jsonl").write_text('{"action": "envoi"}\n', encoding="utf-8")
    assert scan_for_tokens([clean], [token]).found == []
    (clean / "sous" / "dossier").mkdir(parents=True)
    (clean / "sous" / "dossier" / "cache.json").write_text(f'{{"a": "{token}"}}', encoding="utf-8")
    (clean / "signature.bin").write_bytes(b"..." + token.split(".")[2].encode() + b"...")
    scan = scan_for_tokens([clean, tmp_path / "absent"], [token])
    assert len(scan.found) == 2 and scan.files == 3 and scan.missing == [str(tmp_path / "absent")]
    assert "trouvés dans" in scan.describe(1) and "absent" in scan.describe(1)
