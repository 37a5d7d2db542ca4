"""Received mail: recognising MSSanté document mail (SC.MSS/UX.01) and reading the documents it carries.

ANS guide "Transmission au LPS de documents CDA provenant d'un courriel MSSanté": a document mail is one with an
`IHE_XDM.zip` attachment or a subject starting with `XDM/1.0/DDM`. Reports (MDN, DSN: `multipart/report`) are
neither, whatever the message they quote carries. The documents are read from the archive safely (the XDM
validator's extraction limits) with what integration needs: the patient identity of the CDA and the XDM
`patientId`, the versioning (`setId`, `versionNumber`, `relatedDocument` RPLC) and the author.

The decisions (does the identity match a local patient, may this version replace that one) are the candidate's
rules (`ReferenceCandidate.integration_problem`); the ANS codes 900–906 name their outcomes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.message import EmailMessage

from lxml import etree

from segur_mss.documents.patients import PATIENTS, Patient
from segur_mss.validators.cda import PatientIdentity, document_codes, extract_identity
from segur_mss.validators.mdn import ANS_ERROR_CODES
from segur_mss.validators.xdm import inspect_xdm, parse_cx

DOCUMENT = "document"
ORDINARY = "courriel"
REPORT = "accuse"
DDM_PREFIX = "XDM/1.0/DDM"
XDM_NAME = "ihe_xdm.zip"
HL7 = "{urn:hl7-org:v3}"

#: ANS integration error codes, named.
WRONG_VERSION, AUTHOR_NOT_ALLOWED, UNKNOWN_PATIENT, NO_INS, INS_MISMATCH, INCOMPLETE_INS, OTHER = range(900, 907)


@dataclass(frozen=True)
class IntegrationProblem:
    """Why a document is not integrated automatically: an ANS code (900–906) and a French explanation."""

    code: int
    detail: str

    @property
    def label(self) -> str:
        return ANS_ERROR_CODES[self.code]


@dataclass(frozen=True)
class ReceivedDocument:
    """A CDA document read from a received IHE_XDM archive."""

    cda: bytes
    identity: PatientIdentity
    document_id: str
    set_id: str
    version: int
    replaces: tuple[str, ...]
    code: str
    title: str
    author: str
    organisation: str
    xdm_patient_id: str | None


def top_level_attachments(msg: EmailMessage) -> list[str]:
    """File names of the mail's own attachments (not those of a quoted message)."""
    if not msg.is_multipart():
        return []
    return [(part.get_filename() or "") for part in msg.iter_attachments()]


def has_xdm_attachment(msg: EmailMessage) -> bool:
    return any(name.lower() == XDM_NAME for name in top_level_attachments(msg))


def has_ddm_subject(msg: EmailMessage) -> bool:
    return str(msg.get("Subject", "")).strip().startswith(DDM_PREFIX)


def is_report(msg: EmailMessage) -> bool:
    return msg.get_content_type() == "multipart/report"


def xdm_archive(msg: EmailMessage) -> bytes | None:
    """The bytes of the mail's IHE_XDM.zip attachment."""
    if not msg.is_multipart():
        return None
    for part in msg.iter_attachments():
        if (part.get_filename() or "").lower() == XDM_NAME:
            data = part.get_payload(decode=True)
            return data if isinstance(data, bytes) else None
    return None


def read_documents(archive: bytes | None) -> tuple[list[ReceivedDocument], str]:
    """The CDA documents of an IHE_XDM archive, or a French reason why none can be read."""
    if not archive:
        return [], "pas d'archive IHE_XDM.zip dans le courriel"
    inspection = inspect_xdm(archive, run_cda=False)
    fatal = [f for f in inspection.report.findings if f.rule_id.startswith("XDM-ZIP") and f.severity == "error"]
    if fatal:
        return [], f"archive IHE_XDM illisible : {fatal[0].message}"
    documents = []
    for entry in inspection.documents:
        if not entry.data:
            continue
        codes = document_codes(entry.data)
        if codes is None:
            continue
        author, organisation, title = _author_and_title(entry.data)
        try:
            version = int(codes.version or 0)
        except ValueError:
            version = 0
        documents.append(
            ReceivedDocument(
                cda=entry.data,
                identity=extract_identity(entry.data),
                document_id=codes.id or "",
                set_id=codes.set_id or "",
                version=version,
                replaces=tuple(codes.replaces),
                code=codes.code or "",
                title=title,
                author=author,
                organisation=organisation,
                xdm_patient_id=entry.patient_id,
            )
        )
    if not documents:
        return [], "aucun document CDA lisible dans l'archive IHE_XDM"
    return documents, ""


def _author_and_title(cda: bytes) -> tuple[str, str, str]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(cda, parser)
    except etree.XMLSyntaxError:
        return "", "", ""
    author = root.find(f"{HL7}author/{HL7}assignedAuthor/{HL7}id")
    org = root.find(f"{HL7}author/{HL7}assignedAuthor/{HL7}representedOrganization/{HL7}id")
    title = root.findtext(f"{HL7}title") or ""
    return (
        (author.get("extension") or "") if author is not None else "",
        (org.get("extension") or "") if org is not None else "",
        title.strip(),
    )


def xdm_patient_ins(document: ReceivedDocument) -> str | None:
    """The INS of the XDM entry's `patientId` (None when it is absent or not an INS)."""
    parsed = parse_cx(document.xdm_patient_id)
    if parsed is None or parsed[2] != "NH":
        return None
    return parsed[0]


class LocalPatients:
    """The product's patient identities (here: the harness's synthetic patients, with their traits)."""

    def __init__(self, keys: tuple[str, ...] = ()) -> None:
        self.patients = {k: p for k, p in PATIENTS.items() if not keys or k in keys}

    def by_ins(self, ins: str) -> Patient | None:
        return next((p for p in self.patients.values() if p.ins and p.ins == ins), None)

    def get(self, key: str) -> Patient | None:
        return self.patients.get(key)

    def add(self, patient: Patient) -> bool:
        """Create the patient, or update its identity; True when something changed."""
        changed = self.patients.get(patient.key) != patient
        self.patients[patient.key] = patient
        return changed


def traits_of(patient: Patient) -> dict[str, str | None]:
    """A local patient's INS traits, in the shape `PatientIdentity` gives them."""
    return {
        "ins": patient.ins,
        "ins_oid": patient.ins_oid,
        "family_birth": patient.family_birth,
        "given_birth": patient.given_birth,
        "given_all": patient.given_all,
        "birth_time": patient.birth_date.strftime("%Y%m%d") if isinstance(patient.birth_date, dt.date) else None,
        "gender": patient.gender,
        "birth_county": patient.birth_county,
    }


def identity_differences(patient: Patient, identity: PatientIdentity) -> list[str]:
    """The traits on which the document's identity differs from the local patient's (exact comparison)."""
    local = traits_of(patient)
    received = {
        "ins": identity.ins,
        "ins_oid": identity.ins_oid,
        "family_birth": identity.family_birth,
        "given_birth": identity.given_birth,
        "given_all": identity.given_all,
        "birth_time": (identity.birth_time or "")[:8] or None,
        "gender": identity.gender,
        "birth_county": identity.birth_county,
    }
    return [name for name, value in local.items() if (value or "").strip().upper() !=
            (received[name] or "").strip().upper()]
