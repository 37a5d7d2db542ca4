"""The scenario context: what a running scenario knows, and the one way steps judge and record evidence."""

from __future__ import annotations

from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from segur_mss.candidates.base import CandidateAdapter
from segur_mss.config import HarnessConfig
from segur_mss.evidence.store import Proof, ScenarioEvidence
from segur_mss.operator.recording import Capture, Submission, Transcript
from segur_mss.operator.service import ReferenceOperator
from segur_mss.verdicts import Check, ConformityFailure


@dataclass
class ScenarioContext:
    requirement: str
    evidence: ScenarioEvidence
    operator: ReferenceOperator
    candidate: CandidateAdapter
    config: HarnessConfig
    capture: Capture
    received: list[Submission] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    _attached: dict[str, Proof] = field(default_factory=dict)

    # -- judging ----------------------------------------------------------------------------------------
    def expect(
        self,
        check: str,
        *,
        expected: str,
        observed: str,
        passed: bool,
        proofs: list[Proof] | tuple[Proof, ...] = (),
        requirement: str | None = None,
    ) -> Check:
        """Record a check with its proofs; a check that does not hold stops the scenario as `failed`."""
        result = Check(
            requirement=requirement or self.requirement,
            check=check,
            expected=expected,
            observed=observed,
            passed=passed,
            proofs=[p.id for p in proofs],
        )
        self.evidence.record_check(result)
        if not passed:
            raise ConformityFailure(result)
        return result

    # -- evidence ---------------------------------------------------------------------------------------
    def attach_submission(self, submission: Submission) -> Proof:
        key = f"message:{submission.id}"
        if key not in self._attached:
            self._attached[key] = self.evidence.add_proof(
                "message",
                f"{submission.id}.eml",
                submission.raw,
                f"courriel {submission.id} soumis par le candidat (brut)",
                media_type="message/rfc822",
            )
        return self._attached[key]

    def attach_transcript(self, transcript: Transcript) -> Proof:
        key = f"transcript:{transcript.id}"
        if key not in self._attached:
            self._attached[key] = self.evidence.add_proof(
                "transcript",
                f"transcript-{transcript.id}.log",
                transcript.text(),
                f"transcription {transcript.service.upper()} de la connexion {transcript.id} (secrets expurgés)",
            )
        return self._attached[key]

    def transcript_of(self, submission: Submission) -> Transcript | None:
        return next((t for t in self.capture.transcripts if t.id == submission.transcript_id), None)

    def attach_remaining(self) -> None:
        """At the end of the scenario: every connection it caused becomes a proof."""
        for transcript in list(self.capture.transcripts):
            self.attach_transcript(transcript)


def parse_message(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


def attachment_names(message: EmailMessage) -> list[str]:
    """File names of the message's attachments, in order."""
    return [part.get_filename() or "" for part in message.iter_attachments()]
