"""Synthetic documents for the harness: patients, CDA R2 (N1/N3) and IHE_XDM archives.

Synthetic identities only (test INS OID ``1.2.250.1.213.1.4.10``). Builders are deterministic.
"""

from .cda import CdaDocument, make_cda, make_pdf
from .doctypes import DOCUMENT_TYPES, DocumentType, get_document_type
from .patients import DEFAULT_AUTHOR, INS_NIR_TEST_OID, PATIENTS, Patient, Professional, get_patient
from .xdm import build_xdm, build_xdm_entries, zip_entries

__all__ = [
    "DEFAULT_AUTHOR",
    "DOCUMENT_TYPES",
    "INS_NIR_TEST_OID",
    "PATIENTS",
    "CdaDocument",
    "DocumentType",
    "Patient",
    "Professional",
    "build_xdm",
    "build_xdm_entries",
    "get_document_type",
    "get_patient",
    "make_cda",
    "make_pdf",
    "zip_entries",
]
