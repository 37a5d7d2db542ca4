"""Receiving steps: the harness, as a correspondent, delivers crafted mail into the candidate's mailbox and judges
what the candidate did with it (its reception listing, its notifications, the MDNs it sent back, attested
captures). Crafting and reading live in the engine (`segur_mss/correspondent.py`); these steps only phrase them."""

from __future__ import annotations

import dataclasses
import json
import time

from pytest_bdd import given, parsers, then, when

from segur_mss.candidates.base import Action, EvidenceRequest, ManualImport, require_attestation
from segur_mss.candidates.reference import ReferenceCandidate
from segur_mss.correspondent import (
    CODE_CAUSES,
    UNKNOWN_PATIENT,
    Correspondent,
    CraftedMail,
    ReceptionListing,
    answers_to,
    belongs_to,
    judge_mdn,
    notifications_about,
)
from segur_mss.documents.patients import get_patient
from segur_mss.evidence.store import Proof
from segur_mss.operator.recording import Submission
from segur_mss.scenario import ScenarioContext
from segur_mss.validators.mdn import ANS_ERROR_CODES, parse_mdn
from steps.common import CandidateActionFailed

#: How long a candidate outside the harness's process may take to send its MDN after its relève (seconds).
ANSWER_WAIT = 10.0
#: How long the harness waits before concluding that no MDN was sent (0 for the in-process candidates, which
#: answer during their relève).
SILENCE_WAIT = 3.0


# -- helpers --------------------------------------------------------------------------------------------------------
def _correspondent(segur: ScenarioContext) -> Correspondent:
    if "correspondant" not in segur.values:
        mailbox = segur.values.get("bal") or segur.operator.population.by_role("emetteur").address
        segur.values["correspondant"] = Correspondent(segur.operator.population, mailbox)
    return segur.values["correspondant"]


def _known_patient(segur: ScenarioContext) -> str:
    known = segur.values.get("patients_connus") or ["qualifie"]
    return known[-1]


def _deliver(segur: ScenarioContext, mail: CraftedMail) -> CraftedMail:
    _correspondent(segur).deliver(segur.operator, mail)
    segur.values["depose"] = mail
    proof = segur.evidence.add_proof(
        "message", f"depose-{len(_correspondent(segur).delivered):02d}.eml", mail.raw,
        f"courriel déposé par le harnais dans la BAL du candidat : {mail.describe()}", media_type="message/rfc822",
    )
    segur.values.setdefault("preuves_depots", {})[mail.message_id] = proof
    return mail


def _delivered(segur: ScenarioContext) -> CraftedMail:
    mail = segur.values.get("depose")
    if mail is None:
        raise CandidateActionFailed("aucun courriel n'a été déposé par le harnais dans ce scénario")
    return mail


def _delivery_proof(segur: ScenarioContext, mail: CraftedMail) -> list[Proof]:
    proof = segur.values.get("preuves_depots", {}).get(mail.message_id)
    return [proof] if proof else []


def _attested(segur: ScenarioContext, key: str, instruction: str, check: str, *, kinds: tuple[str, ...] =
              ("screenshot",), statement: str = "") -> None:
    """An attested proof stands for the automated check (manual sessions, adapters without the listing)."""
    result = require_attestation(segur.candidate, EvidenceRequest(key=key, instruction=instruction, kinds=kinds,
                                                                  statement=statement))
    segur.expect(f"{check} (preuve attestée)", expected="une preuve attestée fournie", observed=result.detail,
                 passed=result.ok)


def _listing(segur: ScenarioContext, key: str, instruction: str, check: str) -> ReceptionListing | None:
    """The candidate's reception listing, or None once an attested proof has been given instead."""
    data = None
    if Action.INTEGRATED_DOCUMENTS in segur.candidate.capabilities():
        result = segur.candidate.integrated_documents()  # type: ignore[attr-defined]
        data = result.data
    listing = ReceptionListing.from_data(data)
    if listing is None:
        _attested(segur, key, instruction, check)
        return None
    segur.values["liste_proof"] = segur.evidence.add_proof(
        "export", f"liste-reception-{len(segur.evidence.proofs) + 1:02d}.json",
        json.dumps(data, ensure_ascii=False, indent=1, default=str),
        "liste des documents intégrés, en attente de traitement manuel et des courriels reçus (candidat)",
        media_type="application/json",
    )
    return listing


def _listing_proofs(segur: ScenarioContext, mail: CraftedMail) -> list[Proof]:
    proof = segur.values.get("liste_proof")
    return _delivery_proof(segur, mail) + ([proof] if proof else [])


def _document_row(row: dict) -> str:
    return (f"{row.get('ref', '?')} : {row.get('title') or row.get('code') or 'document'} v{row.get('version', '?')}"
            f" ({row.get('status', '?')}, {row.get('mode', '?')}, patient {row.get('patient') or row.get('ins')})")


# -- the correspondent delivers ---------------------------------------------------------------------------------------
_DOCUMENT_MAIL = (
    r"un correspondant dépose (?P<receipt>avec demande d'accusé )?(?:dans la BAL du candidat )?"
    r'le document "(?P<doc_type>[^"]+)" du patient "(?P<patient>[^"]+)"'
    r"(?P<variant> sous un objet ordinaire| sans son INS| avec une date de naissance différente)?"
)


@given(parsers.re(_DOCUMENT_MAIL))
def deliver_document(segur: ScenarioContext, doc_type: str, patient: str, receipt: str | None,
                     variant: str | None) -> None:
    correspondent = _correspondent(segur)
    identity = get_patient(patient)
    variant = (variant or "").strip()
    expected = None
    if variant == "sans son INS":
        identity, expected = dataclasses.replace(identity, ins=None), 903
    elif variant == "avec une date de naissance différente":
        identity, expected = correspondent.mismatching(identity), 904
    label = (f"courriel du correspondant portant le document {doc_type} du patient {patient}"
             + (f" ({variant})" if variant else ""))
    _deliver(segur, correspondent.document_mail(identity, doc_type, receipt=bool(receipt),
                                                ordinary_subject=variant == "sous un objet ordinaire",
                                                expected_code=expected, label=label))


@given(parsers.parse('un correspondant dépose dans la BAL du candidat le document "{doc_type}" d\'un patient dont '
                     "l'INS qualifiée est inconnue du candidat"))
def deliver_unknown_patient(segur: ScenarioContext, doc_type: str) -> None:
    _deliver(segur, _correspondent(segur).document_mail(
        UNKNOWN_PATIENT, doc_type, expected_code=902,
        label=f"courriel portant le document {doc_type} d'un patient à l'INS qualifiée inconnue du candidat"))


@given(parsers.parse('un correspondant dépose dans la BAL du candidat un courriel d\'objet "{subject}" sans archive'))
def deliver_ddm_subject(segur: ScenarioContext, subject: str) -> None:
    _deliver(segur, _correspondent(segur).ddm_subject_mail(subject))


@given("un correspondant dépose dans la BAL du candidat un courriel ordinaire")
def deliver_ordinary(segur: ScenarioContext) -> None:
    _deliver(segur, _correspondent(segur).ordinary_mail())


@given(parsers.re(r"un correspondant dépose (?P<receipt>avec|sans) demande d'accusé un courriel provoquant "
                  r"l'erreur (?P<code>\d{3})"))
def deliver_failing(segur: ScenarioContext, receipt: str, code: str) -> None:
    _deliver(segur, _correspondent(segur).failing_mail(int(code), _known_patient(segur), receipt=receipt == "avec"))


@given(parsers.re(r"un correspondant dépose un courriel provoquant l'erreur (?P<code>\d{3}) dont l'accusé est "
                  r"demandé pour une autre adresse"))
def deliver_failing_elsewhere(segur: ScenarioContext, code: str) -> None:
    _deliver(segur, _correspondent(segur).failing_mail(int(code), _known_patient(segur), receipt_elsewhere=True))


@given("le correspondant dépose le remplacement du document précédent")
def deliver_replacement(segur: ScenarioContext) -> None:
    _deliver(segur, _correspondent(segur).replacement_mail(_previous_document_mail(segur)))


@given("le correspondant dépose avec demande d'accusé un remplacement de même version")
def deliver_same_version(segur: ScenarioContext) -> None:
    _deliver(segur, _correspondent(segur).replacement_mail(_previous_document_mail(segur), same_version=True,
                                                            receipt=True))


@given("un autre professionnel dépose avec demande d'accusé le remplacement du document précédent")
def deliver_other_author(segur: ScenarioContext) -> None:
    _deliver(segur, _correspondent(segur).replacement_mail(_previous_document_mail(segur), other_author=True,
                                                            receipt=True))


@given(parsers.parse('le patient "{patient}" écrit depuis Mon espace santé dans la BAL du candidat'))
def deliver_patient_mail(segur: ScenarioContext, patient: str) -> None:
    _deliver(segur, _correspondent(segur).patient_mail(patient))


def _previous_document_mail(segur: ScenarioContext) -> CraftedMail:
    previous = segur.values.get("document_initial") or _correspondent(segur).last_document_mail()
    if previous is None:
        raise CandidateActionFailed("aucun document n'a été déposé avant le remplacement")
    segur.values["document_initial"] = previous
    return previous


# -- the user --------------------------------------------------------------------------------------------------------
@when(parsers.parse('l\'utilisateur importe manuellement le document mis de côté dans le dossier du patient '
                    '"{patient}"'))
def import_manually(segur: ScenarioContext, patient: str) -> None:
    mail = _delivered(segur)
    segur.values["import_patient"] = patient
    if Action.IMPORT_MANUALLY not in segur.candidate.capabilities():
        return  # judged by an attested proof
    listing = (ReceptionListing.from_data(segur.candidate.integrated_documents().data)  # type: ignore[attr-defined]
               if Action.INTEGRATED_DOCUMENTS in segur.candidate.capabilities() else None)
    pending = listing.pending_from(mail.message_id) if listing else []
    item = str(pending[0].get("ref", "")) if pending else mail.message_id
    result = segur.candidate.import_manually(ManualImport(item=item, patient=patient))  # type: ignore[attr-defined]
    segur.values["import"] = result
    if not result.ok:
        segur.evidence.note(f"import manuel refusé par le candidat : {result.detail}")


# -- judgements: recognition and integration (UX.01, UX.07) -----------------------------------------------------------
@then(parsers.re(r"le candidat (?P<verdict>a reconnu|n'a pas traité) le courriel déposé comme courriel de documents "
                 r"MSSanté"))
def recognised(segur: ScenarioContext, verdict: str) -> None:
    mail = _delivered(segur)
    wanted = verdict == "a reconnu"
    check = f"reconnaissance du {mail.describe()} comme courriel de documents MSSanté"
    listing = _listing(segur, "reconnaissance", f"capture d'écran du logiciel montrant comment il a classé le "
                       f"{mail.describe()} : {'courriel porteur de documents' if wanted else 'courriel ordinaire'}",
                       check)
    if listing is None:
        return
    kind = listing.mail_kind(mail.message_id)
    observed = ("reconnu comme courriel de documents" if listing.recognised(mail.message_id)
                else f"traité comme {kind or 'inconnu (absent de la liste des courriels reçus)'}")
    # not recognised: the mail must still be listed as received (a mail the candidate never saw proves nothing)
    passed = listing.recognised(mail.message_id) if wanted else (kind is not None and not listing.recognised(
        mail.message_id))
    segur.expect(check, expected="reconnu comme courriel de documents" if wanted else "traité comme courriel ordinaire",
                 observed=observed, passed=passed, proofs=_listing_proofs(segur, mail))


@then(parsers.parse('le document déposé est intégré automatiquement au dossier du patient "{patient}"'))
def integrated_automatically(segur: ScenarioContext, patient: str) -> None:
    mail = _delivered(segur)
    identity = get_patient(patient)
    check = f"intégration automatique du document du {mail.describe()} au dossier du patient {patient}"
    listing = _listing(segur, "integration", f"capture d'écran du dossier du patient {identity.display_name} (INS "
                       f"{identity.ins}) montrant le document reçu intégré automatiquement", check)
    if listing is None:
        return
    rows = listing.documents_from(mail.message_id)
    ok = bool(rows) and all(belongs_to(r, identity) and r.get("mode", "automatique") == "automatique" for r in rows)
    pending = listing.pending_from(mail.message_id)
    observed = "; ".join(_document_row(r) for r in rows) or (
        "non intégré : " + "; ".join(f"{p.get('code', '')} {p.get('reason', '')}".strip() for p in pending)
        if pending else "document absent de la liste du candidat")
    segur.expect(check, expected=f"intégré automatiquement au dossier de {identity.display_name} (INS {identity.ins})",
                 observed=observed, passed=ok, proofs=_listing_proofs(segur, mail))
    segur.values["document_integre"] = rows[0]


@then("le document déposé n'est pas intégré automatiquement et attend un traitement manuel")
def set_aside(segur: ScenarioContext) -> None:
    mail = _delivered(segur)
    cause = CODE_CAUSES.get(mail.expected_code or 0, "")
    check = f"pas d'intégration automatique du {mail.describe()}" + (f" — {cause}" if cause else "")
    listing = _listing(segur, "traitement-manuel", f"capture d'écran du logiciel montrant le document du "
                       f"{mail.describe()} en attente de traitement manuel, non rattaché à un dossier", check)
    if listing is None:
        return
    rows = listing.documents_from(mail.message_id)
    pending = listing.pending_from(mail.message_id)
    if rows:
        observed = "intégré automatiquement : " + "; ".join(_document_row(r) for r in rows)
    elif pending:
        observed = "en attente de traitement manuel : " + "; ".join(
            f"{p.get('ref', '')} {p.get('code', '')} {p.get('reason', '')}".strip() for p in pending)
    else:
        observed = "ni intégré ni en attente de traitement manuel (document perdu)"
    segur.expect(check, expected="non intégré, en attente de traitement manuel", observed=observed,
                 passed=not rows and bool(pending), proofs=_listing_proofs(segur, mail))


# -- judgements: MDN (UX.11, UX.05) ---------------------------------------------------------------------------------
def _answers(segur: ScenarioContext, mail: CraftedMail, *, expect_some: bool) -> list[Submission]:
    """What the candidate sent back about `mail`, waiting a little for a product outside the harness's process."""
    in_process = isinstance(segur.candidate, ReferenceCandidate)
    deadline = time.monotonic() + (0 if in_process else ANSWER_WAIT if expect_some else SILENCE_WAIT)
    while True:
        found = answers_to(mail, list(segur.capture.submissions))
        if (found and expect_some) or time.monotonic() >= deadline:
            return found
        time.sleep(0.1)


def _judge_mdn(segur: ScenarioContext, code: int | None) -> None:
    mail = _delivered(segur)
    bal = segur.values.get("bal", "")
    label = f"d'erreur {code} ({ANS_ERROR_CODES[code]})" if code else "de succès (processed)"
    answers = _answers(segur, mail, expect_some=True)
    if not answers:
        segur.expect(f"MDN {label} en réponse au {mail.describe()}", expected=f"un MDN {label} envoyé à "
                     f"{mail.receipt_to}", observed="aucun accusé ni courriel du candidat en réponse",
                     passed=False, proofs=_delivery_proof(segur, mail))
    answer = next((a for a in answers if parse_mdn(a.raw).disposition), answers[0])
    report = judge_mdn(answer.raw, mail, code, bal)
    proof = segur.evidence.add_proof(
        "validator_report", f"mdn-{answer.id}-{report.validator}.json",
        json.dumps(report.to_dict(), ensure_ascii=False, indent=2),
        f"constats du validateur {report.validator} {report.version} sur l'accusé {answer.id}",
        media_type="application/json",
    )
    proofs = [*_delivery_proof(segur, mail), segur.attach_submission(answer), proof]
    if (transcript := segur.transcript_of(answer)) is not None:
        proofs.append(segur.attach_transcript(transcript))
    info = parse_mdn(answer.raw)
    errors = [f for f in report.findings if f.severity == "error"]
    observed = (f"Disposition : {info.disposition or 'absente'} ; objet : {info.subject or '—'} ; Final-Recipient : "
                f"{info.final_recipient or 'absent'}")
    if errors:
        observed += " — " + "; ".join(f"{f.rule_id} {f.message}" for f in errors[:4])
    segur.expect(f"MDN {label} au format du guide ANS en réponse au {mail.describe()}",
                 expected=(f"multipart/report en trois parties, Disposition « … processed/Error: {code}^… », objet "
                           f"« [KO Intégration système !][{code}] … », original joint, Final-Recipient {bal}"
                           if code else f"multipart/report en trois parties, Disposition « automatic-action/"
                           f"MDN-sent-automatically; processed », original joint, Final-Recipient {bal}"),
                 observed=observed, passed=not errors, proofs=proofs)


@then(parsers.re(r"le correspondant reçoit un MDN d'erreur (?P<code>\d{3}) au format du guide ANS"))
def mdn_error(segur: ScenarioContext, code: str) -> None:
    _judge_mdn(segur, int(code))


@then("le correspondant reçoit un MDN de succès « processed »")
def mdn_success(segur: ScenarioContext) -> None:
    _judge_mdn(segur, None)


@then(parsers.re(r"aucun (?:MDN automatique|accusé) n'est envoyé"))
def no_mdn(segur: ScenarioContext) -> None:
    mail = _delivered(segur)
    answers = _answers(segur, mail, expect_some=False)
    proofs = _delivery_proof(segur, mail) + [segur.attach_submission(a) for a in answers]
    why = (f"Disposition-Notification-To ({mail.receipt_to}) diffère de Return-Path ({mail.return_path})"
           if mail.receipt_to else "aucun accusé demandé (pas de Disposition-Notification-To)")
    segur.expect(f"pas d'accusé automatique en réponse au {mail.describe()} : {why}",
                 expected="aucun accusé ni courriel en réponse",
                 observed=", ".join(f"{a.id} à {', '.join(a.rcpt_tos)}" for a in answers) or "aucun",
                 passed=not answers, proofs=proofs)


# -- judgements: replacement (UX.05) ----------------------------------------------------------------------------------
def _versions(segur: ScenarioContext, patient: str, check: str) -> tuple[ReceptionListing, list[dict], str] | None:
    first = segur.values.get("document_initial") or _correspondent(segur).last_document_mail()
    assert first is not None
    identity = get_patient(patient)
    listing = _listing(segur, "versions", f"capture d'écran du dossier du patient {identity.display_name} montrant "
                       "le document reçu, sa version courante et la version précédente consultable", check)
    if listing is None:
        return None
    rows = listing.documents_from(first.message_id)
    set_id = str(rows[0].get("set_id", "")) if rows else ""
    return listing, [r for r in listing.versions(set_id) if belongs_to(r, identity)] if set_id else [], set_id


@then(parsers.parse('le document courant du patient "{patient}" est la version 2 et la version 1 reste visible '
                    "comme précédente"))
def replaced_previous_visible(segur: ScenarioContext, patient: str) -> None:
    mail = _delivered(segur)
    check = f"remplacement appliqué au dossier du patient {patient}, version précédente visible"
    found = _versions(segur, patient, check)
    if found is None:
        return
    listing, rows, set_id = found
    by_version = {int(r.get("version") or 0): r for r in rows}
    current = [v for v, r in by_version.items() if r.get("status") == "courant"]
    ok = current == [2] and by_version.get(1, {}).get("status") == "precedent" and bool(
        listing.documents_from(mail.message_id))
    segur.expect(check, expected="version 2 (courant), version 1 (precedent) visibles dans le même lot",
                 observed=listing.describe_versions(set_id) if set_id else "document initial absent du dossier",
                 passed=ok, proofs=_listing_proofs(segur, mail))


@then(parsers.parse('le document courant du patient "{patient}" est toujours la version 1'))
def still_version_one(segur: ScenarioContext, patient: str) -> None:
    mail = _delivered(segur)
    check = f"remplacement refusé : le dossier du patient {patient} garde la version 1 comme courante"
    found = _versions(segur, patient, check)
    if found is None:
        return
    listing, rows, set_id = found
    current = [int(r.get("version") or 0) for r in rows if r.get("status") == "courant"]
    ok = current == [1] and not listing.documents_from(mail.message_id)
    segur.expect(check, expected="version 1 (courant), le remplacement refusé n'est pas intégré",
                 observed=listing.describe_versions(set_id) if set_id else "document initial absent du dossier",
                 passed=ok, proofs=_listing_proofs(segur, mail))


# -- judgements: users informed (UX.40, UX.38), manual import (UX.39) --------------------------------------------------
def _notified(segur: ScenarioContext, what: str, key: str, requirement_text: str) -> None:
    mail = _delivered(segur)
    check = f"les utilisateurs sont informés {what} ({mail.describe()})"
    instruction = (f"capture d'écran de la notification que le logiciel présente aux utilisateurs {what} reçu dans "
                   f"le {mail.describe()} ({requirement_text})")
    listing = _listing(segur, key, instruction, check)
    if listing is None:
        return
    rows = [r for r in listing.documents_from(mail.message_id) if r.get("status", "courant") == "courant"]
    if not rows:
        segur.expect(check, expected="le document intégré au dossier puis signalé", observed="document non intégré",
                     passed=False, proofs=_listing_proofs(segur, mail))
    data = (segur.candidate.user_notifications().data  # type: ignore[attr-defined]
            if Action.USER_NOTIFICATIONS in segur.candidate.capabilities() else None)
    notes = notifications_about(data, rows[0])
    if notes is None:
        _attested(segur, key, instruction, check)
        return
    proof = segur.evidence.add_proof("export", f"notifications-{key}.json",
                                     json.dumps(data, ensure_ascii=False, indent=1, default=str),
                                     "notifications présentées aux utilisateurs (candidat)",
                                     media_type="application/json")
    segur.expect(check, expected=f"une notification qui désigne le document {rows[0].get('ref', '')}",
                 observed="; ".join(f"{n.get('kind', '')} : {n.get('text', '')}" for n in notes) or
                 f"aucune notification sur ce document ({len(data.get('notifications', []))} au total)",
                 passed=bool(notes), proofs=[*_listing_proofs(segur, mail), proof])


@then("les utilisateurs sont informés du nouveau document intégré")
def new_document_notified(segur: ScenarioContext) -> None:
    _notified(segur, "du nouveau document", "notification-nouveau", "information des nouveaux documents intégrés")


@then("les utilisateurs sont informés de la mise à jour du document")
def update_notified(segur: ScenarioContext) -> None:
    _notified(segur, "de la mise à jour du document", "notification-mise-a-jour",
              "information des documents mis à jour, version précédente consultable")


@then(parsers.parse('le document importé figure au dossier du patient "{patient}" avec les métadonnées de '
                    "l'enveloppe XDM"))
def imported(segur: ScenarioContext, patient: str) -> None:
    mail = _delivered(segur)
    identity = get_patient(patient)
    document = mail.documents[0]
    check = f"import manuel du document du {mail.describe()} au dossier du patient {patient}"
    instruction = (f"capture d'écran (ou vidéo) de l'import manuel, depuis l'enveloppe IHE_XDM, du document "
                   f"« {document.title} » (code {document.code}) du {mail.describe()} dans le dossier de "
                   f"{identity.display_name} (INS {identity.ins}), puis du dossier qui le contient")
    if Action.IMPORT_MANUALLY not in segur.candidate.capabilities():
        _attested(segur, "import-manuel", instruction, check, kinds=("screenshot", "video"))
        return
    listing = _listing(segur, "import-manuel", instruction, check)
    if listing is None:
        return
    rows = [r for r in listing.documents_from(mail.message_id) if belongs_to(r, identity)]
    result = segur.values.get("import")
    ok = bool(rows) and all(r.get("mode") == "manuel" and str(r.get("code", document.code)) == document.code
                            for r in rows)
    observed = "; ".join(_document_row(r) + f" code {r.get('code', '?')}" for r in rows) or (
        f"document absent du dossier{' — ' + result.detail if result is not None else ''}")
    segur.expect(check, expected=f"au dossier de {identity.display_name}, mode manuel, code {document.code} "
                 "(métadonnées de l'enveloppe)", observed=observed, passed=ok, proofs=_listing_proofs(segur, mail))


# -- attested display rules (UX.25, UX.28, UX.31) ------------------------------------------------------------------
def _delivered_list(segur: ScenarioContext) -> str:
    return "; ".join(f"« {m.subject} » de {m.return_path} ({m.message_id})" for m in _correspondent(segur).delivered)


@then("une capture d'écran distinguant le courriel du patient de celui du professionnel est fournie")
def capture_patient_vs_professional(segur: ScenarioContext) -> None:
    mails = _correspondent(segur).delivered
    patient = next(m for m in mails if m.patient is not None and m.return_path.endswith(
        "@" + segur.operator.population.patient_domain))
    professional = next(m for m in mails if m is not patient)
    _attested(
        segur, "patient-ou-professionnel",
        f"capture d'écran de la liste des courriels reçus (et de chaque courriel ouvert) où le courriel « "
        f"{patient.subject} » de {patient.return_path} est présenté comme venant d'un patient (Mon espace santé) et "
        f"le courriel « {professional.subject} » de {professional.return_path} comme venant d'un professionnel, "
        "par un libellé, une icône ou une couleur qui ne repose pas sur le seul nom de domaine de l'adresse",
        "courriel de patient distingué d'un courriel de professionnel sans se fonder sur le domaine",
        statement="Le logiciel distingue un courriel de patient d'un courriel de professionnel sans se fonder sur le "
                  "seul nom de domaine de l'adresse.",
    )


@then("une capture d'écran de l'objet affiché sans le préfixe XDM/1.0/DDM+ est fournie")
def capture_subject_without_prefix(segur: ScenarioContext) -> None:
    mail = _delivered(segur)
    shown = mail.subject.removeprefix("XDM/1.0/DDM+")
    _attested(
        segur, "objet-sans-prefixe",
        f"capture d'écran de la liste des courriels reçus et du courriel ouvert : l'objet « {mail.subject} » "
        f"({mail.message_id}) doit s'afficher « {shown} », sans le préfixe technique XDM/1.0/DDM+",
        "objet affiché sans le préfixe XDM/1.0/DDM+",
        statement="Le logiciel n'affiche pas le préfixe XDM/1.0/DDM+ de l'objet des courriels reçus.",
    )


@then("une capture d'écran montrant le nom, le prénom et l'INS du patient à la place de son adresse est fournie")
def capture_patient_identity(segur: ScenarioContext) -> None:
    mail = _delivered(segur)
    patient = mail.patient
    assert patient is not None
    _attested(
        segur, "identite-patient",
        f"capture d'écran du courriel « {mail.subject} » reçu de {mail.return_path} ({mail.message_id}) : "
        f"l'expéditeur doit s'afficher avec son nom de naissance {patient.family_birth}, son prénom "
        f"{patient.given_birth.title()} et son INS {patient.ins}, et non par la seule adresse {mail.return_path} ; "
        f"courriels déposés : {_delivered_list(segur)}",
        "identité du patient (nom, prénom, INS) affichée à la place de son adresse",
        statement="Le logiciel affiche le nom de naissance, le prénom et l'INS du patient plutôt que l'adresse de sa "
                  "messagerie.",
    )
