"""Delivery of submitted mail into the operator's mailboxes (byte for byte), crafted mail, DSN (RFC 3461/3464)."""

from __future__ import annotations

import email
import email.policy
import imaplib
import smtplib
import ssl
from collections.abc import Iterator
from email.message import EmailMessage, Message
from pathlib import Path

import pytest

from segur_mss.operator.service import ReferenceOperator
from segur_mss.operator.wire import b64, xoauth2

CLAIRE = "claire.martin@test.mssante.fr"
PAUL = "paul.durand@test.mssante.fr"
SOPHIE = "sophie.leroy@test.mssante.fr"
PATIENT_INS = "279035121518989"
PATIENT = f"{PATIENT_INS}@patient.mssante.fr"
EXTERNAL = "someone@hopital-hors-espace.example.org"


@pytest.fixture
def operator(tmp_path: Path) -> Iterator[ReferenceOperator]:
    op = ReferenceOperator(tmp_path / "operateur").start()
    try:
        yield op
    finally:
        op.stop()


def smtp_session(operator: ReferenceOperator, address: str = CLAIRE, rpps: str = "81000000011") -> smtplib.SMTP:
    tls = ssl.create_default_context(cafile=str(operator.pki.ca_bundle))
    client = smtplib.SMTP("127.0.0.1", operator.ports["smtp"], timeout=10)
    client.starttls(context=tls)
    client.ehlo()
    token = operator.issue_tokens(rpps, "lps-test").access_token
    code, _ = client.docmd("AUTH", "XOAUTH2 " + b64(xoauth2(address, token)))
    assert code == 235
    return client


def imap_fetch_all(operator: ReferenceOperator, address: str, rpps: str) -> list[bytes]:
    tls = ssl.create_default_context(cafile=str(operator.pki.ca_bundle))
    client = imaplib.IMAP4("127.0.0.1", operator.ports["imap"], timeout=10)
    client.starttls(ssl_context=tls)
    token = operator.issue_tokens(rpps, "lps-test").access_token
    client.authenticate("XOAUTH2", lambda _: xoauth2(address, token))
    _, count = client.select("INBOX")
    bodies = []
    if int(count[0]):
        _, data = client.uid("FETCH", "1:*", "(BODY.PEEK[])")
        bodies = [part[1] for part in data if isinstance(part, tuple)]
    client.logout()
    return bodies


def tricky_message() -> bytes:
    """Dots at line starts, 8-bit UTF-8, a long line, a base64 attachment, odd header folding."""
    return (
        b"From: Claire MARTIN <claire.martin@test.mssante.fr>\r\n"
        b"To: paul.durand@test.mssante.fr, " + PATIENT.encode() + b"\r\n"
        b"Subject: =?utf-8?q?Compte_rendu_=C3=A9chographie?=\r\n"
        b"X-MSS-NIL: SEGUR-TEST-1\r\n"
        b"X-Folded: first\r\n\t second\r\n"
        b"Message-ID: <tricky-1@test.mssante.fr>\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + "Résultat : ça va. Œdème absent.\r\n".encode()
        + b".\r\n..deux points\r\n. espace\r\n"
        + b"x" * 990
        + b"\r\n"
        b"--b1\r\nContent-Type: application/zip; name=IHE_XDM.zip\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + b"UEsDBBQAAAAIAAAAIQDs7fTPZAAAAHIAAAALAAAASUhFX1hETS56aXA=\r\n" * 20
        + b"--b1--\r\n"
    )


def test_smtp_submission_is_fetched_byte_identical(operator: ReferenceOperator) -> None:
    raw = tricky_message()
    client = smtp_session(operator)
    refused = client.sendmail(CLAIRE, [PAUL, PATIENT], raw)
    client.quit()
    assert refused == {}
    assert imap_fetch_all(operator, PAUL, "81000000029") == [raw]
    assert [m.raw for m in operator.read_mailbox(PATIENT)] == [raw]  # Mon Espace Santé mailbox, by INS
    submission = operator.recorder.submissions[-1]
    assert submission.raw == raw
    assert [r.recipient for r in operator.delivery.delivered_to(PAUL)] == [PAUL]
    journal = (operator.recorder.directory / "livraisons.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(journal) == 2 and '"message_id": "<tricky-1@test.mssante.fr>"' in journal[0]


def test_crafted_mail_is_delivered_and_read_back(operator: ReferenceOperator) -> None:
    message = EmailMessage()
    message["From"] = "Dr Paul DURAND <paul.durand@test.mssante.fr>"
    message["To"] = CLAIRE
    message["Subject"] = "XDM/1.0/DDM+Compte rendu DUPONT Jean 19700101"
    message["Message-ID"] = "<crafted-1@test.mssante.fr>"
    message.set_content("Document joint.")
    stored = operator.deliver(CLAIRE, message)
    raw_stored = operator.deliver(CLAIRE, b"Subject: brut\r\n\r\nsans fin de ligne finale", flags=("\\Seen",))
    inbox = operator.read_mailbox(CLAIRE)
    assert [m.uid for m in inbox] == [stored.uid, raw_stored.uid]
    assert inbox[0].raw == message.as_bytes(policy=email.policy.SMTP)
    assert inbox[0].message_id == "<crafted-1@test.mssante.fr>"
    assert inbox[0].header("Subject").startswith("XDM/1.0/DDM+")
    assert inbox[1].raw == b"Subject: brut\r\n\r\nsans fin de ligne finale" and inbox[1].flags == {"\\Seen"}
    assert imap_fetch_all(operator, CLAIRE, "81000000011") == [inbox[0].raw, inbox[1].raw]
    with pytest.raises(KeyError):
        operator.deliver("inconnu@test.mssante.fr", b"Subject: x\r\n\r\n")


def dsn_parts(raw: bytes) -> tuple[Message, list[Message], Message]:
    report = email.message_from_bytes(raw, policy=email.policy.default)
    assert report.get_content_type() == "multipart/report"
    assert report.get_param("report-type") == "delivery-status"
    parts = list(report.iter_parts())
    assert [p.get_content_type() for p in parts[:2]] == ["text/plain", "message/delivery-status"]
    status_blocks = list(parts[1].get_payload())
    return report, status_blocks, parts[2]


def test_success_dsn_when_notify_success(operator: ReferenceOperator) -> None:
    raw = b"From: claire.martin@test.mssante.fr\r\nTo: paul.durand@test.mssante.fr\r\nSubject: avec AR\r\n\r\nx\r\n"
    client = smtp_session(operator)
    client.sendmail(
        CLAIRE,
        [PAUL, SOPHIE],
        raw,
        mail_options=["RET=FULL", "ENVID=lot+2B42"],
        rcpt_options=["NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;paul.durand@test.mssante.fr"],
    )
    client.quit()
    # smtplib applies rcpt_options to every recipient: both asked SUCCESS.
    dsns = operator.read_mailbox(CLAIRE)
    assert len(dsns) == 1
    report, blocks, returned = dsn_parts(dsns[0].raw)
    assert str(report["To"]).strip("<>") == CLAIRE and report["Auto-Submitted"] == "auto-replied"
    assert blocks[0]["Reporting-MTA"] == "dns; mss.test.mssante.fr"
    assert blocks[0]["Original-Envelope-Id"] == "lot+42"  # xtext "+2B" decoded
    per_recipient = {b["Final-Recipient"]: b for b in blocks[1:]}
    assert set(per_recipient) == {f"rfc822; {PAUL}", f"rfc822; {SOPHIE}"}
    assert all(b["Action"] == "delivered" and b["Status"] == "2.0.0" for b in blocks[1:])
    assert per_recipient[f"rfc822; {PAUL}"]["Original-Recipient"] == f"rfc822;{PAUL}"
    # No failure in the report: headers only, even with RET=FULL (RFC 3461 §4.3).
    assert returned.get_content_type() == "text/rfc822-headers"
    assert operator.delivery.reports[-1].actions == ["delivered", "delivered"]


def test_failure_dsn_by_default_and_full_return(operator: ReferenceOperator) -> None:
    raw = b"From: claire.martin@test.mssante.fr\r\nTo: someone@example.org\r\nSubject: hors espace\r\n\r\ncorps\r\n"
    client = smtp_session(operator)
    refused = client.sendmail(CLAIRE, [EXTERNAL, PAUL], raw, mail_options=["RET=FULL"])
    client.quit()
    assert refused == {}  # accepted at RCPT: the failure comes later, as a DSN
    assert [m.raw for m in operator.read_mailbox(PAUL)] == [raw]  # delivered: no NOTIFY, so no success DSN
    dsns = operator.read_mailbox(CLAIRE)
    assert len(dsns) == 1
    _, blocks, returned = dsn_parts(dsns[0].raw)
    assert [b["Final-Recipient"] for b in blocks[1:]] == [f"rfc822; {EXTERNAL}"]
    assert blocks[1]["Action"] == "failed" and blocks[1]["Status"] == "5.1.2"
    assert blocks[1]["Diagnostic-Code"].startswith("smtp; 550 5.1.2")
    assert returned.get_content_type() == "message/rfc822"
    assert returned.get_payload()[0].as_bytes(policy=email.policy.SMTP).endswith(b"corps\r\n")
    assert operator.recorder.submissions[-1].refused == {EXTERNAL: blocks[1]["Diagnostic-Code"]}


def test_notify_never_and_headers_only(operator: ReferenceOperator) -> None:
    raw = b"From: claire.martin@test.mssante.fr\r\nSubject: jamais\r\n\r\nx\r\n"
    client = smtp_session(operator)
    client.sendmail(CLAIRE, [EXTERNAL], raw, rcpt_options=["NOTIFY=NEVER"])
    client.sendmail(CLAIRE, [EXTERNAL], raw, mail_options=["RET=HDRS"])
    client.quit()
    dsns = operator.read_mailbox(CLAIRE)
    assert len(dsns) == 1  # the NEVER one produced nothing
    _, _, returned = dsn_parts(dsns[0].raw)
    assert returned.get_content_type() == "text/rfc822-headers"


def test_fault_profile_fails_a_local_delivery(operator: ReferenceOperator) -> None:
    raw = b"From: claire.martin@test.mssante.fr\r\nSubject: panne\r\n\r\nx\r\n"
    with operator.faults.apply("echec-remise", fail_delivery_to={PAUL}):
        client = smtp_session(operator)
        client.sendmail(CLAIRE, [PAUL, SOPHIE], raw)
        client.quit()
    assert operator.read_mailbox(PAUL) == []
    assert [m.raw for m in operator.read_mailbox(SOPHIE)] == [raw]
    _, blocks, _ = dsn_parts(operator.read_mailbox(CLAIRE)[0].raw)
    assert [(b["Final-Recipient"], b["Status"]) for b in blocks[1:]] == [(f"rfc822; {PAUL}", "5.3.0")]


def test_smtps_implicit_tls_submission(operator: ReferenceOperator) -> None:
    tls = ssl.create_default_context(cafile=str(operator.pki.ca_bundle))
    client = smtplib.SMTP_SSL("127.0.0.1", operator.ports["smtps"], context=tls, timeout=10)
    client.ehlo()
    assert "starttls" not in client.esmtp_features and "OAUTHBEARER" in client.esmtp_features["auth"]
    token = operator.issue_tokens("81000000011", "lps-test").access_token
    assert client.docmd("AUTH", "XOAUTH2 " + b64(xoauth2(CLAIRE, token)))[0] == 235
    raw = b"From: claire.martin@test.mssante.fr\r\nSubject: smtps\r\n\r\nx\r\n"
    client.sendmail(CLAIRE, [PAUL], raw)
    client.quit()
    assert [m.raw for m in operator.read_mailbox(PAUL)] == [raw]
    transcript = [t for t in operator.recorder.transcripts if t.service == "smtp"][-1]
    assert transcript.events("tls")[0].data["how"] == "TLS implicite"
