"""The candidate's TLS policy towards the operator (SC.MSS/CONF.01, CONF.03, CONF.22, CONF.27).

- TLS 1.2 at least (CONF.01); for TLS 1.2 only the suites of the configured list (CONF.03; default: ANSSI
  "Recommandations de sécurité relatives à TLS" v1.2, annex A.1: ECDHE/DHE key exchange, AEAD ciphers). TLS 1.3
  suites cannot be chosen from Python's `ssl`: OpenSSL's defaults are used, which are the three ANSSI recommends.
- Only the IGC-Santé test root is trusted (no system store), the server name is checked against the certificate,
  and OpenSSL refuses an expired certificate (CONF.27, CONF.22).
- An APP mailbox presents its IGC-Santé "Organisation" client certificate (CONF.27).
Revocation (CRL) is checked after the handshake by `revocation.py`, before any credential is sent.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509

#: ANSSI-recommended TLS 1.2 suites (OpenSSL names), in order of preference.
ANSSI_TLS12_CIPHERS: tuple[str, ...] = (
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-CCM",
    "ECDHE-ECDSA-AES128-CCM",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-RSA-CHACHA20-POLY1305",
    "DHE-RSA-AES256-GCM-SHA384",
    "DHE-RSA-AES128-GCM-SHA256",
    "DHE-RSA-AES256-CCM",
    "DHE-RSA-AES128-CCM",
    "DHE-RSA-CHACHA20-POLY1305",
)
#: TLS 1.3 suites in force (OpenSSL defaults; equal to the ANSSI recommendation).
TLS13_SUITES: tuple[str, ...] = ("TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256")
#: OpenSSL's X509_V_FLAG_NO_CHECK_TIME (only faulty candidates use it).
NO_CHECK_TIME = 0x200000


class TlsRefused(Exception):
    """The candidate refused the server's TLS parameters or certificate (a conformant refusal, not a crash).

    `code` is stable (`tls_version`, `tls_cipher`, `certificat_non_reconnu`, `certificat_expire`, `nom_incorrect`,
    `certificat_revoque`, `lcr_indisponible`, `tls`), the message is French.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ClientCertificate:
    """The IGC-Santé "Organisation" certificate of an applicative mailbox."""

    certificate: Path  # the certificate, or its chain (leaf first)
    key: Path

    def subject(self) -> str:
        """The certificate's subject (who the traces name as the author)."""
        try:
            return x509.load_pem_x509_certificate(self.certificate.read_bytes()).subject.rfc4514_string()
        except (OSError, ValueError):
            return str(self.certificate)


@dataclass(frozen=True)
class TlsPolicy:
    """What the candidate accepts from a server. Faulty candidates change exactly one field."""

    trust_anchor: Path
    minimum_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2
    tls12_ciphers: tuple[str, ...] = ANSSI_TLS12_CIPHERS
    verify_chain: bool = True
    check_hostname: bool = True
    check_expiry: bool = True
    security_level: int | None = None  # OpenSSL @SECLEVEL override (faulty candidates only)
    extra_flags: tuple[str, ...] = field(default=())

    def client_context(self, client_certificate: ClientCertificate | None = None) -> ssl.SSLContext:
        """The SSL context of one connection to the operator (IMAP, SMTP or HTTPS)."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        with warnings.catch_warnings():  # TLS 1.0/1.1 are deprecated in Python: only faulty policies ask for them
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = self.minimum_version
        ciphers = ":".join(self.tls12_ciphers)
        if self.security_level is not None:
            ciphers += f":@SECLEVEL={self.security_level}"
        ctx.set_ciphers(ciphers)
        ctx.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION
        ctx.load_verify_locations(cafile=str(self.trust_anchor))  # the IGC-Santé root only, never the system store
        ctx.check_hostname = self.check_hostname and self.verify_chain
        ctx.verify_mode = ssl.CERT_REQUIRED if self.verify_chain else ssl.CERT_NONE
        if not self.check_expiry:
            ctx.verify_flags |= NO_CHECK_TIME
        if client_certificate is not None:
            ctx.load_cert_chain(str(client_certificate.certificate), str(client_certificate.key))
        return ctx

    def check_peer(self, ssl_object: ssl.SSLObject | ssl.SSLSocket, hostname: str) -> None:
        """Checks OpenSSL did not make (a policy that does not verify the chain still checks name and dates)."""
        if self.verify_chain:
            return
        der = ssl_object.getpeercert(binary_form=True)
        if not der:
            raise TlsRefused("certificat_non_reconnu", "le serveur n'a présenté aucun certificat")
        cert = x509.load_der_x509_certificate(der)
        now = dt.datetime.now(dt.UTC)
        if self.check_expiry and not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise TlsRefused("certificat_expire", "certificat du serveur hors de sa période de validité")
        if self.check_hostname and not certificate_names_host(cert, hostname):
            raise TlsRefused("nom_incorrect", f"le certificat du serveur n'est pas émis pour {hostname}")

    def describe(self) -> dict[str, object]:
        """For the report: the policy in force."""
        return {
            "version_minimale": self.minimum_version.name,
            "suites_tls12": list(self.tls12_ciphers),
            "suites_tls13": list(TLS13_SUITES),
            "ancre_de_confiance": str(self.trust_anchor),
            "verification_nom": self.check_hostname,
        }


def certificate_names_host(cert: x509.Certificate, hostname: str) -> bool:
    """Whether the certificate's subjectAltName covers `hostname` (IP address or DNS name, `*.` wildcards)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    try:
        address = ipaddress.ip_address(hostname)
    except ValueError:
        address = None
    if address is not None:
        return address in san.get_values_for_type(x509.IPAddress)
    wanted = hostname.lower().rstrip(".")
    for name in san.get_values_for_type(x509.DNSName):
        name = name.lower().rstrip(".")
        if name == wanted or (name.startswith("*.") and wanted.split(".", 1)[-1] == name[2:] and "." in wanted):
            return True
    return False


def negotiated(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> dict[str, str]:
    """The negotiated protocol version and cipher suite (evidence)."""
    if ssl_object is None:
        return {}
    cipher = ssl_object.cipher() or ("", "", 0)
    return {"version": ssl_object.version() or "", "suite": cipher[0]}


def describe_tls_error(exc: BaseException) -> TlsRefused:
    """A French, categorised account of a failed handshake."""
    if isinstance(exc, TlsRefused):
        return exc
    if isinstance(exc, ssl.SSLCertVerificationError):
        code = {10: "certificat_expire", 9: "certificat_expire", 62: "nom_incorrect", 64: "nom_incorrect",
                23: "certificat_revoque"}.get(exc.verify_code, "certificat_non_reconnu")
        messages = {
            "certificat_expire": "certificat du serveur expiré (ou pas encore valide)",
            "nom_incorrect": "le certificat du serveur n'est pas émis pour le nom contacté",
            "certificat_revoque": "certificat du serveur révoqué",
            "certificat_non_reconnu": "certificat du serveur non émis par l'IGC-Santé (seule autorité reconnue)",
        }
        return TlsRefused(code, f"{messages[code]} ({exc.verify_message})")
    text = str(exc).upper()
    if any(k in text for k in ("UNSUPPORTED_PROTOCOL", "WRONG_VERSION", "PROTOCOL_VERSION", "NO_PROTOCOLS")):
        return TlsRefused("tls_version", f"version de TLS refusée (TLS 1.2 minimum) : {exc}")
    if any(k in text for k in ("NO_SHARED_CIPHER", "HANDSHAKE_FAILURE", "NO_CIPHER")):
        return TlsRefused("tls_cipher", f"aucune suite de chiffrement autorisée en commun avec le serveur : {exc}")
    return TlsRefused("tls", f"négociation TLS refusée ou interrompue : {exc}")


def peer_chain(ssl_object: ssl.SSLObject | ssl.SSLSocket) -> list[x509.Certificate]:
    """The chain OpenSSL verified (leaf first); the leaf alone when the chain is not available."""
    getter = getattr(ssl_object, "get_verified_chain", None)  # public from Python 3.13
    if getter is None:
        inner = getattr(ssl_object, "_sslobj", None)
        getter = getattr(inner, "get_verified_chain", None)
    chain: list[x509.Certificate] = []
    if getter is not None:
        try:
            chain = [x509.load_der_x509_certificate(c.public_bytes(ssl._ssl.ENCODING_DER)) for c in getter() or ()]
        except (ValueError, AttributeError, ssl.SSLError):
            chain = []
    if not chain:
        der = ssl_object.getpeercert(binary_form=True)
        if der:
            chain = [x509.load_der_x509_certificate(der)]
    return chain
