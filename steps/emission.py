"""Sending steps: the candidate sends; the harness judges what reached the operator."""

from __future__ import annotations

import email.utils
import json
import uuid
from email import policy as email_policy
from email.message import EmailMessage

from pytest_bdd import given, parsers, then, when

from segur_mss.candidates.base import (
    Action,
    ActionResult,
    DocumentSending,
    EvidenceRequest,
    MessageReply,
    OutgoingMessage,
    PatientMessage,
    require,
    require_attestation,
)
from segur_mss.documents.cda import make_cda
from segur_mss.documents.mail import build_document_mail
from segur_mss.documents.patients import get_patient
from segur_mss.scenario import ScenarioContext
from segur_mss.sent_mail import SentMail
from segur_mss.validators.mail import (
    FORM_LABELS,
    check_identification_headers,
    check_x_mss_codecda,
    check_x_mss_ins,
    check_x_mss_nil,
    codecda_values,
    expected_x_mss_ins,
    validate_mail,
)
from segur_mss.validators.mdn import is_mdn, parse_mdn
from segur_mss.validators.model import ValidationReport


def _address(segur: ScenarioContext, role: str) -> str:
    return segur.operator.population.by_role(role).address


def _sent(segur: ScenarioContext) -> list[SentMail]:
    return [SentMail(s) for s in segur.received]


def _send_document(segur: ScenarioContext, sending: DocumentSending) -> None:
    require(segur.candidate, Action.SEND_DOCUMENT)
    result = segur.candidate.send_document(sending)
    segur.values["envoi"] = result
    if not result.ok:
        segur.evidence.note(f"le candidat n'a pas envoyé : {result.detail}")


# -- actions --------------------------------------------------------------------------------------------------
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
    _send_document(segur, DocumentSending(to=(_address(segur, role),), patient=patient, doc_types=(doc_type,)))


@when(parsers.parse('le candidat envoie les documents "{doc_types}" du patient "{patient}" à "{role}"'))
def send_documents(segur: ScenarioContext, doc_types: str, patient: str, role: str) -> None:
    types = tuple(t.strip() for t in doc_types.split(",") if t.strip())
    _send_document(segur, DocumentSending(to=(_address(segur, role),), patient=patient, doc_types=types))


@when(parsers.re(r'le candidat envoie le document "(?P<doc_type>[^"]+)" au patient "(?P<patient>[^"]+)" '
                 r"(?P<fin>avec|sans) fin d'échange"))
def send_to_patient(segur: ScenarioContext, doc_type: str, patient: str, fin: str) -> None:
    segur.values["patient"] = patient
    _send_document(segur, DocumentSending(to=(), patient=patient, doc_types=(doc_type,), to_patient=True,
                                          end_of_exchange=fin == "avec"))


@when(parsers.parse('le candidat tente d\'envoyer le document "{doc_type}" au patient "{patient}"'))
def try_send_to_patient(segur: ScenarioContext, doc_type: str, patient: str) -> None:
    segur.values["patient"] = patient
    _send_document(segur, DocumentSending(to=(), patient=patient, doc_types=(doc_type,), to_patient=True))
    segur.received = list(segur.capture.submissions)


# -- judgements -----------------------------------------------------------------------------------------------
@then("chaque courriel reçu porte l'en-tête X-MSS-NIL avec la référence Convergence configurée")
def every_mail_has_nil(segur: ScenarioContext) -> None:
    expected = segur.config.product_reference
    for mail in _sent(segur):
        findings = check_x_mss_nil(mail.message, expected)
        values = mail.header_values("X-MSS-NIL")
        segur.expect(
            f"en-tête X-MSS-NIL du {mail.label()}",
            expected=expected,
            observed=", ".join(values) if values else "en-tête X-MSS-NIL absent",
            passed=not any(f.severity == "error" for f in findings),
            proofs=[segur.attach_submission(mail.submission)],
        )


@then("le courriel reçu porte une pièce jointe IHE_XDM.zip")
def mail_has_xdm(segur: ScenarioContext) -> None:
    for mail in _sent(segur):
        names = mail.attachment_names()
        segur.expect(
            f"pièce jointe IHE_XDM.zip du {mail.label()}",
            expected="IHE_XDM.zip",
            observed=", ".join(names) or "aucune pièce jointe",
            passed="IHE_XDM.zip" in names,
            proofs=[segur.attach_submission(mail.submission)],
        )


@then(parsers.parse('le courriel reçu ne porte pas l\'en-tête "{header}"'))
def mail_without_header(segur: ScenarioContext, header: str) -> None:
    for mail in _sent(segur):
        values = mail.header_values(header)
        segur.expect(
            f"absence de l'en-tête {header} sur le {mail.label()} (pas de document CDA)"
            if header in ("X-MSS-INS", "X-MSS-CODECDA") else f"absence de l'en-tête {header} sur le {mail.label()}",
            expected="en-tête absent",
            observed=", ".join(values) if values else "en-tête absent",
            passed=not values,
            proofs=[segur.attach_submission(mail.submission)],
        )


@then(parsers.parse('l\'en-tête {header} du courriel reçu vaut "{value}"'))
@then(parsers.parse('l\'en-tête {header} du courriel reçu vaut exactement "{value}"'))
def header_equals(segur: ScenarioContext, header: str, value: str) -> None:
    for mail in _sent(segur):
        values = mail.header_values(header)
        segur.expect(
            f"valeur de l'en-tête {header} du {mail.label()} (casse comprise)",
            expected=value,
            observed=", ".join(values) if values else f"en-tête {header} absent",
            passed=values == [value],
            proofs=[segur.attach_submission(mail.submission)],
        )


@then("l'en-tête X-MSS-INS du courriel reçu correspond à l'identité du patient dans le document CDA")
def ins_matches_cda(segur: ScenarioContext) -> None:
    for mail in _sent(segur):
        identities = mail.inspection.identities
        detail = "; ".join(
            f"INS {'présente' if i.has_ins else 'absente'}"
            + (f", traits manquants : {', '.join(i.missing_traits)}" if i.missing_traits else "")
            for i in identities
        ) or "aucun document CDA lisible"
        values = mail.header_values("X-MSS-INS")
        segur.expect(
            f"X-MSS-INS du {mail.label()} selon le document CDA ({detail})",
            expected=expected_x_mss_ins(identities) or "un document CDA dans l'archive",
            observed=", ".join(values) if values else "en-tête X-MSS-INS absent",
            passed=bool(identities) and not _errors(check_x_mss_ins(mail.message, identities)),
            proofs=[segur.attach_submission(mail.submission)],
        )


@then("l'en-tête X-MSS-CODECDA du courriel reçu donne le code de chaque document CDA de l'archive")
def codecda_matches_documents(segur: ScenarioContext) -> None:
    for mail in _sent(segur):
        codes = mail.inspection.cda_codes
        header = codecda_values(mail.message)
        segur.expect(
            f"X-MSS-CODECDA du {mail.label()} (forme observée : {FORM_LABELS.get(header.form, header.form)})",
            expected=", ".join(codes) or "au moins un document CDA dans l'archive",
            observed=", ".join(header.values) or "en-tête X-MSS-CODECDA absent",
            passed=bool(codes) and not _errors(check_x_mss_codecda(mail.message, codes)),
            proofs=[segur.attach_submission(mail.submission)],
        )


@then("l'archive IHE_XDM et les documents CDA du courriel reçu sont valides")
def xdm_and_cda_valid(segur: ScenarioContext) -> None:
    for mail in _sent(segur):
        xdms = mail.inspection.xdm
        if not xdms:
            segur.expect(f"archive IHE_XDM du {mail.label()}", expected="présente", observed="absente",
                         passed=False, proofs=[segur.attach_submission(mail.submission)])
        for xdm in xdms:
            _judge_report(segur, mail, xdm.report, f"validation IHE_XDM et CDA (règles intégrées) du {mail.label()}")


@then("le courriel reçu respecte les règles de structure des courriels MSSanté")
def mail_structure_valid(segur: ScenarioContext) -> None:
    for mail in _sent(segur):
        report = validate_mail(mail.submission.raw, expected_nil=segur.config.product_reference,
                               subject=mail.submission.id)
        _judge_report(segur, mail, report, f"règles des courriels MSSanté (en-têtes, objet, parties texte) du "
                                           f"{mail.label()}", only_own=True)


def _errors(findings: list) -> list:  # type: ignore[type-arg]
    return [f for f in findings if f.severity == "error"]


def _judge_report(
    segur: ScenarioContext, mail: SentMail, report: ValidationReport, check: str, *, only_own: bool = False
) -> None:
    """A validator's report becomes a proof; its errors decide the check.

    With `only_own`, a finding attributed to another requirement of the catalogue is left to that requirement's
    own scenarios (it stays visible in the report proof), so one defect fails one requirement.
    """
    proof = segur.evidence.add_proof(
        "validator_report", f"{mail.id}-{report.validator}.json",
        json.dumps(report.to_dict(), ensure_ascii=False, indent=2),
        f"rapport du validateur {report.validator} {report.version} pour {mail.id}", media_type="application/json",
    )
    errors = _errors(report.findings)
    if only_own:
        others = [f for f in errors if f.requirement and f.requirement != segur.requirement]
        errors = [f for f in errors if f not in others]
        for f in others:
            segur.evidence.note(f"{f.rule_id} ({f.requirement}) relevé ici mais jugé par son exigence : {f.message}")
    segur.expect(
        check,
        expected="aucune erreur",
        observed="; ".join(f"{f.rule_id} {f.message}" for f in errors[:5]) or "aucune erreur",
        passed=not errors,
        proofs=[segur.attach_submission(mail.submission), proof],
    )


@then("le courriel reçu est adressé à la messagerie du patient construite depuis son INS qualifiée")
def addressed_to_patient(segur: ScenarioContext) -> None:
    patient = get_patient(segur.values["patient"])
    for mail in _sent(segur):
        segur.expect(
            f"destinataire patient du {mail.label()}",
            expected=patient.patient_address or "aucune adresse (INS non qualifiée)",
            observed=", ".join(mail.recipients),
            passed=patient.patient_address is not None and patient.patient_address in mail.recipients,
            proofs=[segur.attach_submission(mail.submission)],
        )


@then("l'opérateur ne reçoit aucun courriel adressé à la messagerie d'un patient")
def no_mail_to_patient(segur: ScenarioContext) -> None:
    domain = "@" + segur.operator.population.patient_domain
    to_patients = [(m, r) for m in _sent(segur) for r in m.recipients if r.endswith(domain)]
    proofs = [segur.attach_submission(m.submission) for m, _ in to_patients]
    segur.expect(
        "aucun courriel vers une adresse patient construite sans INS qualifiée",
        expected="aucun courriel vers @" + segur.operator.population.patient_domain,
        observed=", ".join(r for _, r in to_patients) or "aucun",
        passed=not to_patients,
        proofs=proofs,
    )


@then(parsers.re(r"la réponse du patient à ce courriel est (?P<verdict>refusée|acceptée) par l'opérateur"))
def patient_reply(segur: ScenarioContext, verdict: str) -> None:
    patient = get_patient(segur.values["patient"])
    for mail in _sent(segur):
        reply = segur.operator.patient_reply(
            patient.ins or "", mail.submission.mail_from, str(mail.message.get("Message-ID", "")),
            "Bonjour docteur, j'ai une question sur ce compte rendu.",
        )
        proofs = [segur.attach_submission(mail.submission)]
        if reply.transcript:
            proofs.append(segur.evidence.add_proof("transcript", f"reponse-patient-{mail.id}.log", reply.transcript,
                                                   f"tentative de réponse du patient au {mail.label()}"))
        observed = "acceptée" if reply.accepted else f"refusée ({reply.message or reply.reason})"
        segur.expect(
            f"réponse du patient {patient.ins} au {mail.label()} (Mon espace santé simulé)",
            expected="acceptée" if verdict == "acceptée" else "refusée : échange clos par X-MSS-MES: FIN",
            observed=observed,
            passed=reply.accepted == (verdict == "acceptée"),
            proofs=proofs,
        )


# -- replies, MDNs, read receipts (SC.MSS/CONF.16, and UX.11 .5x: see its feature) ------------------------------
def _correspondent_mail(segur: ScenarioContext, role: str) -> EmailMessage:
    sender = _address(segur, role)
    msg = EmailMessage(policy=email_policy.default)
    msg["From"] = email.utils.formataddr(("Dr Paul DURAND (correspondant de test)", sender))
    msg["To"] = segur.values["bal"]
    msg["Date"] = email.utils.formatdate(localtime=True)
    msg["Message-ID"] = email.utils.make_msgid(domain="correspondant.segur-mss.test")
    msg["Return-Path"] = f"<{sender}>"
    return msg


def _deliver(segur: ScenarioContext, msg: EmailMessage, title: str) -> None:
    raw = msg.as_bytes(policy=email_policy.SMTP)
    segur.operator.deliver(segur.values["bal"], raw)
    segur.evidence.add_proof("message", "courriel-du-correspondant.eml", raw, title, media_type="message/rfc822")
    segur.values["courriel_correspondant"] = {"message_id": str(msg["Message-ID"]),
                                              "references": str(msg.get("References", ""))}


@given(parsers.parse('le correspondant "{role}" a écrit au candidat un courriel simple'))
def correspondent_wrote(segur: ScenarioContext, role: str) -> None:
    msg = _correspondent_mail(segur, role)
    thread_start = email.utils.make_msgid(domain="correspondant.segur-mss.test")
    msg["Subject"] = "Demande d'avis : patiente SEGUR-TEST"
    msg["In-Reply-To"] = thread_start
    msg["References"] = thread_start
    msg.set_content("Bonjour,\n\nPourriez-vous me rappeler au sujet de notre patiente commune ?\n\nBien "
                    "confraternellement.\n", charset="utf-8")
    _deliver(segur, msg, "courriel simple du correspondant, déposé dans la BAL du candidat par le harnais")


@given(parsers.parse('le correspondant "{role}" a envoyé au candidat le document "{doc_type}" du patient '
                     '"{patient}" avec demande d\'accusé'))
def correspondent_sent_document(segur: ScenarioContext, role: str, doc_type: str, patient: str) -> None:
    sender = _address(segur, role)
    person = get_patient(patient)
    document = make_cda(person, doc_type=doc_type, uid_seed=uuid.uuid4().hex)
    msg = build_document_mail([document], person, sender=sender, to=[segur.values["bal"]],
                              disposition_notification_to=sender,
                              message_id=email.utils.make_msgid(domain="correspondant.segur-mss.test"))
    msg["Return-Path"] = f"<{sender}>"
    _deliver(segur, msg, f"document {doc_type} du correspondant avec demande d'accusé (Disposition-Notification-To), "
                         "déposé dans la BAL du candidat par le harnais")
    segur.values["courriel_correspondant"]["accuse_a"] = sender.lower()


@when("le candidat répond au courriel du correspondant")
def reply_to_correspondent(segur: ScenarioContext) -> None:
    require(segur.candidate, Action.REPLY_TO_MESSAGE)
    original = segur.values["courriel_correspondant"]["message_id"]
    result = segur.candidate.reply_to_message(MessageReply(  # type: ignore[attr-defined]
        message_id=original, body="Bonjour,\n\nJe vous rappelle cet après-midi.\n\nBien confraternellement.\n"))
    if not result.ok:
        segur.evidence.note(f"le candidat n'a pas répondu : {result.detail}")


@then("le courriel reçu répond au courriel du correspondant (In-Reply-To et References)")
def reply_is_threaded(segur: ScenarioContext) -> None:
    original = segur.values["courriel_correspondant"]
    expected_refs = [*original["references"].split(), original["message_id"]]
    for mail in _sent(segur):
        in_reply_to = mail.header_values("In-Reply-To")
        references = " ".join(mail.header_values("References")).split()
        syntax = _errors(check_identification_headers(mail.message))
        segur.expect(
            f"rattachement de la réponse {mail.label()} au courriel d'origine (RFC 5322 §3.6.4)",
            expected=f"In-Reply-To {original['message_id']} ; References {' '.join(expected_refs)}",
            observed=f"In-Reply-To {', '.join(in_reply_to) or 'absent'} ; References {' '.join(references) or 'absent'}"
            + (" — " + "; ".join(f"{f.rule_id} {f.message}" for f in syntax) if syntax else ""),
            passed=in_reply_to == [original["message_id"]] and references[-1:] == [original["message_id"]]
            and all(r in references for r in expected_refs) and not syntax,
            proofs=[segur.attach_submission(mail.submission)],
        )


@then("le courriel reçu est l'accusé du candidat au courriel du correspondant")
def mail_is_acknowledgement(segur: ScenarioContext) -> None:
    """The candidate's answer to the correspondent's request for an acknowledgement. Its form (RFC 8098 MDN, ANS
    codes) is judged by SC.MSS/UX.11's own scenarios: here it is recorded, and the answer is what CONF.16 checks."""
    original = segur.values["courriel_correspondant"]
    for mail in _sent(segur):
        info = parse_mdn(mail.submission.raw) if is_mdn(mail.message) else None
        form = (f"MDN (RFC 8098), Original-Message-ID {info.original_message_id}, Disposition {info.disposition}"
                if info else f"{mail.message.get_content_type()} (pas un MDN RFC 8098 : forme jugée par SC.MSS/UX.11)")
        segur.evidence.note(f"accusé émis par le candidat : {form}")
        segur.expect(
            f"{mail.label()} : accusé du candidat adressé au demandeur (Disposition-Notification-To)",
            expected=original["accuse_a"],
            observed=", ".join(mail.recipients) + f" — {form}",
            passed=mail.recipients == [original["accuse_a"]],
            proofs=[segur.attach_submission(mail.submission)],
        )


@when(parsers.parse('le candidat envoie un courriel simple à "{role}" avec demande d\'accusé de lecture'))
def send_plain_with_receipt(segur: ScenarioContext, role: str) -> None:
    require(segur.candidate, Action.SEND_MESSAGE)
    segur.candidate.send_message(OutgoingMessage(
        to=(_address(segur, role),), subject="Demande d'avis — test segur-mss (accusé de lecture demandé)",
        body="Bonjour,\n\nMerci de me confirmer la lecture de ce message.\n\nBien confraternellement.\n",
        read_receipt=True,
    ))


@when(parsers.parse('le candidat envoie le document "{doc_type}" du patient "{patient}" à "{role}" avec demande '
                    'd\'accusé de lecture'))
def send_document_with_receipt(segur: ScenarioContext, doc_type: str, patient: str, role: str) -> None:
    _send_document(segur, DocumentSending(to=(_address(segur, role),), patient=patient, doc_types=(doc_type,),
                                          read_receipt=True))


@then("le courriel reçu demande un accusé de lecture à la BAL émettrice")
def asks_read_receipt(segur: ScenarioContext) -> None:
    expected = segur.values["bal"].lower()
    for mail in _sent(segur):
        values = mail.header_values("Disposition-Notification-To")
        addresses = [a.lower() for _, a in email.utils.getaddresses(values) if a]
        segur.expect(
            f"demande d'accusé de lecture (Disposition-Notification-To, RFC 8098) du {mail.label()}",
            expected=expected,
            observed=", ".join(values) or "en-tête Disposition-Notification-To absent",
            passed=addresses == [expected],
            proofs=[segur.attach_submission(mail.submission)],
        )


# -- writing to a patient from the record (SC.MSS/UX.32) ----------------------------------------------------------
def _write_to_patient(segur: ScenarioContext, patient: str) -> ActionResult:
    require(segur.candidate, Action.WRITE_TO_PATIENT)
    segur.values["patient"] = patient
    result = segur.candidate.write_to_patient(PatientMessage(  # type: ignore[attr-defined]
        patient=patient, subject="Votre compte rendu de consultation",
        body="Bonjour,\n\nVotre compte rendu est disponible ; n'hésitez pas à me contacter.\n\nVotre médecin.\n"))
    if not result.ok:
        segur.evidence.note(f"le candidat n'a pas écrit au patient : {result.detail}")
    return result


@when(parsers.parse('l\'utilisateur écrit au patient "{patient}" depuis son dossier patient'))
def write_to_patient(segur: ScenarioContext, patient: str) -> None:
    _write_to_patient(segur, patient)


@when(parsers.parse('l\'utilisateur tente d\'écrire au patient "{patient}" depuis son dossier patient'))
def try_write_to_patient(segur: ScenarioContext, patient: str) -> None:
    _write_to_patient(segur, patient)
    segur.received = list(segur.capture.submissions)


@then("une capture d'écran du dossier du patient d'où le courriel a été écrit est fournie")
def patient_record_screenshot(segur: ScenarioContext) -> None:
    result = require_attestation(segur.candidate, EvidenceRequest(
        key="ecrire-au-patient",
        instruction="capture d'écran du dossier du patient montrant l'action « écrire au patient » et le courriel "
                    "en cours de rédaction, l'adresse Mon espace santé renseignée par le logiciel (non saisie)",
    ))
    segur.expect("capture du dossier patient d'où le courriel est écrit", expected="une capture d'écran",
                 observed=result.detail, passed=result.ok)
