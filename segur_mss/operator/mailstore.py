"""The operator's mailboxes: one pymap in-memory folder set per MSSanté address (PER, ORG, APP, PATIENT).

The IMAP server serves these folder sets; SMTP delivery, DSNs, patient replies and the campaign append to them.
Every method is a coroutine to be run on the operator's loop (pymap's folders use asyncio locks); the operator
exposes synchronous wrappers for the campaign. Messages are stored and served byte for byte as given.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage, Message

from pymap.backend.dict.filter import FilterSet
from pymap.backend.dict.mailbox import MailboxSet
from pymap.parsing.message import AppendMessage
from pymap.parsing.specials import FetchRequirement
from pymap.parsing.specials.flag import Flag

from segur_mss.operator.clock import Clock
from segur_mss.operator.identities import Mailbox, Population

INBOX = "INBOX"


class UnknownMailbox(KeyError):
    """The address is not a mailbox of the operator."""

    def __str__(self) -> str:
        return f"BAL inconnue de l'opérateur : {self.args[0]}"


@dataclass(frozen=True)
class StoredMessage:
    """A message as it sits in a mailbox folder."""

    address: str
    folder: str
    uid: int
    raw: bytes
    flags: frozenset[str]
    internal_date: datetime

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def header(self, name: str) -> str | None:
        """The first value of a header, unfolded, or None."""
        value = self.message.get(name)
        return None if value is None else str(value)

    @property
    def message_id(self) -> str | None:
        return message_id_of(self.raw)


def message_id_of(raw: bytes) -> str | None:
    """The Message-ID of raw message bytes (headers only are parsed)."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    value = email.message_from_bytes(head + b"\r\n\r\n", policy=email.policy.compat32).get("Message-ID")
    return str(value).strip() if value else None


def as_bytes(message: bytes | Message) -> bytes:
    """Raw bytes for a message given as bytes or as an `email` message (CRLF line ends)."""
    if isinstance(message, bytes | bytearray):
        return bytes(message)
    return message.as_bytes(policy=email.policy.SMTP)


@dataclass
class Account:
    """The folders of one address."""

    mailbox: Mailbox
    folders: MailboxSet
    filters: FilterSet = field(default_factory=FilterSet)


class MailStore:
    """Folder sets by address; patient mailboxes are created on first use, like Mon Espace Santé's."""

    def __init__(self, population: Population, clock: Clock | None = None) -> None:
        self.population = population
        self.clock = clock or Clock()
        self._accounts: dict[str, Account] = {}

    def resolve(self, address: str) -> Mailbox:
        """The mailbox of an address (patient addresses always resolve); raises UnknownMailbox."""
        if self.population.is_patient_address(address):
            return self.population.patient_mailbox(address.split("@", 1)[0])
        box = self.population.mailbox(address)
        if box is None:
            raise UnknownMailbox(address)
        return box

    def is_local(self, address: str) -> bool:
        try:
            self.resolve(address)
        except UnknownMailbox:
            return False
        return True

    def account(self, address: str) -> Account:
        """The account of a mailbox, created on first use (call on the operator's loop)."""
        box = self.resolve(address)
        account = self._accounts.get(box.address)
        if account is None:
            account = Account(box, MailboxSet())
            self._accounts[box.address] = account
        return account

    async def append(
        self,
        address: str,
        message: bytes | Message,
        *,
        folder: str = INBOX,
        flags: tuple[str, ...] = (),
        when: datetime | None = None,
        recent: bool = True,
    ) -> StoredMessage:
        """Put a message into a folder of a mailbox, byte for byte; returns it with its UID."""
        raw = as_bytes(message)
        account = self.account(address)
        try:
            data = await account.folders.get_mailbox(folder)
        except KeyError:
            await account.folders.add_mailbox(folder)
            data = await account.folders.get_mailbox(folder)
        flag_set = frozenset(Flag(f.encode("ascii")) for f in flags)
        stamp = when or self.clock.now()  # the operator's (controllable) time, as IMAP INTERNALDATE
        stored = await data.append(AppendMessage(raw, stamp, flag_set), recent=recent)
        return StoredMessage(account.mailbox.address, folder, stored.uid, raw, frozenset(flags), stamp)

    async def messages(self, address: str, folder: str = INBOX) -> list[StoredMessage]:
        """Every message of a folder, in UID order."""
        account = self.account(address)
        try:
            data = await account.folders.get_mailbox(folder)
        except KeyError:
            return []
        result = []
        async for msg in data.messages():
            loaded = await msg.load_content(FetchRequirement.CONTENT)
            flags = frozenset(bytes(f).decode("ascii", "replace") for f in msg.permanent_flags)
            result.append(
                StoredMessage(account.mailbox.address, folder, msg.uid, bytes(loaded), flags, msg.internal_date)
            )
        result.sort(key=lambda m: m.uid)
        return result

    async def find(self, address: str, message_id: str) -> StoredMessage | None:
        """The message of a mailbox (any folder) whose Message-ID is `message_id` (with or without <>)."""
        wanted = message_id.strip().strip("<>")
        account = self.account(address)
        for entry in (await account.folders.list_mailboxes()).list():
            for stored in await self.messages(address, entry.name):
                mid = stored.message_id
                if mid and mid.strip("<>") == wanted:
                    return stored
        return None

    def addresses(self) -> list[str]:
        """Addresses whose account exists (a message was delivered or a session opened)."""
        return sorted(self._accounts)
