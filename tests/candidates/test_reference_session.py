"""The reference candidate against the real reference operator: PSC login, TLS policy, STARTTLS then SASL,
revocation, reconnection, end of session, token storage, auto-configuration (SC.MSS/CONF.01 … CONF.28).
Each conformant behaviour is shown next to the faulty variant that must break it."""

from __future__ import annotations

import threading

import pytest

from segur_mss.candidates.base import (
    DirectorySearch,
    MailboxAutoconfiguration,
    OutgoingMessage,
    SessionKeeping,
)
from segur_mss.operator.service import ReferenceOperator

from .test_reference_support import (  # noqa: F401  (fixtures)
    APP,
    CORRESPONDENT,
    SENDER,
    auth_events,
    closed_by_logout,
    commands,
    lps_operator_fixture,
    make_candidate_fixture,
    transcript_text,
)

MESSAGE = OutgoingMessage(to=(CORRESPONDENT,), subject="Avis", body="Bonjour,\nVotre avis ?\n")


# -- Pro Santé Connect -----------------------------------------------------------------------------------------
def test_login_by_authorization_code_with_pkce(lps_operator: ReferenceOperator, make_candidate) -> None:
    candidate = make_candidate()
    with lps_operator.capture() as capture:
        result = candidate.connect_mailbox(SENDER)
    assert result.ok, result.detail
    assert result.data["identite"]["professionnel"] == "81000000011"
    paths = [h.path for h in capture.http]
    assert any("/.well-known/openid-configuration" in p for p in paths)
    assert any("code_challenge_method=S256" in p and "login_hint=81000000011" in p for p in paths)
    events = [e["type"] for e in lps_operator.psc.events]
    assert "code_emis" in events and "jetons_emis" in events


def test_login_by_ciba_poll(lps_operator: ReferenceOperator, make_candidate) -> None:
    lps_operator.psc.settings.ciba_interval = 1
    psc = lps_operator.env()["psc"] | {"flow": "ciba"}
    candidate = make_candidate(psc=psc)
    approver = threading.Timer(0.3, lambda: lps_operator.psc.approve_ciba(login_hint="81000000011"))
    approver.start()
    try:
        result = candidate.connect_mailbox(SENDER)
    finally:
        approver.cancel()
    assert result.ok, result.detail
    request = lps_operator.psc.ciba_requests()[0]
    answers = [a for _, a in request.polls]
    assert answers[0] == "authorization_pending" and answers[-1] == "tokens" and "slow_down" not in answers


def test_ciba_denied_is_reported_not_raised(lps_operator: ReferenceOperator, make_candidate) -> None:
    lps_operator.psc.settings.ciba_interval = 1
    candidate = make_candidate(psc=lps_operator.env()["psc"] | {"flow": "ciba"})
    denier = threading.Timer(0.2, lambda: lps_operator.psc.deny_ciba(login_hint="81000000011"))
    denier.start()
    result = candidate.connect_mailbox(SENDER)
    assert not result.ok and result.data["erreur"] == "psc"


def test_tokens_are_never_written_to_disk(lps_operator: ReferenceOperator, make_candidate) -> None:
    candidate = make_candidate()
    assert candidate.connect_mailbox(SENDER).ok
    assert candidate.send_message(MESSAGE).ok
    locations = candidate.token_storage_locations().data
    assert locations["fichiers_de_jetons"] == []
    issued = lps_operator.authority.issued_access_tokens
    for path in candidate.workdir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(token.encode() in data for token in issued), path


def test_faulty_stores_access_token(lps_operator: ReferenceOperator, make_candidate) -> None:
    candidate = make_candidate("stores-access-token")
    assert candidate.connect_mailbox(SENDER).ok
    issued = lps_operator.authority.issued_access_tokens
    found = [p for p in candidate.workdir.rglob("*") if p.is_file() and any(t.encode() in p.read_bytes()
                                                                             for t in issued)]
    assert found


# -- STARTTLS before SASL, XOAUTH2 / OAUTHBEARER / EXTERNAL ----------------------------------------------------
def test_starttls_before_any_authentication(lps_operator: ReferenceOperator, make_candidate) -> None:
    candidate = make_candidate()
    with lps_operator.capture() as capture:
        assert candidate.connect_mailbox(SENDER).ok
        assert candidate.send_message(MESSAGE).ok
    (imap,) = commands(capture, "imap")
    assert imap[:4] == ["CAPABILITY", "STARTTLS", "CAPABILITY", "AUTHENTICATE"]
    (smtp,) = commands(capture, "smtp")
    assert smtp[:4] == ["EHLO", "STARTTLS", "EHLO", "AUTH"] and smtp[-1] == "QUIT"
    assert {e["mechanism"] for e in auth_events(capture)} == {"XOAUTH2"}
    assert "eyJ" not in transcript_text(capture)


@pytest.mark.parametrize(("defect", "service"), [("smtp-auth-before-starttls", "smtp"),
                                                 ("imap-auth-before-starttls", "imap")])
def test_faulty_authenticates_before_starttls(lps_operator: ReferenceOperator, make_candidate, defect: str,
                                              service: str) -> None:
    candidate = make_candidate(defect)
    with lps_operator.capture() as capture:
        candidate.connect_mailbox(SENDER)
        candidate.send_message(MESSAGE)
    words = commands(capture, service)[0]
    auth = "AUTH" if service == "smtp" else "AUTHENTICATE"
    assert words.index(auth) < words.index("STARTTLS")


def test_faulty_plain_login(lps_operator: ReferenceOperator, make_candidate) -> None:
    candidate = make_candidate("plain-login")
    with lps_operator.capture() as capture:
        candidate.connect_mailbox(SENDER)
    assert "LOGIN" in commands(capture, "imap")[0]


def test_oauthbearer_on_both_services(lps_operator: ReferenceOperator, make_candidate) -> None:
    candidate = make_candidate(options={"sasl_mechanism": "OAUTHBEARER"})
    with lps_operator.capture() as capture:
        assert candidate.connect_mailbox(SENDER).ok
        assert candidate.send_message(MESSAGE).ok
    assert [e["mechanism"] for e in auth_events(capture)] == ["OAUTHBEARER", "OAUTHBEARER"]


def test_app_mailbox_opens_with_its_certificate(lps_operator: ReferenceOperator, make_candidate) -> None:
    candidate = make_candidate()
    with lps_operator.capture() as capture:
        result = candidate.connect_mailbox(APP)
    assert result.ok, result.detail
    (event,) = auth_events(capture)
    assert event["mechanism"] == "EXTERNAL" and event["success"] and "BAL APPLICATIVE" in event["certificate"]
    assert not lps_operator.psc.events  # no PSC for an applicative mailbox


# -- TLS policy: the reference refuses, the faulty variant accepts ---------------------------------------------
@pytest.mark.parametrize(
    ("profile", "defect", "code"),
    [
        ("tls1.0-seulement", "accepts-tls-1.0", "tls"),
        ("chiffrement-faible", "weak-ciphers", "tls"),
        ("ac-non-reconnue", "accepts-rogue-ca", "certificat_non_reconnu"),
        ("certificat-expire", "accepts-expired-certificate", "certificat_expire"),
        ("nom-incorrect", "no-hostname-check", "nom_incorrect"),
        ("certificat-revoque", "ignores-crl", "certificat_revoque"),
    ],
)
def test_server_refused_by_reference_accepted_by_faulty(
    lps_operator: ReferenceOperator, make_candidate, profile: str, defect: str, code: str
) -> None:
    lps_operator.tls_profile(profile)
    reference, faulty = make_candidate(), make_candidate(defect)
    with lps_operator.capture() as capture:
        refused = reference.connect_mailbox(SENDER)
        sent = reference.send_message(MESSAGE)
    assert not refused.ok and refused.data["erreur"] == code, refused.detail
    assert not sent.ok
    assert not auth_events(capture) and not capture.submissions  # nothing sensitive went out
    with lps_operator.capture() as capture:
        accepted = faulty.connect_mailbox(SENDER)
    assert accepted.ok, accepted.detail
    if profile.startswith("tls1.0"):
        assert accepted.data["tls"]["version"] == "TLSv1"


def test_negotiated_parameters_follow_the_policy(make_candidate) -> None:
    result = make_candidate().connect_mailbox(SENDER)
    assert result.data["tls"]["version"] in ("TLSv1.2", "TLSv1.3")
    assert result.data["tls"]["revocation"]["verifiee"] is True


# -- CRL (CONF.22) ----------------------------------------------------------------------------------------------
def test_last_valid_crl_is_used_when_the_distribution_point_is_unreachable(
    lps_operator: ReferenceOperator, make_candidate
) -> None:
    candidate, faulty = make_candidate(), make_candidate("no-crl-cache")
    assert candidate.connect_mailbox(SENDER).ok and faulty.connect_mailbox(SENDER).ok
    lps_operator.crl.set_reachability("refused")
    sent = candidate.send_message(MESSAGE)
    assert sent.ok and sent.data["tls"]["revocation"]["source"] == "cache"
    refused = faulty.send_message(MESSAGE)
    assert not refused.ok and refused.data["erreur"] == "lcr_indisponible"


def test_no_valid_crl_means_refusal(lps_operator: ReferenceOperator, make_candidate) -> None:
    lps_operator.crl.set_expired(True)
    assert make_candidate().connect_mailbox(SENDER).data["erreur"] == "lcr_indisponible"
    lps_operator.crl.set_expired(False)
    lps_operator.crl.set_reachability("refused")
    assert make_candidate().connect_mailbox(SENDER).data["erreur"] == "lcr_indisponible"


# -- reconnection (CONF.11) and end of session (CONF.10) --------------------------------------------------------
def test_dropped_imap_session_is_reopened_with_a_fresh_token(lps_operator: ReferenceOperator, make_candidate) -> None:
    candidate = make_candidate()
    assert candidate.connect_mailbox(SENDER).ok
    lps_operator.faults.set("fermeture", bye_after_commands=6, services={"imap"}, connections=1)
    with lps_operator.capture() as capture:
        kept = candidate.keep_session(SessionKeeping(seconds=0.6, poll_interval=0.1, new_connection=True))
    assert kept.ok, kept.detail
    (reconnection,) = kept.data["reconnexions"]
    assert reconnection["service"] == "imap" and reconnection["delai_s"] < 5
    tokens = [e["token"]["jti_sha256"] for e in auth_events(capture) if e["success"]]
    assert len(tokens) == 2 and tokens[0] != tokens[1]  # a fresh access token for the new session
    assert any(e["type"] == "rafraichissement" for e in lps_operator.psc.events)


def test_cut_connection_is_reopened_too(lps_operator: ReferenceOperator, make_candidate) -> None:
    candidate = make_candidate()
    assert candidate.connect_mailbox(SENDER).ok
    lps_operator.faults.set("coupure", drop_after_commands=6, services={"imap"}, connections=1)
    kept = candidate.keep_session(SessionKeeping(seconds=0.5, poll_interval=0.1, new_connection=True))
    assert kept.ok and len(kept.data["reconnexions"]) == 1


def test_faulty_does_not_reconnect(lps_operator: ReferenceOperator, make_candidate) -> None:
    candidate = make_candidate("no-reconnect")
    assert candidate.connect_mailbox(SENDER).ok
    lps_operator.faults.set("fermeture", bye_after_commands=6, services={"imap"}, connections=1)
    kept = candidate.keep_session(SessionKeeping(seconds=0.5, poll_interval=0.1, new_connection=True))
    assert not kept.ok


def test_smtp_421_is_retried_in_a_new_session(lps_operator: ReferenceOperator, make_candidate) -> None:
    candidate = make_candidate()
    assert candidate.connect_mailbox(SENDER).ok
    lps_operator.faults.set("fermeture", bye_after_commands=4, services={"smtp"}, connections=1)
    with lps_operator.capture() as capture:
        sent = candidate.send_message(MESSAGE)
    assert sent.ok, sent.detail
    assert len(capture.by_service("smtp")) == 2 and len(capture.submissions) == 1


def test_refused_refresh_ends_the_sessions(lps_operator: ReferenceOperator, make_candidate) -> None:
    lps_operator.psc.set_access_token_lifetime(2)
    candidate = make_candidate()
    assert candidate.connect_mailbox(SENDER).ok
    lps_operator.psc.revoke_refresh_tokens()
    with lps_operator.capture() as capture:
        kept = candidate.keep_session(SessionKeeping(seconds=2.0, poll_interval=0.2))
        after = candidate.send_message(MESSAGE)
    assert not kept.ok and kept.data["etat"] == "reconnexion_demandee"
    assert "reconnexion demandée à l'utilisateur" in kept.detail
    assert not after.ok and not capture.submissions
    assert not auth_events(capture)  # no AUTH with a stale token
    imap = [t for t in lps_operator.recorder.transcripts if t.service == "imap"]
    assert imap and all(closed_by_logout(t) for t in imap)
    status = candidate.session_status().data
    assert status["etat"] == "reconnexion_demandee" and status["message_utilisateur"]
    traces = [t["action"] for t in candidate.traces.entries()]
    assert "fin_de_session" in traces


def test_refresh_token_expired_by_the_clock_ends_the_session(lps_operator: ReferenceOperator,
                                                             make_candidate) -> None:
    candidate = make_candidate()
    assert candidate.connect_mailbox(SENDER).ok
    lps_operator.clock.advance(lps_operator.authority.refresh_lifetime + 60)
    with lps_operator.capture() as capture:
        kept = candidate.keep_session(SessionKeeping(seconds=0.3, poll_interval=0.1, new_connection=True))
        again = candidate.fetch_new_mail()
    assert not kept.ok and kept.data["etat"] == "reconnexion_demandee"
    assert not again.ok
    assert [e["success"] for e in auth_events(capture)] == [False]  # the server's refusal led to the refresh
    refused = [e for e in lps_operator.psc.events if e["type"] == "rafraichissement_refuse"]
    assert len(refused) == 1


def test_faulty_keeps_its_session_after_a_refused_refresh(lps_operator: ReferenceOperator, make_candidate) -> None:
    lps_operator.psc.set_access_token_lifetime(2)
    candidate = make_candidate("keeps-session-after-refresh-failure")
    assert candidate.connect_mailbox(SENDER).ok
    lps_operator.psc.revoke_refresh_tokens()
    kept = candidate.keep_session(SessionKeeping(seconds=2.0, poll_interval=0.2))
    imap = [t for t in lps_operator.recorder.transcripts if t.service == "imap"]
    assert kept.ok and not any(closed_by_logout(t) for t in imap)


def test_a_token_refused_by_the_server_is_replaced_by_a_fresh_one(lps_operator: ReferenceOperator,
                                                                   make_candidate) -> None:
    candidate = make_candidate()
    assert candidate.connect_mailbox(SENDER).ok
    lps_operator.clock.advance(300)  # the operator now judges the access token expired
    with lps_operator.capture() as capture:
        assert candidate.send_message(MESSAGE).ok
    assert [e["success"] for e in auth_events(capture)] == [False, True]


# -- connection errors leave the rest of the software alone (CONF.08) ------------------------------------------
def test_connection_error_does_not_disturb_the_software(lps_operator: ReferenceOperator, make_candidate) -> None:
    lps_operator.faults.set("refus-authentification")
    reference, faulty = make_candidate(), make_candidate("connection-error-stops-software")
    for candidate in (reference, faulty):
        result = candidate.connect_mailbox(SENDER)
        assert not result.ok and result.data["erreur"] == "authentification_refusee"
    search = DirectorySearch(name="DURAND", place="Nantes")
    assert reference.search_directory(search).ok
    notes = reference.user_notifications().data["notifications"]
    assert any(n["kind"] == "erreur_connexion" for n in notes)
    assert not faulty.search_directory(search).ok


# -- auto-configuration (CONF.04) --------------------------------------------------------------------------------
def test_mailbox_configured_from_its_address_alone(lps_operator: ReferenceOperator, make_candidate) -> None:
    candidate = make_candidate(smtp_host="0.0.0.0", smtp_port=9, imap_host="0.0.0.0", imap_port=9)
    found = candidate.autoconfigure(MailboxAutoconfiguration(SENDER))
    assert found.ok, found.detail
    assert found.data["imap"]["port"] == lps_operator.ports["imap"] and found.data["imap"]["tls"] == "starttls"
    assert candidate.connect_mailbox(SENDER).ok and candidate.send_message(MESSAGE).ok
    assert any(r.address == SENDER and r.answered for r in lps_operator.web.autoconfig.requests)


def test_faulty_without_autoconfig_asks_nothing(lps_operator: ReferenceOperator, make_candidate) -> None:
    candidate = make_candidate("no-autoconfig")
    candidate.autoconfigure(MailboxAutoconfiguration(SENDER))
    assert not lps_operator.web.autoconfig.requests


# -- APP mailbox over SMTP: SASL EXTERNAL (the operator's submission server does not offer it yet) --------------
def test_app_mailbox_submits_with_sasl_external(lps_operator: ReferenceOperator, make_candidate) -> None:
    """A submission server built from the operator's parts plus an EXTERNAL handler (client certificate)."""
    import base64

    from aiosmtpd.smtp import AuthResult

    from segur_mss.operator.imap_sasl import verify_client_certificate
    from segur_mss.operator.sasl import SaslOutcome
    from segur_mss.operator.smtp import SubmissionHandler
    from segur_mss.operator.submission import make_operator_smtp_factory

    class ExternalSubmission(SubmissionHandler):
        async def auth_EXTERNAL(self, server, args: list[str]) -> AuthResult:
            ssl_object = server.transport.get_extra_info("ssl_object")
            authzid = base64.b64decode(args[1]).decode() if len(args) > 1 and args[1] != "=" else ""
            outcome = verify_client_certificate(ssl_object.getpeercert(binary_form=True), authzid,
                                                pki=lps_operator.pki, population=lps_operator.population,
                                                clock=lps_operator.clock)
            if not outcome.success:
                return AuthResult(success=False, handled=False)
            return AuthResult(success=True, auth_data=SaslOutcome(True, "EXTERNAL", outcome.address, outcome.mailbox))

    handler = ExternalSubmission(lps_operator.verifier, lps_operator.recorder, lps_operator.settings.hostname)
    factory = make_operator_smtp_factory(handler, lps_operator.recorder, lps_operator.server_tls_context("smtp"),
                                         lps_operator.faults)
    port = lps_operator.add_server("smtp-external",
                                   lambda: lps_operator.loop.create_server(factory, "127.0.0.1", 0))
    candidate = make_candidate(smtp_port=port)
    assert candidate.connect_mailbox(APP).ok
    with lps_operator.capture() as capture:
        sent = candidate.send_message(MESSAGE)
    assert sent.ok, sent.detail
    assert sent.data["mecanisme"] == "EXTERNAL"
    (submission,) = capture.submissions
    assert submission.mechanism == "EXTERNAL" and submission.tls["client_cert"]
    assert commands(capture, "smtp")[0][:4] == ["EHLO", "STARTTLS", "EHLO", "AUTH"]


def test_app_mailbox_sends_with_smtp_external(lps_operator: ReferenceOperator, make_candidate) -> None:
    candidate = make_candidate()
    assert candidate.connect_mailbox(APP).ok
    with lps_operator.capture() as capture:
        sent = candidate.send_message(MESSAGE)
    assert sent.ok, sent.detail
    assert [s.mechanism for s in capture.submissions] == ["EXTERNAL"]
