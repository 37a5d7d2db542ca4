"""Validators: structured findings on CDA (built-in MSSanté rules and the official ANS kit), IHE_XDM archives,
MSSanté mails, integration MDN (RFC 8098 + ANS codes) and DSN (RFC 3464).

Every validator returns a :class:`ValidationReport` (findings with rule id, severity, location, French message,
requirement ID when one applies) carrying its version string.
"""

from .cda import PatientIdentity, check_replacement, document_codes, extract_identity, validate_cda
from .dsn import parse_dsn, validate_dsn
from .kit import CdaKit, KitError, get_kit
from .mail import header_values, inspect_mail, validate_mail
from .mdn import build_integration_mdn, parse_mdn, should_send_mdn, validate_mdn
from .model import Finding, ValidationReport
from .xdm import XdmLimits, inspect_xdm, validate_xdm

__all__ = [
    "CdaKit",
    "Finding",
    "KitError",
    "PatientIdentity",
    "ValidationReport",
    "XdmLimits",
    "build_integration_mdn",
    "check_replacement",
    "document_codes",
    "extract_identity",
    "get_kit",
    "header_values",
    "inspect_mail",
    "inspect_xdm",
    "parse_dsn",
    "parse_mdn",
    "should_send_mdn",
    "validate_cda",
    "validate_dsn",
    "validate_mail",
    "validate_mdn",
    "validate_xdm",
]
