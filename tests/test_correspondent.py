"""The harness as a correspondent (segur_mss/correspondent.py): each crafted mail provokes its ANS code at the
reference candidate's rules, answers are found by reference or address, MDNs are judged, listings are read."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.policy
from email.message import EmailMessage

import pytest

from segur_mss.candidates.inbox import (
    LocalPatients,
    has_ddm_subject,
    has_xdm_attachment,
    identity_differences,
    read_documents,
    xdm_archive,
)
from segur_mss.correspondent import (
    UNKNOWN_PATIENT,
    Correspondent,
    ReceptionListing,
    answers_to,
    belongs_to,
    judge_mdn,
    notifications_about,
    referenced_ids,
)
from segur_mss.documents.patients import PATIENTS, get_patient
from segur_mss.operator.identities import load_population
from segur_mss.operator.recording import Submission
from segur_mss.validators.mdn import build_integration_mdn

BAL = "claire.martin@test.mssante.fr"


@pytest.fixture
def correspondent() -> Correspondent:
    return Correspondent(load_population(), BAL, seed="test")


def _submission(raw: bytes, rcpt: str, number: int = 1) -> Submission:
    return Submission(id=f"msg-{number:04d}", transcript_id="", mail_from=BAL, rcpt_tos=[rcpt], mail_options=[],
                      rcpt_options=[[]], raw=raw, mailbox=BAL, mechanism="XOAUTH2", tls={}, received_at="")


def _code_at_reference_rules(mail) -> int | None:  # the reference candidate's decision, step by step
    documents, _ = read_documents(xdm_archive(mail.message))
    if not documents:
        return 906
    identity = documents[0].identity
    if not identity.has_ins:
        return 903
    if not identity.complete:
        return 905
    patient = LocalPatients(("qualifie",)).by_ins(identity.ins or "")
    if patient is None:
        return 902
    return 904 if identity_differences(patient, identity) else None


@pytest.mark.parametrize("code", [902, 903, 904, 905, 906])
def test_each_failing_mail_provokes_its_code(correspondent: Correspondent, code: int) -> None:
    mail = correspondent.failing_mail(code, "qualifie")
    assert mail.expected_code == code and has_xdm_attachment(mail.message) and has_ddm_subject(mail.message)
    assert _code_at_reference_rules(mail) == code
    assert mail.receipt_to == mail.return_path == correspondent.address  # an MDN may be sent automatically


def test_unknown_patient_is_unknown_to_every_synthetic_base() -> None:
    assert UNKNOWN_PATIENT.has_qualified_ins
    assert UNKNOWN_PATIENT.ins not in {p.ins for p in PATIENTS.values()}


def test_integrable_mail_and_its_envelope(correspondent: Correspondent) -> None:
    mail = correspondent.document_mail("qualifie", receipt=True)
    assert _code_at_reference_rules(mail) is None
    assert mail.message_id.endswith("@correspondant.segur-mss.test>") and mail.message_id.startswith("<test-")
    assert str(mail.message["From"]).endswith(f"<{correspondent.address}>")
    elsewhere = correspondent.failing_mail(904, "qualifie", receipt_elsewhere=True)
    assert elsewhere.receipt_to == correspondent.other_address != elsewhere.return_path
    ordinary = correspondent.document_mail("qualifie", ordinary_subject=True)
    assert has_xdm_attachment(ordinary.message) and not has_ddm_subject(ordinary.message)
    assert "IHE_XDM.zip (base64)" in " ".join(w for w, _ in ordinary.content)


def test_replacements(correspondent: Correspondent) -> None:
    first = correspondent.document_mail("qualifie")
    (v1,) = first.documents
    good = correspondent.replacement_mail(first)
    (v2,) = good.documents
    assert (v2.set_id, v2.version, v2.replaces_id) == (v1.set_id, 2, v1.unique_id) and good.expected_code is None
    same = correspondent.replacement_mail(first, same_version=True)
    (doc,) = read_documents(xdm_archive(same.message))[0]
    assert (doc.version, doc.set_id, same.expected_code) == (1, v1.set_id, 900)
    other = correspondent.replacement_mail(first, other_author=True, receipt=True)
    (doc,) = read_documents(xdm_archive(other.message))[0]
    assert other.expected_code == 901 and doc.organisation != read_documents(xdm_archive(first.message))[0][0].organisation
    assert other.receipt_to == correspondent.other_address  # the other professional asks for the MDN
    orphan = correspondent.failing_mail(900, "qualifie")
    assert read_documents(xdm_archive(orphan.message))[0][0].replaces


def test_subject_only_and_patient_mail(correspondent: Correspondent) -> None:
    ddm = correspondent.ddm_subject_mail("XDM/1.0/DDM+Compte rendu")
    assert has_ddm_subject(ddm.message) and not has_xdm_attachment(ddm.message)
    with pytest.raises(ValueError):
        correspondent.ddm_subject_mail("Compte rendu")
    patient = correspondent.patient_mail("qualifie")
    assert patient.return_path == f"{get_patient('qualifie').ins}@patient.mssante.fr"
    assert "[contenu-harnais" not in patient.subject  # what a person looks at stays readable
    marked = correspondent.ordinary_mail(mark_subject=True)
    assert ("objet du courriel", marked.subject) in marked.content


def test_mismatching_identity_differs_by_birth_date_only(correspondent: Correspondent) -> None:
    known = get_patient("qualifie")
    other = correspondent.mismatching(known)
    assert other.ins == known.ins and other.birth_date == known.birth_date + dt.timedelta(days=1)
    assert dataclasses.replace(other, birth_date=known.birth_date) == known


def test_answers_are_found_by_reference_or_by_address(correspondent: Correspondent) -> None:
    mail = correspondent.failing_mail(903, "qualifie")
    other = correspondent.failing_mail(902, "qualifie")
    mdn = build_integration_mdn(mail.message, reporting_mailbox=BAL, error_code=903)
    stale = build_integration_mdn(other.message, reporting_mailbox=BAL, error_code=902)
    plain = EmailMessage(policy=email.policy.default)
    plain["From"], plain["To"], plain["Subject"] = BAL, correspondent.address, "Intégration : erreur 903"
    plain.set_content("résultat\n")
    subs = [_submission(bytes(mdn), correspondent.address, 1), _submission(bytes(stale), correspondent.address, 2),
            _submission(bytes(plain), correspondent.address, 3)]
    assert [s.id for s in answers_to(mail, subs)] == ["msg-0001", "msg-0003"]
    assert referenced_ids(mdn) >= {mail.message_id.strip("<>").lower()}
    unrelated = _submission(bytes(plain), "sophie.leroy@test.mssante.fr", 4)
    assert answers_to(mail, [unrelated]) == []


def test_judge_mdn_adds_final_recipient_and_subject_rules(correspondent: Correspondent) -> None:
    mail = correspondent.failing_mail(904, "qualifie")
    good = build_integration_mdn(mail.raw, reporting_mailbox=BAL, error_code=904, original_recipient=BAL)
    assert judge_mdn(bytes(good), mail, 904, BAL).valid
    wrong_box = build_integration_mdn(mail.raw, reporting_mailbox="autre@test.mssante.fr", error_code=904)
    assert "MDN-R01" in {f.rule_id for f in judge_mdn(bytes(wrong_box), mail, 904, BAL).findings}
    assert "MDN-012" in {f.rule_id for f in judge_mdn(bytes(good), mail, 902, BAL).findings}


def test_listing_and_notifications() -> None:
    qualifie = get_patient("qualifie")
    assert ReceptionListing.from_data({}) is None and ReceptionListing.from_data(None) is None
    listing = ReceptionListing.from_data({
        "documents": [{"ref": "doc-1", "ins": qualifie.ins, "message_id": "<A@x>", "set_id": "s", "version": 1,
                       "status": "precedent", "title": "CR"},
                      {"ref": "doc-2", "patient": "qualifie", "message_id": "<b@x>", "set_id": "s", "version": 2,
                       "status": "courant"}],
        "attente_manuelle": [{"ref": "attente-1", "message_id": "<c@x>", "code": 903}],
        "courriels": [{"message_id": "<d@x>", "kind": "courriel"}, {"message_id": "<e@x>", "type": "document"}],
    })
    assert listing is not None
    assert listing.recognised("<a@x>") and listing.recognised("<c@x>") and listing.recognised("<e@x>")
    assert not listing.recognised("<d@x>") and listing.mail_kind("<d@x>") == "courriel"
    assert [d["ref"] for d in listing.versions("s")] == ["doc-1", "doc-2"]
    assert listing.describe_versions("s") == "version 1 (precedent), version 2 (courant)"
    assert all(belongs_to(d, qualifie) for d in listing.documents)
    notes = {"notifications": [{"kind": "nouveau_document", "document": "doc-1"}, {"kind": "x", "text": "CR reçu"},
                               {"kind": "autre", "document": "doc-9"}]}
    assert [n["kind"] for n in notifications_about(notes, listing.documents[0])] == ["nouveau_document", "x"]
    assert notifications_about({}, listing.documents[0]) is None


def test_the_product_is_told_to_create_the_test_patient() -> None:
    from types import SimpleNamespace

    from segur_mss.candidates.base import Action, LocalPatient
    from segur_mss.candidates.receiving import ReceivingRole
    from segur_mss.candidates.remote import encode_payload

    request = LocalPatient.of(get_patient("qualifie_2"))
    payload = encode_payload(Action.ENSURE_LOCAL_PATIENT.value, (request,), {})
    assert payload["patient"] == "qualifie_2" and payload["birth_date"] == "1992-11-03" and payload["ins"]
    product = SimpleNamespace(patients=LocalPatients(("qualifie",)))
    assert product.patients.by_ins(request.ins or "") is None
    result = ReceivingRole.ensure_local_patient(product, request)  # type: ignore[arg-type]
    assert result.ok and result.data["cree"] is True
    created = product.patients.by_ins(request.ins or "")
    assert created is not None and created.birth_county == "69123" and created.given_all == "ÉLOÏSE FRANÇOISE"
    assert ReceivingRole.ensure_local_patient(product, request).data["cree"] is False  # type: ignore[arg-type]
