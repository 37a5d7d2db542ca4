"""TLS fault profiles, observed from Python `ssl` clients over the operator's SMTP STARTTLS."""

from __future__ import annotations

import smtplib
import ssl
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from segur_mss.operator.service import ReferenceOperator
from segur_mss.operator.tls_profiles import ANSSI_TLS12_CIPHERS, PROFILES, WEAK_CIPHERS, TlsPolicy, profile_name

# X509_V_ERR_* codes seen by the client
SELF_SIGNED_IN_CHAIN, UNABLE_TO_GET_ISSUER_LOCALLY = 19, 20
CERT_HAS_EXPIRED, CRL_HAS_EXPIRED, CERT_REVOKED, HOSTNAME_MISMATCH, IP_MISMATCH = 10, 12, 23, 62, 64


@pytest.fixture(scope="module")
def operator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceOperator]:
    op = ReferenceOperator(tmp_path_factory.mktemp("operateur-tls")).start()
    yield op
    op.stop()


@pytest.fixture(autouse=True)
def _nominal(operator: ReferenceOperator) -> Iterator[None]:
    yield
    operator.tls_profiles.reset()
    operator.crl.reset()


@dataclass
class Handshake:
    version: str | None = None
    cipher: str | None = None
    peer: dict | None = None
    error: ssl.SSLError | None = None


def starttls(operator: ReferenceOperator, ctx: ssl.SSLContext) -> Handshake:
    """EHLO, STARTTLS with `ctx`, then report what was negotiated (or the TLS error)."""
    client = smtplib.SMTP("127.0.0.1", operator.ports["smtp"], timeout=5)
    try:
        client.ehlo()
        try:
            client.starttls(context=ctx)
        except ssl.SSLError as exc:
            return Handshake(error=exc)
        sock = client.sock
        assert isinstance(sock, ssl.SSLSocket)
        return Handshake(sock.version(), (sock.cipher() or ("",))[0], sock.getpeercert())
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


def default_client(operator: ReferenceOperator) -> ssl.SSLContext:
    """What a conformant candidate does: Python's defaults (TLS >= 1.2, strong suites), the IGC-Santé root."""
    return ssl.create_default_context(cafile=operator.env()["ca_bundle"])


def permissive_client(operator: ReferenceOperator, *, ciphers: str = "ALL:@SECLEVEL=0") -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(operator.env()["ca_bundle"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.set_ciphers(ciphers)
    return ctx


def test_nominal_profile_negotiates_tls13_or_an_anssi_suite(operator: ReferenceOperator) -> None:
    assert starttls(operator, default_client(operator)).version == "TLSv1.3"
    tls12 = default_client(operator)
    tls12.maximum_version = ssl.TLSVersion.TLSv1_2
    seen = starttls(operator, tls12)
    assert seen.version == "TLSv1.2" and seen.cipher in ANSSI_TLS12_CIPHERS
    weak_only = permissive_client(operator, ciphers="AES128-SHA:AES256-SHA:@SECLEVEL=0")
    weak_only.maximum_version = ssl.TLSVersion.TLSv1_2
    assert starttls(operator, weak_only).error is not None  # suites outside the policy are refused
    legacy = permissive_client(operator)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        legacy.maximum_version = ssl.TLSVersion.TLSv1_1
    assert starttls(operator, legacy).error is not None  # TLS 1.2 minimum (CONF.01)


@pytest.mark.parametrize(
    ("profile", "expected"),
    [("tls1.0-seulement", "TLSv1"), ("tls1.1-seulement", "TLSv1.1"), ("tls-obsolete", "TLSv1.1")],
)
def test_obsolete_protocol_profiles(operator: ReferenceOperator, profile: str, expected: str) -> None:
    operator.tls_profile(profile)
    assert starttls(operator, default_client(operator)).error is not None  # a TLS >= 1.2 client cannot connect
    seen = starttls(operator, permissive_client(operator))
    assert seen.error is None and seen.version == expected


def test_weak_cipher_profile(operator: ReferenceOperator) -> None:
    operator.tls_profile("weak-cipher")  # English alias
    failed = starttls(operator, default_client(operator))
    assert failed.error is not None
    seen = starttls(operator, permissive_client(operator))
    assert seen.version == "TLSv1.2" and seen.cipher in WEAK_CIPHERS


@pytest.mark.parametrize(
    ("profile", "codes"),
    [
        ("ac-non-reconnue", {SELF_SIGNED_IN_CHAIN, UNABLE_TO_GET_ISSUER_LOCALLY}),
        ("certificat-expire", {CERT_HAS_EXPIRED}),
        ("nom-incorrect", {HOSTNAME_MISMATCH, IP_MISMATCH}),
    ],
)
def test_bad_certificate_profiles_fail_verification(operator: ReferenceOperator, profile: str, codes: set[int]) -> None:
    operator.tls_profile(profile)
    seen = starttls(operator, default_client(operator))
    assert isinstance(seen.error, ssl.SSLCertVerificationError)
    assert seen.error.verify_code in codes, seen.error.verify_message
    unchecked = default_client(operator)
    unchecked.check_hostname, unchecked.verify_mode = False, ssl.CERT_NONE
    assert starttls(operator, unchecked).error is None  # only verification fails: a lax client gets in


def _crl_checking_client(operator: ReferenceOperator, crl_url: str, folder: Path) -> ssl.SSLContext:
    """A client that fetched the CRL named in the server certificate and checks the leaf against it."""
    der = httpx.get(crl_url, timeout=5).content
    crl_file = folder / "lcr.pem"
    crl_file.write_bytes(x509.load_der_x509_crl(der).public_bytes(serialization.Encoding.PEM))
    ctx = default_client(operator)
    ctx.load_verify_locations(cafile=str(crl_file))
    ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    return ctx


def test_revoked_profile_is_caught_by_a_crl_checking_client(operator: ReferenceOperator, tmp_path: Path) -> None:
    operator.tls_profile("certificat-revoque")
    plain = starttls(operator, default_client(operator))
    assert plain.error is None  # chain and name are fine: only revocation tells
    assert plain.peer is not None
    (crl_url,) = plain.peer["crlDistributionPoints"]
    assert crl_url == operator.crl.url
    seen = starttls(operator, _crl_checking_client(operator, crl_url, tmp_path))
    assert isinstance(seen.error, ssl.SSLCertVerificationError) and seen.error.verify_code == CERT_REVOKED

    operator.tls_profile("nominal")
    assert starttls(operator, _crl_checking_client(operator, crl_url, tmp_path)).error is None

    operator.crl.set_expired()
    seen = starttls(operator, _crl_checking_client(operator, crl_url, tmp_path))
    assert isinstance(seen.error, ssl.SSLCertVerificationError) and seen.error.verify_code == CRL_HAS_EXPIRED


def test_profile_selection_per_service_and_temporary(operator: ReferenceOperator) -> None:
    profiles = operator.tls_profiles
    with profiles.apply("nom-incorrect", services=["smtp"]):
        assert profiles.active("smtp") == "nom-incorrect" and profiles.active("imap") == "nominal"
        assert operator.server_tls_context("smtp") is profiles.context_for("nom-incorrect")
        assert starttls(operator, default_client(operator)).error is not None
    assert profiles.active("smtp") == "nominal"
    assert starttls(operator, default_client(operator)).error is None
    with pytest.raises(ValueError, match="profil TLS inconnu"):
        operator.tls_profile("ssl3")
    assert set(PROFILES) >= {profile_name(a) for a in ("rogue-ca", "expired-cert", "revoked-cert", "legacy-tls")}


def test_authorised_cipher_list_is_configuration(operator: ReferenceOperator) -> None:
    profiles = operator.tls_profiles
    saved = profiles.policy
    try:
        profiles.set_policy(TlsPolicy(tls12_ciphers=("ECDHE-ECDSA-AES128-GCM-SHA256",)))
        tls12 = default_client(operator)
        tls12.maximum_version = ssl.TLSVersion.TLSv1_2
        assert starttls(operator, tls12).cipher == "ECDHE-ECDSA-AES128-GCM-SHA256"
    finally:
        profiles.set_policy(saved)


def test_tls_parameters_reach_the_transcript(operator: ReferenceOperator) -> None:
    operator.tls_profile("tls1.1-seulement")
    with operator.capture() as cap:
        starttls(operator, permissive_client(operator))
    events = [e for t in cap.by_service("smtp") for e in t.events("tls")]
    assert events and events[0].data["version"] == "TLSv1.1"
