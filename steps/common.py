"""Steps shared by every family: the operator, the candidate's session, what reached the operator."""

from __future__ import annotations

from pytest_bdd import given, parsers, then, when

from segur_mss.candidates.base import Action, require
from segur_mss.scenario import ScenarioContext


class CandidateActionFailed(Exception):
    """The candidate could not perform an action the scenario needs: the scenario ends as `error`."""


@given("l'opérateur de référence est démarré")
def operator_running(segur: ScenarioContext) -> None:
    assert segur.operator.ports.get("smtp"), "le serveur SMTP de l'opérateur n'écoute pas"


@given(parsers.parse('le candidat est connecté à la BAL "{role}"'))
def candidate_connected(segur: ScenarioContext, role: str) -> None:
    require(segur.candidate, Action.CONNECT_MAILBOX)
    mailbox = segur.operator.population.by_role(role)
    segur.values["bal"] = mailbox.address
    segur.candidate.connect_mailbox(mailbox.address)


@then(parsers.re(r"l'opérateur reçoit (?P<count>\d+) courriels? du candidat"))
def operator_received(segur: ScenarioContext, count: str) -> None:
    received = list(segur.capture.submissions)
    segur.received = received
    proofs = [segur.attach_submission(s) for s in received]
    proofs += [segur.attach_transcript(t) for s in received if (t := segur.transcript_of(s))]
    segur.expect(
        "nombre de courriels soumis à l'opérateur pendant le scénario",
        expected=count,
        observed=str(len(received)),
        passed=len(received) == int(count),
        proofs=proofs,
    )


@when("le candidat relève sa boîte aux lettres")
def candidate_fetches_mail(segur: ScenarioContext) -> None:
    """The candidate checks its mailbox (and processes what it finds); a failure is an error of the scenario."""
    require(segur.candidate, Action.FETCH_NEW_MAIL)
    result = segur.candidate.fetch_new_mail()
    segur.values["releve"] = result
    if not result.ok:
        raise CandidateActionFailed(f"la relève de la boîte aux lettres a échoué : {result.detail}")


@when("le candidat tente de relever sa boîte aux lettres")
def candidate_tries_to_fetch_mail(segur: ScenarioContext) -> None:
    """Same, when the scenario expects the attempt may fail (faults, refused certificates…)."""
    require(segur.candidate, Action.FETCH_NEW_MAIL)
    result = segur.candidate.fetch_new_mail()
    segur.values["releve"] = result
    if not result.ok:
        segur.evidence.note(f"relève refusée ou échouée côté candidat : {result.detail}")


@given(parsers.parse('le candidat connaît le patient "{patient}"'))
def candidate_knows_patient(segur: ScenarioContext, patient: str) -> None:
    """The product has this synthetic patient, with exactly its identity (created when needed)."""
    from segur_mss.candidates.base import ACTION_LABELS, LocalPatient
    from segur_mss.documents.patients import get_patient

    identity = get_patient(patient)
    segur.values.setdefault("patients_connus", []).append(patient)
    if Action.ENSURE_LOCAL_PATIENT not in segur.candidate.capabilities():
        segur.evidence.note(
            f"le candidat ne sait pas « {ACTION_LABELS[Action.ENSURE_LOCAL_PATIENT]} » : le patient de test "
            f"« {patient} » ({identity.family_birth} {identity.given_all}, né(e) le {identity.birth_date:%d/%m/%Y}, "
            f"INS {identity.ins or 'aucune'}) doit exister dans le logiciel avant la campagne"
        )
        return
    result = segur.candidate.ensure_local_patient(LocalPatient.of(identity))  # type: ignore[attr-defined]
    if not result.ok:
        raise CandidateActionFailed(f"le patient de test « {patient} » n'a pas pu être créé : {result.detail}")


@given("le candidat a relevé sa boîte aux lettres")
def candidate_has_fetched_mail(segur: ScenarioContext) -> None:
    """The same relève, as a precondition (Contexte)."""
    candidate_fetches_mail(segur)
