"""The patient domain (`patient.mssante.fr`), behaving like Mon Espace Santé for the campaign.

A patient mailbox `<INS>@patient.mssante.fr` receives what professionals send. The campaign makes a patient reply
to one of those messages with `reply(...)`; Mon Espace Santé refuses the reply when the message replied to
carried `X-MSS-MES: FIN` (the sender closed the exchange, CONF.21). The comparison is exact: the header value,
without its surrounding blanks, must be the three capital letters `FIN`. Every attempt, accepted or refused, is
written in a transcript of service `mes`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from segur_mss.operator.clock import Clock
from segur_mss.operator.delivery import DeliveryAgent
from segur_mss.operator.mailstore import MailStore, StoredMessage
from segur_mss.operator.recording import Recorder

CLOSED_VALUE = "FIN"
_INS = re.compile(r"[0-9A-Za-z]{1,40}")


@dataclass(frozen=True)
class PatientReply:
    """The outcome of a patient's reply attempt."""

    accepted: bool
    ins: str
    patient: str  # the patient's address
    to: str
    in_reply_to: str
    reason: str | None = None  # stable code when refused: exchange_closed, original_not_found, unknown_recipient
    message: str | None = None  # French explanation
    message_id: str | None = None
    raw: bytes | None = None
    uid: int | None = None  # in the recipient's INBOX
    transcript: str | None = None


def closes_exchange(original: StoredMessage) -> bool:
    """Whether the message carries `X-MSS-MES: FIN` (exactly; `fin` or `FIN.` do not close)."""
    values = original.message.get_all("X-MSS-MES") or []
    return any(str(v).strip() == CLOSED_VALUE for v in values)


class PatientDomain:
    """Mon Espace Santé, as far as the campaign needs it."""

    def __init__(self, store: MailStore, delivery: DeliveryAgent, recorder: Recorder, clock: Clock) -> None:
        self.store = store
        self.delivery = delivery
        self.recorder = recorder
        self.clock = clock
        self.replies: list[PatientReply] = []

    def address(self, ins: str) -> str:
        if not _INS.fullmatch(ins or ""):
            raise ValueError(f"INS invalide pour une adresse patient : {ins!r}")
        return self.store.population.patient_mailbox(ins).address

    async def reply(
        self, ins: str, to: str, in_reply_to_message_id: str, body: str, *, subject: str | None = None
    ) -> PatientReply:
        patient = self.address(ins)
        transcript = self.recorder.open_transcript("mes", f"patient:{patient}")
        transcript.event(
            "reponse_patient",
            f"le patient {patient} répond à {in_reply_to_message_id} pour {to}",
            patient=patient,
            to=to,
            in_reply_to=in_reply_to_message_id,
        )

        def refuse(reason: str, message: str) -> PatientReply:
            transcript.event("reponse_refusee", f"réponse du patient refusée ({reason}) : {message}", reason=reason)
            transcript.close("réponse refusée")
            result = PatientReply(
                False, ins, patient, to, in_reply_to_message_id, reason, message, transcript=transcript.id
            )
            self.replies.append(result)
            return result

        original = await self.store.find(patient, in_reply_to_message_id)
        if original is None:
            return refuse("original_not_found", "le message auquel le patient répond n'est pas dans sa boîte")
        if closes_exchange(original):
            return refuse(
                "exchange_closed",
                "l'émetteur a clos l'échange (X-MSS-MES: FIN) : Mon Espace Santé n'autorise pas la réponse",
            )
        if not self.store.is_local(to):
            return refuse("unknown_recipient", f"destinataire inconnu de l'opérateur : {to}")
        reply = self._compose(patient, to, original, body, subject)
        stored = await self.delivery.deliver(to, reply, source="patient")
        transcript.event(
            "reponse_acceptee",
            f"réponse du patient remise à {to} (UID {stored.uid})",
            message_id=reply["Message-ID"],
            uid=stored.uid,
        )
        transcript.close("réponse remise")
        result = PatientReply(
            True,
            ins,
            patient,
            to,
            in_reply_to_message_id,
            message_id=str(reply["Message-ID"]),
            raw=stored.raw,
            uid=stored.uid,
            transcript=transcript.id,
        )
        self.replies.append(result)
        return result

    def _compose(self, patient: str, to: str, original: StoredMessage, body: str, subject: str | None) -> EmailMessage:
        parsed = original.message
        original_id = original.message_id or ""
        reply = EmailMessage()
        reply["From"] = patient
        reply["To"] = to
        base = str(parsed.get("Subject", "") or "")
        reply["Subject"] = subject or (base if base.lower().startswith("re:") else f"Re: {base}".strip())
        reply["Date"] = format_datetime(self.clock.now())
        reply["Message-ID"] = make_msgid(domain=self.store.population.patient_domain)
        if original_id:
            reply["In-Reply-To"] = original_id
            references = str(parsed.get("References", "") or "").split()
            reply["References"] = " ".join([*references, original_id])
        reply.set_content(body, charset="utf-8")
        return reply
