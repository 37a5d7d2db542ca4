"""Synthetic IHE_XDM archives (ITI-32 "Distribute Document Set on Media"), deterministic bytes."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Mapping, Sequence
from xml.sax.saxutils import escape, quoteattr

from .cda import CdaDocument, uid_oid, uid_uuid
from .doctypes import DOCUMENT_TYPES, TYPES_BY_CODE, DocumentType
from .patients import DEFAULT_AUTHOR, Patient, Professional

RIM_NS = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
LCM_NS = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"

# ebRIM / XDS identifiers (IHE ITI TF-3).
STABLE_DOCUMENT_OBJECT_TYPE = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"
SUBMISSION_SET_NODE = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"
SS_AUTHOR = "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d"
SS_CONTENT_TYPE = "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500"
SS_PATIENT_ID = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446"
SS_SOURCE_ID = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832"
SS_UNIQUE_ID = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8"
DE_AUTHOR = "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d"
DE_CLASS_CODE = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a"
DE_CONFIDENTIALITY = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f"
DE_EVENT_CODE = "urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4"
DE_FORMAT_CODE = "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d"
DE_FACILITY_TYPE = "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1"
DE_PRACTICE_SETTING = "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead"
DE_TYPE_CODE = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983"
DE_PATIENT_ID = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"
DE_UNIQUE_ID = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"
ASSOC_HAS_MEMBER = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
ASSOC_RPLC = "urn:ihe:iti:2007:AssociationType:RPLC"
REGISTRY_PACKAGE_TYPE = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:RegistryPackage"
STATUS_APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"

SUBSET_DIR = "IHE_XDM/SUBSET01"
METADATA_PATH = f"{SUBSET_DIR}/METADATA.XML"
#: Fixed timestamp of the zip entries, so the archive bytes are reproducible.
ZIP_DATE_TIME = (2025, 1, 15, 10, 30, 0)


def entry_uuid(unique_id: str) -> str:
    """The DocumentEntry ``entryUUID`` this package derives from a document ``uniqueId``."""
    return uid_uuid("entry", unique_id)


def doc_file_name(index: int) -> str:
    """``DOC0001.XML`` for index 1."""
    return f"DOC{index:04d}.XML"


def _sub(object_id: str, role: str) -> str:
    """Deterministic UUID of a sub-object (classification, identifier, association) of ``object_id``."""
    return uid_uuid(object_id, role)


def _a(v: str) -> str:
    return quoteattr(v)


def _slot(name: str, *values: str) -> str:
    vals = "".join(f"<rim:Value>{escape(v)}</rim:Value>" for v in values)
    return f"<rim:Slot name={_a(name)}><rim:ValueList>{vals}</rim:ValueList></rim:Slot>"


def _name(value: str) -> str:
    return f'<rim:Name><rim:LocalizedString xml:lang="fr-FR" charset="UTF-8" value={_a(value)}/></rim:Name>'


def _classification(cid: str, scheme: str, obj: str, code: str, coding_scheme: str, display: str) -> str:
    return (
        f"<rim:Classification id={_a(cid)} classificationScheme={_a(scheme)} classifiedObject={_a(obj)} "
        f"nodeRepresentation={_a(code)}>"
        + _slot("codingScheme", coding_scheme)
        + _name(display)
        + "</rim:Classification>"
    )


def _external_id(eid: str, scheme: str, obj: str, value: str, name: str) -> str:
    return (
        f"<rim:ExternalIdentifier id={_a(eid)} identificationScheme={_a(scheme)} registryObject={_a(obj)} "
        f"value={_a(value)}>" + _name(name) + "</rim:ExternalIdentifier>"
    )


def _author_classification(cid: str, scheme: str, obj: str, author: Professional) -> str:
    return (
        f"<rim:Classification id={_a(cid)} classificationScheme={_a(scheme)} classifiedObject={_a(obj)} "
        'nodeRepresentation="">'
        + _slot("authorInstitution", author.xon)
        + _slot("authorPerson", author.xcn)
        + _slot(
            "authorSpecialty",
            f"{author.profession_code}^{author.profession_display}^{author.profession_system}",
        )
        + "</rim:Classification>"
    )


def _doc_type_for(doc: CdaDocument) -> DocumentType | None:
    return DOCUMENT_TYPES.get(doc.doc_type) or TYPES_BY_CODE.get(doc.code)


def _source_patient_info(patient: Patient) -> list[str]:
    return [
        f"PID-5|{patient.family_birth}^{patient.given_birth}^^^^^L",
        f"PID-7|{patient.birth_date.strftime('%Y%m%d')}",
        f"PID-8|{patient.gender}",
    ]


def build_metadata(
    documents: Sequence[CdaDocument],
    patient: Patient,
    *,
    author: Professional = DEFAULT_AUTHOR,
    replaces: Mapping[str, str] | None = None,
    uid_seed: str = "",
    submission_time: str | None = None,
) -> bytes:
    """``METADATA.XML`` (ebRIM 3.0 ``SubmitObjectsRequest``) for ``documents``.

    ``replaces`` maps a document's ``unique_id`` to the replaced document's ``unique_id``; a document whose
    CDA carries ``relatedDocument`` RPLC (``CdaDocument.replaces_id``) is mapped automatically.
    """
    rplc: dict[str, str] = {d.unique_id: d.replaces_id for d in documents if d.replaces_id}
    rplc.update(replaces or {})
    ss_id = uid_uuid("submission-set", uid_seed, *(d.unique_id for d in documents))
    ss_unique = uid_oid("submission-set", uid_seed, *(d.unique_id for d in documents))
    sub_time = submission_time or (documents[0].effective_time[:14] if documents else "20250115103000")
    parts: list[str] = []
    # Submission set
    parts.append(
        f"<rim:RegistryPackage id={_a(ss_id)} objectType={_a(REGISTRY_PACKAGE_TYPE)} "
        f'status="{STATUS_APPROVED}">'
        + _slot("submissionTime", sub_time)
        + _name("Envoi de documents de test")
        + _author_classification(_sub(ss_id, "author"), SS_AUTHOR, ss_id, author)
        + _classification(
            _sub(ss_id, "contentType"),
            SS_CONTENT_TYPE,
            ss_id,
            author.facility_code,
            "1.2.250.1.71.4.2.4",
            author.facility_display,
        )
        + _external_id(_sub(ss_id, "uniqueId"), SS_UNIQUE_ID, ss_id, ss_unique, "XDSSubmissionSet.uniqueId")
        + _external_id(
            _sub(ss_id, "sourceId"),
            SS_SOURCE_ID,
            ss_id,
            f"1.2.250.1.71.4.2.2.{author.organization_id}",
            "XDSSubmissionSet.sourceId",
        )
        + _external_id(
            _sub(ss_id, "patientId"),
            SS_PATIENT_ID,
            ss_id,
            patient.patient_id_cx,
            "XDSSubmissionSet.patientId",
        )
        + "</rim:RegistryPackage>"
    )
    parts.append(
        f'<rim:Classification id="{_sub(ss_id, "node")}" classifiedObject={_a(ss_id)} '
        f'classificationNode="{SUBMISSION_SET_NODE}"/>'
    )
    # Document entries
    for index, doc in enumerate(documents, start=1):
        eid = entry_uuid(doc.unique_id)
        dt = _doc_type_for(doc)
        class_code, class_display = (dt.class_code, dt.class_display) if dt else ("10", "Compte rendu")
        fmt, fmt_scheme = (
            dt.format_code(doc.level, doc.media_type)
            if dt
            else ("urn:ihe:iti:xds-sd:pdf:2008", "1.3.6.1.4.1.19376.1.2.3")
        )
        parts.append(
            f'<rim:ExtrinsicObject id={_a(eid)} mimeType="text/xml" '
            f'objectType="{STABLE_DOCUMENT_OBJECT_TYPE}" '
            f'status="{STATUS_APPROVED}">'
            + _slot("creationTime", doc.effective_time[:14])
            + _slot("hash", doc.sha1)
            + _slot("size", str(doc.size))
            + _slot("URI", doc_file_name(index))
            + _slot("languageCode", "fr-FR")
            + _slot("legalAuthenticator", author.xcn)
            + _slot("serviceStartTime", doc.effective_time[:14])
            + _slot("serviceStopTime", doc.effective_time[:14])
            + _slot("sourcePatientId", patient.source_patient_id_cx)
            + _slot("sourcePatientInfo", *_source_patient_info(patient))
            + _name(doc.title or doc.display_name)
            + _author_classification(_sub(eid, "author"), DE_AUTHOR, eid, author)
            + _classification(
                _sub(eid, "class"), DE_CLASS_CODE, eid, class_code, "1.2.250.1.213.1.1.4.1", class_display
            )
            + _classification(_sub(eid, "conf"), DE_CONFIDENTIALITY, eid, "N", "2.16.840.1.113883.5.25", "Normal")
            + _classification(_sub(eid, "format"), DE_FORMAT_CODE, eid, fmt, fmt_scheme, fmt)
            + _classification(
                _sub(eid, "facility"),
                DE_FACILITY_TYPE,
                eid,
                author.facility_code,
                "1.2.250.1.71.4.2.4",
                author.facility_display,
            )
            + _classification(
                _sub(eid, "practice"),
                DE_PRACTICE_SETTING,
                eid,
                author.practice_setting_code,
                "1.2.250.1.213.1.1.4.9",
                author.practice_setting_display,
            )
            + _classification(_sub(eid, "type"), DE_TYPE_CODE, eid, doc.code, doc.code_system, doc.display_name)
            + _external_id(
                _sub(eid, "patientId"),
                DE_PATIENT_ID,
                eid,
                patient.patient_id_cx,
                "XDSDocumentEntry.patientId",
            )
            + _external_id(_sub(eid, "uniqueId"), DE_UNIQUE_ID, eid, doc.unique_id, "XDSDocumentEntry.uniqueId")
            + "</rim:ExtrinsicObject>"
        )
        parts.append(
            f'<rim:Association id="{_sub(eid, "member")}" associationType="{ASSOC_HAS_MEMBER}" '
            f"sourceObject={_a(ss_id)} "
            f"targetObject={_a(eid)}>" + _slot("SubmissionSetStatus", "Original") + "</rim:Association>"
        )
        if doc.unique_id in rplc:
            parts.append(
                f'<rim:Association id="{_sub(eid, "rplc")}" associationType="{ASSOC_RPLC}" '
                f"sourceObject={_a(eid)} "
                f"targetObject={_a(entry_uuid(rplc[doc.unique_id]))}/>"
            )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<lcm:SubmitObjectsRequest xmlns:lcm="{LCM_NS}" xmlns:rim="{RIM_NS}">'
        "<rim:RegistryObjectList>" + "".join(parts) + "</rim:RegistryObjectList></lcm:SubmitObjectsRequest>\n"
    )
    return xml.encode("utf-8")


def readme_text(documents: Sequence[CdaDocument], author: Professional = DEFAULT_AUTHOR) -> str:
    files = "\n".join(f"                {doc_file_name(i)}" for i in range(1, len(documents) + 1))
    return (
        "Emetteur :\n=============\n"
        f"    . Nom : {author.title} {author.family} {author.given}\n"
        f"    . Organisme : {author.organization_name} ({author.organization_id})\n"
        f"    . Adresse : {author.street} {author.postal_code} {author.city}\n\n"
        "Application de l'emetteur :\n=========================\n"
        "    . Nom : segur-mss (documents de test synthetiques)\n"
        "    . Version : 1.0\n    . Editeur : segur-mss\n\n"
        "Instructions :\n=============\n"
        ". Consultez les fichiers recus par messagerie securisee de sante dans votre logiciel de "
        "professionnel de sante.\n\n"
        "Arborescence :\n============\n     README.TXT\n     INDEX.HTM\n"
        "     + IHE_XDM\n           +SUBSET01\n"
        f"                METADATA.XML\n{files}\n"
    )


def index_html(documents: Sequence[CdaDocument], author: Professional = DEFAULT_AUTHOR) -> str:
    links = "".join(
        f'<li><a href="{SUBSET_DIR}/{doc_file_name(i)}">{escape(d.title or d.display_name)}</a></li>'
        for i, d in enumerate(documents, start=1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n'
        '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>IHE_XDM</title></head><body>'
        f"<p>Emetteur : {escape(author.organization_name)} ({escape(author.organization_id)})</p>"
        f'<ul>{links}</ul><p>Voir le fichier <a href="README.TXT">README</a></p></body></html>\n'
    )


def _zip(entries: Sequence[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return buf.getvalue()


def build_xdm_entries(
    documents: Sequence[CdaDocument],
    patient: Patient,
    *,
    author: Professional = DEFAULT_AUTHOR,
    replaces: Mapping[str, str] | None = None,
    uid_seed: str = "",
) -> list[tuple[str, bytes]]:
    """The (path, bytes) entries of the archive in order (tamper, then zip with :func:`zip_entries`)."""
    entries: list[tuple[str, bytes]] = [
        ("README.TXT", readme_text(documents, author).encode("utf-8")),
        ("INDEX.HTM", index_html(documents, author).encode("utf-8")),
        (
            METADATA_PATH,
            build_metadata(documents, patient, author=author, replaces=replaces, uid_seed=uid_seed),
        ),
    ]
    for i, doc in enumerate(documents, start=1):
        entries.append((f"{SUBSET_DIR}/{doc_file_name(i)}", doc.xml))
    return entries


def zip_entries(entries: Sequence[tuple[str, bytes]]) -> bytes:
    """Deterministic zip of ``entries`` (fixed timestamps, deflate)."""
    return _zip(entries)


def build_xdm(
    documents: Sequence[CdaDocument],
    patient: Patient,
    *,
    author: Professional = DEFAULT_AUTHOR,
    replaces: Mapping[str, str] | None = None,
    uid_seed: str = "",
) -> bytes:
    """``IHE_XDM.zip`` bytes: README.TXT, INDEX.HTM, IHE_XDM/SUBSET01/METADATA.XML and DOC0001.XML…"""
    return _zip(build_xdm_entries(documents, patient, author=author, replaces=replaces, uid_seed=uid_seed))


def sha1_hex(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


__all__ = [
    "ASSOC_RPLC",
    "METADATA_PATH",
    "build_metadata",
    "build_xdm",
    "build_xdm_entries",
    "doc_file_name",
    "entry_uuid",
    "zip_entries",
]
