"""Local delivery: what the submission server accepted lands in the recipients' INBOX, byte for byte.

- Recipients of the operator's domain and of the patient domain (`<INS>@patient.mssante.fr`, Mon Espace Santé) are
  delivered into their mailbox; any other domain is outside the trust space of this operator in a box and fails.
- DSN parameters (RFC 3461) are honoured: a delivery status notification (RFC 3464) goes to the sender's mailbox
  for each recipient whose outcome its NOTIFY asks for (failures by default).
- The campaign can deliver crafted mail (the harness acting as a correspondent) without going through SMTP.
- Every delivery is journaled (`livraisons.jsonl` in the recording folder) and kept in memory.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from datetime import datetime
from email.message import Message
from pathlib import Path

from segur_mss.operator.clock import Clock
from segur_mss.operator.dsn import DeliveryReport, DsnRequest, RecipientOutcome, build_dsn
from segur_mss.operator.faults import FaultController
from segur_mss.operator.mailstore import INBOX, MailStore, StoredMessage, as_bytes, message_id_of
from segur_mss.operator.recording import Recorder, Submission


@dataclass(frozen=True)
class DeliveryRecord:
    """One delivery attempt into one mailbox."""

    at: str
    source: str  # smtp | harnais | dsn | patient
    recipient: str
    status: str  # delivered | failed
    submission: str | None = None
    folder: str | None = None
    uid: int | None = None
    message_id: str | None = None
    size: int = 0
    reason: str | None = None


class DeliveryAgent:
    """Delivers into the operator's mailboxes (coroutines run on the operator's loop)."""

    def __init__(
        self,
        store: MailStore,
        recorder: Recorder,
        faults: FaultController,
        clock: Clock,
        hostname: str,
    ) -> None:
        self.store = store
        self.recorder = recorder
        self.faults = faults
        self.clock = clock
        self.hostname = hostname
        self.postmaster = f"mailer-daemon@{store.population.domain}"
        self.records: list[DeliveryRecord] = []
        self.reports: list[DeliveryReport] = []
        self._lock = threading.Lock()
        self._journal: Path = recorder.directory / "livraisons.jsonl"

    # -- SMTP submissions (a SubmissionHandler delivery hook) ------------------------------------------------
    async def deliver_submission(self, submission: Submission) -> None:
        """Deliver an accepted submission to each recipient, then send the DSNs asked for."""
        request = DsnRequest.from_envelope(submission.mail_options, submission.rcpt_tos, submission.rcpt_options)
        arrival = self.clock.now()
        outcomes: list[RecipientOutcome] = []
        for rcpt in submission.rcpt_tos:
            outcome = await self._deliver_one(submission, rcpt, request)
            outcomes.append(outcome)
            if outcome.action == "failed":
                submission.refused[rcpt] = outcome.diagnostic or outcome.status
        wanted = [o for o in outcomes if o.request.wants(o.action)]
        if wanted and submission.mail_from:  # never a DSN about a DSN (null reverse-path)
            await self._send_dsn(submission, request, wanted, arrival)

    async def _deliver_one(self, submission: Submission, rcpt: str, request: DsnRequest) -> RecipientOutcome:
        wish = request.for_recipient(rcpt)
        if not self.store.is_local(rcpt):
            diagnostic = "smtp; 550 5.1.2 Recipient domain outside the trust space of this operator"
            self._journal_record(
                "smtp",
                rcpt,
                "failed",
                submission=submission.id,
                size=len(submission.raw),
                reason="domaine hors de l'espace de confiance de l'opérateur de référence",
            )
            return RecipientOutcome(wish, "failed", "5.1.2", diagnostic)
        fault = self.faults.delivery_failure(rcpt)
        if fault is not None:
            diagnostic = "smtp; 554 5.3.0 Delivery failure simulated by the operator's fault profile"
            self._journal_record(
                "smtp",
                rcpt,
                "failed",
                submission=submission.id,
                size=len(submission.raw),
                reason=f"panne simulée ({fault.name})",
            )
            return RecipientOutcome(wish, "failed", "5.3.0", diagnostic)
        stored = await self.store.append(rcpt, submission.raw)
        self._journal_record("smtp", rcpt, "delivered", submission=submission.id, stored=stored)
        return RecipientOutcome(wish, "delivered", "2.0.0")

    async def _send_dsn(
        self, submission: Submission, request: DsnRequest, outcomes: list[RecipientOutcome], arrival: datetime
    ) -> DeliveryReport:
        report = DeliveryReport(submission.id, submission.mail_from, outcomes)
        report.raw = build_dsn(
            report,
            request=request,
            original=submission.raw,
            reporting_mta=self.hostname,
            postmaster=self.postmaster,
            arrival=arrival,
            now=self.clock.now(),
        )
        if self.store.is_local(submission.mail_from):
            stored = await self.store.append(submission.mail_from, report.raw)
            report.delivered_uid = stored.uid
            self._journal_record("dsn", submission.mail_from, "delivered", submission=submission.id, stored=stored)
        else:
            self._journal_record(
                "dsn",
                submission.mail_from,
                "failed",
                submission=submission.id,
                reason="expéditeur hors de l'opérateur : avis de remise non remis",
            )
        with self._lock:
            self.reports.append(report)
        return report

    # -- crafted mail (the harness as a correspondent) ------------------------------------------------------
    async def deliver(
        self,
        recipient: str,
        message: bytes | Message,
        *,
        folder: str = INBOX,
        source: str = "harnais",
        flags: tuple[str, ...] = (),
    ) -> StoredMessage:
        """Put a message into a mailbox as if another operator had relayed it (no SMTP, no DSN)."""
        raw = as_bytes(message)
        stored = await self.store.append(recipient, raw, folder=folder, flags=flags)
        self._journal_record(source, stored.address, "delivered", stored=stored)
        return stored

    # -- journal --------------------------------------------------------------------------------------------
    def _journal_record(
        self,
        source: str,
        recipient: str,
        status: str,
        *,
        submission: str | None = None,
        stored: StoredMessage | None = None,
        size: int = 0,
        reason: str | None = None,
    ) -> DeliveryRecord:
        record = DeliveryRecord(
            at=self.recorder.stamp(),
            source=source,
            recipient=recipient.lower(),
            status=status,
            submission=submission,
            folder=stored.folder if stored else None,
            uid=stored.uid if stored else None,
            message_id=message_id_of(stored.raw) if stored else None,
            size=len(stored.raw) if stored else size,
            reason=reason,
        )
        with self._lock:
            self.records.append(record)
            with self._journal.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(asdict(record), ensure_ascii=False) + "\n")
        return record

    def delivered_to(self, recipient: str) -> list[DeliveryRecord]:
        with self._lock:
            return [r for r in self.records if r.recipient == recipient.lower() and r.status == "delivered"]
