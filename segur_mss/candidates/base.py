"""The candidate adapter: business actions phrased like the scenarios, whatever drives the product."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from segur_mss.verdicts import NotTested


class Action(enum.StrEnum):
    CONNECT_MAILBOX = "connect_mailbox"
    SEND_MESSAGE = "send_message"
    SEND_DOCUMENT = "send_document"
    FETCH_NEW_MAIL = "fetch_new_mail"
    INTEGRATED_DOCUMENTS = "integrated_documents"
    EXPORT_TRACES = "export_traces"
    SEARCH_DIRECTORY = "search_directory"
    TOKEN_STORAGE_LOCATIONS = "token_storage_locations"


ACTION_LABELS = {
    Action.CONNECT_MAILBOX: "se connecter à une BAL",
    Action.SEND_MESSAGE: "envoyer un courriel",
    Action.SEND_DOCUMENT: "envoyer un document CDA",
    Action.FETCH_NEW_MAIL: "relever les nouveaux courriels",
    Action.INTEGRATED_DOCUMENTS: "lister les documents intégrés",
    Action.EXPORT_TRACES: "exporter les traces fonctionnelles",
    Action.SEARCH_DIRECTORY: "rechercher dans l'annuaire",
    Action.TOKEN_STORAGE_LOCATIONS: "indiquer où sont conservés les jetons",
}


@dataclass(frozen=True)
class CandidateEnvironment:
    """What the candidate is configured with: the operator's parameters (env.json) and the product's own."""

    smtp_host: str
    smtp_port: int
    ca_bundle: Path
    server_name: str
    product_reference: str
    imap_host: str = "127.0.0.1"
    imap_port: int = 0
    psc: dict[str, Any] = field(default_factory=dict)
    workdir: Path | None = None
    #: In-process login used until the product is given a PSC endpoint: returns PSC tokens for a professional.
    login: Callable[[str], Any] | None = None


@dataclass(frozen=True)
class OutgoingMessage:
    to: tuple[str, ...]
    subject: str
    body: str
    read_receipt: bool = False


@dataclass(frozen=True)
class DocumentSending:
    """Send a CDA document (in IHE_XDM) about a synthetic patient."""

    to: tuple[str, ...]
    patient: str  # key of a synthetic patient
    doc_type: str = "CR-BIO"
    end_of_exchange: bool = False
    read_receipt: bool = False


@dataclass
class ActionResult:
    ok: bool
    detail: str = ""
    message_ids: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class CandidateAdapter(Protocol):
    """What the harness asks of the product. Each adapter declares which actions it supports."""

    name: str

    def capabilities(self) -> frozenset[Action]: ...

    def connect_mailbox(self, address: str) -> ActionResult: ...

    def send_message(self, message: OutgoingMessage) -> ActionResult: ...

    def send_document(self, sending: DocumentSending) -> ActionResult: ...

    def close(self) -> None: ...


def require(candidate: CandidateAdapter, action: Action) -> None:
    """Stop the scenario as `not_tested` when the candidate cannot perform `action`."""
    if action not in candidate.capabilities():
        raise NotTested(
            f"le candidat « {candidate.name} » ne sait pas « {ACTION_LABELS[action]} » : scénario non testé"
        )
