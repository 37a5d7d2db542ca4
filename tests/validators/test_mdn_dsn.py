"""Integration MDN (RFC 8098 + ANS conventions): builder and validator; RFC 3464 DSN validator."""

from __future__ import annotations

from email.message import EmailMessage, MIMEPart
from email.policy import default as default_policy

import pytest

from segur_mss.documents import PATIENTS, make_cda
from segur_mss.documents.mail import build_document_mail, build_plain_mail
from segur_mss.validators.dsn import parse_dsn, validate_dsn
from segur_mss.validators.mail import parse_message
from segur_mss.validators.mdn import (
    ANS_ERROR_CODES,
    KO_PREFIX,
    build_integration_mdn,
    parse_mdn,
    should_send_mdn,
    validate_mdn,
)

P = PATIENTS["qualifie"]
PFI = "pfi.integration@test.mssante.fr"


@pytest.fixture
def original() -> EmailMessage:
    return build_document_mail([make_cda(P)], P, disposition_notification_to="dr.emetteur@test.mssante.fr")


def test_should_send_mdn(original: EmailMessage) -> None:
    assert should_send_mdn(original)[0]
    assert not should_send_mdn(build_plain_mail())[0]
    original["Return-Path"] = "<autre@test.mssante.fr>"
    send, reason = should_send_mdn(original)
    assert not send and "Return-Path" in reason


def test_success_mdn(original: EmailMessage) -> None:
    mdn = build_integration_mdn(original, reporting_mailbox=PFI, error_code=None)
    raw = mdn.as_bytes()
    report = validate_mdn(raw, original=original, expected_error=None)
    assert report.valid and not report.warnings, [str(f) for f in report.findings]
    info = parse_mdn(raw)
    assert info.success and info.disposition == "automatic-action/MDN-sent-automatically; processed"
    assert info.final_recipient == PFI and info.original_message_id == original["Message-ID"]
    parsed = parse_message(raw)
    assert parsed["To"] == "dr.emetteur@test.mssante.fr" and not str(parsed["Subject"]).startswith(KO_PREFIX)
    parts = list(parsed.iter_parts())
    assert [p.get_content_type() for p in parts] == [
        "text/plain",
        "message/disposition-notification",
        "message/rfc822",
    ]
    embedded = parts[2].get_payload()[0]
    assert [a.get_filename() for a in embedded.iter_attachments()] == ["IHE_XDM.zip"]


@pytest.mark.parametrize("code", sorted(ANS_ERROR_CODES))
def test_error_mdn(original: EmailMessage, code: int) -> None:
    mdn = build_integration_mdn(original, reporting_mailbox=PFI, error_code=code)
    raw = mdn.as_bytes()
    report = validate_mdn(raw, original=original, expected_error=code)
    assert report.valid, [str(f) for f in report.findings]
    info = parse_mdn(raw)
    assert info.error_code == code and info.error_label
    subject = str(parse_message(raw)["Subject"])
    assert subject.startswith(f"{KO_PREFIX}[{code}] XDM/1.0/DDM+")
    assert "processed/Error: " in info.disposition
    assert validate_mdn(raw, expected_error=None).rule_ids("error") == {"MDN-012"}


def test_builder_rejects_unknown_code(original: EmailMessage) -> None:
    with pytest.raises(ValueError):
        build_integration_mdn(original, reporting_mailbox=PFI, error_code=907)


def _rebuild(original: EmailMessage, *, fields: str, subject: str, parts: int = 3) -> bytes:
    mdn = EmailMessage(policy=default_policy)
    mdn["From"], mdn["To"], mdn["Subject"] = PFI, "dr@test.mssante.fr", subject
    mdn["Message-ID"] = "<mdn-1@test.mssante.fr>"
    mdn.set_content("Erreur", charset="utf-8")
    mdn.make_mixed()
    mdn.set_type("multipart/report")
    mdn.set_param("report-type", "disposition-notification")
    dn = MIMEPart(policy=default_policy)
    dn["Content-Type"] = "message/disposition-notification"
    dn.set_payload(fields)
    mdn.attach(dn)
    if parts == 3:
        orig = MIMEPart(policy=default_policy)
        orig.set_content(original)
        mdn.attach(orig)
    return mdn.as_bytes()


def test_mdn_defects(original: EmailMessage) -> None:
    oid = original["Message-ID"]
    base = f"Reporting-UA: x\r\nFinal-Recipient: rfc822;{PFI}\r\nOriginal-Message-ID: {oid}\r\n"
    good = _rebuild(
        original, fields=base + "Disposition: automatic-action/MDN-sent-automatically; processed\r\n", subject="Accusé"
    )
    assert validate_mdn(good, original=original).valid
    two_parts = _rebuild(
        original,
        fields=base + "Disposition: automatic-action/MDN-sent-automatically; processed\r\n",
        subject="Accusé",
        parts=2,
    )
    assert "MDN-002" in validate_mdn(two_parts).rule_ids("error")
    no_final = _rebuild(
        original,
        fields=f"Original-Message-ID: {oid}\r\nDisposition: automatic-action/MDN-sent-automatically; processed\r\n",
        subject="Accusé",
    )
    assert "MDN-004" in validate_mdn(no_final).rule_ids("error")
    no_disp = _rebuild(original, fields=base, subject="Accusé")
    assert "MDN-005" in validate_mdn(no_disp).rule_ids("error")
    bad_code = _rebuild(
        original,
        fields=base + "Disposition: automatic-action/MDN-sent-automatically; processed/Error: 999^Inconnu\r\n",
        subject=f"{KO_PREFIX}[999] x",
    )
    assert "MDN-006" in validate_mdn(bad_code).rule_ids("error")
    no_ko = _rebuild(
        original,
        fields=base + "Disposition: automatic-action/MDN-sent-automatically; processed/Error: 903^Absence INS\r\n",
        subject="XDM/1.0/DDM+x",
    )
    assert "MDN-007" in validate_mdn(no_ko).rule_ids("error")
    wrong_code_subject = _rebuild(
        original,
        fields=base + "Disposition: automatic-action/MDN-sent-automatically; processed/Error: 903^Absence INS\r\n",
        subject=f"{KO_PREFIX}[904] x",
    )
    assert "MDN-007" in validate_mdn(wrong_code_subject).rule_ids("error")
    displayed = _rebuild(
        original, fields=base + "Disposition: manual-action/MDN-sent-manually; displayed\r\n", subject="Lu"
    )
    assert "MDN-005" in validate_mdn(displayed).rule_ids("error")
    other = build_plain_mail(message_id="<autre@test>")
    assert "MDN-008" in validate_mdn(good, original=other).rule_ids("error")
    assert validate_mdn(build_plain_mail().as_bytes()).rule_ids("error") == {"MDN-001"}


# ---------------------------------------------------------------------------------------------- DSN

DSN = (
    "From: postmaster@mss.test\r\nTo: <a@test.fr>\r\nSubject: Avis\r\nMessage-ID: <dsn-1@mss.test>\r\n"
    "MIME-Version: 1.0\r\n"
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
    "--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nAvis de remise.\r\n"
    "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
    "Reporting-MTA: dns; mss.test\r\nArrival-Date: Wed, 15 Jan 2025 10:35:00 +0100\r\n\r\n"
    "Final-Recipient: rfc822; {r1}\r\nAction: {a1}\r\nStatus: {s1}\r\n\r\n"
    "Final-Recipient: rfc822; b@test.fr\r\nAction: failed\r\nStatus: 5.1.1\r\n"
    "Diagnostic-Code: smtp; 550 5.1.1 inconnu\r\n"
    "--B\r\nContent-Type: text/rfc822-headers\r\n\r\nSubject: x\r\n"
    "--B--\r\n"
)


def dsn(r1: str = "a@test.fr", a1: str = "delivered", s1: str = "2.0.0") -> bytes:
    return DSN.format(r1=r1, a1=a1, s1=s1).encode()


def test_dsn_valid_and_parsed() -> None:
    report = validate_dsn(dsn(), expected_action="failed", expected_recipients=["a@test.fr", "b@test.fr"])
    assert report.valid and not report.warnings, [str(f) for f in report.findings]
    info = parse_dsn(dsn())
    assert info.reporting_mta == "mss.test" and info.returned == "text/rfc822-headers"
    assert [(r.final_recipient, r.action, r.status) for r in info.recipients] == [
        ("a@test.fr", "delivered", "2.0.0"),
        ("b@test.fr", "failed", "5.1.1"),
    ]


def test_dsn_defects() -> None:
    assert "DSN-005" in validate_dsn(dsn(a1="ok")).rule_ids("error")
    assert "DSN-006" in validate_dsn(dsn(s1="200")).rule_ids("error")
    assert "DSN-006" in validate_dsn(dsn(s1="5.0.0")).rule_ids("error")  # delivered with a failure status
    assert "DSN-008" in validate_dsn(dsn(), expected_action="delayed").rule_ids("error")
    assert "DSN-009" in validate_dsn(dsn(), expected_recipients=["c@test.fr"]).rule_ids("error")
    assert validate_dsn(build_plain_mail().as_bytes()).rule_ids("error") == {"DSN-001"}
    no_mta = dsn().replace(b"Reporting-MTA: dns; mss.test\r\n", b"")
    assert "DSN-003" in validate_dsn(no_mta).rule_ids("error")
