"""The product's local records: patients' integrated documents (with their previous versions), the documents
left for manual handling, the notifications shown to users, and the index of received mail.

Kept in memory, and in the product's working directory when it has one (`dossier-local.json`, CDA and XDM
files next to it), as a real LPS keeps its patient records. No token is ever stored here.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from segur_mss.candidates.traces import local_now

CURRENT = "courant"
PREVIOUS = "precedent"


@dataclass
class StoredDocument:
    """A document integrated into a local patient's record."""

    ref: str
    patient: str
    ins: str
    document_id: str
    set_id: str
    version: int
    code: str
    title: str
    author: str
    organisation: str
    message_id: str
    mode: str  # automatique | manuel
    integrated_at: str = field(default_factory=local_now)
    status: str = CURRENT
    replaces: str = ""  # ref of the previous version
    replaced_by: str = ""


@dataclass
class PendingDocument:
    """A received document that was not integrated automatically (UX.07): the user handles it by hand."""

    ref: str
    message_id: str
    code: int
    reason: str
    document_id: str
    set_id: str
    version: int
    ins: str
    title: str
    received_at: str = field(default_factory=local_now)
    status: str = "a_traiter"  # a_traiter | importe


@dataclass
class Notification:
    """What the product shows its users (UX.38, UX.39, UX.40) or asks of them (CONF.10)."""

    kind: str
    text: str
    patient: str = ""
    document: str = ""
    at: str = field(default_factory=local_now)


@dataclass
class ReceivedMail:
    """A received mail as the mail client lists it (headers only)."""

    message_id: str
    sender: str
    reply_to: str
    subject: str
    references: str
    kind: str  # document | courriel | accuse
    received_at: str = field(default_factory=local_now)


class LocalRecords:
    """The store (thread-safe, saved after every change when a directory is given)."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self.documents: list[StoredDocument] = []
        self.pending: list[PendingDocument] = []
        self.notifications: list[Notification] = []
        self.mail: list[ReceivedMail] = []
        self.generated: dict[str, dict[str, Any]] = {}  # PFI: producer's document ref -> last CDA sent
        self._memory_files: dict[str, bytes] = {}  # CDA and XDM files when there is no directory
        self._lock = threading.RLock()
        self._load()

    # -- documents ---------------------------------------------------------------------------------------
    def current(self, set_id: str) -> StoredDocument | None:
        with self._lock:
            return next((d for d in self.documents if d.set_id == set_id and d.status == CURRENT), None)

    def add_document(self, document: StoredDocument, cda: bytes) -> StoredDocument:
        with self._lock:
            self.documents.append(document)
            self._write_file(f"{document.ref}.xml", cda)
            self.save()
        return document

    def remove_document(self, ref: str) -> None:
        with self._lock:
            self.documents = [d for d in self.documents if d.ref != ref]
            self.save()

    def next_ref(self, prefix: str) -> str:
        with self._lock:
            pool = self.documents if prefix == "doc" else self.pending
            return f"{prefix}-{len(pool) + 1:04d}"

    # -- manual handling ---------------------------------------------------------------------------------
    def add_pending(self, item: PendingDocument, xdm: bytes | None) -> PendingDocument:
        with self._lock:
            self.pending.append(item)
            if xdm is not None:
                self._write_file(f"{item.ref}.zip", xdm)
            self.save()
        return item

    def pending_item(self, ref: str) -> PendingDocument | None:
        with self._lock:
            return next((p for p in self.pending if p.ref == ref), None)

    def pending_archive(self, ref: str) -> bytes | None:
        return self._read_file(f"{ref}.zip")

    # -- notifications, mail -----------------------------------------------------------------------------
    def notify(self, notification: Notification) -> None:
        with self._lock:
            self.notifications.append(notification)
            self.save()

    def add_mail(self, mail: ReceivedMail) -> None:
        with self._lock:
            self.mail = [m for m in self.mail if m.message_id != mail.message_id] + [mail]
            self.save()

    def mail_by_id(self, message_id: str) -> ReceivedMail | None:
        with self._lock:
            return next((m for m in self.mail if m.message_id.strip() == message_id.strip()), None)

    def remember_generated(self, ref: str, data: dict[str, Any]) -> None:
        with self._lock:
            self.generated[ref] = data
            self.save()

    # -- persistence -------------------------------------------------------------------------------------
    @property
    def index_file(self) -> Path | None:
        return self.directory / "dossier-local.json" if self.directory else None

    def save(self) -> None:
        path = self.index_file
        if path is None:
            return
        with self._lock:
            data = {
                "documents": [dataclasses.asdict(d) for d in self.documents],
                "attente_manuelle": [dataclasses.asdict(p) for p in self.pending],
                "notifications": [dataclasses.asdict(n) for n in self.notifications],
                "courriels": [dataclasses.asdict(m) for m in self.mail],
                "documents_produits": self.generated,
            }
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
            tmp.replace(path)

    def _load(self) -> None:
        path = self.index_file
        if path is None or not path.is_file():
            return
        data = json.loads(path.read_text(encoding="utf-8"))
        self.documents = [StoredDocument(**d) for d in data.get("documents", [])]
        self.pending = [PendingDocument(**p) for p in data.get("attente_manuelle", [])]
        self.notifications = [Notification(**n) for n in data.get("notifications", [])]
        self.mail = [ReceivedMail(**m) for m in data.get("courriels", [])]
        self.generated = dict(data.get("documents_produits", {}))

    def _write_file(self, name: str, data: bytes) -> None:
        if self.directory is None:
            self._memory_files[name] = data
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / name).write_bytes(data)

    def _read_file(self, name: str) -> bytes | None:
        if self.directory is None:
            return self._memory_files.get(name)
        path = self.directory / name
        return path.read_bytes() if path.is_file() else None

    @property
    def files(self) -> list[Path]:
        if self.directory is None or not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.iterdir() if p.is_file())
