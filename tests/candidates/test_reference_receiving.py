"""Receiving with the reference candidate (SC.MSS/UX.01, 05, 07, 11, 38, 39, 40) and its traces (CONF.17, 18,
UX.37): the test is the correspondent, it delivers crafted mail through the reference operator and judges the
candidate's integration list, notifications, MDNs and traces. Faulty variants next to each behaviour."""

from __future__ import annotations

import dataclasses
import email.policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from segur_mss.candidates.base import ManualImport, MessageDeletion, MessageReply, OutgoingMessage, TraceExport
from segur_mss.candidates.reference import ReferenceCandidate
from segur_mss.documents.cda import CdaDocument, make_cda
from segur_mss.documents.mail import build_document_mail, build_plain_mail
from segur_mss.documents.patients import Patient, Professional, get_patient, make_ins
from segur_mss.operator.service import ReferenceOperator
from segur_mss.validators.mdn import parse_mdn, validate_mdn

from .test_reference_support import (  # noqa: F401  (fixtures)
    CORRESPONDENT,
    SENDER,
    lps_operator_fixture,
    make_candidate_fixture,
)

RECEIVER = CORRESPONDENT  # the candidate's mailbox
PEER = SENDER  # the harness plays this correspondent
OTHER_AUTHOR = Professional(idnps="899700000099", family="AUTRE-TEST", organization_id="1999000099",
                            organization_name="Autre structure de test")
_counter = iter(range(1, 10_000))


def document_mail(documents: list[CdaDocument], patient: Patient, *, mdn: bool = True, return_path: str | None = None,
                  subject_label: str | None = None, **options) -> EmailMessage:
    msg = build_document_mail(documents, patient, sender=PEER, to=[RECEIVER], label=subject_label,
                              disposition_notification_to=PEER if mdn else None,
                              message_id=f"<crafted-{next(_counter)}@harnais.test>", **options)
    if return_path:
        msg["Return-Path"] = f"<{return_path}>"
    return msg


def receive(operator: ReferenceOperator, candidate: ReferenceCandidate, *mails: EmailMessage) -> list[dict]:
    for mail in mails:
        operator.deliver(RECEIVER, mail)
    result = candidate.fetch_new_mail()
    assert result.ok, result.detail
    return result.data["courriels"]


def mdns(operator: ReferenceOperator) -> list[EmailMessage]:
    """What the candidate sent back to the correspondent (MDNs and mail), parsed."""
    return [BytesParser(policy=email.policy.default).parsebytes(m.raw) for m in operator.read_mailbox(PEER)]


def connected(make_candidate, defect: str | None = None) -> ReferenceCandidate:
    candidate = make_candidate(defect)
    assert candidate.connect_mailbox(RECEIVER).ok
    return candidate


# -- UX.01 ---------------------------------------------------------------------------------------------------------
def test_document_mail_is_recognised_by_attachment_or_subject(lps_operator: ReferenceOperator,
                                                              make_candidate) -> None:
    patient = get_patient("qualifie")
    by_attachment = document_mail([make_cda(patient, uid_seed="a")], patient, mdn=False, subject_label=None)
    del by_attachment["Subject"]
    by_attachment["Subject"] = "Compte rendu"
    by_subject = build_plain_mail(sender=PEER, to=[RECEIVER], subject="XDM/1.0/DDM+CR SEGUR-TEST CAMILLE 19850514",
                                  message_id="<ddm-subject@harnais.test>")
    ordinary = build_plain_mail(sender=PEER, to=[RECEIVER], message_id="<ordinaire@harnais.test>")
    kinds = {m["message_id"]: m["type"] for m in receive(lps_operator, connected(make_candidate), by_attachment,
                                                          by_subject, ordinary)}
    assert kinds == {str(by_attachment["Message-ID"]): "document", "<ddm-subject@harnais.test>": "document",
                     "<ordinaire@harnais.test>": "courriel"}
    faulty = connected(make_candidate, "not-xdm-aware")
    lps_operator.deliver(RECEIVER, by_attachment)
    handled = faulty.fetch_new_mail().data["courriels"]
    assert {m["type"] for m in handled} == {"courriel"}


# -- UX.07, UX.11 -----------------------------------------------------------------------------------------------------
def test_exact_match_integrates_and_sends_a_success_mdn(lps_operator: ReferenceOperator, make_candidate) -> None:
    patient = get_patient("qualifie")
    mail = document_mail([make_cda(patient, uid_seed="ok")], patient, return_path=PEER)
    candidate = connected(make_candidate)
    (handled,) = receive(lps_operator, candidate, mail)
    assert handled["documents"][0]["resultat"] == "integre" and handled["code"] is None
    (mdn,) = mdns(lps_operator)
    report = validate_mdn(mdn, original=mail, expected_error=None)
    assert report.valid, report.summary()
    info = parse_mdn(mdn)
    assert info.success and info.final_recipient == RECEIVER
    notes = candidate.user_notifications().data["notifications"]
    assert [n["kind"] for n in notes] == ["nouveau_document"]


def _variant(key: str, **changes) -> Patient:
    return dataclasses.replace(get_patient(key), **changes)


@pytest.mark.parametrize(
    ("patient", "code", "defect"),
    [
        (_variant("sans_ins"), 903, None),
        (_variant("traits_incomplets"), 905, "integrates-without-traits"),
        (_variant("qualifie", ins=make_ins("1990199123456")), 902, None),
        (_variant("qualifie", family_birth="AUTRE-NOM"), 904, "integrates-on-ins-mismatch"),
        (_variant("qualifie", birth_county="13055"), 904, "integrates-on-ins-mismatch"),
    ],
    ids=["903-sans-ins", "905-traits-incomplets", "902-ins-inconnue", "904-nom-different", "904-lieu-different"],
)
def test_no_automatic_integration_without_an_exact_qualified_match(
    lps_operator: ReferenceOperator, make_candidate, patient: Patient, code: int, defect: str | None
) -> None:
    mail = document_mail([make_cda(patient, uid_seed=f"ko-{code}")], patient)
    candidate = connected(make_candidate)
    (handled,) = receive(lps_operator, candidate, mail)
    assert handled["code"] == code and handled["documents"][0]["resultat"] == "attente_manuelle"
    (mdn,) = mdns(lps_operator)
    report = validate_mdn(mdn, original=mail, expected_error=code)
    assert report.valid, report.summary()
    assert str(mdn["Subject"]).startswith(f"[KO Intégration système !][{code}]")
    listing = candidate.integrated_documents().data
    assert not listing["documents"] and listing["attente_manuelle"][0]["code"] == code
    if defect:
        faulty = connected(make_candidate, defect)
        lps_operator.deliver(RECEIVER, mail)
        assert faulty.fetch_new_mail().data["courriels"][0]["documents"][0]["resultat"] == "integre"


def test_mdn_rules(lps_operator: ReferenceOperator, make_candidate) -> None:
    patient = get_patient("sans_ins")
    asked_elsewhere = document_mail([make_cda(patient, uid_seed="rp")], patient, return_path="autre@ailleurs.test")
    not_asked = document_mail([make_cda(patient, uid_seed="na")], patient, mdn=False)
    receive(lps_operator, connected(make_candidate), asked_elsewhere, not_asked)
    assert mdns(lps_operator) == []  # DNT differs from Return-Path, or no DNT: no automatic MDN
    lps_operator.deliver(RECEIVER, asked_elsewhere)
    connected(make_candidate, "mdn-when-dnt-differs").fetch_new_mail()
    assert len(mdns(lps_operator)) == 1


@pytest.mark.parametrize("defect", ["no-mdn-on-integration-failure", "mdn-wrong-format"])
def test_faulty_integration_failure_reports(lps_operator: ReferenceOperator, make_candidate, defect: str) -> None:
    patient = get_patient("sans_ins")
    mail = document_mail([make_cda(patient, uid_seed=defect)], patient)
    receive(lps_operator, connected(make_candidate, defect), mail)
    sent = mdns(lps_operator)
    assert not sent or not validate_mdn(sent[0], original=mail, expected_error=903).valid


# -- UX.05: replacement, wrong version (900), unauthorised author (901) -------------------------------------------
def test_replacement_keeps_the_previous_version_visible(lps_operator: ReferenceOperator, make_candidate) -> None:
    patient = get_patient("qualifie")
    first = make_cda(patient, uid_seed="v1")
    second = make_cda(patient, replaces=first, uid_seed="v2")
    candidate = connected(make_candidate)
    receive(lps_operator, candidate, document_mail([first], patient, mdn=False))
    (handled,) = receive(lps_operator, candidate, document_mail([second], patient, mdn=False))
    assert handled["documents"][0]["resultat"] == "integre"
    documents = {d["version"]: d for d in candidate.integrated_documents().data["documents"]}
    assert documents[1]["status"] == "precedent" and documents[1]["replaced_by"] == documents[2]["ref"]
    assert documents[2]["status"] == "courant" and documents[2]["set_id"] == documents[1]["set_id"]
    kinds = [n["kind"] for n in candidate.user_notifications().data["notifications"]]
    assert kinds == ["nouveau_document", "document_mis_a_jour"]
    for defect, check in (("replacement-hides-previous", lambda docs: len(docs) == 1),
                          ("no-update-notification", None)):
        faulty = connected(make_candidate, defect)
        for document in (first, second):
            lps_operator.deliver(RECEIVER, document_mail([document], patient, mdn=False))
            faulty.fetch_new_mail()
        if check:
            assert check(faulty.integrated_documents().data["documents"])
        else:
            kinds = [n["kind"] for n in faulty.user_notifications().data["notifications"]]
            assert "document_mis_a_jour" not in kinds


@pytest.mark.parametrize(("code", "defect"), [(900, "accepts-wrong-version"), (901, "accepts-any-replacement-author")])
def test_refused_replacements(lps_operator: ReferenceOperator, make_candidate, code: int, defect: str) -> None:
    patient = get_patient("qualifie")
    first = make_cda(patient, uid_seed=f"r{code}")
    if code == 900:  # version 2 twice: the second one does not raise the version
        second = make_cda(patient, replaces=first, uid_seed="v2")
        replacement = make_cda(patient, replaces=first, uid_seed="v2-bis", text="autre contenu")
        sequence = [first, second, replacement]
    else:
        replacement = make_cda(patient, replaces=first, author=OTHER_AUTHOR, uid_seed="autre")
        sequence = [first, replacement]
    for candidate, expected in ((connected(make_candidate), code), (connected(make_candidate, defect), None)):
        for document in sequence[:-1]:
            lps_operator.deliver(RECEIVER, document_mail([document], patient, mdn=False))
            candidate.fetch_new_mail()
        last = document_mail([sequence[-1]], patient)
        (handled,) = receive(lps_operator, candidate, last)
        assert handled["code"] == expected


def test_deleted_document_mail_replacement_of_unknown_document_is_900(lps_operator: ReferenceOperator,
                                                                       make_candidate) -> None:
    patient = get_patient("qualifie")
    orphan = make_cda(patient, replaces=make_cda(patient, uid_seed="jamais-recu"), uid_seed="orphelin")
    (handled,) = receive(lps_operator, connected(make_candidate), document_mail([orphan], patient, mdn=False))
    assert handled["code"] == 900


# -- UX.39: manual import -----------------------------------------------------------------------------------------
def test_manual_import_from_the_xdm_envelope(lps_operator: ReferenceOperator, make_candidate) -> None:
    patient = _variant("qualifie", family_birth="SEGUR-TEST-USAGE")
    mail = document_mail([make_cda(patient, uid_seed="manuel")], patient, mdn=False)
    for defect, expected in ((None, True), ("no-manual-import", False)):
        candidate = connected(make_candidate, defect)
        lps_operator.deliver(RECEIVER, mail)
        candidate.fetch_new_mail()
        item = candidate.integrated_documents().data["attente_manuelle"][0]["ref"]
        result = candidate.import_manually(ManualImport(item=item, patient="qualifie"))
        assert result.ok is expected
        if expected:
            (document,) = candidate.integrated_documents().data["documents"]
            assert document["mode"] == "manuel" and document["patient"] == "qualifie"


# -- replying, deleting, traces (CONF.17, CONF.18, UX.37) ----------------------------------------------------------
def test_reply_threads_and_carries_x_mss_nil(lps_operator: ReferenceOperator, make_candidate) -> None:
    original = build_plain_mail(sender=PEER, to=[RECEIVER], subject="Question", message_id="<q-1@harnais.test>")
    original["References"] = "<q-0@harnais.test>"
    candidate = connected(make_candidate)
    receive(lps_operator, candidate, original)
    assert candidate.reply_to_message(MessageReply(message_id="<q-1@harnais.test>", body="Réponse.")).ok
    (reply,) = mdns(lps_operator)
    assert reply["In-Reply-To"] == "<q-1@harnais.test>"
    assert str(reply["References"]).split() == ["<q-0@harnais.test>", "<q-1@harnais.test>"]
    assert reply["X-MSS-NIL"] == "SEGUR-MSS-REF-0001" and str(reply["Subject"]).startswith("RE: ")


def test_traces_cover_every_processing_without_content(lps_operator: ReferenceOperator, make_candidate) -> None:
    patient = get_patient("qualifie")
    body_marker = "CONTENU-SECRET-DU-CORPS"
    plain = build_plain_mail(sender=PEER, to=[RECEIVER], subject="Objet confidentiel", body=body_marker,
                             message_id="<trace-1@harnais.test>")
    bad = document_mail([make_cda(get_patient("sans_ins"), uid_seed="t")], get_patient("sans_ins"), mdn=False)
    good = document_mail([make_cda(patient, uid_seed="t2")], patient, mdn=False)
    results = {}
    for defect in (None, "traces-message-content", "no-trace-on-failure", "no-trace-on-deletion",
                   "no-trace-on-integration"):
        candidate = connected(make_candidate, defect)
        receive(lps_operator, candidate, plain, bad, good)
        candidate.send_message(OutgoingMessage(to=(PEER,), subject="Envoi", body=body_marker))
        candidate.send_message(OutgoingMessage(to=("inconnu@test.mssante.fr",), subject="Echec", body="x"))
        candidate.delete_message(MessageDeletion(message_id="<trace-1@harnais.test>"))
        results[defect] = candidate.export_traces(TraceExport()).data["traces"]
    traces = results[None]
    actions = {(t["action"], t["statut"]) for t in traces}
    assert {("consultation", "succes"), ("envoi", "succes"), ("envoi", "echec"), ("suppression", "succes"),
            ("integration", "succes"), ("echec_integration", "echec")} <= actions
    for trace in traces:
        assert {"horodatage", "auteur", "action", "statut", "requete", "reponse"} <= set(trace)
        assert trace["horodatage"][-6] in "+-" and trace["auteur"]["bal"] == RECEIVER
    dump = repr(traces)
    assert body_marker not in dump and "Objet confidentiel" not in dump and "eyJ" not in dump
    assert body_marker in repr(results["traces-message-content"])
    assert not any(t["statut"] == "echec" for t in results["no-trace-on-failure"])
    assert not any(t["action"] == "suppression" for t in results["no-trace-on-deletion"])
    assert not any(t["action"] in ("integration", "echec_integration") for t in results["no-trace-on-integration"])
    since = traces[-1]["horodatage"]
    assert candidate.export_traces(TraceExport(since=since)).data["traces"]


def test_deleted_mail_leaves_the_mailbox(lps_operator: ReferenceOperator, make_candidate) -> None:
    mail = build_plain_mail(sender=PEER, to=[RECEIVER], message_id="<a-supprimer@harnais.test>")
    candidate = connected(make_candidate)
    receive(lps_operator, candidate, mail)
    assert candidate.delete_message(MessageDeletion(message_id="<a-supprimer@harnais.test>")).ok
    assert all(m.message_id != "<a-supprimer@harnais.test>" for m in lps_operator.read_mailbox(RECEIVER))
    assert not candidate.delete_message(MessageDeletion(message_id="<absent@harnais.test>")).ok
