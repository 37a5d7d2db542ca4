"""Unit tests of the reference candidate's pieces that need no operator: faulty catalogue shape, traces,
CRL checks, TLS helpers, auto-configuration document, identity comparison, settings."""

from __future__ import annotations

import datetime as dt
import inspect
import json
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from segur_mss.candidates.autoconfig_client import AutoconfigError, candidate_urls, parse_mozilla
from segur_mss.candidates.base import Action
from segur_mss.candidates.faulty import FAULTY_CLASSES
from segur_mss.candidates.inbox import identity_differences
from segur_mss.candidates.psc_client import PscConfiguration
from segur_mss.candidates.reference import ReferenceCandidate
from segur_mss.candidates.revocation import CrlCache
from segur_mss.candidates.settings import ReferenceSettings
from segur_mss.candidates.spec import load_defects
from segur_mss.candidates.tls_policy import TlsRefused, certificate_names_host, describe_tls_error
from segur_mss.candidates.traces import TraceEvent, TraceJournal
from segur_mss.documents.cda import make_cda
from segur_mss.documents.patients import get_patient
from segur_mss.validators.cda import extract_identity


# -- the faulty catalogue ----------------------------------------------------------------------------------------
def test_every_defect_has_its_class_and_requirement() -> None:
    defects = load_defects()
    assert set(defects) == set(FAULTY_CLASSES)
    assert all(d.requirement.startswith("SC.MSS/") and d.description for d in defects.values())


@pytest.mark.parametrize("name", sorted(FAULTY_CLASSES))
def test_each_faulty_candidate_overrides_exactly_one_rule(name: str) -> None:
    cls = FAULTY_CLASSES[name]
    overridden = set()
    for klass in cls.__mro__:
        if klass is ReferenceCandidate:
            break
        overridden |= {k for k, v in vars(klass).items() if inspect.isfunction(v) and hasattr(ReferenceCandidate, k)}
    assert len(overridden) == 1, overridden


def test_reference_declares_what_it_implements() -> None:
    declared = ReferenceCandidate.capabilities(object.__new__(ReferenceCandidate))  # type: ignore[arg-type]
    assert declared == frozenset(Action) - {Action.ATTEST}
    assert all(callable(getattr(ReferenceCandidate, a.value, None)) for a in declared)


# -- traces --------------------------------------------------------------------------------------------------------
def test_trace_journal_purges_old_entries_and_filters(tmp_path: Path) -> None:
    path = tmp_path / "traces.jsonl"
    old = (dt.datetime.now().astimezone() - dt.timedelta(days=200)).isoformat(timespec="milliseconds")
    path.write_text(json.dumps({"horodatage": old, "action": "envoi"}) + "\n", encoding="utf-8")
    journal = TraceJournal(path, lambda: {"bal": "a@test.mssante.fr"}, retention_days=183)
    assert journal.entries() == []
    entry = journal.record(TraceEvent("envoi", "echec", "smtp", "MAIL FROM:<a>", "550 5.1.1"))
    assert entry["auteur"] == {"bal": "a@test.mssante.fr"} and entry["horodatage"][-6] in "+-"
    assert journal.entries(since=entry["horodatage"]) == [entry]
    assert journal.entries(since="2999-01-01T00:00:00") == []


# -- CRL -----------------------------------------------------------------------------------------------------------
def _ca(name: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=9))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return cert, key


def _crl(issuer: x509.Certificate, key: ec.EllipticCurvePrivateKey, *, next_days: int = 7) -> bytes:
    now = dt.datetime.now(dt.UTC)
    last = now - dt.timedelta(days=10 if next_days < 0 else 0, hours=1)
    crl = (x509.CertificateRevocationListBuilder().issuer_name(issuer.subject)
           .last_update(last).next_update(now + dt.timedelta(days=next_days))
           .sign(key, hashes.SHA256()))
    return crl.public_bytes(serialization.Encoding.DER)


def test_crl_must_come_from_the_issuer_and_be_current() -> None:
    issuer, key = _ca("AC ORG")
    other, other_key = _ca("AC ORG")  # same name, other key
    assert CrlCache._valid(_crl(issuer, key), issuer) is not None
    assert CrlCache._valid(_crl(other, other_key), issuer) is None
    assert CrlCache._valid(_crl(issuer, key, next_days=-1), issuer) is None
    assert CrlCache._valid(b"pas une LCR", issuer) is None


def test_certificate_without_distribution_point_is_not_checked() -> None:
    issuer, _key = _ca("AC")
    status = CrlCache().check([issuer])
    assert not status.checked and "point de distribution" in status.detail


# -- TLS helpers ---------------------------------------------------------------------------------------------------
def test_host_names_and_addresses() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")])
    now = dt.datetime.now(dt.UTC)
    san = x509.SubjectAlternativeName([x509.DNSName("*.test.mssante.fr"),
                                       x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(2).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(san, critical=False).sign(key, hashes.SHA256()))
    assert certificate_names_host(cert, "imap.test.mssante.fr") and certificate_names_host(cert, "127.0.0.1")
    assert not certificate_names_host(cert, "test.mssante.fr") and not certificate_names_host(cert, "127.0.0.2")


def test_tls_errors_are_named() -> None:
    assert describe_tls_error(ssl.SSLError(1, "[SSL: UNSUPPORTED_PROTOCOL] unsupported protocol")).code == "tls_version"
    assert describe_tls_error(ssl.SSLError(1, "[SSL: NO_SHARED_CIPHER] no shared cipher")).code == "tls_cipher"
    refused = TlsRefused("certificat_revoque", "révoqué")
    assert describe_tls_error(refused) is refused


# -- auto-configuration ------------------------------------------------------------------------------------------
MOZILLA = b"""<clientConfig version="1.1"><emailProvider id="test.mssante.fr">
<incomingServer type="imap"><hostname>imap.example</hostname><port>993</port><socketType>SSL</socketType>
<authentication>OAuth2</authentication></incomingServer>
<incomingServer type="imap"><hostname>imap.example</hostname><port>143</port><socketType>STARTTLS</socketType>
</incomingServer>
<incomingServer type="imap"><hostname>imap.example</hostname><port>1143</port><socketType>plain</socketType>
</incomingServer>
<outgoingServer type="smtp"><hostname>smtp.example</hostname><port>587</port><socketType>STARTTLS</socketType>
</outgoingServer></emailProvider></clientConfig>"""


def test_autoconfig_prefers_starttls_and_never_plain() -> None:
    imap, smtp, auth = parse_mozilla(MOZILLA, "a@test.mssante.fr")
    assert (imap.port, imap.tls, smtp.port, smtp.tls, auth) == (143, "starttls", 587, "starttls", "OAuth2")
    with pytest.raises(AutoconfigError):
        parse_mozilla(b"<clientConfig/>", "a@test.mssante.fr")
    urls = candidate_urls("a@test.mssante.fr", "https://operateur:8443")
    assert urls[0].startswith("https://operateur:8443/mail/config-v1.1.xml?emailaddress=a@test.mssante.fr")
    assert "https://autoconfig.test.mssante.fr/mail/config-v1.1.xml" in urls[2]


# -- identity comparison, settings, PSC configuration -----------------------------------------------------------
def test_identity_compared_trait_by_trait() -> None:
    patient = get_patient("qualifie")
    assert identity_differences(patient, extract_identity(make_cda(patient).xml)) == []
    other = get_patient("qualifie_2")
    assert "family_birth" in identity_differences(patient, extract_identity(make_cda(other).xml))


def test_settings_from_options() -> None:
    settings = ReferenceSettings.from_options({"tls12_ciphers": "ECDHE-ECDSA-AES256-GCM-SHA384", "reconnect_delay": "2",
                                               "inconnu": 1})
    assert settings.tls12_ciphers == ("ECDHE-ECDSA-AES256-GCM-SHA384",) and settings.reconnect_delay == 2.0


def test_psc_flow_choice() -> None:
    base = {"issuer": "https://psc/realm", "client_id": "lps"}
    assert PscConfiguration.from_env(base).flow == "authorization_code"
    assert PscConfiguration.from_env(base | {"ciba_auto_approve": True}).flow == "ciba"
    assert PscConfiguration.from_env(base, "ciba").flow == "ciba"
    assert PscConfiguration.from_env({}) is None
