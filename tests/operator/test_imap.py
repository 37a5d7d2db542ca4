"""IMAP server of the API LPS: TLS, SASL XOAUTH2 / OAUTHBEARER / EXTERNAL, isolation, transcripts."""

from __future__ import annotations

import asyncio
import base64
import imaplib
import json
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from segur_mss.operator.service import ReferenceOperator
from segur_mss.operator.wire import ImapWire, b64, oauthbearer, open_session, xoauth2

CLAIRE = "claire.martin@test.mssante.fr"  # PER, owner 81000000011
PAUL = "paul.durand@test.mssante.fr"  # PER, owner 81000000029
SECRETARIAT = "secretariat.radiologie@test.mssante.fr"  # ORG, members 81000000029 and 81000000011
APP = "pfi.clinique@test.mssante.fr"  # APP, certificate only
RPPS_CLAIRE, RPPS_PAUL, RPPS_SOPHIE = "81000000011", "81000000029", "81000000037"
HOST = "127.0.0.1"


@pytest.fixture
def operator(tmp_path: Path) -> Iterator[ReferenceOperator]:
    op = ReferenceOperator(tmp_path / "operateur").start()
    try:
        yield op
    finally:
        op.stop()


@pytest.fixture
def tls(operator: ReferenceOperator) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(operator.pki.ca_bundle))


def app_context(operator: ReferenceOperator) -> ssl.SSLContext:
    entry = next(m for m in operator.env()["mailboxes"] if m["type"] == "APP")
    ctx = ssl.create_default_context(cafile=str(operator.pki.ca_bundle))
    ctx.load_cert_chain(entry.get("chain") or entry["certificate"], entry["key"])
    return ctx


def imaplib_session(operator: ReferenceOperator, tls: ssl.SSLContext) -> imaplib.IMAP4:
    client = imaplib.IMAP4(HOST, operator.ports["imap"], timeout=10)
    client.starttls(ssl_context=tls)
    return client


# -- standard clients ------------------------------------------------------------------------------------------
def test_imaplib_starttls_xoauth2_reads_delivered_mail(operator: ReferenceOperator, tls: ssl.SSLContext) -> None:
    raw = b"From: paul.durand@test.mssante.fr\r\nTo: claire.martin@test.mssante.fr\r\nSubject: bonjour\r\n\r\nTexte\r\n"
    operator.deliver(CLAIRE, raw)
    token = operator.issue_tokens(RPPS_CLAIRE, "lps-test").access_token
    client = imaplib.IMAP4(HOST, operator.ports["imap"], timeout=10)
    assert "STARTTLS" in client.capabilities and "LOGINDISABLED" in client.capabilities
    assert not any(c.startswith("AUTH=") for c in client.capabilities)  # nothing before TLS
    client.starttls(ssl_context=tls)
    assert {"AUTH=XOAUTH2", "AUTH=OAUTHBEARER", "AUTH=EXTERNAL", "SASL-IR"} <= set(client.capabilities)
    assert "AUTH=PLAIN" not in client.capabilities
    typ, _ = client.authenticate("XOAUTH2", lambda _: xoauth2(CLAIRE, token))
    assert typ == "OK"
    typ, data = client.select("INBOX")
    assert typ == "OK" and data == [b"1"]
    typ, data = client.fetch("1", "(BODY.PEEK[])")
    assert data[0][1] == raw
    client.logout()


def test_imaplib_implicit_tls_oauthbearer(operator: ReferenceOperator, tls: ssl.SSLContext) -> None:
    token = operator.issue_tokens(RPPS_PAUL, "lps-test").access_token
    client = imaplib.IMAP4_SSL(HOST, operator.ports["imaps"], ssl_context=tls, timeout=10)
    assert "STARTTLS" not in client.capabilities and "AUTH=OAUTHBEARER" in client.capabilities
    typ, _ = client.authenticate("OAUTHBEARER", lambda _: oauthbearer(PAUL, token, HOST, operator.ports["imaps"]))
    assert typ == "OK"
    typ, listing = client.list()
    assert typ == "OK" and listing == [b'(\\HasNoChildren) "/" INBOX']
    client.logout()


def test_sasl_ir_and_oauthbearer_continuation(operator: ReferenceOperator, tls: ssl.SSLContext) -> None:
    token = operator.issue_tokens(RPPS_CLAIRE, "lps-test").access_token

    async def run() -> list[str]:
        statuses = []
        for mechanism, blob, initial in (
            ("XOAUTH2", xoauth2(CLAIRE, token), True),
            ("XOAUTH2", xoauth2(CLAIRE, token), False),
            ("OAUTHBEARER", oauthbearer(CLAIRE, token), True),
            ("OAUTHBEARER", oauthbearer(CLAIRE, token), False),
        ):
            client = await ImapWire.connect(HOST, operator.ports["imap"])
            await client.starttls(tls)
            reply = await client.authenticate(mechanism, blob, initial=initial)
            statuses.append(reply.status)
            await client.close()
        return statuses

    assert asyncio.run(run()) == ["OK"] * 4


def test_org_mailbox_opens_for_its_members_only(operator: ReferenceOperator, tls: ssl.SSLContext) -> None:
    async def attempt(rpps: str) -> str:
        token = operator.issue_tokens(rpps, "lps-test").access_token
        client = await ImapWire.connect(HOST, operator.ports["imap"])
        await client.starttls(tls)
        reply = await client.authenticate("XOAUTH2", xoauth2(SECRETARIAT, token))
        await client.close()
        return reply.status

    assert asyncio.run(attempt(RPPS_CLAIRE)) == "OK"
    assert asyncio.run(attempt(RPPS_PAUL)) == "OK"
    assert asyncio.run(attempt(RPPS_SOPHIE)) == "NO"


# -- refusals --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", ["garbage", "foreign", "expired", "other_issuer_key", "revoked"])
def test_bad_tokens_are_refused_with_authenticationfailed(
    operator: ReferenceOperator, tls: ssl.SSLContext, case: str
) -> None:
    pair = operator.issue_tokens(RPPS_PAUL if case == "foreign" else RPPS_CLAIRE, "lps-test")
    token = pair.access_token
    expected_reason = {
        "garbage": "invalid_token",
        "foreign": "mailbox_not_granted",
        "expired": "expired",
        "other_issuer_key": "invalid_token",
        "revoked": "revoked",
    }[case]
    if case == "garbage":
        token = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    elif case == "expired":
        operator.clock.advance(operator.authority.access_lifetime + 1)
    elif case == "other_issuer_key":
        header, claims, _ = token.split(".")
        token = f"{header}.{claims}.{base64.urlsafe_b64encode(b'x' * 64).decode().rstrip('=')}"
    elif case == "revoked":
        operator.authority.revoke(token)
    client = imaplib_session(operator, tls)
    challenges: list[bytes] = []

    def respond(challenge: bytes) -> bytes:
        challenges.append(challenge)
        return xoauth2(CLAIRE, token) if len(challenges) == 1 else b""

    with pytest.raises(imaplib.IMAP4.error) as failure:
        client.authenticate("XOAUTH2", respond)
    assert "AUTHENTICATIONFAILED" in str(failure.value)
    # The final challenge carries the RFC 7628 JSON error before the NO.
    error = json.loads(challenges[-1])
    assert error["status"] == "invalid_token" and error["reason"] == expected_reason
    client.logout()
    auth = [e for t in operator.recorder.transcripts if t.service == "imap" for e in t.events("auth")]
    assert auth[-1].data["success"] is False and auth[-1].data["reason"] == expected_reason


def test_login_plain_and_auth_before_tls_are_refused(operator: ReferenceOperator, tls: ssl.SSLContext) -> None:
    token = operator.issue_tokens(RPPS_CLAIRE, "lps-test").access_token
    plain_blob = b64(b"\x00" + CLAIRE.encode() + b"\x00secret")

    async def run() -> dict[str, str]:
        client = await ImapWire.connect(HOST, operator.ports["imap"])
        before_tls = await client.authenticate("XOAUTH2", xoauth2(CLAIRE, token))
        login_plain = await client.command(f"LOGIN {CLAIRE} secret")
        await client.starttls(tls)
        login_tls = await client.command(f"LOGIN {CLAIRE} secret")
        plain = await client.command(f"AUTHENTICATE PLAIN {plain_blob}")
        still_ok = await client.authenticate("XOAUTH2", xoauth2(CLAIRE, token))
        await client.close()
        return {
            "before_tls": before_tls.text,
            "login_plain": login_plain.text,
            "login_tls": login_tls.text,
            "plain": plain.text,
            "after": still_ok.status,
        }

    replies = asyncio.run(run())
    assert "NO [PRIVACYREQUIRED]" in replies["before_tls"]
    assert "NO [PRIVACYREQUIRED]" in replies["login_plain"]
    assert " NO " in replies["login_tls"]
    assert " NO " in replies["plain"]
    assert replies["after"] == "OK"


def test_app_mailbox_opens_with_certificate_only(operator: ReferenceOperator, tls: ssl.SSLContext) -> None:
    operator.deliver(APP, b"Subject: pour la PFI\r\n\r\nCDA\r\n")
    token = operator.issue_tokens(RPPS_CLAIRE, "lps-test").access_token

    async def run() -> dict[str, str]:
        results = {}
        # No client certificate: EXTERNAL fails.
        client = await ImapWire.connect(HOST, operator.ports["imaps"], tls=tls, server_hostname="mss.test.mssante.fr")
        results["no_cert"] = (await client.authenticate("EXTERNAL", b"")).text
        # A PSC token cannot open an APP mailbox.
        results["token"] = (await client.authenticate("XOAUTH2", xoauth2(APP, token))).text
        await client.close()
        # With the ORG certificate of the APP mailbox: EXTERNAL opens it, with or without authzid.
        for label, blob, initial in (("cert", b"", True), ("cert_authzid", APP.encode(), False)):
            client = await ImapWire.connect(
                HOST, operator.ports["imaps"], tls=app_context(operator), server_hostname="mss.test.mssante.fr"
            )
            results[label] = (await client.authenticate("EXTERNAL", blob, initial=initial)).status
            results[label + "_select"] = (await client.command("SELECT INBOX")).untagged[2].decode().strip()
            await client.close()
        # The right certificate, but asking for another mailbox.
        client = await ImapWire.connect(HOST, operator.ports["imap"])
        await client.starttls(app_context(operator))
        results["other"] = (await client.authenticate("EXTERNAL", CLAIRE.encode())).text
        await client.close()
        return results

    results = asyncio.run(run())
    assert "NO [AUTHENTICATIONFAILED]" in results["no_cert"]
    assert "NO [AUTHENTICATIONFAILED]" in results["token"]
    assert results["cert"] == results["cert_authzid"] == "OK"
    assert results["cert_select"] == "* 1 EXISTS"
    assert "NO [AUTHENTICATIONFAILED]" in results["other"]
    reasons = [e.data.get("reason") for t in operator.recorder.transcripts for e in t.events("auth")]
    assert {"no_certificate", "wrong_method", "authzid_mismatch"} <= set(reasons)
    accepted = [e for t in operator.recorder.transcripts for e in t.events("auth") if e.data["success"]]
    assert accepted and all("BAL APPLICATIVE" in e.data["certificate"] for e in accepted)


def test_rogue_client_certificate_fails_the_handshake(operator: ReferenceOperator) -> None:
    rogue = operator.pki.rogue_client("client-voyou", "CLINIQUE DU TEST", APP)
    ctx = ssl.create_default_context(cafile=str(operator.pki.ca_bundle))
    ctx.load_cert_chain(rogue.chain_path, rogue.key_path)

    async def run() -> str:
        try:
            client = await ImapWire.connect(
                HOST, operator.ports["imaps"], tls=ctx, server_hostname="mss.test.mssante.fr"
            )
            reply = await client.authenticate("EXTERNAL", b"")
            await client.close()
            return reply.status
        except (ssl.SSLError, ConnectionError, asyncio.IncompleteReadError):
            return "handshake refused"

    assert asyncio.run(run()) in ("handshake refused", "EOF")
    assert operator.imap_servers["imaps"].stats.authenticated == 0


# -- isolation, recording, binding -----------------------------------------------------------------------------
def test_a_session_sees_only_its_mailbox(operator: ReferenceOperator, tls: ssl.SSLContext) -> None:
    operator.deliver(PAUL, b"Subject: pour Paul\r\n\r\nsecret\r\n")
    operator.deliver(CLAIRE, b"Subject: pour Claire\r\n\r\nbonjour\r\n", folder="Archives")
    token = operator.issue_tokens(RPPS_CLAIRE, "lps-test").access_token

    async def run() -> tuple[list[bytes], list[bytes], str]:
        client = await open_session(HOST, operator.ports["imap"], tls, CLAIRE, token)
        listing = (await client.command('LIST "" "*"')).untagged
        inbox = (await client.command("SELECT INBOX")).untagged
        other = (await client.command(f'SELECT "{PAUL}/INBOX"')).status
        await client.close()
        return listing, inbox, other

    listing, inbox, other = asyncio.run(run())
    assert sorted(line.split(b'"/" ')[1].strip() for line in listing) == [b"Archives", b"INBOX"]
    assert b"* 0 EXISTS\r\n" in inbox
    assert other == "NO"


def test_transcript_records_tls_mechanism_and_never_the_token(operator: ReferenceOperator, tls: ssl.SSLContext) -> None:
    token = operator.issue_tokens(RPPS_CLAIRE, "lps-test").access_token
    with operator.capture() as cap:
        client = imaplib_session(operator, tls)
        client.authenticate("OAUTHBEARER", lambda _: oauthbearer(CLAIRE, token))
        client.logout()
    transcript = cap.by_service("imap")[0]
    text = Path(transcript.path).read_text(encoding="utf-8")
    encoded = base64.b64encode(oauthbearer(CLAIRE, token)).decode()
    assert token not in text and encoded not in text and encoded[:40] not in text
    tls_event = transcript.events("tls")[0]
    assert tls_event.data["version"] in ("TLSv1.2", "TLSv1.3") and tls_event.data["cipher"]
    auth = transcript.events("auth")[0]
    assert auth.data["mechanism"] == "OAUTHBEARER" and auth.data["mailbox"] == CLAIRE
    assert auth.data["token"]["sub"] == RPPS_CLAIRE and "jti_sha256" in auth.data["token"]
    order = [e.event for e in transcript.entries if e.event in ("tls", "auth")]
    assert order == ["tls", "auth"]


def test_servers_bind_loopback_by_default(operator: ReferenceOperator) -> None:
    bound = {sock.getsockname()[0] for server in operator._servers for sock in server.sockets}
    assert bound == {"127.0.0.1"}
    for name in ("imap", "imaps", "smtp", "smtps"):
        assert operator.ports[name] > 0
    env = operator.env()
    assert env["imap"]["port"] == operator.ports["imap"] and env["imap"]["tls"] == "starttls"
    assert env["imaps"]["tls"] == "implicit"
    # Nothing answers on another interface of this machine.
    try:
        other = socket.gethostbyname(socket.gethostname())
    except OSError:
        other = None
    if other and not other.startswith("127."):
        with pytest.raises(OSError):
            socket.create_connection((other, operator.ports["imap"]), timeout=1).close()


def test_idle_sees_new_mail_and_append_round_trips(operator: ReferenceOperator, tls: ssl.SSLContext) -> None:
    token = operator.issue_tokens(RPPS_CLAIRE, "lps-test").access_token
    appended = b"Subject: brouillon\r\nX-Test: 1\r\n\r\nligne 1\r\n.ligne 2\r\n\x00binaire?\r\n"

    async def run() -> tuple[list[bytes], str, str]:
        client = await open_session(HOST, operator.ports["imap"], tls, CLAIRE, token)
        await client.command("SELECT INBOX")
        await client.send(b"i1 IDLE\r\n")
        assert (await client.read_line()).startswith(b"+")
        await asyncio.to_thread(operator.deliver, CLAIRE, b"Subject: nouveau\r\n\r\nx\r\n")
        seen = [await client.read_line(), await client.read_line()]
        await client.send(b"DONE\r\n")
        done = await client.wait_tagged("i1")
        # APPEND with a synchronising literal, then read it back.
        tag = client.next_tag()
        await client.send(f"{tag} APPEND Brouillons (\\Draft) {{{len(appended)}}}\r\n".encode())
        assert (await client.read_line()).startswith(b"+")
        await client.send(appended + b"\r\n")
        assert (await client.wait_tagged(tag)).status == "NO"  # TRYCREATE: the folder does not exist yet
        created = await client.command("CREATE Brouillons")
        await client.close()
        return seen, done.status, created.status

    async def append_plus() -> str:
        client = await open_session(HOST, operator.ports["imap"], tls, CLAIRE, token)
        tag = client.next_tag()
        await client.send(f"{tag} APPEND Brouillons (\\Draft) {{{len(appended)}+}}\r\n".encode() + appended + b"\r\n")
        reply = await client.wait_tagged(tag)
        await client.close()
        return reply.status

    seen, done, created = asyncio.run(run())
    assert b"* 1 EXISTS\r\n" in seen and done == "OK" and created == "OK"
    assert asyncio.run(append_plus()) == "OK"
    drafts = operator.read_mailbox(CLAIRE, "Brouillons")
    assert [m.raw for m in drafts] == [appended] and drafts[0].flags == {"\\Draft"}
    transcript = [t for t in operator.recorder.transcripts if t.service == "imap"][-1]
    assert f"[littéral de {len(appended)} octets]" in transcript.text()
    assert "ligne 2" not in transcript.text()  # message contents stay out of transcripts
