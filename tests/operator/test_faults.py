"""Fault profiles of the mail servers: drop / BYE / 421 after N commands, refused authentication, slow link."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from segur_mss.operator.faults import FaultController, FaultProfile
from segur_mss.operator.service import ReferenceOperator
from segur_mss.operator.wire import ImapWire, b64, xoauth2

CLAIRE = "claire.martin@test.mssante.fr"
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


async def noop_until_closed(operator: ReferenceOperator, count: int) -> tuple[bytes, list[str]]:
    client = await ImapWire.connect(HOST, operator.ports["imap"])
    statuses = []
    for _ in range(count):
        try:
            statuses.append((await client.command("NOOP", timeout=5)).status)
        except (ConnectionError, asyncio.IncompleteReadError):
            statuses.append("EOF")
        if statuses[-1] in ("EOF", "BYE"):
            break
    await client.close()
    return client.greeting, statuses


def imap_faults(operator: ReferenceOperator) -> list[dict[str, object]]:
    return [e.data for t in operator.recorder.transcripts if t.service == "imap" for e in t.events("faute")]


def test_imap_drop_and_bye_after_n_commands(operator: ReferenceOperator) -> None:
    operator.faults.set("coupure", drop_after_commands=2)
    _, statuses = asyncio.run(noop_until_closed(operator, 5))
    assert statuses == ["OK", "OK", "EOF"]
    operator.faults.set("fermeture", bye_after_commands=3)
    _, statuses = asyncio.run(noop_until_closed(operator, 5))
    assert statuses == ["OK", "OK", "OK", "BYE"]
    operator.faults.clear()
    _, statuses = asyncio.run(noop_until_closed(operator, 4))
    assert statuses == ["OK"] * 4
    assert [f["fault"] for f in imap_faults(operator)] == ["drop", "bye"]
    assert [h["faute"] for h in operator.faults.history] == ["drop", "bye"]


def test_imap_bye_or_drop_at_greeting(operator: ReferenceOperator) -> None:
    with operator.faults.apply(bye_after_commands=0):
        greeting, _ = asyncio.run(noop_until_closed(operator, 1))
    assert greeting.startswith(b"* BYE [UNAVAILABLE]")
    with operator.faults.apply(drop_after_commands=0):
        greeting, _ = asyncio.run(noop_until_closed(operator, 1))
    assert greeting == b""
    assert operator.faults.current is None


def test_imap_refused_authentication_and_budget(operator: ReferenceOperator, tls: ssl.SSLContext) -> None:
    token = operator.issue_tokens("81000000011", "lps-test").access_token

    async def attempt() -> str:
        client = await ImapWire.connect(HOST, operator.ports["imap"])
        await client.starttls(tls)
        reply = await client.authenticate("XOAUTH2", xoauth2(CLAIRE, token))
        await client.close()
        return reply.text

    operator.faults.set("refus-authentification", connections=2)
    results = [asyncio.run(attempt()) for _ in range(3)]
    assert ["NO [AUTHENTICATIONFAILED]" in r for r in results] == [True, True, False]
    assert "OK" in results[2]
    auth = [e.data for t in operator.recorder.transcripts for e in t.events("auth")]
    assert [a["reason"] for a in auth[:2]] == ["fault", "fault"] and auth[2]["success"] is True


def test_imap_slow_link_delays_every_response(operator: ReferenceOperator) -> None:
    async def timed() -> float:
        client = await ImapWire.connect(HOST, operator.ports["imap"])
        start = time.monotonic()
        for _ in range(3):
            await client.command("NOOP")
        elapsed = time.monotonic() - start
        await client.close()
        return elapsed

    operator.faults.set("lien-lent", delay=0.1)
    assert asyncio.run(timed()) >= 0.3  # three replies, each held back 0.1 s
    assert [f["fault"] for f in imap_faults(operator)] == ["slow"]


def smtp_connect(operator: ReferenceOperator) -> smtplib.SMTP:
    return smtplib.SMTP(HOST, operator.ports["smtp"], timeout=5)


def test_smtp_421_and_drop_after_n_commands(operator: ReferenceOperator) -> None:
    operator.faults.set("fermeture", bye_after_commands=1, services={"smtp"})
    client = smtp_connect(operator)
    assert client.ehlo()[0] == 250
    assert client.noop()[0] == 421
    with pytest.raises(smtplib.SMTPServerDisconnected):
        client.noop()
    operator.faults.set("coupure", drop_after_commands=1, services={"smtp"})
    client = smtp_connect(operator)
    client.ehlo()
    with pytest.raises(smtplib.SMTPServerDisconnected):
        client.noop()
    operator.faults.set(bye_after_commands=0, services={"smtp"})
    with pytest.raises(smtplib.SMTPConnectError) as refused:
        smtp_connect(operator)
    assert refused.value.smtp_code == 421
    # IMAP is untouched by an SMTP-only profile.
    _, statuses = asyncio.run(noop_until_closed(operator, 3))
    assert statuses == ["OK"] * 3


def test_smtp_refused_authentication(operator: ReferenceOperator) -> None:
    token = operator.issue_tokens("81000000011", "lps-test").access_token
    tls = ssl.create_default_context(cafile=str(operator.pki.ca_bundle))
    with operator.faults.apply("refus-authentification"):
        client = smtp_connect(operator)
        client.starttls(context=tls)
        client.ehlo()
        assert client.docmd("AUTH", "XOAUTH2 " + b64(xoauth2(CLAIRE, token)))[0] == 535
        client.quit()
    client = smtp_connect(operator)
    client.starttls(context=tls)
    client.ehlo()
    assert client.docmd("AUTH", "XOAUTH2 " + b64(xoauth2(CLAIRE, token)))[0] == 235
    client.quit()
    smtp_faults = [e.data for t in operator.recorder.transcripts if t.service == "smtp" for e in t.events("faute")]
    assert [f["fault"] for f in smtp_faults] == ["refuse_auth"]


def test_controller_profiles_are_validated_and_restored() -> None:
    controller = FaultController()
    with pytest.raises(ValueError):
        controller.set("inexistant")
    with pytest.raises(ValueError):
        FaultProfile(services=frozenset({"pop3"}))
    with pytest.raises(ValueError):
        FaultProfile(delay=-1)
    base = controller.set("coupure")
    assert base is not None and base.drop_after_commands == 3
    with controller.apply("lien-lent", delay=0.5) as slow:
        assert slow is not None and slow.delay == 0.5 and controller.current == slow
    assert controller.current == base
    assert controller.set() is None and controller.current is None
    profile = controller.set(fail_delivery_to="Paul.Durand@test.mssante.fr")
    assert profile is not None and profile.fails_delivery("paul.durand@test.mssante.fr")
    assert controller.for_connection("imap") is None  # delivery-only profile: connections untouched
