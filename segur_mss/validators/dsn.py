"""Delivery Status Notification (RFC 3464) parser and validator.

A DPI/PFI builds its MSSanté reception acknowledgement from the DSN of the recipient server: the harness checks
what the operator (or a real server) returned: ``multipart/report; report-type=delivery-status``, a
human-readable part, a ``message/delivery-status`` part (per-message ``Reporting-MTA``; per-recipient
``Final-Recipient``, ``Action``, ``Status``), optionally the original or its headers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import Message

from .mail import parse_message
from .model import Finding, ValidationReport, validator_version

VALIDATOR = "segur-mss.dsn"
VERSION = validator_version("dsn")
ACTIONS = frozenset({"failed", "delayed", "delivered", "relayed", "expanded"})
STATUS_RE = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}$")


@dataclass(frozen=True)
class DsnRecipient:
    final_recipient: str | None
    action: str | None
    status: str | None
    original_recipient: str | None = None
    diagnostic_code: str | None = None
    remote_mta: str | None = None


@dataclass
class DsnInfo:
    reporting_mta: str | None = None
    original_envelope_id: str | None = None
    arrival_date: str | None = None
    recipients: list[DsnRecipient] = field(default_factory=list)
    returned: str | None = None  # "message/rfc822" | "text/rfc822-headers" | None

    @property
    def actions(self) -> set[str]:
        return {r.action for r in self.recipients if r.action}


def _blocks(part: Message) -> list[dict[str, str]]:
    payload = part.get_payload()
    blocks: list[dict[str, str]] = []
    if isinstance(payload, list):
        for block in payload:
            if isinstance(block, Message):
                blocks.append({k.lower(): " ".join(str(block[k]).split()) for k in block})
        return blocks
    text = payload if isinstance(payload, str) else ""
    current: dict[str, str] = {}
    key = None
    for line in text.splitlines():
        if not line.strip():
            if current:
                blocks.append(current)
            current, key = {}, None
        elif line[:1] in (" ", "\t") and key:
            current[key] += " " + line.strip()
        elif ":" in line:
            k, _, v = line.partition(":")
            key = k.strip().lower()
            current[key] = v.strip()
    if current:
        blocks.append(current)
    return blocks


def _typed(value: str | None) -> str | None:
    if not value:
        return None
    return value.split(";", 1)[1].strip() if ";" in value else value.strip()


def parse_dsn(raw: bytes | Message) -> DsnInfo:
    msg = parse_message(raw)
    info = DsnInfo()
    if not msg.is_multipart():
        return info
    for part in msg.get_payload():
        if not isinstance(part, Message):
            continue
        ctype = part.get_content_type()
        if ctype in ("message/delivery-status", "message/global-delivery-status"):
            blocks = _blocks(part)
            if blocks:
                first = blocks[0]
                info.reporting_mta = _typed(first.get("reporting-mta"))
                info.original_envelope_id = first.get("original-envelope-id")
                info.arrival_date = first.get("arrival-date")
            for b in blocks[1:]:
                info.recipients.append(
                    DsnRecipient(
                        _typed(b.get("final-recipient")),
                        (b.get("action") or "").lower() or None,
                        b.get("status"),
                        _typed(b.get("original-recipient")),
                        b.get("diagnostic-code"),
                        _typed(b.get("remote-mta")),
                    )
                )
        elif ctype in ("message/rfc822", "text/rfc822-headers", "message/global"):
            info.returned = ctype
    return info


def validate_dsn(
    raw: bytes | Message,
    *,
    subject: str = "DSN",
    expected_action: str | None = None,
    expected_recipients: list[str] | None = None,
) -> ValidationReport:
    """RFC 3464 structure; optionally the expected action (``delivered``/``failed``…) and recipients."""
    report = ValidationReport(VALIDATOR, VERSION, subject)
    msg = parse_message(raw)
    add = report.findings.append
    if msg.get_content_type() != "multipart/report" or (msg.get_param("report-type") or "") != "delivery-status":
        add(
            Finding(
                "DSN-001",
                "error",
                "part:1",
                "multipart/report; report-type=delivery-status attendu.",
                observed=f"{msg.get_content_type()}; report-type={msg.get_param('report-type')}",
            )
        )
        return report
    parts = [p for p in msg.get_payload() if isinstance(p, Message)]
    types = [p.get_content_type() for p in parts]
    if len(parts) < 2 or types[1] not in ("message/delivery-status", "message/global-delivery-status"):
        add(
            Finding(
                "DSN-002",
                "error",
                "part:1",
                "Une partie lisible puis une partie message/delivery-status attendues (RFC 3464 §2.1).",
                observed=", ".join(types),
            )
        )
    if len(parts) > 3:
        add(Finding("DSN-002", "error", "part:1", "Plus de trois parties dans le rapport.", observed=", ".join(types)))
    if len(parts) == 3 and types[2] not in ("message/rfc822", "text/rfc822-headers", "message/global"):
        add(
            Finding(
                "DSN-007",
                "error",
                "part:4",
                "Troisième partie : message/rfc822 ou text/rfc822-headers attendu.",
                observed=types[2],
            )
        )
    info = parse_dsn(msg)
    if not info.reporting_mta:
        add(Finding("DSN-003", "error", "part:3", "Champ Reporting-MTA obligatoire absent."))
    if not info.recipients:
        add(Finding("DSN-004", "error", "part:3", "Aucun bloc par destinataire (Final-Recipient, Action, Status)."))
    for i, r in enumerate(info.recipients, start=1):
        loc = f"part:3/destinataire[{i}]"
        if not r.final_recipient:
            add(Finding("DSN-004", "error", loc, "Champ Final-Recipient obligatoire absent."))
        if r.action not in ACTIONS:
            add(
                Finding(
                    "DSN-005",
                    "error",
                    loc,
                    f"Action « {r.action} » invalide.",
                    expected=" | ".join(sorted(ACTIONS)),
                    observed=r.action,
                )
            )
        if not r.status or not STATUS_RE.match(r.status.split()[0]):
            add(
                Finding(
                    "DSN-006", "error", loc, f"Status « {r.status} » invalide (classe.sujet.détail).", observed=r.status
                )
            )
        elif r.action == "failed" and not r.status.startswith(("4.", "5.")):
            add(Finding("DSN-006", "error", loc, "Action failed avec un Status de succès.", observed=r.status))
        elif r.action in ("delivered", "relayed", "expanded") and not r.status.startswith("2."):
            add(Finding("DSN-006", "error", loc, f"Action {r.action} avec un Status d'échec.", observed=r.status))
    if expected_action is not None and expected_action not in info.actions:
        add(
            Finding(
                "DSN-008",
                "error",
                "part:3",
                f"Action « {expected_action} » attendue.",
                expected=expected_action,
                observed=", ".join(sorted(info.actions)) or "(aucune)",
            )
        )
    if expected_recipients is not None:
        got = {(r.final_recipient or "").lower() for r in info.recipients}
        missing = [a for a in expected_recipients if a.lower() not in got]
        if missing:
            add(
                Finding(
                    "DSN-009",
                    "error",
                    "part:3",
                    "Destinataire(s) absent(s) du rapport.",
                    expected=", ".join(missing),
                    observed=", ".join(sorted(got)),
                )
            )
    report.extra.update(
        {
            "reporting_mta": info.reporting_mta,
            "recipients": [r.__dict__ for r in info.recipients],
            "returned": info.returned,
        }
    )
    return report


def is_dsn(msg: Message) -> bool:
    return msg.get_content_type() == "multipart/report" and (msg.get_param("report-type") or "") == "delivery-status"


__all__ = ["DsnInfo", "DsnRecipient", "is_dsn", "parse_dsn", "validate_dsn"]
