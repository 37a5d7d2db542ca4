"""Certificate revocation lists of the test PKI, published over plain HTTP like IGC-Santé's distribution points.

The ORG CA's CRL lists the certificates the harness revoked (the "revoked server certificate" TLS profile, or any
certificate a scenario revokes). The campaign can make the distribution point unreachable (connection refused,
silent server, HTTP error) and publish an expired CRL, to judge CONF.22 (keep the last non-expired CRL when the
distribution point cannot be reached).

CRL dates follow the real wall clock, not the operator's controllable clock: the candidate checks them against
its own clock, which the campaign cannot move.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from segur_mss.operator.pki import CertBundle, TestPki

if TYPE_CHECKING:
    from segur_mss.operator.http import RecordedHttpServer

ORG_CRL_PATH = "/crl/ac-igc-sante-test-organisations.crl"
ROOT_CRL_PATH = "/crl/ac-igc-sante-test-racine.crl"

#: How the distribution point behaves: `reachable`; `refused` (nothing listens: connection refused);
#: `timeout` (connections accepted, never answered); `http-error` (HTTP 503).
REACHABILITY = ("reachable", "refused", "timeout", "http-error")


@dataclass(frozen=True)
class RevokedEntry:
    serial: int
    revoked_at: dt.datetime
    reason: x509.ReasonFlags
    subject: str


class CrlPublisher:
    """Builds and serves the CRLs of the root and of the ORG CA; campaign switches for reachability and expiry."""

    def __init__(self, pki: TestPki, *, validity: dt.timedelta = dt.timedelta(days=7)) -> None:
        self.pki = pki
        self.validity = validity
        self._revoked: dict[int, RevokedEntry] = {}
        self._expired = False
        self._reachability = "reachable"
        self._lock = threading.Lock()
        self.server: RecordedHttpServer | None = None
        self.base_url = ""
        self.fetches = 0  # CRL downloads actually served (evidence that a candidate checks revocation)

    # -- what is published ----------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The distribution point written in the test certificates (ORG CA's CRL)."""
        return self.base_url + ORG_CRL_PATH

    @property
    def root_url(self) -> str:
        return self.base_url + ROOT_CRL_PATH

    def revoke(
        self,
        certificate: CertBundle | x509.Certificate,
        *,
        reason: x509.ReasonFlags = x509.ReasonFlags.key_compromise,
        at: dt.datetime | None = None,
    ) -> None:
        """List a certificate issued by the ORG CA in its CRL."""
        cert = certificate.certificate if isinstance(certificate, CertBundle) else certificate
        if cert.issuer != self.pki.org_ca.certificate.subject:
            raise ValueError("seuls les certificats émis par l'AC ORGANISATIONS figurent dans cette LCR")
        when = at or max(cert.not_valid_before_utc, dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
        entry = RevokedEntry(cert.serial_number, when, reason, cert.subject.rfc4514_string())
        with self._lock:
            self._revoked[cert.serial_number] = entry

    def unrevoke(self, certificate: CertBundle | x509.Certificate) -> None:
        cert = certificate.certificate if isinstance(certificate, CertBundle) else certificate
        with self._lock:
            self._revoked.pop(cert.serial_number, None)

    @property
    def revoked(self) -> list[RevokedEntry]:
        with self._lock:
            return list(self._revoked.values())

    def crl(self, authority: str = "organisations") -> x509.CertificateRevocationList:
        """A freshly signed CRL (`organisations`: the ORG CA's; `racine`: the root's, listing nothing)."""
        issuer = self.pki.org_ca if authority == "organisations" else self.pki.root
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        with self._lock:
            expired = self._expired
            entries = list(self._revoked.values()) if issuer is self.pki.org_ca else []
        if expired:
            last, nxt = now - self.validity - dt.timedelta(days=1), now - dt.timedelta(days=1)
        else:
            last, nxt = now - dt.timedelta(hours=1), now + self.validity
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(issuer.certificate.subject)
            .last_update(last)
            .next_update(nxt)
            .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
        )
        for entry in entries:
            revoked = (
                x509.RevokedCertificateBuilder()
                .serial_number(entry.serial)
                .revocation_date(entry.revoked_at)
                .add_extension(x509.CRLReason(entry.reason), critical=False)
                .build()
            )
            builder = builder.add_revoked_certificate(revoked)
        return builder.sign(issuer.key, hashes.SHA256())

    def der(self, authority: str = "organisations") -> bytes:
        return self.crl(authority).public_bytes(serialization.Encoding.DER)

    def pem(self, authority: str = "organisations") -> bytes:
        return self.crl(authority).public_bytes(serialization.Encoding.PEM)

    # -- campaign switches ----------------------------------------------------------------------------------
    @property
    def expired(self) -> bool:
        return self._expired

    def set_expired(self, expired: bool = True) -> None:
        """Publish a CRL whose nextUpdate is past (True) or a current one (False)."""
        with self._lock:
            self._expired = expired

    @property
    def reachability(self) -> str:
        return self._reachability

    def set_reachability(self, mode: str) -> None:
        """Switch the distribution point (see REACHABILITY); `refused` really closes the listening socket."""
        if mode not in REACHABILITY:
            raise ValueError(f"mode de joignabilité inconnu : {mode} (attendu : {', '.join(REACHABILITY)})")
        with self._lock:
            previous, self._reachability = self._reachability, mode
        if self.server is None or not self.server.started or previous == mode:
            return
        if mode == "refused":
            self.server.run_sync(self.server.close_listener())
        elif previous == "refused":
            self.server.run_sync(self.server.reopen_listener())

    def set_unreachable(self, unreachable: bool = True) -> None:
        """Shortcut: `refused` or `reachable`."""
        self.set_reachability("refused" if unreachable else "reachable")

    def reset(self) -> None:
        self.set_expired(False)
        self.set_reachability("reachable")

    # -- HTTP ---------------------------------------------------------------------------------------------------
    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(ORG_CRL_PATH, self._serve_org)
        app.router.add_get(ROOT_CRL_PATH, self._serve_root)
        app.router.add_get(ORG_CRL_PATH.replace(".crl", ".pem"), self._serve_org_pem)

    async def _answer(self, authority: str, pem: bool) -> web.Response:
        mode = self._reachability
        if mode == "timeout":
            await asyncio.sleep(3600)  # cancelled when the client gives up or the operator stops
        if mode in ("http-error", "refused"):  # `refused` here only for a request already in flight
            return web.Response(status=503, text="Service indisponible (LCR injoignable sur demande du scénario)")
        self.fetches += 1
        if pem:
            return web.Response(body=self.pem(authority), content_type="application/x-pem-file")
        return web.Response(body=self.der(authority), content_type="application/pkix-crl")

    async def _serve_org(self, _request: web.Request) -> web.Response:
        return await self._answer("organisations", pem=False)

    async def _serve_org_pem(self, _request: web.Request) -> web.Response:
        return await self._answer("organisations", pem=True)

    async def _serve_root(self, _request: web.Request) -> web.Response:
        return await self._answer("racine", pem=False)

    def describe(self) -> dict[str, object]:
        return {
            "url": self.url,
            "url_racine": self.root_url,
            "joignabilite": self._reachability,
            "expiree": self._expired,
            "revoques": [{"numero_serie": format(e.serial, "x"), "sujet": e.subject} for e in self.revoked],
        }
