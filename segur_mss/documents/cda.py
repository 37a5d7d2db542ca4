"""Synthetic CDA R2 documents (N1: PDF or text in ``nonXMLBody``; minimal N3 for routing tests).

Output is deterministic: ids are derived from the inputs (and an optional ``uid_seed``), so the same
call gives the same bytes.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import uuid
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from .doctypes import COMMON_TEMPLATE_IDS, DocumentType, get_document_type
from .patients import DEFAULT_AUTHOR, ORGANIZATION_OID, RPPS_OID, Patient, Professional

HL7_NS = "urn:hl7-org:v3"
#: Namespace for the deterministic UUIDs of this package.
UID_NAMESPACE = uuid.UUID("6f1c3a52-7b8e-4c1d-9a2f-5e6d7c8b9a01")
DEFAULT_EFFECTIVE_TIME = datetime.datetime(
    2025, 1, 15, 10, 30, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=1))
)


def uid_oid(*parts: object) -> str:
    """A deterministic OID under ``2.25`` (UUID-derived OID, ITU-T X.667) from ``parts``."""
    return f"2.25.{uuid.uuid5(UID_NAMESPACE, '|'.join(str(p) for p in parts)).int}"


def uid_uuid(*parts: object) -> str:
    """A deterministic ``urn:uuid:`` from ``parts``."""
    return f"urn:uuid:{uuid.uuid5(UID_NAMESPACE, '|'.join(str(p) for p in parts))}"


@dataclass(frozen=True)
class CdaDocument:
    """A built CDA document and the header values tests and builders need."""

    xml: bytes
    id_root: str
    id_extension: str | None
    set_id: str
    version: int
    code: str
    display_name: str
    level: str
    patient_key: str = ""
    doc_type: str = ""
    title: str = ""
    effective_time: str = ""
    media_type: str = "application/pdf"
    replaces_id: str | None = None
    code_system: str = "2.16.840.1.113883.6.1"

    @property
    def unique_id(self) -> str:
        """XDS ``uniqueId`` form of the document id (``root`` or ``root^extension``)."""
        return f"{self.id_root}^{self.id_extension}" if self.id_extension else self.id_root

    @property
    def sha1(self) -> str:
        return hashlib.sha1(self.xml).hexdigest()

    @property
    def size(self) -> int:
        return len(self.xml)


def _pdf_escape(text: str) -> str:
    out = []
    for ch in text:
        if ch in "()\\":
            out.append("\\" + ch)
        elif ord(ch) < 32:
            out.append(" ")
        elif ord(ch) < 128:
            out.append(ch)
        else:
            try:
                out.append(f"\\{ch.encode('cp1252')[0]:03o}")
            except UnicodeEncodeError:
                out.append("?")
    return "".join(out)


def make_pdf(text: str) -> bytes:
    """A tiny valid one-page PDF showing ``text`` (one line per ``\\n``), no external library."""
    lines = text.splitlines() or [""]
    ops = ["BT", "/F1 12 Tf", "14 TL", "72 770 Td"]
    for line in lines:
        ops.append(f"({_pdf_escape(line)}) Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n".encode()
    out += b"0000000000 65535 f \n"
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def hl7_ts(value: datetime.datetime | datetime.date) -> str:
    """HL7 TS: ``YYYYMMDDHHMMSS+ZZZZ`` (or ``YYYYMMDD`` for a date)."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            return value.strftime("%Y%m%d%H%M%S")
        return value.strftime("%Y%m%d%H%M%S%z")
    return value.strftime("%Y%m%d")


def _a(value: str) -> str:
    return quoteattr(value)


def _t(value: str) -> str:
    return escape(value)


def _street_parts(line: str) -> str:
    """``12 rue des Essais`` -> houseNumber + streetName (the CI-SIS address structure)."""
    number, _, street = line.partition(" ")
    if number.isdigit() and street:
        return f"<houseNumber>{_t(number)}</houseNumber><streetName>{_t(street)}</streetName>"
    return f"<streetName>{_t(line)}</streetName>"


def _patient_role(p: Patient) -> str:
    ids = []
    if p.ins:
        ids.append(f"<id root={_a(p.ins_oid)} extension={_a(p.ins)}/>")
    if p.ipp:
        ids.append(f"<id root={_a(p.ipp_oid)} extension={_a(p.ipp)}/>")
    addr_lines = "".join(_street_parts(line) for line in p.address_lines)
    telecom = f'<telecom value="mailto:{p.patient_address}"/>' if p.patient_address else ""
    name = [f'<family qualifier="BR">{_t(p.family_birth)}</family>']
    if p.given_all:
        name.append(f"<given>{_t(p.given_all)}</given>")
    if p.given_birth:
        name.append(f'<given qualifier="BR">{_t(p.given_birth)}</given>')
    if p.family_used:
        name.append(f'<family qualifier="CL">{_t(p.family_used)}</family>')
    if p.given_used:
        name.append(f'<given qualifier="CL">{_t(p.given_used)}</given>')
    gender_display = {"M": "Masculin", "F": "Féminin"}.get(p.gender, "Inconnu")
    birthplace = ""
    if p.birth_county:
        city = f"<city>{_t(p.birth_city)}</city>" if p.birth_city else ""
        county = f"<county>{_t(p.birth_county)}</county>"
        birthplace = f"<birthplace><place><addr>{county}{city}</addr></place></birthplace>"
    return (
        "<recordTarget><patientRole>"
        + "".join(ids)
        + f"<addr>{addr_lines}<postalCode>{_t(p.postal_code)}</postalCode><city>{_t(p.city)}</city>"
        "<country>FRANCE</country></addr>"
        + telecom
        + '<patient classCode="PSN"><name>'
        + "".join(name)
        + "</name>"
        + f"<administrativeGenderCode code={_a(p.gender)} displayName={_a(gender_display)} "
        'codeSystem="2.16.840.1.113883.5.1"/>'
        + f'<birthTime value="{hl7_ts(p.birth_date)}"/>'
        + birthplace
        + "</patient></patientRole></recordTarget>"
    )


def _org(a: Professional, tag: str, with_setting: bool = False) -> str:
    setting = ""
    if with_setting:
        setting = (
            f"<standardIndustryClassCode code={_a(a.practice_setting_code)} "
            f'displayName={_a(a.practice_setting_display)} codeSystem="1.2.250.1.213.1.1.4.9"/>'
        )
    return (
        f"<{tag}><id root={_a(ORGANIZATION_OID)} extension={_a(a.organization_id)}/>"
        f'<name>{_t(a.organization_name)}</name><telecom value={_a(a.phone)} use="WP"/>'
        f"<addr><houseNumber>{_t(a.house_number)}</houseNumber><streetName>{_t(a.street_name)}</streetName>"
        f"<postalCode>{_t(a.postal_code)}</postalCode>"
        f"<city>{_t(a.city)}</city></addr>{setting}</{tag}>"
    )


def _person(a: Professional, tag: str) -> str:
    return (
        f"<{tag}><name><prefix>{_t(a.prefix)}</prefix><given>{_t(a.given)}</given>"
        f"<family>{_t(a.family)}</family>" + (f"<suffix>{_t(a.title)}</suffix>" if a.title else "") + f"</name></{tag}>"
    )


def _assigned(a: Professional, tag: str, org_tag: str = "representedOrganization") -> str:
    return (
        f"<{tag}><id root={_a(RPPS_OID)} extension={_a(a.idnps)}/>"
        f"<code code={_a(a.profession_code)} displayName={_a(a.profession_display)} "
        f"codeSystem={_a(a.profession_system)}/>"
        f"<addr><houseNumber>{_t(a.house_number)}</houseNumber><streetName>{_t(a.street_name)}</streetName>"
        f"<postalCode>{_t(a.postal_code)}</postalCode>"
        f'<city>{_t(a.city)}</city></addr><telecom value={_a(a.phone)} use="WP"/>'
        + _person(a, "assignedPerson")
        + _org(a, org_tag, with_setting=True)
        + f"</{tag}>"
    )


def make_cda(
    patient: Patient,
    *,
    doc_type: str | DocumentType = "CR-BIO",
    author: Professional = DEFAULT_AUTHOR,
    replaces: CdaDocument | None = None,
    effective_time: datetime.datetime | None = None,
    pdf: bytes | None = None,
    text: str | None = None,
    level: str = "N1",
    title: str | None = None,
    confidentiality: str = "N",
    uid_seed: str = "",
) -> CdaDocument:
    """Build a synthetic CDA document for ``patient``.

    ``level="N1"`` (default): the body is ``nonXMLBody`` with a base64 PDF (``pdf``, or one made from
    ``text``).
    ``level="N3"``: the volet templateIds and a one-section ``structuredBody`` (enough for routing and header
    checks; not a volet-conformant document).
    ``replaces``: the new document keeps ``set_id``, gets ``version + 1`` and a ``relatedDocument`` RPLC whose
    ``parentDocument/id`` is the replaced document's id.
    """
    if level not in ("N1", "N3"):
        raise ValueError(f"level must be 'N1' or 'N3', got {level!r}")
    dt = get_document_type(doc_type)
    eff = effective_time or DEFAULT_EFFECTIVE_TIME
    eff_ts = hl7_ts(eff)
    doc_title = title or dt.title or dt.display_name
    body_text = text or (
        f"{doc_title}\nPatient : {patient.family_birth} {patient.given_birth}\n"
        f"Document de test synthétique - ne pas utiliser pour des soins."
    )
    pdf_bytes = pdf if pdf is not None else make_pdf(body_text)

    if replaces is not None:
        set_id = replaces.set_id
        version = replaces.version + 1
    else:
        set_id = uid_oid("set", patient.key, dt.key, level, eff_ts, uid_seed)
        version = 1
    id_root = uid_oid(
        "doc",
        set_id,
        version,
        patient.key,
        dt.key,
        level,
        eff_ts,
        uid_seed,
        hashlib.sha1(pdf_bytes).hexdigest(),
        author.idnps,
        doc_title,
    )

    template_ids = "".join(f"<templateId root={_a(t)}/>" for t in dt.template_ids(level))
    related = ""
    replaces_id = None
    if replaces is not None:
        ext = f" extension={_a(replaces.id_extension)}" if replaces.id_extension else ""
        related = (
            '<relatedDocument typeCode="RPLC"><parentDocument>'
            f"<id root={_a(replaces.id_root)}{ext}/>"
            "</parentDocument></relatedDocument>"
        )
        replaces_id = replaces.unique_id

    if level == "N1":
        body = (
            '<component><nonXMLBody><text mediaType="application/pdf" representation="B64">'
            + base64.b64encode(pdf_bytes).decode("ascii")
            + "</text></nonXMLBody></component>"
        )
    else:
        paragraphs = "".join(f"<paragraph>{_t(line)}</paragraph>" for line in body_text.splitlines())
        body = (
            "<component><structuredBody><component><section>"
            f'<code code="{dt.code}" codeSystem="{dt.code_system}" displayName={_a(dt.display_name)}/>'
            f"<title>{_t(doc_title)}</title><text>{paragraphs}</text>"
            "</section></component></structuredBody></component>"
        )

    conf_display = {"N": "Normal", "R": "Restreint", "V": "Très restreint"}.get(confidentiality, confidentiality)
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<ClinicalDocument xmlns="{HL7_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        '<realmCode code="FR"/>'
        '<typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>'
        + template_ids
        + f"<id root={_a(id_root)}/>"
        + f"<code code={_a(dt.code)} displayName={_a(dt.display_name)} codeSystem={_a(dt.code_system)}"
        + (' codeSystemName="LOINC"' if dt.code_system == "2.16.840.1.113883.6.1" else "")
        + "/>"
        + f"<title>{_t(doc_title)}</title>"
        + f'<effectiveTime value="{eff_ts}"/>'
        + f"<confidentialityCode code={_a(confidentiality)} displayName={_a(conf_display)} "
        'codeSystem="2.16.840.1.113883.5.25"/>'
        + '<languageCode code="fr-FR"/>'
        + f"<setId root={_a(set_id)}/>"
        + f'<versionNumber value="{version}"/>'
        + _patient_role(patient)
        + f'<author><time value="{eff_ts}"/>'
        + _assigned(author, "assignedAuthor")
        + "</author>"
        + "<custodian><assignedCustodian>"
        + _org(author, "representedCustodianOrganization")
        + "</assignedCustodian></custodian>"
        + f'<legalAuthenticator><time value="{eff_ts}"/><signatureCode code="S"/>'
        + _assigned(author, "assignedEntity")
        + "</legalAuthenticator>"
        + "<documentationOf><serviceEvent>"
        + f"<code code={_a(dt.code)} displayName={_a(dt.display_name)} codeSystem={_a(dt.code_system)}/>"
        + f'<effectiveTime><low value="{eff_ts}"/><high value="{eff_ts}"/></effectiveTime>'
        + '<performer typeCode="PRF">'
        + _assigned(author, "assignedEntity")
        + "</performer></serviceEvent></documentationOf>"
        + related
        + "<componentOf><encompassingEncounter>"
        + '<code code="AMB" displayName="Ambulatoire (hors établissement)" '
        + 'codeSystem="2.16.840.1.113883.5.4"/>'
        + f'<effectiveTime><low value="{eff_ts}"/></effectiveTime>'
        + "<location><healthCareFacility>"
        + f"<code code={_a(author.facility_code)} displayName={_a(author.facility_display)} "
        'codeSystem="1.2.250.1.71.4.2.4"/>'
        + "</healthCareFacility></location>"
        + "</encompassingEncounter></componentOf>"
        + body
        + "</ClinicalDocument>\n"
    )
    return CdaDocument(
        xml=xml.encode("utf-8"),
        id_root=id_root,
        id_extension=None,
        set_id=set_id,
        version=version,
        code=dt.code,
        display_name=dt.display_name,
        level=level,
        patient_key=patient.key,
        doc_type=dt.key,
        title=doc_title,
        effective_time=eff_ts,
        media_type="application/pdf" if level == "N1" else "text/xml",
        replaces_id=replaces_id,
        code_system=dt.code_system,
    )


__all__ = [
    "COMMON_TEMPLATE_IDS",
    "DEFAULT_EFFECTIVE_TIME",
    "CdaDocument",
    "hl7_ts",
    "make_cda",
    "make_pdf",
    "uid_oid",
    "uid_uuid",
]
