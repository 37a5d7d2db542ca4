"""A mail the candidate submitted, as the harness reads it: headers, attachments, the IHE_XDM inside."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import EmailMessage
from functools import cached_property

from segur_mss.operator.recording import Submission
from segur_mss.validators.mail import MailInspection, header_values, inspect_mail, parse_message


@dataclass
class SentMail:
    submission: Submission
    message: EmailMessage = field(init=False)

    def __post_init__(self) -> None:
        self.message = parse_message(self.submission.raw)

    @property
    def id(self) -> str:
        return self.submission.id

    def label(self) -> str:
        return f"courriel {self.submission.id} ({self.message.get('Message-ID', 'sans Message-ID')})"

    def header_values(self, name: str) -> list[str]:
        return header_values(self.message, name)

    def attachment_names(self) -> list[str]:
        return [part.get_filename() or "" for part in self.message.iter_attachments()]

    @cached_property
    def inspection(self) -> MailInspection:
        """The mail validator's reading of the whole message (IHE_XDM and CDA included)."""
        return inspect_mail(self.submission.raw, subject=self.submission.id)

    @property
    def recipients(self) -> list[str]:
        return [r.lower() for r in self.submission.rcpt_tos]
