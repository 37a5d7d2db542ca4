"""The reference candidate: a conformant LPS written on aiosmtplib, the living example of what the harness expects.

It is configured like a real product (operator host and ports, the IGC-Santé CA, its Convergence reference) and
does what the Référentiel #2 asks: TLS 1.2 at least with only the IGC-Santé root trusted, STARTTLS before any
authentication, SASL XOAUTH2 with the professional's PSC access token, the X-MSS-* headers on every mail.
"""

from __future__ import annotations

import asyncio
import email.utils
import ssl
import uuid
from email.message import EmailMessage
from email.policy import default as default_policy

import aiosmtplib

from segur_mss.candidates.base import (
    Action,
    ActionResult,
    CandidateEnvironment,
    DocumentSending,
    OutgoingMessage,
)
from segur_mss.documents.cda import CdaDocument, make_cda
from segur_mss.documents.mail import build_document_mail
from segur_mss.documents.patients import Patient, get_patient


class CandidateError(Exception):
    """The candidate could not perform an action (the harness reports `error`, not a verdict)."""


class ReferenceCandidate:
    """A conformant LPS (PER/ORG mailbox with Pro Santé Connect)."""

    name = "reference"

    def __init__(self, env: CandidateEnvironment) -> None:
        self.env = env
        self.mailbox: str | None = None
        self._tokens = None  # kept in memory only (CONF.28)

    def capabilities(self) -> frozenset[Action]:
        return frozenset({Action.CONNECT_MAILBOX, Action.SEND_MESSAGE, Action.SEND_DOCUMENT})

    # -- session ----------------------------------------------------------------------------------------
    def connect_mailbox(self, address: str) -> ActionResult:
        if self.env.login is None:
            raise CandidateError("aucun moyen d'obtenir un jeton Pro Santé Connect n'est configuré")
        self._tokens = self.env.login(address)
        self.mailbox = address
        return ActionResult(True, f"connecté à {address}")

    def close(self) -> None:
        self._tokens = None

    def tls_context(self) -> ssl.SSLContext:
        """TLS 1.2 minimum, certificate and host name checked, the IGC-Santé test root as the only anchor."""
        ctx = ssl.create_default_context(cafile=str(self.env.ca_bundle))
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        return ctx

    # -- sending ----------------------------------------------------------------------------------------
    def send_message(self, message: OutgoingMessage) -> ActionResult:
        msg = EmailMessage(policy=default_policy)
        msg["From"] = self._sender()
        msg["To"] = ", ".join(message.to)
        msg["Date"] = email.utils.formatdate(localtime=True)
        msg["Message-ID"] = self.new_message_id()
        msg["Subject"] = message.subject
        self.set_product_reference(msg)
        if message.read_receipt:
            msg["Disposition-Notification-To"] = self._sender()
        msg.set_content(message.body, charset="utf-8")
        return self.submit(msg, list(message.to))

    def send_document(self, sending: DocumentSending) -> ActionResult:
        patient = get_patient(sending.patient)
        document = self.produce_document(patient, sending.doc_type)
        msg = build_document_mail(
            [document],
            patient,
            sender=self._sender(),
            to=list(sending.to),
            nil=None,  # set below by the product's own rule
            ins_flag=self.ins_flag(patient),
            mes_fin=sending.end_of_exchange,
            disposition_notification_to=self._sender() if sending.read_receipt else None,
            date=None,
            message_id=self.new_message_id(),
        )
        del msg["Date"]
        msg["Date"] = email.utils.formatdate(localtime=True)
        self.set_product_reference(msg)
        return self.submit(msg, list(sending.to))

    # -- the product's rules (faulty candidates override exactly one of them) ---------------------------
    def set_product_reference(self, msg: EmailMessage) -> None:
        """X-MSS-NIL: the product's Convergence reference, on every mail (CONF.16)."""
        del msg["X-MSS-NIL"]
        msg["X-MSS-NIL"] = self.env.product_reference

    def ins_flag(self, patient: Patient) -> str:
        """X-MSS-INS: O only for a qualified INS with its traits (CONF.14)."""
        return "O" if patient.has_qualified_ins else "N"

    def produce_document(self, patient: Patient, doc_type: str) -> CdaDocument:
        return make_cda(patient, doc_type=doc_type, uid_seed=uuid.uuid4().hex)

    def new_message_id(self) -> str:
        return email.utils.make_msgid(domain="lps-reference.test")

    # -- transport --------------------------------------------------------------------------------------
    def _sender(self) -> str:
        if not self.mailbox:
            raise CandidateError("aucune BAL connectée")
        return self.mailbox

    def submit(self, msg: EmailMessage, recipients: list[str]) -> ActionResult:
        try:
            asyncio.run(self._submit(msg, recipients))
        except (aiosmtplib.SMTPException, OSError, ssl.SSLError) as exc:
            raise CandidateError(f"échec de l'envoi SMTP : {exc}") from exc
        return ActionResult(True, "courriel soumis", message_ids=[str(msg["Message-ID"])])

    async def _submit(self, msg: EmailMessage, recipients: list[str]) -> None:
        assert self._tokens is not None
        client = aiosmtplib.SMTP(
            hostname=self.env.smtp_host,
            port=self.env.smtp_port,
            start_tls=True,
            tls_context=self.tls_context(),
            timeout=30,
        )
        async with client:
            await client.auth_xoauth2(self._sender(), self._tokens.access_token)
            await client.send_message(msg, sender=self._sender(), recipients=recipients)
