"""Delivery status notifications: the SMTP DSN parameters (RFC 3461) and the report itself (RFC 3464).

Parameters: `RET=FULL|HDRS` and `ENVID=<xtext>` on MAIL FROM, `NOTIFY=NEVER|SUCCESS,FAILURE,DELAY` and
`ORCPT=<type>;<xtext>` on RCPT TO. Without NOTIFY, only failures are reported. Without RET, and always when a
report contains no failure (RFC 3461 §4.3), only the header section of the original is returned.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from email.header import Header
from email.utils import format_datetime

_XTEXT = re.compile(r"\+([0-9A-Fa-f]{2})")
NOTIFY_VALUES = ("NEVER", "SUCCESS", "FAILURE", "DELAY")


def xtext_decode(value: str) -> str:
    """RFC 3461 §4: `+XX` is the character of hexadecimal code XX."""
    return _XTEXT.sub(lambda m: chr(int(m.group(1), 16)), value)


def _options(options: list[str]) -> dict[str, str]:
    parsed = {}
    for option in options:
        key, _, value = option.partition("=")
        parsed[key.upper()] = value
    return parsed


@dataclass(frozen=True)
class RecipientRequest:
    """What the client asked for one recipient."""

    address: str
    notify: frozenset[str] = frozenset({"FAILURE"})  # RFC 3461 §4.1: absent NOTIFY -> failures (and delays)
    notify_given: bool = False
    original: str | None = None  # ORCPT, decoded: `rfc822;addr`

    def wants(self, action: str) -> bool:
        if "NEVER" in self.notify:
            return False
        return {"delivered": "SUCCESS", "failed": "FAILURE", "delayed": "DELAY"}.get(action, "") in self.notify


@dataclass(frozen=True)
class DsnRequest:
    """The DSN parameters of one submission."""

    ret: str | None = None  # FULL | HDRS | None
    envid: str | None = None
    recipients: tuple[RecipientRequest, ...] = ()

    @classmethod
    def from_envelope(cls, mail_options: list[str], rcpt_tos: list[str], rcpt_options: list[list[str]]) -> DsnRequest:
        mail = _options(mail_options)
        ret = mail.get("RET", "").upper() or None
        if ret not in (None, "FULL", "HDRS"):
            ret = None
        envid = xtext_decode(mail["ENVID"]) if mail.get("ENVID") else None
        recipients = []
        for index, address in enumerate(rcpt_tos):
            opts = _options(rcpt_options[index] if index < len(rcpt_options) else [])
            notify_raw = opts.get("NOTIFY")
            if notify_raw:
                notify = frozenset(v.strip().upper() for v in notify_raw.split(",") if v.strip())
                notify = frozenset(v for v in notify if v in NOTIFY_VALUES) or frozenset({"FAILURE"})
            else:
                notify = frozenset({"FAILURE"})
            original = xtext_decode(opts["ORCPT"]) if opts.get("ORCPT") else None
            recipients.append(RecipientRequest(address, notify, bool(notify_raw), original))
        return cls(ret, envid, tuple(recipients))

    def for_recipient(self, address: str) -> RecipientRequest:
        for recipient in self.recipients:
            if recipient.address.lower() == address.lower():
                return recipient
        return RecipientRequest(address)


@dataclass(frozen=True)
class RecipientOutcome:
    """The per-recipient fields of a report."""

    request: RecipientRequest
    action: str  # delivered | failed
    status: str  # e.g. 2.0.0, 5.1.2
    diagnostic: str | None = None  # e.g. "smtp; 550 5.1.2 ..."
    remote_mta: str | None = None


@dataclass
class DeliveryReport:
    """A DSN as the operator built it (the raw bytes are what lands in the sender's mailbox)."""

    submission_id: str
    sender: str
    outcomes: list[RecipientOutcome]
    raw: bytes = b""
    message_id: str = ""
    returned: str = "headers"  # headers | full
    delivered_uid: int | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def actions(self) -> list[str]:
        return [o.action for o in self.outcomes]


def _header_section(raw: bytes) -> bytes:
    for sep in (b"\r\n\r\n", b"\n\n"):
        if sep in raw:
            return raw.split(sep, 1)[0] + b"\r\n"
    return raw if raw.endswith(b"\r\n") else raw + b"\r\n"


def _subject_of(raw: bytes) -> str:
    for line in _header_section(raw).split(b"\r\n"):
        if line.lower().startswith(b"subject:"):
            return line[8:].strip().decode("ascii", "replace")
    return ""


def build_dsn(
    report: DeliveryReport,
    *,
    request: DsnRequest,
    original: bytes,
    reporting_mta: str,
    postmaster: str,
    arrival: datetime,
    now: datetime,
) -> bytes:
    """The RFC 3464 report (multipart/report; report-type=delivery-status), CRLF line ends."""
    failed = [o for o in report.outcomes if o.action == "failed"]
    full = bool(failed) and request.ret == "FULL"
    report.returned = "full" if full else "headers"
    boundary = f"=_dsn_{secrets.token_hex(12)}"
    report.message_id = f"<dsn.{report.submission_id}.{secrets.token_hex(6)}@{reporting_mta}>"
    subject = (
        "Échec de remise du message"
        if failed and len(failed) == len(report.outcomes)
        else "Remise partielle du message"
        if failed
        else "Message remis"
    )
    headers = [
        f"From: {Header('Opérateur MSSanté de référence', 'utf-8').encode()} <{postmaster}>",
        f"To: <{report.sender}>",
        f"Subject: {Header(subject, 'utf-8').encode()}",
        f"Date: {format_datetime(now)}",
        f"Message-ID: {report.message_id}",
        "Auto-Submitted: auto-replied",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"',
    ]
    # Human-readable part (French, UTF-8).
    lines = [f"Ceci est l'avis de remise de l'opérateur {reporting_mta}.", ""]
    original_subject = _subject_of(original)
    if original_subject:
        lines += [f"Message : {original_subject}", ""]
    for outcome in report.outcomes:
        verdict = "remis dans la boîte aux lettres" if outcome.action == "delivered" else "NON REMIS"
        lines.append(f"  <{outcome.request.address}> : {verdict} (statut {outcome.status})")
        if outcome.diagnostic:
            lines.append(f"    {outcome.diagnostic}")
    text = "\r\n".join(lines) + "\r\n"
    # Machine-readable part (RFC 3464 §2).
    status = [f"Reporting-MTA: dns; {reporting_mta}"]
    if request.envid:
        status.append(f"Original-Envelope-Id: {request.envid}")
    status.append(f"Arrival-Date: {format_datetime(arrival)}")
    for outcome in report.outcomes:
        status.append("")
        if outcome.request.original:
            status.append(f"Original-Recipient: {outcome.request.original}")
        status.append(f"Final-Recipient: rfc822; {outcome.request.address}")
        status.append(f"Action: {outcome.action}")
        status.append(f"Status: {outcome.status}")
        if outcome.remote_mta:
            status.append(f"Remote-MTA: dns; {outcome.remote_mta}")
        if outcome.diagnostic:
            status.append(f"Diagnostic-Code: {outcome.diagnostic}")
        status.append(f"Last-Attempt-Date: {format_datetime(now)}")
    delivery_status = "\r\n".join(status) + "\r\n"
    if full:
        returned_type, returned_body = "message/rfc822", original
    else:
        returned_type, returned_body = "text/rfc822-headers", _header_section(original)
    parts = [
        "\r\n".join(headers).encode("ascii") + b"\r\n\r\n",
        b"This is a MIME-encapsulated delivery status notification.\r\n\r\n",
        f"--{boundary}\r\n".encode(),
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
        text.encode("utf-8"),
        f"\r\n--{boundary}\r\n".encode(),
        b"Content-Type: message/delivery-status\r\n\r\n",
        delivery_status.encode("utf-8"),
        f"\r\n--{boundary}\r\n".encode(),
        f"Content-Type: {returned_type}\r\n\r\n".encode(),
        returned_body if returned_body.endswith(b"\r\n") else returned_body + b"\r\n",
        f"\r\n--{boundary}--\r\n".encode(),
    ]
    return b"".join(parts)
