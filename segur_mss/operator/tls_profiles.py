"""TLS profiles of the operator's mail servers (IMAP, SMTP): the nominal policy and the TLS faults a scenario can
select (obsolete protocol versions, weak cipher suites, rogue / expired / revoked / misnamed server certificates).

The profile in force when a connection starts its TLS handshake (implicit TLS or STARTTLS) is the one it meets:
servers ask `ReferenceOperator.server_tls_context(service)` for a context at each new connection.

Nominal policy (configurable through `TlsPolicy`): TLS 1.2 minimum (CONF.01) and, for TLS 1.2, the cipher suites
recommended by ANSSI ("Recommandations de sécurité relatives à TLS", v1.2, annex A.1: ECDHE/DHE key exchange, AEAD
only). The suite list here is transcribed from that guide as a secondary source: check it against the guide and
override it with `TlsPolicy(tls12_ciphers=...)` if the MSSanté list (CONF.03, unknown publicly) differs.
TLS 1.3 suites cannot be chosen through Python's `ssl` module: OpenSSL's defaults (TLS_AES_256_GCM_SHA384,
TLS_CHACHA20_POLY1305_SHA256, TLS_AES_128_GCM_SHA256) are used, which are the three ANSSI recommends.

OpenSSL 3 refuses TLS 1.0/1.1 handshakes at its default security level (their signatures use SHA-1/MD5): the
obsolete-protocol profiles lower the context's level to 0 (`@SECLEVEL=0`), on that context only. The weak-cipher
profile needs no lowering (CBC-SHA1 suites are allowed at level 1/2 in TLS 1.2) but needs an RSA certificate for
the static-RSA key exchange suites.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ssl
import threading
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from segur_mss.operator.crl import CrlPublisher
from segur_mss.operator.pki import CertBundle, TestPki

#: ANSSI-recommended TLS 1.2 suites (OpenSSL names); suites the context's certificate cannot use are ignored.
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
#: TLS 1.3 suites in force (OpenSSL defaults, not configurable from Python; equal to ANSSI's recommendation).
TLS13_SUITES: tuple[str, ...] = ("TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256")
#: What the weak-cipher server offers: CBC with SHA-1 MAC, static RSA key exchange (no forward secrecy) first.
WEAK_CIPHERS: tuple[str, ...] = ("AES128-SHA", "AES256-SHA", "ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA")
MISNAMED_HOST = "operateur-inconnu.example.org"


@dataclass(frozen=True)
class TlsPolicy:
    """The nominal TLS policy of the operator's servers."""

    minimum_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2
    tls12_ciphers: tuple[str, ...] = ANSSI_TLS12_CIPHERS
    #: ask for (never require) a client certificate, for SASL EXTERNAL on APP mailboxes
    request_client_certificate: bool = True


@dataclass(frozen=True)
class TlsProfile:
    """One selectable server behaviour."""

    name: str
    description: str  # French, for reports
    certificate: str = "nominal"  # nominal | rsa | rogue | expired | revoked | misnamed
    versions: tuple[ssl.TLSVersion, ssl.TLSVersion] | None = None  # (min, max); None: the policy's
    ciphers: tuple[str, ...] | None = None  # None: the policy's
    security_level: int | None = None


PROFILES: dict[str, TlsProfile] = {
    p.name: p
    for p in (
        TlsProfile("nominal", "TLS 1.2 ou 1.3, suites recommandées par l'ANSSI, certificat IGC-Santé valide"),
        TlsProfile(
            "tls1.0-seulement",
            "serveur n'acceptant que TLS 1.0 (protocole obsolète)",
            versions=(ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1),
            ciphers=("DEFAULT",),
            security_level=0,
        ),
        TlsProfile(
            "tls1.1-seulement",
            "serveur n'acceptant que TLS 1.1 (protocole obsolète)",
            versions=(ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1_1),
            ciphers=("DEFAULT",),
            security_level=0,
        ),
        TlsProfile(
            "tls-obsolete",
            "serveur n'acceptant que TLS 1.0 et TLS 1.1",
            versions=(ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1),
            ciphers=("DEFAULT",),
            security_level=0,
        ),
        TlsProfile(
            "chiffrement-faible",
            "TLS 1.2 avec uniquement des suites faibles (CBC + SHA-1, échange de clés RSA statique)",
            certificate="rsa",
            versions=(ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2),
            ciphers=WEAK_CIPHERS,
        ),
        TlsProfile("ac-non-reconnue", "certificat serveur émis par une AC hors IGC-Santé", certificate="rogue"),
        TlsProfile("certificat-expire", "certificat serveur expiré", certificate="expired"),
        TlsProfile("certificat-revoque", "certificat serveur révoqué (listé dans la LCR)", certificate="revoked"),
        TlsProfile(
            "nom-incorrect", f"certificat serveur émis pour un autre nom ({MISNAMED_HOST})", certificate="misnamed"
        ),
    )
}
ALIASES = {
    "tls1.0-only": "tls1.0-seulement",
    "tls1.1-only": "tls1.1-seulement",
    "legacy-tls": "tls-obsolete",
    "weak-cipher": "chiffrement-faible",
    "rogue-ca": "ac-non-reconnue",
    "expired-cert": "certificat-expire",
    "revoked-cert": "certificat-revoque",
    "name-mismatch": "nom-incorrect",
}
SERVICES = ("imap", "smtp")


def profile_name(name: str) -> str:
    """The canonical (French) profile name of `name` or of its English alias."""
    canonical = ALIASES.get(name, name)
    if canonical not in PROFILES:
        known = ", ".join([*PROFILES, *ALIASES])
        raise ValueError(f"profil TLS inconnu : {name} (profils : {known})")
    return canonical


class TlsProfiles:
    """Server certificates and SSL contexts per profile, and the profile in force per service (thread-safe)."""

    def __init__(
        self,
        pki: TestPki,
        *,
        hosts: tuple[str, ...],
        crl: CrlPublisher | None = None,
        policy: TlsPolicy | None = None,
    ) -> None:
        self.pki = pki
        self.hosts = hosts
        self.crl = crl
        self.policy = policy or TlsPolicy()
        self._default = "nominal"
        self._per_service: dict[str, str] = {}
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._lock = threading.RLock()

    # -- certificates -----------------------------------------------------------------------------------------
    def certificate(self, kind: str) -> CertBundle:
        """The server certificate of a profile kind (created on first use, cached in the PKI folder)."""
        crl_url = self.crl.url if self.crl and self.crl.base_url else None
        now = dt.datetime.now(dt.UTC)
        if kind == "nominal":
            return self.pki.server("tls-operateur", self.hosts, crl_url=crl_url)
        if kind == "rsa":
            return self.pki.server("tls-operateur-rsa", self.hosts, key_kind="rsa", crl_url=crl_url)
        if kind == "rogue":
            return self.pki.server("tls-ac-non-reconnue", self.hosts, issuer=self.pki.rogue_ca)
        if kind == "expired":
            return self.pki.server(
                "tls-expire",
                self.hosts,
                not_before=now - dt.timedelta(days=400),
                not_after=now - dt.timedelta(days=2),
                crl_url=crl_url,
            )
        if kind == "revoked":
            bundle = self.pki.server("tls-revoque", self.hosts, crl_url=crl_url)
            if self.crl is not None:
                self.crl.revoke(bundle)
            return bundle
        if kind == "misnamed":
            return self.pki.server("tls-nom-incorrect", (MISNAMED_HOST,), crl_url=crl_url)
        raise ValueError(f"type de certificat inconnu : {kind}")

    def prepare(self) -> None:
        """Create the nominal and revoked certificates now (the CRL must list the revoked one from the start)."""
        self.certificate("nominal")
        self.certificate("revoked")

    # -- contexts ---------------------------------------------------------------------------------------------
    def context_for(self, name: str) -> ssl.SSLContext:
        """The server context of profile `name` (built once)."""
        name = profile_name(name)
        with self._lock:
            ctx = self._contexts.get(name)
            if ctx is None:
                ctx = self._contexts[name] = self._build(PROFILES[name])
            return ctx

    def https_context(self) -> ssl.SSLContext:
        """The operator's HTTPS endpoints (PSC, directory, auto-configuration): nominal, no client certificate."""
        return self._build(PROFILES["nominal"], client_certificate=False)

    def _build(self, profile: TlsProfile, *, client_certificate: bool | None = None) -> ssl.SSLContext:
        bundle = self.certificate(profile.certificate)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with warnings.catch_warnings():  # setting TLS 1.0/1.1 bounds is deprecated in Python: that is the point
            warnings.simplefilter("ignore", DeprecationWarning)
            if profile.versions:
                ctx.minimum_version, ctx.maximum_version = profile.versions
            else:
                ctx.minimum_version = self.policy.minimum_version
        ciphers = ":".join(profile.ciphers or self.policy.tls12_ciphers)
        if profile.security_level is not None:
            ciphers += f":@SECLEVEL={profile.security_level}"
        ctx.set_ciphers(ciphers)
        ctx.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE | ssl.OP_NO_RENEGOTIATION
        ctx.load_cert_chain(bundle.chain_path, bundle.key_path)
        request_cert = self.policy.request_client_certificate if client_certificate is None else client_certificate
        if request_cert:
            ctx.load_verify_locations(self.pki.ca_bundle)
            ctx.verify_mode = ssl.CERT_OPTIONAL
        return ctx

    # -- selection --------------------------------------------------------------------------------------------
    def set(self, name: str, services: Iterable[str] | None = None) -> None:
        """Select profile `name` for the new connections of `services` (default: every service)."""
        name = profile_name(name)
        self.context_for(name)  # build now: fail here, not in a server's connection handler
        with self._lock:
            if services is None:
                self._default = name
                self._per_service.clear()
            else:
                for service in services:
                    self._per_service[service] = name

    def reset(self) -> None:
        self.set("nominal")

    def active(self, service: str) -> str:
        with self._lock:
            return self._per_service.get(service, self._default)

    def context(self, service: str) -> ssl.SSLContext:
        """The context a new connection of `service` must use."""
        return self.context_for(self.active(service))

    @contextlib.contextmanager
    def apply(self, name: str, services: Iterable[str] | None = None) -> Iterator[ssl.SSLContext]:
        """Select a profile for the duration of a block, then go back to what was in force."""
        with self._lock:
            saved = (self._default, dict(self._per_service))
        self.set(name, services)
        try:
            yield self.context_for(name)
        finally:
            with self._lock:
                self._default, self._per_service = saved[0], saved[1]

    def set_policy(self, policy: TlsPolicy) -> None:
        """Change the nominal policy (e.g. the authorised cipher list); contexts are rebuilt."""
        with self._lock:
            self.policy = policy
            self._contexts.clear()

    def describe(self) -> dict[str, object]:
        return {
            "profils": {name: p.description for name, p in PROFILES.items()},
            "en_vigueur": {service: self.active(service) for service in SERVICES},
            "politique": {
                "version_minimale": self.policy.minimum_version.name,
                "suites_tls12": list(self.policy.tls12_ciphers),
                "suites_tls13": list(TLS13_SUITES),
            },
        }
