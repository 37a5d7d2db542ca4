"""Directory search before sending (SC.MSS/CONF.20, UX.10) and the PFI role (CONF.24, UX.05.BIS) of the reference
candidate, against the reference operator's FHIR directory and submission server."""

from __future__ import annotations

import email.policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from segur_mss.candidates.base import DirectorySearch, OutgoingMessage, ProducerInstruction
from segur_mss.candidates.inbox import read_documents, xdm_archive
from segur_mss.candidates.pfi import InstructionError, parse_hl7v2
from segur_mss.documents.patients import get_patient
from segur_mss.operator.service import ReferenceOperator

from .test_reference_support import (  # noqa: F401  (fixtures)
    CORRESPONDENT,
    SENDER,
    lps_operator_fixture,
    make_candidate_fixture,
)

PATIENT = get_patient("qualifie")


def hl7(trigger: str, *, ref: str = "DOC-0001", replaces: str = "", to_patient: bool = True, fin: bool = True) -> str:
    segments = [
        f"MSH|^~\\&|RIS|CLINIQUE|PFI|CLINIQUE|20250115103000||MDM^{trigger}^MDM_{trigger}|MSG-{ref}|P|2.6",
        f"PID|||{PATIENT.ins}^^^&1.2.250.1.213.1.4.10&ISO^NH~{PATIENT.ipp}^^^&1.2.250.1.999.1.1.1&ISO^PI||"
        f"{PATIENT.family_birth}^{PATIENT.given_birth}",
        "|".join(["TXA", "1", "CR-BIO", *[""] * 9, ref, replaces]),  # TXA-12 document, TXA-13 replaced one
        f"OBX|1|CE|DESTMSSANTEPS^Destinataires MSSanté PS||{CORRESPONDENT}",
    ]
    if to_patient:
        segments.append("OBX|2|CE|DESTMSSANTEPAT^Destinataire MSSanté patient||Y")
        if fin:
            segments.append("NTE|1||FIN")
    return "\r".join(segments)


def submitted(operator_capture) -> list[EmailMessage]:
    return [BytesParser(policy=email.policy.default).parsebytes(s.raw) for s in operator_capture.submissions]


# -- directory ---------------------------------------------------------------------------------------------------
def test_multi_criteria_search_then_send_to_the_address_found(lps_operator: ReferenceOperator,
                                                             make_candidate) -> None:
    candidate = make_candidate()
    assert candidate.connect_mailbox(SENDER).ok
    search = DirectorySearch(name="DURAND", profession="Médecin", specialty="Radiologie", place="Nantes")
    found = candidate.search_directory(search)
    assert found.ok and CORRESPONDENT in found.data["adresses"]
    (query,) = lps_operator.directory.queries
    assert {name for name, _ in query.params} >= {"practitioner.name", "role", "specialty", "address-city"}
    with lps_operator.capture() as capture:
        assert candidate.send_message(OutgoingMessage(to=(found.data["adresses"][0],), subject="Avis",
                                                      body="Bonjour")).ok
    assert capture.submissions[0].rcpt_tos == [found.data["adresses"][0]]
    assert any(t["action"] == "recherche_annuaire" for t in candidate.traces.entries())


def test_search_by_rpps(make_candidate) -> None:
    found = make_candidate().search_directory(DirectorySearch(rpps="81000000037"))
    assert found.ok and found.data["resultats"][0]["nom"] == "Sophie LEROY"


@pytest.mark.parametrize("defect", ["directory-single-criterion", "directory-not-searched"])
def test_faulty_directory_searches(lps_operator: ReferenceOperator, make_candidate, defect: str) -> None:
    candidate = make_candidate(defect)
    candidate.search_directory(DirectorySearch(name="DURAND", specialty="Radiologie", place="Nantes"))
    queries = lps_operator.directory.queries
    assert not queries or len([p for p in queries[0].params if not p[0].startswith("_")]) == 1


# -- PFI ---------------------------------------------------------------------------------------------------------
def test_producer_instruction_with_end_of_exchange(lps_operator: ReferenceOperator, make_candidate) -> None:
    for defect, expected in ((None, "FIN"), ("pfi-ignores-end-of-exchange", None)):
        candidate = make_candidate(defect)
        assert candidate.connect_mailbox(SENDER).ok
        with lps_operator.capture() as capture:
            result = candidate.process_producer_instruction(ProducerInstruction(hl7v2=hl7("T02")))
        assert result.ok, result.detail
        (mail,) = submitted(capture)
        assert capture.submissions[0].rcpt_tos == [CORRESPONDENT, PATIENT.patient_address]
        assert mail["X-MSS-MES"] == expected
        assert mail["X-MSS-NIL"] == "SEGUR-MSS-REF-0001" and mail["X-MSS-INS"] == "O"


def test_producer_replacement_keeps_the_set_id(lps_operator: ReferenceOperator, make_candidate) -> None:
    outcomes = {}
    for defect in (None, "replacement-new-setid"):
        candidate = make_candidate(defect)
        assert candidate.connect_mailbox(SENDER).ok
        with lps_operator.capture() as capture:
            assert candidate.process_producer_instruction(ProducerInstruction(hl7v2=hl7("T02", to_patient=False))).ok
            replaced = candidate.process_producer_instruction(
                ProducerInstruction(hl7v2=hl7("T10", replaces="DOC-0001", to_patient=False)))
        assert replaced.ok, replaced.detail
        first, second = (read_documents(xdm_archive(m))[0][0] for m in submitted(capture))
        outcomes[defect] = (first, second)
    first, second = outcomes[None]
    assert second.set_id == first.set_id and second.version == first.version + 1
    assert second.replaces == (first.document_id,)
    first, second = outcomes["replacement-new-setid"]
    assert second.set_id != first.set_id and not second.replaces


def test_producer_instruction_from_fields(lps_operator: ReferenceOperator, make_candidate) -> None:
    candidate = make_candidate()
    assert candidate.connect_mailbox(SENDER).ok
    instruction = ProducerInstruction(patient="qualifie", destinations=(CORRESPONDENT,), to_patient=True,
                                      end_of_exchange=True, document_ref="CR-42")
    with lps_operator.capture() as capture:
        assert candidate.process_producer_instruction(instruction).ok
    assert submitted(capture)[0]["X-MSS-MES"] == "FIN"
    deletion = candidate.process_producer_instruction(ProducerInstruction(patient="qualifie", process="deletion",
                                                                          document_ref="CR-42"))
    assert not deletion.ok and deletion.data["erreur"] == "non_pris_en_charge"


def test_producer_instruction_for_unqualified_patient_is_not_sent_to_the_patient(make_candidate) -> None:
    candidate = make_candidate()
    assert candidate.connect_mailbox(SENDER).ok
    result = candidate.process_producer_instruction(ProducerInstruction(patient="traits_incomplets", to_patient=True))
    assert not result.ok


def test_hl7v2_reading() -> None:
    instruction = parse_hl7v2(hl7("T10", ref="DOC-2", replaces="DOC-1"))
    assert (instruction.process, instruction.patient, instruction.document_ref, instruction.replaces_ref) == (
        "replacement", "qualifie", "DOC-2", "DOC-1")
    assert instruction.to_patient and instruction.end_of_exchange
    assert not parse_hl7v2(hl7("T02", fin=False)).end_of_exchange
    with pytest.raises(InstructionError):
        parse_hl7v2("PID|||x")
    with pytest.raises(InstructionError):
        parse_hl7v2(hl7("T99"))
