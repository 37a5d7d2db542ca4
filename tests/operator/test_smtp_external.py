"""SMTP submission: SASL EXTERNAL with an IGC-Santé ORG client certificate for the APP mailbox (SC.MSS/CONF.27)."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from segur_mss.operator.service import ReferenceOperator

APP = "pfi.clinique@test.mssante.fr"


@pytest.fixture(scope="module")
def operator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceOperator]:
    op = ReferenceOperator(tmp_path_factory.mktemp("operateur")).start()
    yield op
    op.stop()


def _client(op: ReferenceOperator, cert: Path | None, key: Path | None) -> smtplib.SMTP:
    ctx = ssl.create_default_context(cafile=str(op.pki.ca_bundle))
    if cert and key:
        ctx.load_cert_chain(cert, key)
    client = smtplib.SMTP("127.0.0.1", op.ports["smtp"], timeout=10)
    client.starttls(context=ctx)
    client.ehlo()
    return client


def _message() -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = APP, "paul.durand@test.mssante.fr", "essai EXTERNAL"
    msg["X-MSS-NIL"] = "SEGUR-MSS-REF-0001"
    msg.set_content("bonjour")
    return msg


def test_app_mailbox_sends_with_its_certificate(operator: ReferenceOperator) -> None:
    bundle = operator.pki.client("bal-app-pfi.clinique", "CLINIQUE DU TEST", APP)
    with operator.capture() as capture:
        client = _client(operator, bundle.chain_path, bundle.key_path)
        assert "EXTERNAL" in client.esmtp_features["auth"]
        code, _ = client.docmd("AUTH", "EXTERNAL =")
        assert code == 235
        client.send_message(_message())
        client.quit()
    assert len(capture.submissions) == 1 and capture.submissions[0].mechanism == "EXTERNAL"
    auth = [e.data for t in capture.transcripts for e in t.events("auth")]
    assert auth[0]["success"] and auth[0]["client_cert"]


def test_no_certificate_means_no_external(operator: ReferenceOperator) -> None:
    client = _client(operator, None, None)
    code, _ = client.docmd("AUTH", "EXTERNAL =")
    assert code == 535
    client.quit()


def test_rogue_certificate_is_refused(operator: ReferenceOperator) -> None:
    rogue = operator.pki.rogue_client("rogue-app", "CLINIQUE DU TEST", APP)
    with pytest.raises((ssl.SSLError, smtplib.SMTPServerDisconnected, ConnectionResetError)):
        client = _client(operator, rogue.chain_path, rogue.key_path)
        client.docmd("AUTH", "EXTERNAL =")
        client.send_message(_message())
