"""Test PKI completion: rogue CA, expired, revoked (CRL over HTTP, unreachable, expired), misnamed certificates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.x509 import verification

from segur_mss.operator.pki import TestPki
from segur_mss.operator.service import ReferenceOperator
from segur_mss.operator.tls_profiles import MISNAMED_HOST


@pytest.fixture(scope="module")
def operator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceOperator]:
    op = ReferenceOperator(tmp_path_factory.mktemp("operateur-pki")).start()
    yield op
    op.stop()


@pytest.fixture(autouse=True)
def _reset(operator: ReferenceOperator) -> Iterator[None]:
    yield
    operator.crl.reset()


def _verifier(pki: TestPki, host: str, when: dt.datetime | None = None) -> verification.ServerVerifier:
    builder = verification.PolicyBuilder().store(verification.Store([pki.root.certificate]))
    builder = builder.time(when or dt.datetime.now(dt.UTC))
    return builder.build_server_verifier(x509.DNSName(host))


def _verify(pki: TestPki, kind: str, operator: ReferenceOperator, host: str = "mss.test.mssante.fr") -> None:
    bundle = operator.tls_profiles.certificate(kind)
    chain = x509.load_pem_x509_certificates(bundle.chain_path.read_bytes())
    _verifier(pki, host).verify(chain[0], chain[1:])


def test_nominal_certificate_chains_to_the_test_root_and_names_the_crl(operator: ReferenceOperator) -> None:
    _verify(operator.pki, "nominal", operator)
    cert = operator.tls_profiles.certificate("nominal").certificate
    points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert points[0].full_name[0].value == operator.crl.url
    assert operator.crl.url.startswith("http://127.0.0.1:")


def test_rogue_ca_certificate_fails_verification_against_the_ca_bundle(operator: ReferenceOperator) -> None:
    rogue = operator.tls_profiles.certificate("rogue").certificate
    assert rogue.issuer == operator.pki.rogue_ca.certificate.subject
    assert rogue.issuer != operator.pki.org_ca.certificate.subject
    with pytest.raises(verification.VerificationError):
        _verify(operator.pki, "rogue", operator)
    client = operator.pki.rogue_client("app-pirate", "CLINIQUE PIRATE", "pfi.clinique@test.mssante.fr")
    assert client.certificate.issuer == operator.pki.rogue_ca.certificate.subject


def test_expired_certificate_fails_verification(operator: ReferenceOperator) -> None:
    cert = operator.tls_profiles.certificate("expired").certificate
    assert cert.not_valid_after_utc < dt.datetime.now(dt.UTC)
    with pytest.raises(verification.VerificationError, match="not valid at validation time"):
        _verify(operator.pki, "expired", operator)


def test_misnamed_certificate_fails_for_the_operator_name(operator: ReferenceOperator) -> None:
    with pytest.raises(verification.VerificationError):
        _verify(operator.pki, "misnamed", operator)
    _verify(operator.pki, "misnamed", operator, host=MISNAMED_HOST)  # valid, only for another name


def test_crl_over_http_lists_the_revoked_certificate_signed_by_the_org_ca(operator: ReferenceOperator) -> None:
    revoked = operator.tls_profiles.certificate("revoked").certificate
    nominal = operator.tls_profiles.certificate("nominal").certificate
    with operator.capture() as cap:
        response = httpx.get(operator.crl.url, timeout=5)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(response.content)
    assert crl.is_signature_valid(operator.pki.org_ca.certificate.public_key())
    assert crl.issuer == operator.pki.org_ca.certificate.subject
    assert crl.get_revoked_certificate_by_serial_number(revoked.serial_number) is not None
    assert crl.get_revoked_certificate_by_serial_number(nominal.serial_number) is None
    assert crl.next_update_utc is not None and crl.next_update_utc > dt.datetime.now(dt.UTC)
    assert [e.service for e in cap.http] == ["crl"]
    root_crl = x509.load_der_x509_crl(httpx.get(operator.crl.root_url, timeout=5).content)
    assert root_crl.is_signature_valid(operator.pki.root.certificate.public_key())


def test_crl_can_be_published_expired(operator: ReferenceOperator) -> None:
    operator.crl.set_expired()
    crl = x509.load_der_x509_crl(httpx.get(operator.crl.url, timeout=5).content)
    assert crl.next_update_utc is not None and crl.next_update_utc < dt.datetime.now(dt.UTC)
    operator.crl.set_expired(False)
    crl = x509.load_der_x509_crl(httpx.get(operator.crl.url, timeout=5).content)
    assert crl.next_update_utc is not None and crl.next_update_utc > dt.datetime.now(dt.UTC)


def test_crl_endpoint_can_be_made_unreachable_and_back(operator: ReferenceOperator) -> None:
    url = operator.crl.url
    operator.crl.set_unreachable()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=2)
    operator.crl.set_reachability("http-error")  # from refused straight to another mode reopens the listener
    assert httpx.get(url, timeout=2).status_code == 503
    operator.crl.set_reachability("timeout")
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(url, timeout=0.5)
    operator.crl.set_unreachable(False)
    assert httpx.get(url, timeout=2).status_code == 200
    with pytest.raises(ValueError):
        operator.crl.set_reachability("maybe")


def test_cached_leaf_is_reused_unless_its_request_changes(tmp_path: Path) -> None:
    pki = TestPki(tmp_path)
    first = pki.server("srv", crl_url="http://127.0.0.1:1/a.crl")
    again = TestPki(tmp_path).server("srv", crl_url="http://127.0.0.1:1/a.crl")
    assert again.certificate.serial_number == first.certificate.serial_number
    moved = TestPki(tmp_path).server("srv", crl_url="http://127.0.0.1:2/a.crl")
    assert moved.certificate.serial_number != first.certificate.serial_number
