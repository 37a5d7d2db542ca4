"""Sending steps: the candidate sends; the harness judges what reached the operator."""

from __future__ import annotations

from pytest_bdd import parsers, then, when

from segur_mss.candidates.base import Action, DocumentSending, OutgoingMessage, require
from segur_mss.scenario import ScenarioContext, attachment_names, parse_message
from segur_mss.validators.mail import check_x_mss_nil, header_values


def _address(segur: ScenarioContext, role: str) -> str:
    return segur.operator.population.by_role(role).address


@when(parsers.parse('le candidat envoie un courriel simple à "{role}"'))
def send_plain(segur: ScenarioContext, role: str) -> None:
    require(segur.candidate, Action.SEND_MESSAGE)
    segur.candidate.send_message(
        OutgoingMessage(
            to=(_address(segur, role),),
            subject="Demande d'avis — test segur-mss",
            body="Bonjour,\n\nPourriez-vous me donner votre avis sur ce dossier ?\n\nBien confraternellement.\n",
        )
    )


@when(parsers.parse('le candidat envoie le document "{doc_type}" du patient "{patient}" à "{role}"'))
def send_document(segur: ScenarioContext, doc_type: str, patient: str, role: str) -> None:
    require(segur.candidate, Action.SEND_DOCUMENT)
    segur.candidate.send_document(DocumentSending(to=(_address(segur, role),), patient=patient, doc_type=doc_type))


@then("chaque courriel reçu porte l'en-tête X-MSS-NIL avec la référence Convergence configurée")
def every_mail_has_nil(segur: ScenarioContext) -> None:
    expected = segur.config.product_reference
    for submission in segur.received:
        message = parse_message(submission.raw)
        findings = check_x_mss_nil(message, expected)
        values = header_values(message, "X-MSS-NIL")
        segur.expect(
            f"en-tête X-MSS-NIL du courriel {submission.id} ({message['Message-ID']})",
            expected=expected,
            observed=", ".join(values) if values else "en-tête X-MSS-NIL absent",
            passed=not any(f.severity == "error" for f in findings),
            proofs=[segur.attach_submission(submission)],
        )


@then("le courriel reçu porte une pièce jointe IHE_XDM.zip")
def mail_has_xdm(segur: ScenarioContext) -> None:
    for submission in segur.received:
        names = attachment_names(parse_message(submission.raw))
        segur.expect(
            f"pièce jointe IHE_XDM.zip du courriel {submission.id}",
            expected="IHE_XDM.zip",
            observed=", ".join(names) or "aucune pièce jointe",
            passed="IHE_XDM.zip" in names,
            proofs=[segur.attach_submission(submission)],
        )
