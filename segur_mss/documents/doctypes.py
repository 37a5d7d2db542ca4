"""A few CI-SIS document types as data (codes from the JDV_J07 XDS typeCode value set).

Facts from ``shared/domain/CDA_XDM.md``. ``format_code_n3`` values marked ``None`` were not confirmed from a
public source; N1 documents always use the IHE XDS-SD PDF format code.
"""

from __future__ import annotations

from dataclasses import dataclass

LOINC = "2.16.840.1.113883.6.1"
#: Every CI-SIS document carries these two templateIds.
COMMON_TEMPLATE_IDS: tuple[str, ...] = ("2.16.840.1.113883.2.8.2.1", "1.2.250.1.213.1.1.1.1")
#: The N1 (unstructured, PDF/plain-text body) conformance templateId.
N1_TEMPLATE_ID = "1.3.6.1.4.1.19376.1.2.20"
N1_TEMPLATE_IDS: tuple[str, ...] = (*COMMON_TEMPLATE_IDS, N1_TEMPLATE_ID)

FORMAT_CODE_N1_PDF = "urn:ihe:iti:xds-sd:pdf:2008"
FORMAT_CODE_N1_TEXT = "urn:ihe:iti:xds-sd:text:2008"
FORMAT_CODE_SCHEME_IHE = "1.3.6.1.4.1.19376.1.2.3"
FORMAT_CODE_SCHEME_ASIP = "1.2.250.1.213.1.1.4.2.282"
CLASS_CODE_SCHEME = "1.2.250.1.213.1.1.4.1"


@dataclass(frozen=True)
class DocumentType:
    """One CI-SIS document type."""

    key: str
    code: str
    display_name: str
    volet_template_ids: tuple[str, ...]
    format_code_n3: str | None
    code_system: str = LOINC
    class_code: str = "10"
    class_display: str = "Compte rendu"
    title: str = ""
    #: Other type codes the volet accepts (e.g. IPS-FR carrying a DLU, as in the ANS example).
    other_codes: tuple[str, ...] = ()

    @property
    def accepted_codes(self) -> tuple[str, ...]:
        return (self.code, *self.other_codes)

    @property
    def n3_template_ids(self) -> tuple[str, ...]:
        return (*COMMON_TEMPLATE_IDS, *self.volet_template_ids)

    def template_ids(self, level: str) -> tuple[str, ...]:
        return N1_TEMPLATE_IDS if level == "N1" else self.n3_template_ids

    def format_code(self, level: str, media_type: str = "application/pdf") -> tuple[str, str]:
        """(formatCode, codingScheme) for the XDM DocumentEntry."""
        if level == "N1":
            code = FORMAT_CODE_N1_TEXT if media_type == "text/plain" else FORMAT_CODE_N1_PDF
            return code, FORMAT_CODE_SCHEME_IHE
        if self.format_code_n3 is None:
            return FORMAT_CODE_N1_PDF, FORMAT_CODE_SCHEME_IHE
        scheme = FORMAT_CODE_SCHEME_IHE if self.format_code_n3.startswith("urn:ihe") else FORMAT_CODE_SCHEME_ASIP
        return self.format_code_n3, scheme


DOCUMENT_TYPES: dict[str, DocumentType] = {
    d.key: d
    for d in (
        DocumentType(
            "CR-BIO",
            "11502-2",
            "CR d'examens biologiques",
            ("1.3.6.1.4.1.19376.1.3.3", "1.2.250.1.213.1.1.1.55"),
            "urn:ihe:lab:xd-lab:2008",
            title="Compte rendu d'examens biologiques",
        ),
        DocumentType(
            "LDL-SES",
            "11490-0",
            "Lettre de liaison à la sortie d'un établissement de soins",
            ("1.2.250.1.213.1.1.1.29",),
            "urn:asip:ci-sis:ldl-ses:2017",
            class_code="11",
            class_display="Synthèse",
            title="Lettre de liaison à la sortie",
        ),
        DocumentType(
            "LDL-EES",
            "18761-7",
            "Note de transfert (dont lettre de liaison à l'entrée en établissement de soins)",
            ("1.2.250.1.213.1.1.1.21",),
            "urn:asip:ci-sis:ldl-ees:2017",
            class_code="11",
            class_display="Synthèse",
            title="Lettre de liaison à l'entrée",
        ),
        DocumentType(
            "CR-IMG",
            "18748-4",
            "CR d'imagerie médicale",
            ("1.2.840.10008.9.1", "1.2.250.1.213.1.1.1.45"),
            None,
            title="Compte rendu d'imagerie médicale",
        ),
        DocumentType(
            "DA-IMG",
            "55115-0",
            "Demande d'actes d'imagerie",
            ("1.2.840.10008.9.20", "1.2.250.1.213.1.1.1.47"),
            None,
            class_code="05",
            class_display="Demande",
            title="Demande d'actes d'imagerie",
        ),
        DocumentType(
            "IPS-FR",
            "60591-5",
            "Synthèse médicale",
            ("2.16.840.1.113883.10.22.1.1", "1.2.250.1.213.1.1.1.51"),
            None,
            class_code="11",
            class_display="Synthèse",
            title="Synthèse médicale (IPS-FR)",
            other_codes=("74207-2",),
        ),
        DocumentType(
            "BIO-TROD",
            "96173-0",
            "Test rapide d'orientation diagnostique",
            ("1.2.250.1.213.1.1.1.59",),
            None,
            title="Test rapide d'orientation diagnostique",
        ),
    )
}

#: Volet templateId -> document type (used to check the code against the volet).
TYPES_BY_TEMPLATE_ID: dict[str, DocumentType] = {
    tid: d for d in DOCUMENT_TYPES.values() for tid in d.volet_template_ids if tid.startswith("1.2.250.")
}
TYPES_BY_CODE: dict[str, DocumentType] = {d.code: d for d in DOCUMENT_TYPES.values()}


def get_document_type(doc_type: str | DocumentType) -> DocumentType:
    if isinstance(doc_type, DocumentType):
        return doc_type
    try:
        return DOCUMENT_TYPES[doc_type]
    except KeyError:
        raise KeyError(f"unknown document type {doc_type!r}; known: {sorted(DOCUMENT_TYPES)}") from None
