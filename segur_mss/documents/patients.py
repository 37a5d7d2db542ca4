"""Synthetic patients (test INS OID only) and a synthetic health professional.

Every identity here is invented. INS matricules are built as NIR (13 digits) + key (97 - NIR mod 97) so
that they look like real NIR-based INS, and they are always issued under the *test* INS OID
``1.2.250.1.213.1.4.10``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

INS_NIR_OID = "1.2.250.1.213.1.4.8"
INS_NIA_OID = "1.2.250.1.213.1.4.9"
INS_NIR_TEST_OID = "1.2.250.1.213.1.4.10"
INS_NIR_DEMO_OID = "1.2.250.1.213.1.4.11"
#: OIDs that identify an INS (the matricule is in ``@extension``).
INS_OIDS: frozenset[str] = frozenset({INS_NIR_OID, INS_NIA_OID, INS_NIR_TEST_OID, INS_NIR_DEMO_OID})

#: Synthetic OID of the (invented) establishment issuing local patient identifiers (IPP).
SYNTHETIC_IPP_OID = "1.2.250.1.999.1.1.1"
RPPS_OID = "1.2.250.1.71.4.2.1"
ORGANIZATION_OID = "1.2.250.1.71.4.2.2"

PATIENT_DOMAIN = "patient.mssante.fr"


def nir_key(nir13: str) -> str:
    """Control key of a 13-character NIR (Corsica ``2A``/``2B`` handled)."""
    digits = nir13.upper().replace("2A", "19").replace("2B", "18")
    return f"{97 - int(digits) % 97:02d}"


def make_ins(nir13: str) -> str:
    """15-character INS matricule from a 13-character NIR."""
    if len(nir13) != 13:
        raise ValueError(f"NIR must have 13 characters, got {nir13!r}")
    return nir13 + nir_key(nir13)


def ins_key_is_valid(ins: str) -> bool:
    """True when ``ins`` is 15 characters and its last two digits are the NIR key."""
    if len(ins) != 15 or not ins[13:].isdigit():
        return False
    try:
        return nir_key(ins[:13]) == ins[13:]
    except ValueError:
        return False


@dataclass(frozen=True)
class Patient:
    """A synthetic patient and the identity traits the CDA header carries."""

    key: str
    family_birth: str
    given_birth: str
    given_all: str
    birth_date: datetime.date
    gender: str
    birth_county: str | None
    ins: str | None
    ins_oid: str = INS_NIR_TEST_OID
    ipp: str = ""
    ipp_oid: str = SYNTHETIC_IPP_OID
    family_used: str | None = None
    given_used: str | None = None
    birth_city: str | None = None
    address_lines: tuple[str, ...] = ()
    postal_code: str = "75000"
    city: str = "PARIS"

    @property
    def has_qualified_ins(self) -> bool:
        """An INS is present together with every mandatory birth trait."""
        return bool(
            self.ins
            and self.family_birth
            and self.given_birth
            and self.given_all
            and self.birth_date
            and self.gender
            and self.birth_county
        )

    @property
    def patient_address(self) -> str | None:
        """The Mon Espace Santé address, only for a qualified INS."""
        if not self.has_qualified_ins:
            return None
        return f"{self.ins}@{PATIENT_DOMAIN}"

    @property
    def patient_id_cx(self) -> str:
        """HL7 CX form used in XDM ``patientId``: INS when present, else the local IPP."""
        if self.ins:
            return f"{self.ins}^^^&{self.ins_oid}&ISO^NH"
        return self.source_patient_id_cx

    @property
    def source_patient_id_cx(self) -> str:
        """HL7 CX form of the local identifier (XDM ``sourcePatientId``)."""
        return f"{self.ipp}^^^&{self.ipp_oid}&ISO^PI"

    @property
    def display_name(self) -> str:
        """``NOM Prénom`` as used in mail subjects."""
        return f"{self.family_birth} {self.given_birth}"


@dataclass(frozen=True)
class Professional:
    """A synthetic health professional (RPPS-like identifier) and their organisation."""

    idnps: str = "899700000017"  # "8" + synthetic 11-digit RPPS
    family: str = "MEDECIN-TEST"
    given: str = "Jean"
    prefix: str = "M"  # civility (JDV_J245: M, MME…)
    title: str = "DR"  # title (JDV_J246), written as name/suffix
    profession_code: str = "G15_10/SM03"
    profession_display: str = "Médecin - Biologie médicale (SM)"
    profession_system: str = "1.2.250.1.213.1.1.4.5"
    organization_id: str = "1999000017"
    organization_name: str = "Laboratoire de test Ségur"
    facility_code: str = "SA25"
    facility_display: str = "Laboratoire de biologie médicale"
    practice_setting_code: str = "AMBULATOIRE"
    practice_setting_display: str = "Ambulatoire"
    mailbox: str = "jean.medecin-test@test.mssante.fr"
    phone: str = "tel:0100000000"
    house_number: str = "1"
    street_name: str = "rue de l'Essai"
    postal_code: str = "75013"
    city: str = "PARIS"
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def street(self) -> str:
        return f"{self.house_number} {self.street_name}"

    @property
    def display_name(self) -> str:
        """``DR Jean MEDECIN-TEST``."""
        return " ".join(x for x in (self.title, self.given, self.family) if x)

    @property
    def xcn(self) -> str:
        """XDS ``authorPerson`` / ``legalAuthenticator`` value."""
        return f"{self.idnps}^{self.family}^{self.given}^^^^^^&{RPPS_OID}&ISO^D^^^IDNPS"

    @property
    def xon(self) -> str:
        """XDS ``authorInstitution`` value."""
        return f"{self.organization_name}^^^^^&{ORGANIZATION_OID}&ISO^IDNST^^^{self.organization_id}"


DEFAULT_AUTHOR = Professional()

PATIENTS: dict[str, Patient] = {
    p.key: p
    for p in (
        Patient(
            key="qualifie",
            family_birth="SEGUR-TEST",
            given_birth="CAMILLE",
            given_all="CAMILLE MARIE",
            birth_date=datetime.date(1985, 5, 14),
            gender="F",
            birth_county="75056",
            birth_city="PARIS",
            ins=make_ins("2850575056123"),
            ipp="IPP0000001",
            address_lines=("12 rue des Essais",),
            postal_code="75013",
        ),
        Patient(
            key="qualifie_2",
            family_birth="DÉSIRÉ-TEST",
            given_birth="ÉLOÏSE",
            given_all="ÉLOÏSE FRANÇOISE",
            birth_date=datetime.date(1992, 11, 3),
            gender="F",
            birth_county="69123",
            birth_city="LYON",
            ins=make_ins("2921169123045"),
            ipp="IPP0000002",
            family_used="MARTIN-TEST",
            given_used="ÉLOÏSE",
            postal_code="69003",
            city="LYON",
        ),
        Patient(
            key="qualifie_3",
            family_birth="OLIVEIRA-TEST",
            given_birth="JOAO",
            given_all="JOAO PEDRO",
            birth_date=datetime.date(1970, 2, 27),
            gender="M",
            birth_county="99139",  # born abroad (Portugal), COG country code
            birth_city=None,
            ins=make_ins("1700299139077"),
            ipp="IPP0000003",
            postal_code="33000",
            city="BORDEAUX",
        ),
        Patient(
            key="sans_ins",
            family_birth="SANSINS-TEST",
            given_birth="LUC",
            given_all="LUC",
            birth_date=datetime.date(2001, 7, 21),
            gender="M",
            birth_county=None,
            ins=None,
            ipp="IPP0000004",
        ),
        Patient(
            key="traits_incomplets",
            family_birth="INCOMPLET-TEST",
            given_birth="ALEX",
            given_all="ALEX",
            birth_date=datetime.date(1964, 9, 9),
            gender="M",
            birth_county=None,  # birthplace unknown: the INS traits are incomplete
            ins=make_ins("1640975056201"),
            ipp="IPP0000005",
        ),
    )
}


def get_patient(key: str) -> Patient:
    """The synthetic patient named ``key`` (raises KeyError with the known keys)."""
    try:
        return PATIENTS[key]
    except KeyError:
        raise KeyError(f"unknown synthetic patient {key!r}; known: {sorted(PATIENTS)}") from None
