"""Test PKI shaped like IGC-Santé: a root, an "élémentaire Organisations" issuing CA, server and client certificates.

Everything is generated at run time with `cryptography` and written under the run's folder (private keys 0600);
nothing secret is committed. Files are reused when the folder already holds them (cache per run directory).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

ROOT_NAME = "AC RACINE IGC-SANTE TEST ELEMENTAIRE"
ORG_CA_NAME = "AC IGC-SANTE TEST ELEMENTAIRE ORGANISATIONS"
#: A look-alike authority outside the IGC-Santé trust chain (same naming style, another key): what a candidate
#: must refuse, as a server certificate issuer (CONF.01/CONF.22) or as an APP client certificate issuer (CONF.27).
ROGUE_CA_NAME = "AC IGC-SANTE ELEMENTAIRE ORGANISATIONS"
ROGUE_CA_ORG = "AUTORITE NON RECONNUE"
DEFAULT_SERVER_HOSTS = ("mss.test.mssante.fr", "localhost", "127.0.0.1")


@dataclass(frozen=True)
class CertBundle:
    """A certificate with its key and chain, as files and as objects."""

    name: str
    cert_path: Path
    key_path: Path
    chain_path: Path  # leaf + intermediates, for servers
    certificate: x509.Certificate
    key: PrivateKey

    @property
    def subject(self) -> str:
        return self.certificate.subject.rfc4514_string()


def _name(common_name: str, org: str = "ANS TEST", unit: str | None = None) -> x509.Name:
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
    ]
    if unit:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def _new_key(kind: str) -> PrivateKey:
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _san(hosts: tuple[str, ...]) -> x509.SubjectAlternativeName:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(names)


class TestPki:
    """The harness's certificate authority. Certificates are named, cached on disk and reloaded."""

    __test__ = False  # not a pytest class

    def __init__(self, directory: Path, *, key_kind: str = "ec") -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.key_kind = key_kind
        self._bundles: dict[str, CertBundle] = {}
        self._lock = threading.RLock()
        self._rogue: CertBundle | None = None
        self.root = self._load_or_create_ca("racine", ROOT_NAME, issuer=None)
        self.org_ca = self._load_or_create_ca("ac-organisations", ORG_CA_NAME, issuer=self.root)

    # -- public -----------------------------------------------------------------------------------------
    @property
    def ca_bundle(self) -> Path:
        """The trust anchor a conformant candidate uses: the IGC-Santé test root only."""
        path = self.directory / "ca-igc-sante-test.pem"
        if not path.exists():
            path.write_bytes(_pem(self.root.certificate))
        return path

    def server(
        self,
        name: str,
        hosts: tuple[str, ...] = DEFAULT_SERVER_HOSTS,
        *,
        issuer: CertBundle | None = None,
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
        key_kind: str | None = None,
        crl_url: str | None = None,
    ) -> CertBundle:
        """A TLS server certificate (issued by the ORG CA unless told otherwise)."""
        return self._leaf(
            name,
            _name(hosts[0], unit="OPERATEUR MSSANTE TEST"),
            issuer or self.org_ca,
            server_hosts=hosts,
            not_before=not_before,
            not_after=not_after,
            key_kind=key_kind,
            crl_url=crl_url,
        )

    def client(self, name: str, organisation: str, mailbox: str, *, issuer: CertBundle | None = None) -> CertBundle:
        """An "Organisation" client certificate for an applicative (APP) mailbox."""
        subject = _name(mailbox, org=organisation, unit="BAL APPLICATIVE")
        return self._leaf(name, subject, issuer or self.org_ca, email=mailbox)

    @property
    def rogue_ca(self) -> CertBundle:
        """A self-signed look-alike CA outside the IGC-Santé chain (created on first use)."""
        with self._lock:
            if self._rogue is None:
                self._rogue = self._load_or_create_ca("ac-non-reconnue", ROGUE_CA_NAME, issuer=None, org=ROGUE_CA_ORG)
            return self._rogue

    def rogue_client(self, name: str, organisation: str, mailbox: str) -> CertBundle:
        """An APP client certificate issued by the rogue CA (CONF.27: only IGC-Santé certificates are accepted)."""
        return self.client(name, organisation, mailbox, issuer=self.rogue_ca)

    def server_context(self, bundle: CertBundle, *, client_ca: bool = True) -> ssl.SSLContext:
        """A server-side SSL context presenting `bundle`, requesting (not requiring) a client certificate."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(bundle.chain_path, bundle.key_path)
        if client_ca:
            ctx.load_verify_locations(self.ca_bundle)
            ctx.verify_mode = ssl.CERT_OPTIONAL
        return ctx

    # -- internals --------------------------------------------------------------------------------------
    def _paths(self, name: str) -> tuple[Path, Path, Path]:
        return (
            self.directory / f"{name}.pem",
            self.directory / f"{name}.key",
            self.directory / f"{name}-chaine.pem",
        )

    def _load(self, name: str) -> CertBundle | None:
        cert_path, key_path, chain_path = self._paths(name)
        if not (cert_path.exists() and key_path.exists() and chain_path.exists()):
            return None
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey)
        return CertBundle(name, cert_path, key_path, chain_path, cert, key)

    def _store(
        self, name: str, cert: x509.Certificate, key: PrivateKey, chain: list[x509.Certificate]
    ) -> CertBundle:
        cert_path, key_path, chain_path = self._paths(name)
        _write_private(key_path, _key_pem(key))
        cert_path.write_bytes(_pem(cert))
        chain_path.write_bytes(b"".join(_pem(c) for c in [cert, *chain]))
        bundle = CertBundle(name, cert_path, key_path, chain_path, cert, key)
        self._bundles[name] = bundle
        return bundle

    def _load_or_create_ca(
        self, name: str, common_name: str, issuer: CertBundle | None, *, org: str = "ASIP-SANTE TEST"
    ) -> CertBundle:
        loaded = self._load(name)
        if loaded:
            return loaded
        key = _new_key(self.key_kind)
        subject = _name(common_name, org=org, unit="IGC-SANTE TEST")
        now = dt.datetime.now(dt.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer.certificate.subject if issuer else subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None if issuer is None else 0), True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        )
        signer = issuer.key if issuer else key
        cert = builder.sign(signer, hashes.SHA256())
        return self._store(name, cert, key, [issuer.certificate] if issuer else [])

    def _leaf(
        self,
        name: str,
        subject: x509.Name,
        issuer: CertBundle,
        *,
        server_hosts: tuple[str, ...] | None = None,
        email: str | None = None,
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
        key_kind: str | None = None,
        crl_url: str | None = None,
    ) -> CertBundle:
        with self._lock:
            return self._leaf_locked(
                name, subject, issuer, server_hosts=server_hosts, email=email, not_before=not_before,
                not_after=not_after, key_kind=key_kind, crl_url=crl_url,
            )

    def _leaf_locked(
        self,
        name: str,
        subject: x509.Name,
        issuer: CertBundle,
        *,
        server_hosts: tuple[str, ...] | None,
        email: str | None,
        not_before: dt.datetime | None,
        not_after: dt.datetime | None,
        key_kind: str | None,
        crl_url: str | None,
    ) -> CertBundle:
        # A cached certificate is reused only when it was made from the same request (hosts, issuer, CRL URL...):
        # the CRL distribution point carries an ephemeral port, so a reused run folder must not serve a stale one.
        request = json.dumps(
            {
                "subject": subject.rfc4514_string(),
                "issuer": issuer.subject,
                "issuer_key": issuer.certificate.public_key()
                .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
                .hex()[-32:],
                "hosts": list(server_hosts or ()),
                "email": email,
                "key": key_kind or self.key_kind,
                "crl": crl_url,
                "not_before": not_before.date().isoformat() if not_before else None,
                "not_after": not_after.date().isoformat() if not_after else None,
            },
            sort_keys=True,
        )
        params_path = self.directory / f"{name}.params.json"
        cached = self._bundles.get(name) or self._load(name)
        if cached and params_path.exists() and params_path.read_text(encoding="utf-8") == request:
            self._bundles[name] = cached
            return cached
        key = _new_key(key_kind or self.key_kind)
        now = dt.datetime.now(dt.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or now - dt.timedelta(days=1))
            .not_valid_after(not_after or now + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
            )
        )
        if server_hosts:
            builder = builder.add_extension(_san(server_hosts), critical=False).add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
            )
        if email:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False
            ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        if crl_url:
            builder = builder.add_extension(
                x509.CRLDistributionPoints(
                    [x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)]
                ),
                critical=False,
            )
        cert = builder.sign(issuer.key, hashes.SHA256())
        chain = [issuer.certificate] if issuer is not self.root else []
        bundle = self._store(name, cert, key, chain)
        params_path.write_text(request, encoding="utf-8")
        return bundle

    def describe(self) -> dict[str, str]:
        """Subjects of the authorities, for reports."""
        return {
            "racine": self.root.subject,
            "ac_organisations": self.org_ca.subject,
            "fichier_ca": str(self.ca_bundle),
        }

    def manifest(self) -> str:
        return json.dumps(self.describe(), ensure_ascii=False)
