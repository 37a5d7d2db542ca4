"""MSSanté mail validator: pure header checks and the full validation of synthetic mails."""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import default as default_policy

import pytest

from segur_mss.documents import PATIENTS, build_xdm, make_cda
from segur_mss.documents.mail import DEFAULT_NIL, build_document_mail, build_plain_mail
from segur_mss.validators.cda import extract_identity
from segur_mss.validators.mail import (
    check_identification_headers,
    check_one_patient,
    check_patient_addresses,
    check_subject,
    check_text_parts,
    check_x_mss_codecda,
    check_x_mss_ins,
    check_x_mss_mes,
    check_x_mss_nil,
    codecda_values,
    header_values,
    inspect_mail,
    parse_message,
    validate_mail,
)

P = PATIENTS["qualifie"]


def msg_with(**headers: str | list[str]) -> EmailMessage:
    msg = EmailMessage(policy=default_policy)
    for name, value in headers.items():
        for v in value if isinstance(value, list) else [value]:
            msg[name.replace("_", "-")] = v
    msg.set_content("Bonjour\n")
    return msg


def rules(findings) -> set[str]:
    return {f.rule_id for f in findings if f.severity == "error"}


def test_header_values_all_occurrences() -> None:
    msg = msg_with(X_MSS_CODECDA=["11502-2", " 18748-4 "])
    assert header_values(msg, "X-MSS-CODECDA") == ["11502-2", "18748-4"]
    assert header_values(msg, "X-Absent") == []


def test_x_mss_nil() -> None:
    assert check_x_mss_nil(msg_with(X_MSS_NIL="REF-1"), "REF-1") == []
    assert check_x_mss_nil(msg_with(X_MSS_NIL="REF-1")) == []
    assert rules(check_x_mss_nil(msg_with(), "REF-1")) == {"MAIL-NIL-001"}
    assert rules(check_x_mss_nil(msg_with(X_MSS_NIL="AUTRE"), "REF-1")) == {"MAIL-NIL-004"}
    assert rules(check_x_mss_nil(msg_with(X_MSS_NIL=["REF-1", "REF-1"]), "REF-1")) == {"MAIL-NIL-002"}
    assert rules(check_x_mss_nil(msg_with(X_MSS_NIL=""), None)) == {"MAIL-NIL-003"}
    finding = check_x_mss_nil(msg_with(), "REF-1")[0]
    assert finding.requirement == "SC.MSS/CONF.16" and finding.location == "header:X-MSS-NIL"


@pytest.mark.parametrize(
    "values,form",
    [
        ([], "absent"),
        (["11502-2"], "single"),
        (["11502-2", "18748-4"], "repeated"),
        (["11502-2, 18748-4"], "comma"),
        (["11502-2,18748-4", "11490-0"], "mixed"),
    ],
)
def test_codecda_forms(values: list[str], form: str) -> None:
    header = codecda_values(msg_with(X_MSS_CODECDA=values) if values else msg_with())
    assert header.form == form


def test_x_mss_codecda_rules() -> None:
    codes = ["11502-2", "18748-4"]
    for form in (["11502-2", "18748-4"], ["11502-2,18748-4"], ["18748-4, 11502-2"]):
        findings = check_x_mss_codecda(msg_with(X_MSS_CODECDA=form), codes)
        assert rules(findings) == set() and any(f.rule_id == "MAIL-CODECDA-004" for f in findings)
    assert rules(check_x_mss_codecda(msg_with(), codes)) == {"MAIL-CODECDA-002"}
    assert rules(check_x_mss_codecda(msg_with(X_MSS_CODECDA="11502-2"), [])) == {"MAIL-CODECDA-001"}
    assert rules(check_x_mss_codecda(msg_with(X_MSS_CODECDA="11490-0"), codes)) == {"MAIL-CODECDA-003"}
    dup = check_x_mss_codecda(msg_with(X_MSS_CODECDA="11502-2"), ["11502-2", "11502-2"])
    assert rules(dup) == set() and any(f.rule_id == "MAIL-CODECDA-005" for f in dup)
    assert check_x_mss_codecda(msg_with(), []) == []


@pytest.mark.parametrize("patient,expected", [("qualifie", "O"), ("sans_ins", "N"), ("traits_incomplets", "N")])
def test_x_mss_ins_follows_the_cda(patient: str, expected: str) -> None:
    identities = [extract_identity(make_cda(PATIENTS[patient]).xml)]
    assert check_x_mss_ins(msg_with(X_MSS_INS=expected), identities) == []
    wrong = "N" if expected == "O" else "O"
    assert rules(check_x_mss_ins(msg_with(X_MSS_INS=wrong), identities)) == {"MAIL-INS-004"}
    assert rules(check_x_mss_ins(msg_with(), identities)) == {"MAIL-INS-001"}
    assert rules(check_x_mss_ins(msg_with(X_MSS_INS="oui"), identities)) == {"MAIL-INS-003"}
    assert check_x_mss_ins(msg_with(), []) == []
    assert [f.rule_id for f in check_x_mss_ins(msg_with(X_MSS_INS="O"), [])] == ["MAIL-INS-002"]


def test_x_mss_mes() -> None:
    to_patient = {"To": P.patient_address}
    assert check_x_mss_mes(msg_with(X_MSS_MES="FIN", **to_patient)) == []
    assert check_x_mss_mes(msg_with()) == []
    assert rules(check_x_mss_mes(msg_with(), required=True)) == {"MAIL-MES-001"}
    assert rules(check_x_mss_mes(msg_with(X_MSS_MES="fin", **to_patient))) == {"MAIL-MES-002"}
    assert rules(check_x_mss_mes(msg_with(X_MSS_MES="FIN ", **to_patient))) == {"MAIL-MES-002"}
    assert rules(check_x_mss_mes(msg_with(X_MSS_MES="FINI", **to_patient))) == {"MAIL-MES-002"}
    not_patient = check_x_mss_mes(msg_with(X_MSS_MES="FIN", To="dr@test.mssante.fr"))
    assert [f.rule_id for f in not_patient] == ["MAIL-MES-003"]


def test_subject_and_identification_headers() -> None:
    assert check_subject(msg_with(Subject="XDM/1.0/DDM+CR BIO NOM Prénom 01/01/2000"), has_documents=True) == []
    assert [f.rule_id for f in check_subject(msg_with(Subject="Compte rendu"), has_documents=True)] == ["MAIL-SUBJ-001"]
    assert [f.rule_id for f in check_subject(msg_with(Subject="XDM/1.0/DDM+CR"), has_documents=True)] == [
        "MAIL-SUBJ-002"
    ]
    assert check_subject(msg_with(Subject="Bonjour"), has_documents=False) == []
    good = msg_with(
        From="Dr A <a@test.fr>",
        Date="Wed, 15 Jan 2025 10:35:00 +0100",
        Message_ID="<1@test.fr>",
        In_Reply_To="<0@test.fr>",
        References="<x@test.fr> <0@test.fr>",
    )
    assert check_identification_headers(good) == []
    bad = msg_with(From="a@test.fr", Message_ID="pas-un-id", In_Reply_To="<0@test.fr>", References="<x@test.fr>")
    found = {f.rule_id for f in check_identification_headers(bad)}
    assert {"MAIL-HDR-001", "MAIL-HDR-003", "MAIL-ID-002", "MAIL-ID-005"} <= found
    assert "MAIL-ID-001" in rules(check_identification_headers(msg_with(From="a@b.fr")))


def test_text_parts_must_be_utf8() -> None:
    msg = EmailMessage(policy=default_policy)
    msg["From"] = "a@b.fr"
    msg.set_content("Données médicales", charset="iso-8859-1")
    assert rules(check_text_parts(msg)) == {"MAIL-TEXT-001"}
    ok = EmailMessage(policy=default_policy)
    ok.set_content("Données", charset="utf-8")
    assert check_text_parts(ok) == []
    html = EmailMessage(policy=default_policy)
    html.set_content("<p>x</p>", subtype="html")
    html.make_mixed()
    assert {f.rule_id for f in check_text_parts(html)} == set()


def test_patient_address_only_from_qualified_ins() -> None:
    qualified = [extract_identity(make_cda(P).xml)]
    assert check_patient_addresses(msg_with(To=P.patient_address), qualified) == []
    incomplete = PATIENTS["traits_incomplets"]
    ids = [extract_identity(make_cda(incomplete).xml)]
    assert rules(check_patient_addresses(msg_with(To=f"{incomplete.ins}@patient.mssante.fr"), ids)) == {"MAIL-PAT-002"}
    assert rules(check_patient_addresses(msg_with(To="dupont@patient.mssante.fr"), qualified)) == {"MAIL-PAT-001"}
    other = PATIENTS["qualifie_2"].patient_address
    assert rules(check_patient_addresses(msg_with(To=other), qualified)) == {"MAIL-PAT-002"}


def test_one_patient_per_message() -> None:
    ids = [extract_identity(make_cda(P).xml), extract_identity(make_cda(PATIENTS["qualifie_2"]).xml)]
    assert rules(check_one_patient(ids)) == {"MAIL-PAT-003"}
    assert check_one_patient(ids[:1] * 2) == []


# ---------------------------------------------------------------------------------------------- full messages


@pytest.mark.parametrize("patient", ["qualifie", "qualifie_2", "qualifie_3", "sans_ins"])
@pytest.mark.parametrize("form", ["repeated", "comma"])
def test_conformant_document_mails(patient: str, form: str) -> None:
    p = PATIENTS[patient]
    docs = [make_cda(p), make_cda(p, doc_type="CR-IMG")]
    msg = build_document_mail(docs, p, codecda_form=form, to=[p.patient_address or "dr@test.mssante.fr"])
    insp = inspect_mail(msg.as_bytes(), expected_nil=DEFAULT_NIL)
    assert insp.report.valid, [str(f) for f in insp.report.findings]
    assert not insp.report.warnings, [str(f) for f in insp.report.warnings]
    assert insp.report.extra["x_mss_codecda_form"] == form
    assert insp.cda_codes == ["11502-2", "18748-4"]
    assert insp.report.extra["expected_x_mss_ins"] == ("O" if p.has_qualified_ins else "N")


def test_plain_mail() -> None:
    report = validate_mail(build_plain_mail().as_bytes(), expected_nil=DEFAULT_NIL)
    assert report.valid and not report.warnings, [str(f) for f in report.findings]
    assert rules(validate_mail(build_plain_mail(nil=None).as_bytes()).findings) == {"MAIL-NIL-001"}


@pytest.mark.parametrize(
    "kwargs,rule",
    [
        ({"nil": None}, "MAIL-NIL-001"),
        ({"ins_flag": "N"}, "MAIL-INS-004"),
        ({"message_id": "sans-chevrons"}, "MAIL-ID-002"),
    ],
)
def test_defective_document_mails(kwargs: dict, rule: str) -> None:
    msg = build_document_mail([make_cda(P)], P, **kwargs)
    assert rule in validate_mail(msg.as_bytes(), expected_nil=DEFAULT_NIL).rule_ids("error")


def test_codecda_absent_and_wrong() -> None:
    msg = build_document_mail([make_cda(P)], P)
    del msg["X-MSS-CODECDA"]
    assert "MAIL-CODECDA-002" in validate_mail(msg.as_bytes()).rule_ids("error")
    msg["X-MSS-CODECDA"] = "11490-0"
    assert "MAIL-CODECDA-003" in validate_mail(msg.as_bytes()).rule_ids("error")


def test_mail_with_two_patients() -> None:
    other = PATIENTS["qualifie_2"]
    xdm_a = build_xdm([make_cda(P)], P)
    msg = build_document_mail([make_cda(P)], P, xdm=xdm_a)
    msg.add_attachment(
        build_xdm([make_cda(other)], other), maintype="application", subtype="zip", filename="IHE_XDM.zip"
    )
    report = validate_mail(msg.as_bytes())
    assert "MAIL-PAT-003" in report.rule_ids("error")


def test_xdm_findings_are_located_in_the_attachment() -> None:
    archive = build_xdm([make_cda(P)], P)
    broken = archive.replace(b"README.TXT", b"READXX.TXT")  # renames the entry in both headers
    msg = build_document_mail([make_cda(P)], P, xdm=broken)
    report = validate_mail(msg.as_bytes())
    finding = next(f for f in report.findings if f.rule_id == "XDM-LAYOUT-001")
    assert finding.location.startswith("IHE_XDM.zip!")


def test_parse_message_accepts_bytes_str_and_message() -> None:
    msg = build_plain_mail()
    assert parse_message(msg) is msg
    assert str(parse_message(msg.as_string())["X-MSS-NIL"]) == DEFAULT_NIL
    assert str(parse_message(msg.as_bytes())["X-MSS-NIL"]) == DEFAULT_NIL
