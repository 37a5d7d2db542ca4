"""Interoperability with curl: `--oauth2-bearer` over IMAP (STARTTLS and implicit TLS) and SMTP submission."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from segur_mss.operator.service import ReferenceOperator

CURL = shutil.which("curl")
pytestmark = pytest.mark.skipif(
    CURL is None, reason="curl absent : installez-le (apt-get install -y curl) pour ce test d'interopérabilité"
)
CLAIRE = "claire.martin@test.mssante.fr"
PAUL = "paul.durand@test.mssante.fr"


@pytest.fixture
def operator(tmp_path: Path) -> Iterator[ReferenceOperator]:
    op = ReferenceOperator(tmp_path / "operateur").start()
    try:
        yield op
    finally:
        op.stop()


def curl(operator: ReferenceOperator, *args: str) -> subprocess.CompletedProcess[bytes]:
    """curl, output kept as bytes (a fetched message must come back byte for byte)."""
    assert CURL is not None
    return subprocess.run(
        [CURL, "-sS", "--max-time", "20", "--cacert", str(operator.pki.ca_bundle), *args],
        capture_output=True,
        timeout=30,
    )


def test_curl_lists_a_mailbox_and_fetches_a_message(operator: ReferenceOperator) -> None:
    raw = b"From: paul.durand@test.mssante.fr\r\nTo: claire.martin@test.mssante.fr\r\nSubject: curl\r\n\r\nCorps\r\n"
    stored = operator.deliver(CLAIRE, raw)
    token = operator.issue_tokens("81000000011", "curl").access_token
    listing = curl(
        operator,
        "--ssl-reqd",
        f"imap://127.0.0.1:{operator.ports['imap']}/",
        "-u",
        f"{CLAIRE}:",
        "--oauth2-bearer",
        token,
    )
    assert listing.returncode == 0, listing.stderr
    assert b'* LIST (\\HasNoChildren) "/" INBOX' in listing.stdout
    fetched = curl(
        operator,
        f"imaps://127.0.0.1:{operator.ports['imaps']}/INBOX;UID={stored.uid}",
        "-u",
        f"{CLAIRE}:",
        "--oauth2-bearer",
        token,
    )
    assert fetched.returncode == 0, fetched.stderr
    assert fetched.stdout == raw
    auth = [e for t in operator.recorder.transcripts for e in t.events("auth")]
    assert [e.data["success"] for e in auth] == [True, True]
    assert auth[0].data["mechanism"] in ("OAUTHBEARER", "XOAUTH2")


def test_curl_refused_with_a_foreign_token(operator: ReferenceOperator) -> None:
    token = operator.issue_tokens("81000000029", "curl").access_token  # Paul's token, Claire's mailbox
    listing = curl(
        operator,
        "--ssl-reqd",
        f"imap://127.0.0.1:{operator.ports['imap']}/",
        "-u",
        f"{CLAIRE}:",
        "--oauth2-bearer",
        token,
    )
    assert listing.returncode == 67  # CURLE_LOGIN_DENIED


def test_curl_sends_over_smtp_and_the_message_arrives(operator: ReferenceOperator, tmp_path: Path) -> None:
    raw = (
        b"From: claire.martin@test.mssante.fr\r\nTo: paul.durand@test.mssante.fr\r\nSubject: envoi curl\r\n"
        b"Message-ID: <curl-1@test.mssante.fr>\r\n\r\nBonjour,\r\n.ligne commencant par un point\r\n"
    )
    mail = tmp_path / "message.eml"
    mail.write_bytes(raw)
    token = operator.issue_tokens("81000000011", "curl").access_token
    sent = curl(
        operator,
        "--ssl-reqd",
        f"smtp://127.0.0.1:{operator.ports['smtp']}",
        "--mail-from",
        CLAIRE,
        "--mail-rcpt",
        PAUL,
        "-u",
        f"{CLAIRE}:",
        "--oauth2-bearer",
        token,
        "-T",
        str(mail),
    )
    assert sent.returncode == 0, sent.stderr
    smtps = curl(
        operator,
        f"smtps://127.0.0.1:{operator.ports['smtps']}",
        "--mail-from",
        CLAIRE,
        "--mail-rcpt",
        PAUL,
        "-u",
        f"{CLAIRE}:",
        "--oauth2-bearer",
        token,
        "-T",
        str(mail),
    )
    assert smtps.returncode == 0, smtps.stderr
    inbox = operator.read_mailbox(PAUL)
    assert [m.raw for m in inbox] == [raw, raw]
