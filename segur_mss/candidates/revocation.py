"""Revocation of the operator's certificate, from the CRL its certificate points to (SC.MSS/CONF.22).

After the TLS handshake and before any credential is sent, the candidate reads the CRL distribution point of the
server's certificate, downloads the CRL (plain HTTP, as IGC-Santé publishes them), checks it (signed by the
certificate's issuer, not expired) and looks the certificate's serial number up in it.

When the distribution point cannot be reached, or serves an unusable CRL, the last valid CRL downloaded from it
is used as long as it has not expired itself; with no such CRL the connection is refused. CRLs are public
documents: the last valid one is kept in memory and, when the product has a working directory, on disk (so a
product restarted between two actions keeps it).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from segur_mss.candidates.tls_policy import TlsRefused


@functools.cache
def _system_trust() -> ssl.SSLContext:
    """The system's trust store for HTTPS distribution points, loaded once (httpx would load it per download)."""
    return ssl.create_default_context()


@dataclass(frozen=True)
class RevocationStatus:
    """What the check found (evidence)."""

    checked: bool
    source: str  # telechargee | cache | aucune
    url: str = ""
    detail: str = ""

    def describe(self) -> dict[str, object]:
        return {"verifiee": self.checked, "source": self.source, "url": self.url, "detail": self.detail}


def distribution_points(cert: x509.Certificate) -> list[str]:
    """The HTTP(S) URLs of the certificate's CRL distribution points."""
    try:
        ext = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except x509.ExtensionNotFound:
        return []
    urls = []
    for point in ext:
        for name in point.full_name or ():
            if isinstance(name, x509.UniformResourceIdentifier) and name.value.lower().startswith("http"):
                urls.append(name.value)
    return urls


def load_crl(data: bytes) -> x509.CertificateRevocationList:
    if data.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_crl(data)
    return x509.load_der_x509_crl(data)


class CrlCache:
    """Downloads CRLs and keeps the last valid one of each distribution point.

    `keep_last_valid=False` (a faulty candidate) forgets it: an unreachable distribution point means refusal.
    `enabled=False` (a faulty candidate) never checks revocation at all.
    """

    def __init__(
        self,
        *,
        directory: Path | None = None,
        fetch_timeout: float = 2.0,
        max_age: float = 0.0,
        keep_last_valid: bool = True,
        enabled: bool = True,
    ) -> None:
        self.directory = directory
        self.fetch_timeout = fetch_timeout
        self.max_age = max_age
        self.keep_last_valid = keep_last_valid
        self.enabled = enabled
        self._last_valid: dict[str, tuple[bytes, float]] = {}  # url -> (DER, downloaded at)
        self._lock = threading.Lock()

    # -- the check ------------------------------------------------------------------------------------------
    def check(self, chain: list[x509.Certificate]) -> RevocationStatus:
        """Raise `TlsRefused` when the leaf certificate is revoked or its revocation cannot be established."""
        if not self.enabled or not chain:
            return RevocationStatus(False, "aucune", detail="révocation non vérifiée")
        leaf = chain[0]
        issuer = chain[1] if len(chain) > 1 else None
        urls = distribution_points(leaf)
        if not urls:
            return RevocationStatus(False, "aucune", detail="certificat sans point de distribution de LCR")
        url = urls[0]
        crl, source, problem = self._usable_crl(url, issuer)
        if crl is None:
            raise TlsRefused(
                "lcr_indisponible",
                f"révocation du certificat du serveur invérifiable : {problem} et aucune LCR valide en cache",
            )
        if crl.get_revoked_certificate_by_serial_number(leaf.serial_number) is not None:
            raise TlsRefused("certificat_revoque", f"certificat du serveur révoqué (LCR {url})")
        detail = "LCR téléchargée" if source == "telechargee" else f"LCR en cache utilisée ({problem})"
        return RevocationStatus(True, source, url, detail)

    def _usable_crl(
        self, url: str, issuer: x509.Certificate | None
    ) -> tuple[x509.CertificateRevocationList | None, str, str]:
        cached = self._cached(url)
        if cached is not None and self.max_age > 0 and dt.datetime.now(dt.UTC).timestamp() - cached[1] < self.max_age:
            crl = self._valid(cached[0], issuer)
            if crl is not None:
                return crl, "cache", "LCR récente en cache"
        problem = ""
        try:
            data = self._download(url)
        except (httpx.HTTPError, OSError) as exc:
            problem = f"point de distribution injoignable ({type(exc).__name__})"
        else:
            crl = self._valid(data, issuer)
            if crl is not None:
                self._remember(url, crl)
                return crl, "telechargee", ""
            problem = "LCR téléchargée expirée ou invalide"
        if self.keep_last_valid and cached is not None:
            crl = self._valid(cached[0], issuer)
            if crl is not None:
                return crl, "cache", problem
        return None, "aucune", problem

    def _download(self, url: str) -> bytes:
        with httpx.Client(timeout=self.fetch_timeout, follow_redirects=False, trust_env=False,
                          verify=_system_trust()) as client:
            response = client.get(url)
            response.raise_for_status()
            return response.content

    @staticmethod
    def _valid(data: bytes, issuer: x509.Certificate | None) -> x509.CertificateRevocationList | None:
        """The CRL when it is well formed, from the issuer, signed by it and not expired."""
        try:
            crl = load_crl(data)
        except ValueError:
            return None
        now = dt.datetime.now(dt.UTC)
        if crl.next_update_utc is None or crl.next_update_utc <= now or crl.last_update_utc > now:
            return None
        if issuer is not None:
            if crl.issuer != issuer.subject:
                return None
            try:
                if not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
                    return None
            except TypeError:
                return None
        return crl

    # -- the last valid CRL ---------------------------------------------------------------------------------
    def _file(self, url: str) -> Path | None:
        if self.directory is None:
            return None
        return self.directory / f"lcr-{hashlib.sha256(url.encode()).hexdigest()[:16]}.der"

    def _cached(self, url: str) -> tuple[bytes, float] | None:
        with self._lock:
            entry = self._last_valid.get(url)
        if entry is not None or not self.keep_last_valid:
            return entry
        path = self._file(url)
        if path is not None and path.is_file():
            return path.read_bytes(), path.stat().st_mtime
        return None

    def _remember(self, url: str, crl: x509.CertificateRevocationList) -> None:
        if not self.keep_last_valid:
            return
        der = crl.public_bytes(serialization.Encoding.DER)
        with self._lock:
            self._last_valid[url] = (der, dt.datetime.now(dt.UTC).timestamp())
        path = self._file(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(der)
            tmp.replace(path)

    @property
    def files(self) -> list[Path]:
        return sorted(self.directory.glob("lcr-*.der")) if self.directory and self.directory.is_dir() else []
