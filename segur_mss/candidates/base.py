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
    #: The user writes to a patient from the patient's record (SC.MSS/UX.32): the product finds the address.
    WRITE_TO_PATIENT = "write_to_patient"
    FETCH_NEW_MAIL = "fetch_new_mail"
    INTEGRATED_DOCUMENTS = "integrated_documents"
    EXPORT_TRACES = "export_traces"
    SEARCH_DIRECTORY = "search_directory"
    TOKEN_STORAGE_LOCATIONS = "token_storage_locations"
    #: The person driving the product gives an attested proof (screenshot, video, export, statement).
    ATTEST = "attest"
    # -- session, configuration (SC.MSS/CONF.04, 08, 10, 11) --
    AUTOCONFIGURE = "autoconfigure"
    KEEP_SESSION = "keep_session"
    SESSION_STATUS = "session_status"
    DISCONNECT_MAILBOX = "disconnect_mailbox"
    # -- receiving (SC.MSS/UX.01, 05, 07, 11, 38, 39, 40) and mailbox handling (CONF.17/18, UX.37) --
    REPLY_TO_MESSAGE = "reply_to_message"
    DELETE_MESSAGE = "delete_message"
    IMPORT_MANUALLY = "import_manually"
    USER_NOTIFICATIONS = "user_notifications"
    #: The product has (or creates) a local patient with exactly the given identity (receiving scenarios).
    ENSURE_LOCAL_PATIENT = "ensure_local_patient"
    # -- PFI role (SC.MSS/CONF.24, UX.05.BIS) --
    PROCESS_PRODUCER_INSTRUCTION = "process_producer_instruction"


ACTION_LABELS = {
    Action.CONNECT_MAILBOX: "se connecter à une BAL",
    Action.SEND_MESSAGE: "envoyer un courriel",
    Action.SEND_DOCUMENT: "envoyer un document CDA",
    Action.WRITE_TO_PATIENT: "écrire à un patient depuis son dossier",
    Action.FETCH_NEW_MAIL: "relever les nouveaux courriels",
    Action.INTEGRATED_DOCUMENTS: "lister les documents intégrés",
    Action.EXPORT_TRACES: "exporter les traces fonctionnelles",
    Action.SEARCH_DIRECTORY: "rechercher dans l'annuaire",
    Action.TOKEN_STORAGE_LOCATIONS: "indiquer où sont conservés les jetons",
    Action.ATTEST: "fournir une preuve attestée (capture d'écran, vidéo, export, déclaration)",
    Action.AUTOCONFIGURE: "configurer la BAL à partir de sa seule adresse",
    Action.KEEP_SESSION: "garder la session de la BAL ouverte (relève périodique)",
    Action.SESSION_STATUS: "indiquer l'état de la session",
    Action.DISCONNECT_MAILBOX: "se déconnecter de la BAL",
    Action.REPLY_TO_MESSAGE: "répondre à un courriel reçu",
    Action.DELETE_MESSAGE: "supprimer un courriel",
    Action.IMPORT_MANUALLY: "importer manuellement un document reçu",
    Action.USER_NOTIFICATIONS: "lister les notifications présentées aux utilisateurs",
    Action.ENSURE_LOCAL_PATIENT: "créer (ou retrouver) un patient de test dans le logiciel",
    Action.PROCESS_PRODUCER_INSTRUCTION: "traiter une demande d'envoi d'un logiciel producteur (rôle PFI)",
}


class EvidenceSink(Protocol):
    """Where an adapter stores what it gathers as proof (the running scenario's evidence folder)."""

    def add_proof(
        self, kind: str, filename: str, data: bytes | str, title: str, *, media_type: str = ..., redact: bool = ...
    ) -> Any: ...


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
    #: The running scenario (`SC.MSS/CONF.16.01`) and its evidence: adapters add their own proofs there
    #: (command logs, HTTP exchanges, screenshots and statements of a manual session).
    scenario_id: str = ""
    evidence: EvidenceSink | None = None
    #: How many messages the operator has received from the candidate since the scenario started (manual waits).
    submissions_seen: Callable[[], int] | None = None
    #: The operator's other services (env.json `directory.url`, `autoconfig.url`) and its test mailboxes
    #: (env.json `mailboxes`: address, type, login_hint; certificate and key files for APP mailboxes).
    directory_url: str = ""
    autoconfig_url: str = ""
    mailboxes: tuple[dict[str, Any], ...] = ()
    #: The product's own settings (TLS cipher suites, reconnection delay, PSC flow…): see the adapter's docs.
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OutgoingMessage:
    to: tuple[str, ...]
    subject: str
    body: str
    read_receipt: bool = False


@dataclass(frozen=True)
class DocumentSending:
    """Send CDA documents (in one IHE_XDM) about a synthetic patient, to professionals and/or the patient.

    `to_patient`: the candidate addresses the patient's Mon Espace Santé mailbox itself, built from a qualified
    INS only. `end_of_exchange`: the user closes the channel (X-MSS-MES: FIN on the mail to the patient).
    """

    to: tuple[str, ...]
    patient: str  # key of a synthetic patient
    doc_types: tuple[str, ...] = ("CR-BIO",)
    to_patient: bool = False
    end_of_exchange: bool = False
    read_receipt: bool = False


@dataclass(frozen=True)
class PatientMessage:
    """The user opens the record of synthetic patient `patient` and writes to them from there (SC.MSS/UX.32).

    The product finds the patient's Mon Espace Santé address itself (from the qualified INS of the record): the
    harness gives no address. `end_of_exchange`: the user closes the channel (X-MSS-MES: FIN).
    """

    patient: str
    subject: str
    body: str
    end_of_exchange: bool = False


@dataclass(frozen=True)
class MailboxAutoconfiguration:
    """The user types only the mailbox address: the product finds hosts, ports and security by itself."""

    address: str


@dataclass(frozen=True)
class SessionKeeping:
    """Keep the connected mailbox's session open for `seconds`, polling every `poll_interval` seconds, so the
    harness can drop it, close it or revoke tokens meanwhile. `new_connection`: open a fresh session first
    (faults armed on the operator apply to connections opened after them)."""

    seconds: float
    poll_interval: float = 0.5
    new_connection: bool = False


@dataclass(frozen=True)
class TraceExport:
    """Functional traces since an ISO 8601 instant (all of them when empty)."""

    since: str = ""


@dataclass(frozen=True)
class DirectorySearch:
    """A multi-criteria search in the MSSanté directory (empty criteria are not used)."""

    name: str = ""
    rpps: str = ""
    profession: str = ""
    specialty: str = ""
    place: str = ""


@dataclass(frozen=True)
class MessageReply:
    """Reply to a received mail, identified by its Message-ID."""

    message_id: str
    body: str


@dataclass(frozen=True)
class MessageDeletion:
    """Delete a mail of the mailbox, identified by its Message-ID."""

    message_id: str


@dataclass(frozen=True)
class ManualImport:
    """The user imports by hand a document left for manual handling (`item` from `integrated_documents`) into
    the record of local patient `patient`, using the XDM envelope's metadata."""

    item: str
    patient: str


@dataclass(frozen=True)
class LocalPatient:
    """A synthetic patient the product must know (create it, or find it, with exactly this identity).

    `patient` is the harness's key of the synthetic patient; the other fields are its INS and the traits the
    product must hold (dates ISO 8601, `birth_county` the INSEE code of the birthplace), so a product that does
    not know the harness's keys can create the patient from them (instruction to a person, or an API call).
    """

    patient: str
    ins: str | None
    ins_oid: str
    family_birth: str
    given_birth: str
    given_all: str
    birth_date: str
    gender: str
    birth_county: str | None
    ipp: str = ""

    @classmethod
    def of(cls, patient: Any) -> LocalPatient:
        """From a `segur_mss.documents.patients.Patient`."""
        return cls(patient=patient.key, ins=patient.ins, ins_oid=patient.ins_oid, family_birth=patient.family_birth,
                   given_birth=patient.given_birth, given_all=patient.given_all,
                   birth_date=patient.birth_date.isoformat(), gender=patient.gender,
                   birth_county=patient.birth_county, ipp=patient.ipp)


@dataclass(frozen=True)
class ProducerInstruction:
    """What a producing software (DPI, RIS, SGL) asks a PFI to send, as its HL7v2 message would say it.

    `process`: `initial`, `replacement` (of the document the producer called `document_ref` before) or
    `deletion`. `to_patient`: OBX DESTMSSANTEPAT = Y; `end_of_exchange`: its NTE says FIN (X-MSS-MES: FIN).
    `hl7v2`: the raw message (MDM/ORU, segments separated by CR or LF); when given, it wins over the fields.
    """

    patient: str = ""
    doc_type: str = "CR-BIO"
    destinations: tuple[str, ...] = ()
    to_patient: bool = False
    end_of_exchange: bool = False
    process: str = "initial"
    document_ref: str = ""
    hl7v2: str = ""


@dataclass(frozen=True)
class EvidenceRequest:
    """An attested proof a scenario needs from the person who drives the product.

    `key` names the request within the scenario (answers prepared ahead of time are looked up by it),
    `instruction` says in French what to show, `kinds` the accepted proof kinds (screenshot, video, export),
    `statement` the sentence the person attests (empty: a free statement is asked).
    """

    key: str
    instruction: str
    kinds: tuple[str, ...] = ("screenshot",)
    statement: str = ""


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


def require_attestation(candidate: CandidateAdapter, request: EvidenceRequest) -> ActionResult:
    """Obtain an attested proof, or stop the scenario as `awaiting_evidence` when nobody can give it now.

    Only adapters that declare `Action.ATTEST` (the manual one, or a command/HTTP endpoint that produces
    exports) can give it; the proofs are stored and hashed in the scenario's evidence by the adapter.
    """
    from segur_mss.verdicts import AwaitingEvidence

    if Action.ATTEST not in candidate.capabilities():
        raise AwaitingEvidence(
            f"preuve attestée à fournir : {request.instruction} (à produire lors d'une session manuelle : "
            "--candidate manual)"
        )
    return candidate.attest(request)  # type: ignore[attr-defined]
