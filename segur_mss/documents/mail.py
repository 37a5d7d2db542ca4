"""Synthetic MSSanté document mails: text body, ``IHE_XDM.zip`` attachment and the ``X-MSS-*`` headers."""

from __future__ import annotations

import datetime
import email.utils
from collections.abc import Sequence
from email.header import Header
from email.message import EmailMessage
from email.policy import default as default_policy

from .cda import CdaDocument, uid_uuid
from .patients import DEFAULT_AUTHOR, Patient, Professional
from .xdm import build_xdm

DEFAULT_MAIL_DATE = datetime.datetime(2025, 1, 15, 10, 35, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
DEFAULT_NIL = "SEGUR-MSS-TEST-NIL"


def fold_header_value(name: str, value: str, max_line: int = 78) -> str:
    """``value`` folded at spaces so that no line exceeds ``max_line`` (``Name: `` included), never right after
    the colon (the stdlib's folder may put the whole value on a continuation line, which the stdlib parser then
    reads back with a leading space). Non-ASCII words become RFC 2047 encoded words; ASCII words stay readable
    (``XDM/1.0/DDM+`` remains visible in the raw header)."""
    words: list[str] = []
    run: list[str] = []  # consecutive non-ASCII words become one encoded word (spaces kept inside it)
    for word in [*value.split(" "), None]:
        if word is not None and not word.isascii():
            run.append(word)
            continue
        if run:
            words.extend(Header(" ".join(run), "utf-8").encode(maxlinelen=76, linesep="\n").split("\n "))
            run = []
        if word is not None:
            words.append(word)
    lines: list[str] = []
    current = words[0]
    budget = max_line - len(name) - 2
    for word in words[1:]:
        if len(current) + 1 + len(word) <= budget:
            current += " " + word
        else:
            lines.append(current)
            current = word
            budget = max_line - 1
    lines.append(current)
    return "\n ".join(lines)


def set_folded_header(msg: EmailMessage, name: str, value: str) -> None:
    """Set ``name`` to ``value`` pre-folded (see :func:`fold_header_value`), replacing any previous value."""
    del msg[name]
    msg.set_raw(name, fold_header_value(name, value))


def ddm_subject(label: str, patient: Patient) -> str:
    """``XDM/1.0/DDM+<libellé> <NOM> <prénom> <date de naissance>``."""
    return f"XDM/1.0/DDM+{label} {patient.family_birth} {patient.given_birth} {patient.birth_date:%d/%m/%Y}"


def insert_codecda(msg: EmailMessage, codes: Sequence[str], form: str = "repeated") -> None:
    """Set ``X-MSS-CODECDA`` either as one header per code (``repeated``) or a comma list (``comma``)."""
    del msg["X-MSS-CODECDA"]
    if not codes:
        return
    if form == "comma":
        msg["X-MSS-CODECDA"] = ",".join(codes)
    elif form == "repeated":
        for code in codes:
            msg["X-MSS-CODECDA"] = code
    else:
        raise ValueError(f"form must be 'repeated' or 'comma', got {form!r}")


def build_document_mail(
    documents: Sequence[CdaDocument],
    patient: Patient,
    *,
    sender: str | None = None,
    sender_name: str | None = None,
    to: Sequence[str] | None = None,
    nil: str | None = DEFAULT_NIL,
    author: Professional = DEFAULT_AUTHOR,
    label: str | None = None,
    body: str | None = None,
    codecda_form: str = "repeated",
    ins_flag: str | None = None,
    mes_fin: bool = False,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    disposition_notification_to: str | None = None,
    date: datetime.datetime | None = None,
    message_id: str | None = None,
    xdm: bytes | None = None,
    extra_attachments: Sequence[tuple[str, str, bytes]] = (),
) -> EmailMessage:
    """A conformant MSSanté mail carrying ``documents`` for ``patient`` (deterministic by default).

    ``ins_flag`` overrides ``X-MSS-INS`` (default: ``O`` for a qualified INS, else ``N``); ``nil=None`` leaves
    ``X-MSS-NIL`` out (a defect, for negative tests); ``to`` defaults to the patient's address when the INS is
    qualified, else a professional test mailbox; ``extra_attachments`` is ``(filename, mime type, bytes)``.
    """
    sender = sender or author.mailbox
    recipients = list(to) if to is not None else [patient.patient_address or "correspondant@test.mssante.fr"]
    xdm_bytes = xdm if xdm is not None else build_xdm(documents, patient, author=author)
    msg = EmailMessage(policy=default_policy)
    display = sender_name or author.display_name
    msg["From"] = email.utils.formataddr((display, sender))
    msg["To"] = ", ".join(recipients)
    msg["Date"] = email.utils.format_datetime(date or DEFAULT_MAIL_DATE)
    if message_id is None:
        token = uid_uuid("mail", patient.key, *(d.unique_id for d in documents), *recipients)[9:]
        message_id = f"<{token}@segur-mss.test>"
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    refs = list(references) or ([in_reply_to] if in_reply_to else [])
    if refs:
        msg["References"] = " ".join(refs)
    first_label = label or (documents[0].title if documents else "Document")
    set_folded_header(msg, "Subject", ddm_subject(first_label, patient))
    if nil is not None:
        msg["X-MSS-NIL"] = nil
    if documents:
        insert_codecda(msg, [d.code for d in documents], codecda_form)
        msg["X-MSS-INS"] = ins_flag or ("O" if patient.has_qualified_ins else "N")
    if mes_fin:
        msg["X-MSS-MES"] = "FIN"
    if disposition_notification_to:
        msg["Disposition-Notification-To"] = disposition_notification_to
    msg.set_content(
        body
        or (
            f"Bonjour,\n\nVeuillez trouver ci-joint : {first_label} concernant {patient.family_birth} "
            f"{patient.given_birth}.\n\nCordialement,\n{display}\n"
        ),
        charset="utf-8",
    )
    msg.add_attachment(xdm_bytes, maintype="application", subtype="zip", filename="IHE_XDM.zip")
    for filename, mime, data in extra_attachments:
        maintype, _, subtype = mime.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype or "octet-stream", filename=filename)
    msg.set_boundary("=_segur-mss_" + uid_uuid("boundary", message_id)[9:])
    return msg


def build_plain_mail(
    *,
    sender: str = DEFAULT_AUTHOR.mailbox,
    sender_name: str | None = DEFAULT_AUTHOR.display_name,
    to: Sequence[str] = ("correspondant@test.mssante.fr",),
    subject: str = "Message de test",
    body: str = "Bonjour,\n\nMessage de test sans document.\n",
    nil: str | None = DEFAULT_NIL,
    date: datetime.datetime | None = None,
    message_id: str = "<plain-0001@segur-mss.test>",
) -> EmailMessage:
    """A mail without document (only ``X-MSS-NIL`` applies)."""
    msg = EmailMessage(policy=default_policy)
    msg["From"] = email.utils.formataddr((sender_name, sender)) if sender_name else sender
    msg["To"] = ", ".join(to)
    msg["Date"] = email.utils.format_datetime(date or DEFAULT_MAIL_DATE)
    msg["Message-ID"] = message_id
    set_folded_header(msg, "Subject", subject)
    if nil is not None:
        msg["X-MSS-NIL"] = nil
    msg.set_content(body, charset="utf-8")
    return msg


__all__ = [
    "DEFAULT_NIL",
    "build_document_mail",
    "build_plain_mail",
    "ddm_subject",
    "fold_header_value",
    "insert_codecda",
    "set_folded_header",
]
