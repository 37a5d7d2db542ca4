"""Integration MDN (RFC 8098) with the ANS conventions of the guide "Transmission au LPS de documents CDA
provenant d'un courriel MSSanté": builder and validator.

- sent only when the original asks for it (``Disposition-Notification-To``), not automatically when that address
  differs from ``Return-Path`` (RFC 8098 §2.1): :func:`should_send_mdn`;
- ``multipart/report; report-type=disposition-notification`` with three parts: ``text/plain`` UTF-8 (code and
  label), ``message/disposition-notification`` (``Reporting-UA``, ``Original-Recipient``, ``Final-Recipient``
  mandatory, ``Original-Message-ID``, ``Disposition`` mandatory), ``message/rfc822`` (the whole original);
- success ``Disposition: automatic-action/MDN-sent-automatically; processed``; failure
  ``… processed/Error: <code>^<libellé>`` with subject ``[KO Intégration système !][<code>] <original subject>``;
- codes 900–906.

Not specified publicly, chosen here: the success subject (``Accusé de traitement : <original subject>``) and the
label in the ``Disposition`` field written without accents (the field is 7-bit in RFC 8098; the text part
carries the accented label).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from email.message import EmailMessage, Message, MIMEPart
from email.policy import default as default_policy
from email.utils import format_datetime, make_msgid, parseaddr

from segur_mss.documents.mail import set_folded_header

from .mail import header_values, parse_message
from .model import Finding, ValidationReport, validator_version

VALIDATOR = "segur-mss.mdn"
VERSION = validator_version("mdn")

ANS_ERROR_CODES: dict[int, str] = {
    900: "Version du document incorrecte (remplacement ou suppression)",
    901: "Auteur non autorisé à remplacer ou supprimer le document",
    902: "Identifiant patient inconnu",
    903: "Absence d'INS dans le document",
    904: "L'INS ne correspond pas exactement",
    905: "INS incomplet (traits d'identité manquants)",
    906: "Autre erreur",
}
KO_PREFIX = "[KO Intégration système !]"
SUCCESS_PREFIX = "Accusé de traitement : "
DISPOSITION_SUCCESS = "automatic-action/MDN-sent-automatically; processed"
DISPOSITION_RE = re.compile(
    r"^(?P<action>manual-action|automatic-action)\s*/\s*(?P<sending>MDN-sent-manually|MDN-sent-automatically)\s*;"
    r"\s*(?P<type>displayed|deleted|dispatched|processed)(?:\s*/\s*(?P<modifier>.*))?$",
    re.IGNORECASE,
)
ANS_ERROR_RE = re.compile(r"^error\s*:\s*(?P<code>\d{3})\s*\^\s*(?P<label>.*)$", re.IGNORECASE)
KO_SUBJECT_RE = re.compile(r"^\[KO Int[ée]gration syst[èe]me !\]\[(?P<code>\d{3})\]\s*(?P<rest>.*)$")


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def should_send_mdn(original: Message) -> tuple[bool, str]:
    """(send?, reason): only when requested, and not automatically to an address other than Return-Path."""
    dnt = header_values(original, "Disposition-Notification-To")
    if not dnt:
        return False, "aucun accusé demandé (pas de Disposition-Notification-To)"
    dnt_addr = parseaddr(dnt[0])[1].lower()
    rp = header_values(original, "Return-Path")
    if rp:
        rp_addr = parseaddr(rp[0])[1].lower()
        if rp_addr and rp_addr != dnt_addr:
            return False, (
                f"Disposition-Notification-To ({dnt_addr}) différent de Return-Path ({rp_addr}) : "
                "pas d'envoi automatique (RFC 8098 §2.1)"
            )
    return True, f"accusé demandé par {dnt_addr}"


def build_integration_mdn(
    original: EmailMessage | Message,
    *,
    reporting_mailbox: str,
    error_code: int | None,
    error_label: str | None = None,
    reporting_ua: str = "segur-mss; integration",
    original_recipient: str | None = None,
    date: object | None = None,
    message_id: str | None = None,
) -> EmailMessage:
    """The integration MDN for ``original``: ``error_code=None`` for success, else 900–906."""
    if error_code is not None and error_code not in ANS_ERROR_CODES:
        raise ValueError(f"error_code must be one of {sorted(ANS_ERROR_CODES)} or None, got {error_code!r}")
    original = parse_message(original)
    label = error_label or (ANS_ERROR_CODES[error_code] if error_code is not None else "")
    orig_subject = (header_values(original, "Subject") or [""])[0]
    orig_id = (header_values(original, "Message-ID") or [""])[0]
    dnt = header_values(original, "Disposition-Notification-To")
    to = dnt[0] if dnt else (header_values(original, "From") or [""])[0]

    mdn = EmailMessage(policy=default_policy)
    mdn["From"] = reporting_mailbox
    mdn["To"] = to
    if error_code is None:
        set_folded_header(mdn, "Subject", f"{SUCCESS_PREFIX}{orig_subject}")
        text = f"Le message {orig_id} a été traité et ses documents intégrés.\n\nObjet : {orig_subject}\n"
        disposition = DISPOSITION_SUCCESS
    else:
        set_folded_header(mdn, "Subject", f"{KO_PREFIX}[{error_code}] {orig_subject}")
        text = f"Erreur d'intégration {error_code} : {label}\n\nMessage : {orig_id}\nObjet : {orig_subject}\n"
        disposition = f"{DISPOSITION_SUCCESS}/Error: {error_code}^{_ascii(label)}"
    mdn["Date"] = date if isinstance(date, str) else format_datetime(date) if date is not None else _now()
    mdn["Message-ID"] = message_id or make_msgid(domain=reporting_mailbox.rsplit("@", 1)[-1] or "segur-mss.test")
    if orig_id:
        mdn["In-Reply-To"] = orig_id
        refs = " ".join([*header_values(original, "References"), orig_id])
        mdn["References"] = refs
    mdn.set_content(text, charset="utf-8")
    mdn.make_mixed()
    mdn.set_type("multipart/report")
    mdn.set_param("report-type", "disposition-notification")

    fields = [f"Reporting-UA: {reporting_ua}"]
    recipient = original_recipient or (header_values(original, "Original-Recipient") or [None])[0]
    if recipient is None:
        to_values = header_values(original, "To")
        recipient = parseaddr(to_values[0])[1] if to_values else None
    if recipient:
        fields.append(f"Original-Recipient: rfc822;{recipient}")
    fields.append(f"Final-Recipient: rfc822;{reporting_mailbox}")
    if orig_id:
        fields.append(f"Original-Message-ID: {orig_id}")
    fields.append(f"Disposition: {disposition}")
    dn = MIMEPart(policy=default_policy)
    dn["Content-Type"] = "message/disposition-notification"
    dn.set_payload("\r\n".join(fields) + "\r\n")
    mdn.attach(dn)

    orig_part = MIMEPart(policy=default_policy)
    orig_part.set_content(original)  # message/rfc822, attachments included
    mdn.attach(orig_part)
    return mdn


def _now() -> str:
    import datetime

    return format_datetime(datetime.datetime.now(datetime.UTC))


@dataclass(frozen=True)
class MdnInfo:
    """What an MDN says."""

    disposition: str | None
    disposition_type: str | None
    error_code: int | None
    error_label: str | None
    final_recipient: str | None
    original_recipient: str | None
    original_message_id: str | None
    reporting_ua: str | None
    subject: str | None

    @property
    def success(self) -> bool:
        return self.disposition_type == "processed" and self.error_code is None and bool(self.disposition)


def _dn_fields(part: Message) -> dict[str, str]:
    """Fields of a message/disposition-notification part (parsed as an embedded header block or raw text)."""
    payload = part.get_payload()
    fields: dict[str, str] = {}
    if isinstance(payload, list) and payload:
        block = payload[0]
        for key in block:
            fields[key.lower()] = " ".join(str(block[key]).split())
        return fields
    text = payload if isinstance(payload, str) else ""
    current = None
    for line in text.splitlines():
        if line[:1] in (" ", "\t") and current:
            fields[current] += " " + line.strip()
        elif ":" in line:
            key, _, value = line.partition(":")
            current = key.strip().lower()
            fields[current] = value.strip()
    return fields


def _strip_type(value: str | None) -> str | None:
    if not value:
        return None
    return value.split(";", 1)[1].strip() if ";" in value else value.strip()


def parse_mdn(raw: bytes | Message) -> MdnInfo:
    msg = parse_message(raw)
    parts = msg.get_payload() if msg.is_multipart() else []
    dn_part = next(
        (p for p in parts if isinstance(p, Message) and p.get_content_type() == "message/disposition-notification"),
        None,
    )
    fields = _dn_fields(dn_part) if dn_part is not None else {}
    disposition = fields.get("disposition")
    dtype = code = label = None
    if disposition:
        m = DISPOSITION_RE.match(disposition)
        if m:
            dtype = m["type"].lower()
            if m["modifier"]:
                em = ANS_ERROR_RE.match(m["modifier"].strip())
                if em:
                    code, label = int(em["code"]), em["label"].strip()
    return MdnInfo(
        disposition,
        dtype,
        code,
        label,
        _strip_type(fields.get("final-recipient")),
        _strip_type(fields.get("original-recipient")),
        fields.get("original-message-id"),
        fields.get("reporting-ua"),
        (header_values(msg, "Subject") or [None])[0],
    )


def validate_mdn(
    raw: bytes | Message,
    *,
    original: Message | bytes | None = None,
    expected_error: int | str | None = "any",
    subject: str = "MDN",
) -> ValidationReport:
    """Check an integration MDN. ``expected_error``: ``"any"`` (no expectation), ``None`` (success) or a code."""
    report = ValidationReport(VALIDATOR, VERSION, subject)
    msg = parse_message(raw)
    add = report.findings.append
    if msg.get_content_type() != "multipart/report" or (msg.get_param("report-type") or "") != (
        "disposition-notification"
    ):
        add(
            Finding(
                "MDN-001",
                "error",
                "part:1",
                "multipart/report; report-type=disposition-notification attendu.",
                observed=f"{msg.get_content_type()}; report-type={msg.get_param('report-type')}",
            )
        )
        return report
    parts = [p for p in msg.get_payload() if isinstance(p, Message)]
    types = [p.get_content_type() for p in parts]
    expected_types = ["text/plain", "message/disposition-notification", "message/rfc822"]
    if types != expected_types:
        add(
            Finding(
                "MDN-002",
                "error",
                "part:1",
                "Trois parties attendues : text/plain, "
                "message/disposition-notification, message/rfc822 (l'original complet).",
                expected=", ".join(expected_types),
                observed=", ".join(types),
            )
        )
    if parts and parts[0].get_content_type() == "text/plain":
        charset = (parts[0].get_content_charset() or "us-ascii").lower()
        if charset not in ("utf-8", "utf8"):
            add(
                Finding(
                    "MDN-003",
                    "error",
                    "part:2",
                    f"Partie texte en « {charset} » : UTF-8 attendu.",
                    expected="utf-8",
                    observed=charset,
                )
            )
    info = parse_mdn(msg)
    if not info.final_recipient:
        add(Finding("MDN-004", "error", "part:3", "Champ Final-Recipient obligatoire absent."))
    if not info.disposition:
        add(Finding("MDN-005", "error", "part:3", "Champ Disposition obligatoire absent."))
    elif info.disposition_type is None:
        add(Finding("MDN-005", "error", "part:3", "Champ Disposition mal formé (RFC 8098).", observed=info.disposition))
    else:
        modifier = info.disposition.split("/", 2)[2] if info.disposition.count("/") >= 2 else ""
        if info.disposition_type != "processed":
            add(
                Finding(
                    "MDN-005",
                    "error",
                    "part:3",
                    "Disposition « processed » attendue pour un accusé d'intégration.",
                    observed=info.disposition,
                )
            )
        if modifier and info.error_code is None:
            add(
                Finding(
                    "MDN-006",
                    "error",
                    "part:3",
                    "Erreur d'intégration sans code ANS « Error: <code>^<libellé> ».",
                    observed=info.disposition,
                )
            )
    if info.error_code is not None and info.error_code not in ANS_ERROR_CODES:
        add(
            Finding(
                "MDN-006",
                "error",
                "part:3",
                f"Code d'erreur {info.error_code} hors de la plage ANS 900–906.",
                observed=str(info.error_code),
            )
        )
    if not info.reporting_ua:
        add(Finding("MDN-010", "warning", "part:3", "Champ Reporting-UA absent."))
    if not info.original_recipient:
        add(Finding("MDN-011", "info", "part:3", "Champ Original-Recipient absent."))
    subj = info.subject or ""
    m = KO_SUBJECT_RE.match(subj)
    if info.error_code is not None:
        if m is None:
            add(
                Finding(
                    "MDN-007",
                    "error",
                    "header:Subject",
                    f"Objet d'un accusé en erreur sans « {KO_PREFIX}[<code>] ».",
                    expected=f"{KO_PREFIX}[{info.error_code}] XDM/1.0/DDM+…",
                    observed=subj,
                )
            )
        elif int(m["code"]) != info.error_code:
            add(
                Finding(
                    "MDN-007",
                    "error",
                    "header:Subject",
                    "Code d'erreur de l'objet différent de celui du champ Disposition.",
                    expected=str(info.error_code),
                    observed=m["code"],
                )
            )
    elif m is not None:
        add(Finding("MDN-007", "error", "header:Subject", "Objet « KO » sur un accusé de succès.", observed=subj))
    if expected_error != "any":
        if expected_error is None and not info.success:
            add(
                Finding(
                    "MDN-012",
                    "error",
                    "part:3",
                    "Accusé de succès (processed) attendu.",
                    expected=DISPOSITION_SUCCESS,
                    observed=info.disposition,
                )
            )
        elif expected_error is not None and info.error_code != expected_error:
            add(
                Finding(
                    "MDN-012",
                    "error",
                    "part:3",
                    "Code d'erreur d'intégration inattendu.",
                    expected=str(expected_error),
                    observed=str(info.error_code),
                )
            )
    embedded = parts[2].get_payload()[0] if len(parts) > 2 and parts[2].get_content_type() == "message/rfc822" else None
    if original is not None:
        orig = parse_message(original)
        orig_id = (header_values(orig, "Message-ID") or [None])[0]
        if info.original_message_id != orig_id:
            add(
                Finding(
                    "MDN-008",
                    "error",
                    "part:3",
                    "Original-Message-ID ne désigne pas le message original.",
                    expected=orig_id,
                    observed=info.original_message_id,
                )
            )
        irt = header_values(msg, "In-Reply-To")
        if orig_id and (not irt or irt[0] != orig_id):
            add(
                Finding(
                    "MDN-013",
                    "warning",
                    "header:In-Reply-To",
                    "In-Reply-To devrait désigner le message original.",
                    expected=orig_id,
                    observed=irt[0] if irt else None,
                )
            )
        if embedded is not None:
            if (header_values(embedded, "Message-ID") or [None])[0] != orig_id:
                add(
                    Finding(
                        "MDN-009",
                        "error",
                        "part:4",
                        "La partie message/rfc822 n'est pas le message original.",
                        expected=orig_id,
                    )
                )
            if _attachment_names(embedded) != _attachment_names(orig):
                add(
                    Finding(
                        "MDN-009",
                        "error",
                        "part:4",
                        "L'original joint à l'accusé n'a pas toutes ses pièces jointes.",
                        expected=", ".join(_attachment_names(orig)),
                        observed=", ".join(_attachment_names(embedded)),
                    )
                )
    report.extra.update(
        {
            "disposition": info.disposition,
            "error_code": info.error_code,
            "error_label": info.error_label,
            "final_recipient": info.final_recipient,
            "original_message_id": info.original_message_id,
        }
    )
    return report


def _attachment_names(msg: Message) -> list[str]:
    return sorted(p.get_filename() or "" for p in msg.walk() if not p.is_multipart() and p.get_filename())


def is_mdn(msg: Message) -> bool:
    return msg.get_content_type() == "multipart/report" and (msg.get_param("report-type") or "") == (
        "disposition-notification"
    )


__all__ = [
    "ANS_ERROR_CODES",
    "KO_PREFIX",
    "MdnInfo",
    "build_integration_mdn",
    "is_mdn",
    "parse_mdn",
    "should_send_mdn",
    "validate_mdn",
]
