"""The harness as the candidate's correspondent: crafted mail delivered into its mailbox, and the reading of what
the candidate did with it (its reception listing, its notifications, the MDNs and mails it sent back).

The receiving scenarios (SC.MSS/UX.01, 05, 07, 11, 25, 28, 31, 38, 39, 40) deliver mail through the reference
operator (`ReferenceOperator.deliver`, as another operator would relay it: `Return-Path` set by the delivering
MTA) from a correspondent mailbox of the operator, so the candidate's answers (MDNs) reach a real mailbox and are
captured on submission. Every crafted mail has its own Message-ID and document ids (a real product keeps its
state from one scenario to the next), a unique content marker in its body and subject (the traces audit checks
that no trace carries them), and the ANS integration code it must provoke (guide « Transmission au LPS de
documents CDA provenant d'un courriel MSSanté »):

- 900 wrong version: a replacement whose version is not higher than the integrated one, or the replacement of a
  document the candidate never received;
- 901 unauthorised author: a replacement signed by a professional of another organisation;
- 902 unknown patient: a qualified INS (complete traits) that no product knows — never announced to the candidate;
- 903 no INS in the document; 904 the INS of a known patient with one trait that differs (birth date);
- 905 an INS without its mandatory traits (birthplace); 906 an IHE_XDM.zip that cannot be read.

The candidate's reception listing (`Action.INTEGRATED_DOCUMENTS`) is read in this documented shape (JSON):

    {"documents": [{"ref", "patient", "ins", "document_id", "set_id", "version", "status": "courant|precedent",
                    "mode": "automatique|manuel", "message_id", "code", "title"}],
     "attente_manuelle": [{"ref", "message_id", "code", "document_id", "status"}],
     "courriels": [{"message_id", "kind": "document|courriel|accuse"}]}

and its notifications (`Action.USER_NOTIFICATIONS`) as `{"notifications": [{"kind", "text", "patient",
"document"}]}` (`document` = the `ref` of the document concerned).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import itertools
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from functools import cached_property
from typing import Any

from lxml import etree

from segur_mss.documents.cda import CdaDocument, make_cda
from segur_mss.documents.mail import build_document_mail, build_plain_mail, ddm_subject, set_folded_header
from segur_mss.documents.patients import Patient, Professional, get_patient, make_ins
from segur_mss.operator.identities import Mailbox, Population
from segur_mss.operator.recording import Submission
from segur_mss.validators.mail import header_values, parse_message
from segur_mss.validators.mdn import ANS_ERROR_CODES, KO_SUBJECT_RE, parse_mdn, validate_mdn
from segur_mss.validators.model import Finding, ValidationReport

CORRESPONDENT_ROLE = "correspondant"
HL7 = "{urn:hl7-org:v3}"

#: A patient no product knows: complete INS traits, never announced to the candidate (error 902).
UNKNOWN_PATIENT = Patient(
    key="inconnu", family_birth="INCONNU-TEST", given_birth="NOE", given_all="NOE PIERRE",
    birth_date=dt.date(1978, 12, 2), gender="M", birth_county="33063", birth_city="BORDEAUX",
    ins=make_ins("1781233063421"), ipp="IPP0000099",
)

#: What each ANS integration code needs from the crafted mail (French, for the evidence and the feature text).
CODE_CAUSES: dict[int, str] = {
    900: "remplacement d'un document jamais reçu par le candidat (version incorrecte)",
    901: "remplacement signé par un professionnel d'une autre structure que l'auteur",
    902: "INS qualifiée d'un patient inconnu du candidat",
    903: "document sans INS",
    904: "INS d'un patient connu avec une date de naissance différente",
    905: "INS sans ses traits obligatoires (lieu de naissance absent)",
    906: "archive IHE_XDM.zip illisible",
}


def normalise_id(message_id: str | None) -> str:
    return (message_id or "").strip().strip("<>").lower()


@dataclass
class CraftedMail:
    """A mail the harness delivers into the candidate's mailbox."""

    label: str  # French description, for the evidence
    message: EmailMessage
    patient: Patient | None = None
    documents: tuple[CdaDocument, ...] = ()
    expected_code: int | None = None  # ANS code the candidate must answer with (None: integrable, or no document)
    #: content that must never appear in the candidate's traces (body marker, subject, attachment bytes)
    content: tuple[tuple[str, str], ...] = ()

    @property
    def message_id(self) -> str:
        return str(self.message.get("Message-ID", "")).strip()

    @cached_property
    def raw(self) -> bytes:
        return self.message.as_bytes(policy=policy.SMTP)

    @property
    def receipt_to(self) -> str:
        """The address of Disposition-Notification-To ('' when no MDN is asked)."""
        values = header_values(self.message, "Disposition-Notification-To")
        return _address(values[0]) if values else ""

    @property
    def return_path(self) -> str:
        values = header_values(self.message, "Return-Path")
        return _address(values[0]) if values else ""

    @property
    def subject(self) -> str:
        return (header_values(self.message, "Subject") or [""])[0]

    def describe(self) -> str:
        receipt = (f", accusé demandé à {self.receipt_to}" if self.receipt_to else ", sans demande d'accusé")
        return f"{self.label} ({self.message_id}{receipt})"


def _address(value: str) -> str:
    from email.utils import parseaddr

    return parseaddr(value)[1].lower()


def professional_of(population: Population, box: Mailbox, organisation: str) -> Professional:
    """The operator's professional owning `box`, as the author of the documents the harness sends."""
    pro = population.professionals.get(box.owner or "")
    family = pro.family.upper() if pro else "CORRESPONDANT"
    given = pro.given if pro else "Test"
    return Professional(
        idnps=f"8{box.owner or '00000000000'}", family=family, given=given, mailbox=box.address,
        organization_id=organisation, organization_name=f"Cabinet {family} (test)",
    )


class Correspondent:
    """Crafts mail from a correspondent of the candidate and delivers it into the candidate's mailbox."""

    def __init__(self, population: Population, mailbox: str, *, seed: str | None = None) -> None:
        self.population = population
        self.mailbox = mailbox  # the candidate's mailbox
        boxes = list(population.mailboxes.values())
        peers = [b for b in boxes if b.role == CORRESPONDENT_ROLE and b.address != mailbox]
        if len(peers) < 2:
            raise ValueError("l'opérateur doit avoir deux BAL de correspondants (rôle « correspondant »)")
        self.address = peers[0].address
        self.other_address = peers[1].address
        self.author = professional_of(population, peers[0], "1999000101")
        self.other_author = professional_of(population, peers[1], "1999000202")  # another organisation
        self.seed = seed or uuid.uuid4().hex[:10]
        self._numbers = itertools.count(1)
        self.delivered: list[CraftedMail] = []

    # -- identities ------------------------------------------------------------------------------------------
    @staticmethod
    def mismatching(patient: Patient) -> Patient:
        """The same INS with one trait that differs (birth date one day later): not the same person (904)."""
        return dataclasses.replace(patient, birth_date=patient.birth_date + dt.timedelta(days=1))

    # -- crafting ----------------------------------------------------------------------------------------------
    def document_mail(
        self,
        patient: Patient | str,
        doc_type: str = "CR-BIO",
        *,
        receipt: bool = False,
        receipt_elsewhere: bool = False,
        ordinary_subject: bool = False,
        documents: Sequence[CdaDocument] | None = None,
        author: Professional | None = None,
        xdm: bytes | None = None,
        expected_code: int | None = None,
        label: str = "",
    ) -> CraftedMail:
        """A document mail (IHE_XDM.zip, `XDM/1.0/DDM+` subject unless `ordinary_subject`) about `patient`."""
        patient = get_patient(patient) if isinstance(patient, str) else patient
        author = author or self.author
        number = next(self._numbers)
        docs = list(documents) if documents is not None else [
            make_cda(patient, doc_type=doc_type, author=author, uid_seed=f"{self.seed}-{number}")]
        marker = self._marker(number)
        msg = build_document_mail(
            docs, patient, sender=author.mailbox, sender_name=author.display_name, to=[self.mailbox], author=author,
            body=f"Bonjour,\n\nVeuillez trouver ci-joint le document de {patient.family_birth} {patient.given_birth}."
                 f"\n\n{marker}\n\nBien confraternellement,\n{author.display_name}\n",
            message_id=self._message_id(number), xdm=xdm, date=dt.datetime.now().astimezone(),
        )
        if ordinary_subject:
            set_folded_header(msg, "Subject", "Compte rendu pour votre patient")
        self._envelope(msg, author.mailbox, receipt=receipt or receipt_elsewhere, elsewhere=receipt_elsewhere)
        attachment = next(p for p in msg.iter_attachments() if p.get_filename() == "IHE_XDM.zip")
        archive = attachment.get_payload(decode=True)
        content = [("corps du courriel", marker), ("objet du courriel", str(msg["Subject"]))]
        if isinstance(archive, bytes) and archive:
            content.append(("pièce jointe IHE_XDM.zip (base64)", base64.b64encode(archive).decode()[:60]))
        for doc in docs:
            content.append(("document CDA (corps base64)", _cda_body_chunk(doc.xml)))
        what = label or (f"courriel du correspondant portant le document {doc_type} du patient {patient.key}"
                         + (" (objet ordinaire)" if ordinary_subject else ""))
        return CraftedMail(what, msg, patient, tuple(docs), expected_code, tuple(c for c in content if c[1]))

    def failing_mail(self, code: int, known: Patient | str, *, receipt: bool = True,
                     receipt_elsewhere: bool = False) -> CraftedMail:
        """One mail that provokes ANS integration error `code` (902–906, and 900) at a candidate knowing `known`."""
        known = get_patient(known) if isinstance(known, str) else known
        cause = CODE_CAUSES.get(code, "")
        label = f"courriel provoquant l'erreur {code} ({cause})"
        common = {"receipt": receipt, "receipt_elsewhere": receipt_elsewhere, "expected_code": code, "label": label}
        if code == 900:
            never = make_cda(known, author=self.author, uid_seed=f"{self.seed}-jamais-recu-{next(self._numbers)}")
            orphan = make_cda(known, author=self.author, replaces=never, uid_seed=f"{self.seed}-orphelin")
            return self.document_mail(known, documents=[orphan], **common)  # type: ignore[arg-type]
        if code == 902:
            return self.document_mail(UNKNOWN_PATIENT, **common)  # type: ignore[arg-type]
        if code == 903:
            return self.document_mail(get_patient("sans_ins"), **common)  # type: ignore[arg-type]
        if code == 904:
            return self.document_mail(self.mismatching(known), **common)  # type: ignore[arg-type]
        if code == 905:
            return self.document_mail(dataclasses.replace(get_patient("traits_incomplets")), **common)  # type: ignore[arg-type]
        if code == 906:
            broken = b"PK\x03\x04" + b"archive IHE_XDM tronquee " * 8
            return self.document_mail(known, xdm=broken, **common)  # type: ignore[arg-type]
        raise ValueError(f"code {code} : prévu avec un document déjà intégré (voir replacement_mail)")

    def replacement_mail(self, previous: CraftedMail, *, same_version: bool = False, other_author: bool = False,
                         receipt: bool = False) -> CraftedMail:
        """The replacement of `previous`'s document: same setId, version + 1, RPLC (UX.05), or a defective one:
        `same_version` (900) or signed by a professional of another organisation (901)."""
        assert previous.patient is not None and previous.documents, "le courriel précédent ne portait pas de document"
        first = previous.documents[0]
        author = self.other_author if other_author else self.author
        number = next(self._numbers)
        document = make_cda(previous.patient, doc_type=first.doc_type or "CR-BIO", author=author, replaces=first,
                            uid_seed=f"{self.seed}-{number}-remplacement",
                            text=f"{first.title}\nVersion corrigée ({number}).")
        code: int | None = None
        if same_version:
            document = with_version(document, first.version)
            code = 900
        elif other_author:
            code = 901
        label = (f"remplacement du document {first.doc_type} (version {document.version}, RPLC vers la version "
                 f"{first.version})" + (" signé par un auteur d'une autre structure" if other_author else ""))
        return self.document_mail(previous.patient, first.doc_type or "CR-BIO", documents=[document], author=author,
                                  receipt=receipt, expected_code=code, label=label)

    def ddm_subject_mail(self, subject: str = "") -> CraftedMail:
        """A mail whose subject starts with `XDM/1.0/DDM` (given, or built for the patient `qualifie`) and that
        carries no archive."""
        number = next(self._numbers)
        marker = self._marker(number)
        subject = subject or ddm_subject("Compte rendu", get_patient("qualifie"))
        if not subject.startswith("XDM/1.0/DDM"):
            raise ValueError(f"l'objet doit commencer par XDM/1.0/DDM : {subject!r}")
        msg = build_plain_mail(sender=self.address, sender_name=self.author.display_name, to=[self.mailbox],
                               subject=subject,
                               body=f"Bonjour,\n\nLe compte rendu suit par un autre envoi.\n\n{marker}\n",
                               message_id=self._message_id(number), date=dt.datetime.now().astimezone())
        self._envelope(msg, self.address)
        return CraftedMail(f"courriel d'objet « {subject} » sans archive", msg,
                           content=(("corps du courriel", marker),))

    def ordinary_mail(self, *, sender: str | None = None, sender_name: str | None = None,
                      subject: str = "Question sur un patient", mark_subject: bool = False) -> CraftedMail:
        """An ordinary mail (no archive, ordinary subject; `mark_subject`: the content marker in the subject too,
        for the traces audit)."""
        number = next(self._numbers)
        marker = self._marker(number)
        sender = sender or self.address
        subject = f"{subject} {marker}" if mark_subject else subject
        msg = build_plain_mail(sender=sender, sender_name=sender_name or self.author.display_name, to=[self.mailbox],
                               subject=subject,
                               body=f"Bonjour,\n\nPouvez-vous me rappeler au sujet de notre patient ?\n\n{marker}\n",
                               message_id=self._message_id(number), date=dt.datetime.now().astimezone())
        self._envelope(msg, sender)
        content = [("corps du courriel", marker)] + ([("objet du courriel", subject)] if mark_subject else [])
        return CraftedMail(f"courriel ordinaire de {sender}", msg, content=tuple(content))

    def patient_mail(self, patient: Patient | str) -> CraftedMail:
        """A mail from the patient's Mon Espace Santé address (`<INS>@patient.mssante.fr`)."""
        patient = get_patient(patient) if isinstance(patient, str) else patient
        address = f"{patient.ins}@{self.population.patient_domain}".lower()
        mail = self.ordinary_mail(sender=address, sender_name=f"{patient.given_birth.title()} "
                                  f"{patient.family_birth}", subject="Question sur mon compte rendu")
        mail.label = f"courriel du patient {patient.key} depuis Mon espace santé ({address})"
        mail.patient = patient
        return mail

    # -- delivering ----------------------------------------------------------------------------------------------
    def deliver(self, operator: Any, mail: CraftedMail) -> CraftedMail:
        """Into the candidate's INBOX, byte for byte, as the correspondent's operator would relay it."""
        operator.deliver(self.mailbox, mail.raw)
        self.delivered.append(mail)
        return mail

    def last_document_mail(self) -> CraftedMail | None:
        return next((m for m in reversed(self.delivered) if m.documents), None)

    # -- internals -----------------------------------------------------------------------------------------------
    def _message_id(self, number: int) -> str:
        return f"<{self.seed}-{number:03d}@correspondant.segur-mss.test>"

    def _marker(self, number: int) -> str:
        return f"[contenu-harnais {self.seed}-{number:03d}]"

    def _envelope(self, msg: EmailMessage, sender: str, *, receipt: bool = False, elsewhere: bool = False) -> None:
        del msg["Return-Path"]
        del msg["Disposition-Notification-To"]
        msg["Return-Path"] = f"<{sender}>"  # set by the delivering MTA
        if receipt:
            msg["Disposition-Notification-To"] = self.other_address if elsewhere else sender


def with_version(document: CdaDocument, version: int) -> CdaDocument:
    """The same CDA with another `versionNumber` (a defective replacement: 900)."""
    root = etree.fromstring(document.xml, etree.XMLParser(resolve_entities=False, no_network=True))
    node = root.find(f"{HL7}versionNumber")
    assert node is not None
    node.set("value", str(version))
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return dataclasses.replace(document, xml=xml, version=version)


def _cda_body_chunk(xml: bytes) -> str:
    """60 characters of the CDA's base64 body (what a trace would carry if it copied the document)."""
    start = xml.find(b'representation="B64">')
    if start < 0:
        return ""
    start += len(b'representation="B64">')
    return xml[start:start + 60].decode("ascii", "replace")


# -- what the candidate sent back ---------------------------------------------------------------------------------
def referenced_ids(msg: Message) -> set[str]:
    """Message-IDs a mail refers to: In-Reply-To, References, and for a report its Original-Message-ID and the
    quoted original's Message-ID."""
    ids: set[str] = set()
    for name in ("In-Reply-To", "References"):
        for value in header_values(msg, name):
            ids.update(normalise_id(token) for token in value.split())
    if msg.get_content_type() == "multipart/report":
        info = parse_mdn(msg)
        if info.original_message_id:
            ids.add(normalise_id(info.original_message_id))
        for part in msg.walk():
            if part.get_content_type() == "message/rfc822":
                payload = part.get_payload()
                inner = payload[0] if isinstance(payload, list) and payload else None
                if isinstance(inner, Message):
                    ids.update(normalise_id(v) for v in header_values(inner, "Message-ID"))
    ids.discard("")
    return ids


def answers_to(mail: CraftedMail, submissions: Iterable[Submission]) -> list[Submission]:
    """What the candidate submitted about `mail`: mail that refers to it, or that is addressed to its
    Disposition-Notification-To or Return-Path and refers to no other message."""
    wanted = normalise_id(mail.message_id)
    addresses = {a for a in (mail.receipt_to, mail.return_path) if a}
    found = []
    for submission in submissions:
        msg = parse_message(submission.raw)
        refs = referenced_ids(msg)
        if wanted in refs or (not refs and addresses & {r.lower() for r in submission.rcpt_tos}):
            found.append(submission)
    return found


def judge_mdn(raw: bytes, original: CraftedMail, expected_code: int | None, processing_mailbox: str) -> (
    ValidationReport
):
    """The MDN validator's checks, plus what the scenario knows: Final-Recipient is the mailbox that processed the
    mail, and a KO subject repeats the original subject."""
    report = validate_mdn(raw, original=original.raw, expected_error=expected_code,
                          subject=f"accusé du candidat pour {original.message_id}")
    info = parse_mdn(raw)
    if info.final_recipient and info.final_recipient.strip().lower() != processing_mailbox.lower():
        report.findings.append(Finding(
            "MDN-R01", "error", "part:3", "Final-Recipient doit désigner la BAL qui a traité le courriel.",
            expected=f"rfc822;{processing_mailbox}", observed=info.final_recipient))
    match = KO_SUBJECT_RE.match(info.subject or "")
    if match and " ".join(match["rest"].split()) != " ".join(original.subject.split()):
        report.findings.append(Finding(
            "MDN-R02", "warning", "header:Subject", "L'objet d'un accusé en erreur reprend l'objet original.",
            expected=original.subject, observed=match["rest"]))
    report.extra["expected_code"] = expected_code
    report.extra["expected_label"] = ANS_ERROR_CODES.get(expected_code or 0, "succès (processed)")
    return report


# -- the candidate's reception listing and notifications -------------------------------------------------------------
@dataclass
class ReceptionListing:
    """The candidate's documents, documents left for manual handling, and received mail (shape above)."""

    documents: list[dict[str, Any]] = field(default_factory=list)
    pending: list[dict[str, Any]] = field(default_factory=list)
    mail: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_data(cls, data: dict[str, Any] | None) -> ReceptionListing | None:
        """None when the adapter did not report a listing (a manual session: an attested proof is asked)."""
        if not isinstance(data, dict) or not isinstance(data.get("documents"), list):
            return None
        def rows(key: str) -> list[dict[str, Any]]:
            return [r for r in data.get(key) or [] if isinstance(r, dict)]
        return cls(rows("documents"), rows("attente_manuelle"), rows("courriels"))

    def mail_kind(self, message_id: str) -> str | None:
        wanted = normalise_id(message_id)
        for row in self.mail:
            if normalise_id(str(row.get("message_id", ""))) == wanted:
                return str(row.get("kind") or row.get("type") or "")
        return None

    def documents_from(self, message_id: str) -> list[dict[str, Any]]:
        wanted = normalise_id(message_id)
        return [d for d in self.documents if normalise_id(str(d.get("message_id", ""))) == wanted]

    def pending_from(self, message_id: str) -> list[dict[str, Any]]:
        wanted = normalise_id(message_id)
        return [p for p in self.pending if normalise_id(str(p.get("message_id", ""))) == wanted]

    def recognised(self, message_id: str) -> bool:
        """Treated as an MSSanté document mail: listed as such, or its documents integrated or set aside."""
        return (self.mail_kind(message_id) == "document" or bool(self.documents_from(message_id))
                or bool(self.pending_from(message_id)))

    def versions(self, set_id: str) -> list[dict[str, Any]]:
        return sorted((d for d in self.documents if str(d.get("set_id", "")) == set_id),
                      key=lambda d: int(d.get("version") or 0))

    def describe_versions(self, set_id: str) -> str:
        rows = self.versions(set_id)
        return ", ".join(f"version {d.get('version')} ({d.get('status', '?')})" for d in rows) or "aucune version"


def belongs_to(document: dict[str, Any], patient: Patient) -> bool:
    """A listed document is in `patient`'s record (by INS, or by the harness's key)."""
    ins = str(document.get("ins") or "")
    return (bool(patient.ins) and ins == patient.ins) or str(document.get("patient", "")) == patient.key


def notifications_about(data: dict[str, Any] | None, document: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The notifications shown to users about a listed document (None: the adapter reported none at all)."""
    if not isinstance(data, dict) or not isinstance(data.get("notifications"), list):
        return None
    ref = str(document.get("ref", ""))
    title = str(document.get("title", ""))
    found = []
    for note in data["notifications"]:
        if not isinstance(note, dict):
            continue
        if (ref and str(note.get("document", "")) == ref) or (title and title in str(note.get("text", ""))
                                                               and not note.get("document")):
            found.append(note)
    return found


__all__ = [
    "CODE_CAUSES",
    "UNKNOWN_PATIENT",
    "Correspondent",
    "CraftedMail",
    "ReceptionListing",
    "answers_to",
    "belongs_to",
    "judge_mdn",
    "notifications_about",
    "referenced_ids",
    "with_version",
]
