"""SASL for the IMAP side of the API LPS, on pysasl/pymap.

- `OAuthBearerMechanism`: RFC 7628 OAUTHBEARER as a pysasl server mechanism (pysasl ships XOAUTH2 only); the
  message itself is parsed by `segur_mss.operator.sasl`, shared with the SMTP server.
- `SaslIrAuthenticateCommand`: pymap's AUTHENTICATE parser with the RFC 4959 initial response (SASL-IR), which
  curl and most LPS send.
- `verify_client_certificate`: SASL EXTERNAL for applicative (APP) mailboxes, from the TLS client certificate.
- `GrantedCredentials`: credentials already verified by the connection, handed to pymap's login.
"""

from __future__ import annotations

import binascii
import re
from base64 import b64decode
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import ExtendedKeyUsageOID
from pymap.parsing import EndLine, Params, Space
from pymap.parsing.command.nonauth import AuthenticateCommand
from pymap.parsing.primitives import Atom
from pysasl.creds.external import ExternalCredentials
from pysasl.creds.server import ServerCredentials
from pysasl.exception import InvalidResponse
from pysasl.identity import Identity
from pysasl.mechanism import ChallengeResponse, ServerChallenge, ServerMechanism
from pysasl.mechanism.external import ExternalMechanism
from pysasl.mechanism.oauth import OAuth2Mechanism

from segur_mss.operator.clock import Clock
from segur_mss.operator.identities import Mailbox, Population
from segur_mss.operator.pki import TestPki
from segur_mss.operator.sasl import SaslError, parse_oauthbearer

BEARER_MECHANISMS = (b"XOAUTH2", b"OAUTHBEARER")
_INITIAL_RESPONSE = re.compile(rb" ([^\r\n ]+)(?=\r?\n)")


class OAuthBearerMechanism(ServerMechanism):
    """RFC 7628 OAUTHBEARER, server side: `n,a=<authzid>,^A[host=..^A][port=..^A]auth=Bearer <token>^A^A`."""

    def __init__(self, name: str | bytes = b"OAUTHBEARER") -> None:
        super().__init__(name)

    def server_attempt(self, responses: Sequence[ChallengeResponse]) -> tuple[ExternalCredentials, None]:
        if not responses:
            raise ServerChallenge(b"")  # RFC 7628 §3.1: the client's first message follows an empty challenge
        try:
            creds = parse_oauthbearer(responses[0].response)
        except (SaslError, UnicodeDecodeError) as exc:
            raise InvalidResponse() from exc
        return ExternalCredentials(creds.user, creds.token), None


def api_lps_mechanisms() -> list[ServerMechanism]:
    """The mechanisms the API LPS offers once TLS is up (no PLAIN, no LOGIN)."""
    return [OAuth2Mechanism(), OAuthBearerMechanism(), ExternalMechanism()]


class SaslIrAuthenticateCommand(AuthenticateCommand):
    """`tag AUTHENTICATE mechanism [SP initial-response]` (RFC 3501 + RFC 4959; `=` is an empty response)."""

    def __init__(self, tag: bytes, mech_name: bytes, initial_response: bytes | None = None) -> None:
        super().__init__(tag, mech_name)
        self.initial_response = initial_response

    @classmethod
    def parse(cls, buf: memoryview, params: Params) -> tuple[SaslIrAuthenticateCommand, memoryview]:
        _, buf = Space.parse(buf, params)
        atom, after = Atom.parse(buf, params)
        initial: bytes | None = None
        match = _INITIAL_RESPONSE.match(after)
        if match:
            initial = bytes(match.group(1))
            after = after[match.end() :]
        _, after = EndLine.parse(after, params)
        return cls(params.tag, atom.value.upper(), initial), after


def decode_sasl_response(data: bytes) -> bytes:
    """Base64 of a SASL response line (`=` alone is the empty response); raises ValueError when invalid."""
    data = data.strip()
    if data == b"=":
        return b""
    try:
        return b64decode(data, validate=True)
    except binascii.Error as exc:
        raise ValueError("base64 invalide") from exc


class GrantedCredentials(ServerCredentials):
    """Credentials the connection has already verified (bearer token or certificate) for one mailbox."""

    __slots__ = ["detail", "mailbox", "mechanism"]

    def __init__(self, mailbox: Mailbox, mechanism: str, detail: object) -> None:
        super().__init__()
        self.mailbox = mailbox
        self.mechanism = mechanism
        self.detail = detail

    @property
    def authcid(self) -> str:
        return self.mailbox.address

    @property
    def authzid(self) -> str:
        return self.mailbox.address

    def verify(self, identity: Identity | None) -> bool:
        return True

    def __repr__(self) -> str:
        return f"GrantedCredentials({self.mailbox.address}, {self.mechanism})"


@dataclass(frozen=True)
class CertificateOutcome:
    """The verdict on a SASL EXTERNAL attempt."""

    success: bool
    subject: str | None = None
    issuer: str | None = None
    address: str | None = None
    mailbox: Mailbox | None = None
    reason: str | None = None  # stable code
    message: str | None = None  # French explanation


def _email_san(cert: x509.Certificate) -> str | None:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    emails = san.get_values_for_type(x509.RFC822Name)
    return emails[0].lower() if emails else None


def verify_client_certificate(
    der: bytes | None, authzid: str, *, pki: TestPki, population: Population, clock: Clock
) -> CertificateOutcome:
    """EXTERNAL: the TLS client certificate (already chained to the test root by the TLS layer) must be issued by
    the IGC-Santé test ORG CA, valid at the operator's time, for client authentication, with the e-mail SAN of an
    APP mailbox; the optional authorization identity must name that mailbox."""
    if not der:
        return CertificateOutcome(False, reason="no_certificate", message="aucun certificat client présenté en TLS")
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return CertificateOutcome(False, reason="bad_certificate", message="certificat client illisible")
    subject, issuer = cert.subject.rfc4514_string(), cert.issuer.rfc4514_string()

    def refuse(reason: str, message: str, address: str | None = None) -> CertificateOutcome:
        return CertificateOutcome(False, subject, issuer, address, reason=reason, message=message)

    org_ca = pki.org_ca.certificate
    try:
        cert.verify_directly_issued_by(org_ca)
    except (InvalidSignature, ValueError, TypeError):
        return refuse("wrong_issuer", "certificat non émis par l'AC IGC-Santé ORGANISATIONS de test")
    now = datetime.fromtimestamp(clock.time(), tz=UTC)
    if not (cert.not_valid_before_utc <= now <= cert.not_valid_after_utc):
        return refuse("certificate_expired", "certificat client hors de sa période de validité")
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        eku = None
    if eku is not None and ExtendedKeyUsageOID.CLIENT_AUTH not in eku:
        return refuse("wrong_usage", "certificat non destiné à l'authentification client")
    address = _email_san(cert)
    if not address:
        return refuse("no_mailbox", "le certificat ne porte pas d'adresse de BAL (SAN e-mail)")
    if authzid and authzid.strip().lower() != address:
        return refuse("authzid_mismatch", f"identité demandée {authzid!r} différente de celle du certificat", address)
    mailbox = population.mailbox(address)
    if mailbox is None:
        return refuse("unknown_mailbox", "BAL du certificat inconnue", address)
    if mailbox.type != "APP":
        return refuse("wrong_method", "seules les BAL applicatives s'ouvrent par certificat", address)
    return CertificateOutcome(True, subject, issuer, address, mailbox)
