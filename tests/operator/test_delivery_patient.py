"""Patient domain (Mon Espace Santé): delivery by INS and patient replies, refused after `X-MSS-MES: FIN`."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from segur_mss.operator.service import ReferenceOperator
from segur_mss.operator.wire import b64, xoauth2

CLAIRE = "claire.martin@test.mssante.fr"
INS = "279035121518989"
PATIENT = f"{INS}@patient.mssante.fr"


@pytest.fixture
def operator(tmp_path: Path) -> Iterator[ReferenceOperator]:
    op = ReferenceOperator(tmp_path / "operateur").start()
    try:
        yield op
    finally:
        op.stop()


def send_to_patient(operator: ReferenceOperator, message_id: str, mes: str | None) -> bytes:
    header = f"X-MSS-MES: {mes}\r\n".encode() if mes is not None else b""
    raw = (
        f"From: claire.martin@test.mssante.fr\r\nTo: {PATIENT}\r\nSubject: Vos résultats\r\n"
        f"Message-ID: {message_id}\r\n".encode()
        + header
        + b"\r\nBonjour, voici vos resultats.\r\n"
    )
    tls = ssl.create_default_context(cafile=str(operator.pki.ca_bundle))
    with smtplib.SMTP("127.0.0.1", operator.ports["smtp"], timeout=10) as client:
        client.starttls(context=tls)
        client.ehlo()
        token = operator.issue_tokens("81000000011", "lps-test").access_token
        assert client.docmd("AUTH", "XOAUTH2 " + b64(xoauth2(CLAIRE, token)))[0] == 235
        client.sendmail(CLAIRE, [PATIENT], raw)
    return raw


def test_patient_can_reply_when_the_exchange_is_open(operator: ReferenceOperator) -> None:
    send_to_patient(operator, "<ouvert-1@test.mssante.fr>", None)
    reply = operator.patient_reply(INS, CLAIRE, "<ouvert-1@test.mssante.fr>", "Merci docteur, à bientôt.")
    assert reply.accepted and reply.reason is None and reply.patient == PATIENT
    inbox = operator.read_mailbox(CLAIRE)
    assert [m.raw for m in inbox] == [reply.raw]
    message = inbox[0].message
    assert message["From"] == PATIENT and message["In-Reply-To"] == "<ouvert-1@test.mssante.fr>"
    assert message["References"] == "<ouvert-1@test.mssante.fr>"
    assert message["Subject"] == "Re: Vos résultats"
    assert message.get_content().strip() == "Merci docteur, à bientôt."
    transcript = next(t for t in operator.recorder.transcripts if t.id == reply.transcript)
    assert transcript.service == "mes" and transcript.events("reponse_acceptee")


def test_patient_reply_refused_after_x_mss_mes_fin(operator: ReferenceOperator) -> None:
    send_to_patient(operator, "<clos-1@test.mssante.fr>", "FIN")
    reply = operator.patient_reply(INS, CLAIRE, "clos-1@test.mssante.fr", "Une question encore ?")
    assert not reply.accepted and reply.reason == "exchange_closed"
    assert "X-MSS-MES: FIN" in (reply.message or "")
    assert operator.read_mailbox(CLAIRE) == []
    transcript = next(t for t in operator.recorder.transcripts if t.id == reply.transcript)
    refused = transcript.events("reponse_refusee")
    assert refused and refused[0].data["reason"] == "exchange_closed"
    assert "exchange_closed" in Path(transcript.path).read_text(encoding="utf-8")


@pytest.mark.parametrize("value", ["fin", "Fin", "FINI", "NON"])
def test_only_the_exact_value_fin_closes_the_exchange(operator: ReferenceOperator, value: str) -> None:
    send_to_patient(operator, "<presque-1@test.mssante.fr>", value)
    assert operator.patient_reply(INS, CLAIRE, "<presque-1@test.mssante.fr>", "ok").accepted


def test_patient_reply_to_an_unknown_message_or_recipient_is_refused(operator: ReferenceOperator) -> None:
    unknown = operator.patient_reply(INS, CLAIRE, "<jamais-recu@test.mssante.fr>", "?")
    assert not unknown.accepted and unknown.reason == "original_not_found"
    operator.deliver(PATIENT, b"Message-ID: <direct-1@x>\r\nSubject: s\r\n\r\nx\r\n")
    stranger = operator.patient_reply(INS, "inconnu@ailleurs.example.org", "<direct-1@x>", "?")
    assert not stranger.accepted and stranger.reason == "unknown_recipient"
    with pytest.raises(ValueError):
        operator.patient_reply("../../etc", CLAIRE, "<direct-1@x>", "?")
    assert [r.accepted for r in operator.patients.replies] == [False, False]
