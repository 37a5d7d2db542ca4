"""Built-in MSSanté CDA rules: synthetic documents are valid, every injected defect class is caught."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from segur_mss.documents import DOCUMENT_TYPES, PATIENTS, make_cda
from segur_mss.documents.cda import make_pdf
from segur_mss.validators.cda import (
    check_replacement,
    document_codes,
    extract_identity,
    load_cda,
    validate_cda,
)
from segur_mss.validators.model import Finding, ValidationReport

from .helpers import (
    add_related_document,
    add_template_id,
    mutate,
    remove,
    set_attr,
    set_text,
    wrap_self_presenting,
    wrap_signed,
)

QUALIFIED = PATIENTS["qualifie"]


def errors(report: ValidationReport) -> set[str]:
    return report.rule_ids("error")


CONSISTENT_PATIENTS = sorted(k for k, p in PATIENTS.items() if p.ins is None or p.has_qualified_ins)


@pytest.mark.parametrize("patient", CONSISTENT_PATIENTS)
@pytest.mark.parametrize("doc_type", sorted(DOCUMENT_TYPES))
@pytest.mark.parametrize("level", ["N1", "N3"])
def test_synthetic_documents_are_valid(patient: str, doc_type: str, level: str) -> None:
    report = validate_cda(make_cda(PATIENTS[patient], doc_type=doc_type, level=level).xml)
    assert report.valid, [str(f) for f in report.errors]
    assert not report.warnings, [str(f) for f in report.warnings]


def test_replacement_document_is_valid_and_pair_checks() -> None:
    v1 = make_cda(QUALIFIED)
    v2 = make_cda(QUALIFIED, replaces=v1)
    assert validate_cda(v2.xml).valid
    assert check_replacement(v2.xml, v1.xml) == []
    other = make_cda(QUALIFIED, uid_seed="autre")
    rules = {f.rule_id for f in check_replacement(other.xml, v1.xml)}
    assert rules == {"CDA-RPLC-001", "CDA-RPLC-002", "CDA-RPLC-003"}


# ---------------------------------------------------------------------------------------------- defects

DEFECTS = {
    "missing setId": (remove("/h:ClinicalDocument/h:setId"), "CDA-VER-001"),
    "setId nullFlavor": (
        lambda r: (
            r.find("{urn:hl7-org:v3}setId").attrib.clear(),
            r.find("{urn:hl7-org:v3}setId").set("nullFlavor", "NI"),
        ),
        "CDA-VER-001",
    ),
    "missing versionNumber": (remove("/h:ClinicalDocument/h:versionNumber"), "CDA-VER-002"),
    "versionNumber not an integer": (set_attr("/h:ClinicalDocument/h:versionNumber", "value", "v2"), "CDA-VER-002"),
    "missing id": (remove("/h:ClinicalDocument/h:id"), "CDA-ID-001"),
    "missing family BR": (
        remove("//h:recordTarget/h:patientRole/h:patient/h:name/h:family[@qualifier='BR']"),
        "CDA-INS-010",
    ),
    "missing first given BR": (
        remove("//h:recordTarget/h:patientRole/h:patient/h:name/h:given[@qualifier='BR']"),
        "CDA-INS-011",
    ),
    "missing given names list": (
        remove("//h:recordTarget/h:patientRole/h:patient/h:name/h:given[not(@qualifier)]"),
        "CDA-INS-012",
    ),
    "missing birthTime": (remove("//h:recordTarget/h:patientRole/h:patient/h:birthTime"), "CDA-INS-013"),
    "missing gender": (
        remove("//h:recordTarget/h:patientRole/h:patient/h:administrativeGenderCode"),
        "CDA-INS-014",
    ),
    "missing birthplace county": (remove("//h:birthplace"), "CDA-INS-015"),
    "INS too short": (
        set_attr("//h:patientRole/h:id[@root='1.2.250.1.213.1.4.10']", "extension", "12345"),
        "CDA-INS-002",
    ),
    "INS without matricule": (
        lambda r: r.xpath("//h:patientRole/h:id[@root='1.2.250.1.213.1.4.10']", namespaces={"h": "urn:hl7-org:v3"})[
            0
        ].attrib.pop("extension"),
        "CDA-INS-001",
    ),
    "wrong code for the volet (N3)": (set_attr("/h:ClinicalDocument/h:code", "code", "11490-0"), "CDA-CODE-003"),
    "malformed LOINC code": (set_attr("/h:ClinicalDocument/h:code", "code", "CRBIO"), "CDA-CODE-002"),
    "unexpected code system": (set_attr("/h:ClinicalDocument/h:code", "codeSystem", "1.2.3"), "CDA-CODE-002"),
    "missing code": (remove("/h:ClinicalDocument/h:code"), "CDA-CODE-001"),
    "double RPLC": (
        lambda r: (add_related_document("1.2.3.4.5")(r), add_related_document("1.2.3.4.6")(r)),
        "CDA-VER-003",
    ),
    "relatedDocument not RPLC": (add_related_document(type_code="XFRM"), "CDA-VER-004"),
    "RPLC on version 1": (add_related_document(), "CDA-VER-006"),
    "missing confidentialityCode": (remove("/h:ClinicalDocument/h:confidentialityCode"), "CDA-HDR-001"),
    "missing effectiveTime": (remove("/h:ClinicalDocument/h:effectiveTime"), "CDA-HDR-003"),
    "missing HL7 France templateId": (
        remove("/h:ClinicalDocument/h:templateId[@root='2.16.840.1.113883.2.8.2.1']"),
        "CDA-TPL-001",
    ),
    "missing CI-SIS templateId": (
        remove("/h:ClinicalDocument/h:templateId[@root='1.2.250.1.213.1.1.1.1']"),
        "CDA-TPL-002",
    ),
    "N1 body not base64": (set_attr("//h:nonXMLBody/h:text", "representation", "TXT"), "CDA-N1-004"),
    "N1 media type": (set_attr("//h:nonXMLBody/h:text", "mediaType", "image/jpeg"), "CDA-N1-005"),
    "N1 invalid base64": (set_text("//h:nonXMLBody/h:text", "@@@ not base64 @@@"), "CDA-N1-006"),
    "N1 empty body": (set_text("//h:nonXMLBody/h:text", ""), "CDA-N1-006"),
    "N1 not a PDF": (
        set_text("//h:nonXMLBody/h:text", base64.b64encode(b"GIF89a....").decode()),
        "CDA-N1-007",
    ),
    "N1 extra volet templateId": (add_template_id("1.2.250.1.213.1.1.1.55"), "CDA-N1-003"),
    "N1 templateId missing": (
        remove("/h:ClinicalDocument/h:templateId[@root='1.3.6.1.4.1.19376.1.2.20']"),
        "CDA-N1-002",
    ),
}


@pytest.mark.parametrize("name", sorted(DEFECTS))
def test_each_injected_defect_is_caught(name: str) -> None:
    change, rule = DEFECTS[name]
    level = "N3" if "(N3)" in name else "N1"
    xml = mutate(make_cda(QUALIFIED, level=level).xml, change)
    report = validate_cda(xml)
    assert rule in errors(report), (name, [str(f) for f in report.findings])
    finding = next(f for f in report.findings if f.rule_id == rule)
    assert finding.message and finding.location.startswith("/ClinicalDocument")


def test_n1_templateid_on_structured_body() -> None:
    xml = mutate(make_cda(QUALIFIED, level="N3").xml, add_template_id("1.3.6.1.4.1.19376.1.2.20"))
    assert "CDA-N1-001" in errors(validate_cda(xml))


def test_missing_birthplace_with_ins() -> None:
    report = validate_cda(make_cda(PATIENTS["traits_incomplets"]).xml)
    assert errors(report) == {"CDA-INS-015"}
    identity = extract_identity(make_cda(PATIENTS["traits_incomplets"]).xml)
    assert identity.has_ins and not identity.complete and identity.missing_traits == ("birth_county",)
    assert identity.expected_x_mss_ins == "N" and identity.patient_address is None


def test_no_ins_means_no_trait_rule() -> None:
    xml = mutate(make_cda(PATIENTS["sans_ins"]).xml, remove("//h:birthTime"))
    assert validate_cda(xml).valid  # traits are only mandatory with an INS


def test_allowed_codes_list() -> None:
    doc = make_cda(QUALIFIED)
    assert validate_cda(doc.xml, allowed_codes={"11502-2"}).valid
    assert "CDA-CODE-004" in errors(validate_cda(doc.xml, allowed_codes={"11490-0"}))
    unknown = mutate(make_cda(QUALIFIED).xml, set_attr("/h:ClinicalDocument/h:code", "code", "12345-6"))
    report = validate_cda(unknown)
    assert report.valid and report.has("CDA-CODE-005", "info")


def test_schema_location_is_a_warning() -> None:
    xml = mutate(
        make_cda(QUALIFIED).xml,
        set_attr(
            "/h:ClinicalDocument", "{http://www.w3.org/2001/XMLSchema-instance}schemaLocation", "urn:hl7-org:v3 x.xsd"
        ),
    )
    report = validate_cda(xml)
    assert report.valid and report.has("CDA-HDR-002", "warning")


@pytest.mark.parametrize("wrap,kind", [(wrap_self_presenting, "self-presenting"), (wrap_signed, "signed")])
def test_wrapped_roots_validate_the_clinical_document(wrap, kind: str) -> None:
    good = wrap(make_cda(QUALIFIED).xml)
    report = validate_cda(good)
    assert report.valid and report.extra["root_kind"] == kind and report.has("CDA-ROOT-002", "info")
    assert extract_identity(good).ins == QUALIFIED.ins
    bad = wrap(mutate(make_cda(QUALIFIED).xml, remove("/h:ClinicalDocument/h:setId")))
    assert "CDA-VER-001" in errors(validate_cda(bad))


def test_not_a_cda() -> None:
    report = validate_cda(b"<?xml version='1.0'?><html><body/></html>")
    assert errors(report) == {"CDA-ROOT-001"}
    assert extract_identity(b"<x/>").record_targets == 0 and document_codes(b"<x/>") is None


def test_identity_and_codes_extraction() -> None:
    doc = make_cda(PATIENTS["qualifie_2"], doc_type="LDL-SES")
    identity = extract_identity(doc.xml)
    p = PATIENTS["qualifie_2"]
    assert (identity.ins, identity.family_birth, identity.given_birth, identity.given_all) == (
        p.ins,
        p.family_birth,
        p.given_birth,
        p.given_all,
    )
    assert identity.birth_time == "19921103" and identity.gender == "F" and identity.birth_county == "69123"
    assert identity.complete and identity.expected_x_mss_ins == "O"
    assert identity.patient_address == p.patient_address
    assert identity.patient_id_cx == p.patient_id_cx
    assert ("1.2.250.1.999.1.1.1", p.ipp) in identity.all_ids()
    codes = document_codes(doc.xml)
    assert codes.code == "11490-0" and codes.level == "N1" and codes.set_id == doc.set_id and codes.version == "1"
    assert document_codes(make_cda(p, level="N3").xml).level == "N3"
    assert extract_identity(make_cda(PATIENTS["sans_ins"]).xml).expected_x_mss_ins == "N"


def test_text_plain_n1_body() -> None:
    xml = mutate(
        make_cda(QUALIFIED).xml,
        lambda r: (
            set_attr("//h:nonXMLBody/h:text", "mediaType", "text/plain")(r),
            set_text("//h:nonXMLBody/h:text", base64.b64encode("Compte rendu é".encode()).decode())(r),
        ),
    )
    assert validate_cda(xml).valid


def test_load_cda_reports_locations_with_lines() -> None:
    xml = mutate(make_cda(QUALIFIED).xml, remove("//h:birthplace"))
    loaded = load_cda(xml.replace(b"><", b">\n<"))
    assert loaded.cda is not None
    finding = next(f for f in validate_cda(xml.replace(b"><", b">\n<")).findings if f.rule_id == "CDA-INS-015")
    assert finding.line and finding.location == "/ClinicalDocument/recordTarget/patientRole/patient"


def test_report_model_to_dict() -> None:
    report = validate_cda(mutate(make_cda(QUALIFIED).xml, remove("/h:ClinicalDocument/h:setId")))
    d = report.to_dict()
    assert d["valid"] is False and d["counts"]["error"] == 1 and d["validator"] == "segur-mss.cda-builtin"
    assert d["findings"][0]["rule_id"] == "CDA-VER-001" and "version" in d
    with pytest.raises(ValueError):
        Finding("X", "fatal", "/", "x")  # type: ignore[arg-type]
    assert "ERROR CDA-VER-001" in str(report.errors[0])


def test_pdf_helper_produces_accepted_body() -> None:
    doc = make_cda(QUALIFIED, pdf=make_pdf("Résultats"))
    assert validate_cda(doc.xml).valid


# ---------------------------------------------------------------------------------------------- ANS examples

#: Examples of the kit that the built-in rules reject on purpose, with the reason.
KNOWN_BUILTIN_DISAGREEMENTS = {
    "CSE-CS8_2024.01.xml": (
        "CDA-VER-006",
        "relatedDocument RPLC avec versionNumber 1 : la règle ANS (un remplacement incrémente la version) "
        "n'est pas respectée par l'exemple, le kit ne le vérifie pas",
    ),
}


def test_kit_examples_built_in_rules(examples_dir: Path) -> None:
    files = sorted(examples_dir.glob("*.xml"))
    assert len(files) >= 90
    for f in files:
        report = validate_cda(f.read_bytes(), subject=f.name)
        if f.name in KNOWN_BUILTIN_DISAGREEMENTS:
            rule, _reason = KNOWN_BUILTIN_DISAGREEMENTS[f.name]
            assert errors(report) == {rule}, f.name
            continue
        assert report.valid, (f.name, [str(e) for e in report.errors])
        # every example has a patient; those with an INS carry complete traits
        identity = extract_identity(f.read_bytes())
        assert identity.record_targets == 1, f.name
        if identity.has_ins:
            assert identity.complete, (f.name, identity.missing_traits)
