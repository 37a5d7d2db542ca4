"""PFI steps (SC.MSS/CONF.24, UX.05.BIS; DSN acknowledgements attached to UX.11): the harness plays the producing
software (DPI, RIS, SGL) and hands its HL7v2 message to the platform through the adapter; it judges the mail the
PFI sends, the replacement's CDA and IHE_XDM, the DSN the PFI asks for and the acknowledgement it makes of it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pytest_bdd import given, parsers, then, when

from segur_mss.candidates.base import (
    Action,
    ActionResult,
    EvidenceRequest,
    ProducerInstruction,
    require,
    require_attestation,
)
from segur_mss.documents.patients import Patient, get_patient
from segur_mss.documents.xdm import ASSOC_RPLC, RIM_NS
from segur_mss.evidence.store import Proof
from segur_mss.operator.recording import Submission
from segur_mss.scenario import ScenarioContext
from segur_mss.sent_mail import SentMail
from segur_mss.validators.cda import check_replacement, document_codes
from segur_mss.validators.dsn import validate_dsn
from segur_mss.validators.xdm import XdmDocument, XdmInspection
from segur_mss.validators.xmlsafe import parse_xml
from segur_mss.verdicts import NotApplicable

#: Profiles whose software hands documents to MSSanté through a PFI (or is one) and gets DSN acknowledgements.
PFI_PROFILES = ("pfi", "dpi", "ris", "sgl")


class ProducerInstructionFailed(Exception):
    """The PFI could not perform what the scenario needs before its judgement: the scenario is an `error`."""


# -- the producer's HL7v2 message -----------------------------------------------------------------------------
def hl7v2_message(
    patient: Patient,
    *,
    trigger: str,
    doc_type: str = "CR-BIO",
    ref: str = "",
    replaces: str = "",
    destinations: tuple[str, ...] = (),
    to_patient: bool = False,
    end_of_exchange: bool = False,
) -> str:
    """An MDM message as the ANS guide « Transmission d'un document CDA-R2 en HL7v2 » shapes it (simplified):
    PID-3 INS and IPP, TXA-2 type, TXA-12 document number, TXA-13 replaced document, OBX DESTMSSANTEPS /
    DESTMSSANTEPAT (+ NTE FIN)."""
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    ids = []
    if patient.ins:
        ids.append(f"{patient.ins}^^^&{patient.ins_oid}&ISO^NH")
    if patient.ipp:
        ids.append(f"{patient.ipp}^^^&{patient.ipp_oid}&ISO^PI")
    segments = [
        f"MSH|^~\\&|PRODUCTEUR|ETAB-TEST|PFI|ETAB-TEST|{stamp}||MDM^{trigger}^MDM_{trigger}|MSG-{ref}-{trigger}|P|2.6",
        f"EVN|{trigger}|{stamp}",
        f"PID|||{'~'.join(ids)}||{patient.family_birth}^{patient.given_birth}",
        "|".join(["TXA", "1", doc_type, *[""] * 9, ref, replaces]),
    ]
    if destinations:
        segments.append(f"OBX|1|CE|DESTMSSANTEPS^Destinataires MSSanté PS||{'~'.join(destinations)}")
    if to_patient:
        segments.append("OBX|2|CE|DESTMSSANTEPAT^Destinataire MSSanté patient||Y")
        if end_of_exchange:
            segments.append("NTE|1||FIN")
    return "\r".join(segments)


def _instruct(segur: ScenarioContext, message: str, label: str, *, note: bool = True) -> ActionResult:
    require(segur.candidate, Action.PROCESS_PRODUCER_INSTRUCTION)
    count = int(segur.values.get("hl7_n", 0)) + 1
    segur.values["hl7_n"] = count
    segur.evidence.add_proof("log", f"producteur-{count:02d}.hl7", message.replace("\r", "\n") + "\n",
                             f"message HL7v2 du logiciel producteur remis à la PFI : {label}")
    result = segur.candidate.process_producer_instruction(ProducerInstruction(hl7v2=message))
    if not result.ok and note:
        segur.evidence.note(f"demande du producteur ({label}) non exécutée par la PFI : {result.detail}")
    return result


def _address(segur: ScenarioContext, role: str) -> str:
    return segur.operator.population.by_role(role).address


# -- actions --------------------------------------------------------------------------------------------------
@when(parsers.re(r"le producteur transmet à la PFI un message HL7v2 d'envoi du document \"(?P<doc_type>[^\"]+)\" "
                 r"du patient \"(?P<patient>[^\"]+)\" à \"(?P<role>[^\"]+)\""
                 r"(?: et au patient (?P<fin>avec|sans) fin d'échange)?"))
def producer_sends(segur: ScenarioContext, doc_type: str, patient: str, role: str, fin: str | None) -> None:
    segur.values["patient"] = patient
    ref = f"DOC-{doc_type}-{datetime.now(UTC).strftime('%H%M%S%f')}"
    segur.values["document_producteur"] = ref
    message = hl7v2_message(get_patient(patient), trigger="T02", doc_type=doc_type, ref=ref,
                            destinations=(_address(segur, role),), to_patient=fin is not None,
                            end_of_exchange=fin == "avec")
    segur.values["envoi"] = _instruct(segur, message, f"envoi du document {ref}")


@given(parsers.parse('la PFI a envoyé pour le producteur le document "{doc_type}" numéro "{ref}" du patient '
                     '"{patient}" à "{role}"'))
def producer_sent_before(segur: ScenarioContext, doc_type: str, ref: str, patient: str, role: str) -> None:
    segur.values["patient"] = patient
    before = len(segur.capture.submissions)
    message = hl7v2_message(get_patient(patient), trigger="T02", doc_type=doc_type, ref=ref,
                            destinations=(_address(segur, role),))
    result = _instruct(segur, message, f"envoi initial du document {ref}")
    sent = segur.capture.submissions[before:]
    if not result.ok or len(sent) != 1:
        raise ProducerInstructionFailed(f"l'envoi initial du document {ref} par la PFI n'a pas abouti "
                                        f"({result.detail} ; {len(sent)} courriel(s)) : remplacement non vérifiable")
    mail = SentMail(sent[0])
    documents = [d for x in mail.inspection.xdm for d in x.documents if d.data]
    if len(documents) != 1:
        raise ProducerInstructionFailed(f"l'envoi initial du document {ref} ne porte pas exactement un document CDA "
                                        f"lisible dans son IHE_XDM ({len(documents)})")
    segur.attach_submission(mail.submission)
    segur.values["initial"] = {"mail": mail, "document": documents[0], "ref": ref, "doc_type": doc_type}
    segur.values["pfi_debut"] = len(segur.capture.submissions)


@when(parsers.parse('le producteur transmet à la PFI un message HL7v2 de remplacement du document "{ref}"'))
def producer_replaces(segur: ScenarioContext, ref: str) -> None:
    initial = segur.values["initial"]
    new_ref = f"{ref}-V2"
    segur.values["document_courant"] = new_ref
    message = hl7v2_message(get_patient(segur.values["patient"]), trigger="T10", doc_type=initial["doc_type"],
                            ref=new_ref, replaces=ref, destinations=tuple(initial["mail"].recipients))
    segur.values["remplacement"] = _instruct(segur, message, f"remplacement du document {ref} par {new_ref}")


# -- judgements: replacement ------------------------------------------------------------------------------------
@then(parsers.parse("la PFI envoie la nouvelle version dans {count:d} courriel"))
def replacement_sent(segur: ScenarioContext, count: int) -> None:
    new = list(segur.capture.submissions[int(segur.values.get("pfi_debut", 0)):])
    segur.received = new
    result: ActionResult = segur.values["remplacement"]
    segur.expect(
        "courriel de la nouvelle version envoyé par la PFI",
        expected=f"{count} courriel",
        observed=f"{len(new)} courriel(s)" + ("" if result.ok else f" ; la PFI a répondu : {result.detail}"),
        passed=len(new) == count,
        proofs=[segur.attach_submission(s) for s in new],
    )


def _new_document(segur: ScenarioContext) -> tuple[SentMail, XdmInspection | None, XdmDocument | None]:
    mail = SentMail(segur.received[0])
    xdm = mail.inspection.xdm[0] if mail.inspection.xdm else None
    documents = [d for d in xdm.documents if d.data] if xdm else []
    return mail, xdm, documents[0] if documents else None


def _describe(data: bytes | None) -> str:
    codes = document_codes(data) if data else None
    if codes is None:
        return "document CDA illisible"
    replaces = ", ".join(codes.replaces) or "aucun"
    return f"id {codes.id}, setId {codes.set_id}, versionNumber {codes.version}, RPLC → {replaces}"


@then("le document CDA de remplacement garde le setId, augmente versionNumber et désigne la version précédente "
      "par RPLC")
def replacement_cda(segur: ScenarioContext) -> None:
    old: XdmDocument = segur.values["initial"]["document"]
    mail, _, new = _new_document(segur)
    findings = check_replacement(new.data, old.data) if new is not None and new.data and old.data else []
    errors = [f for f in findings if f.severity == "error"]
    proof = segur.evidence.add_proof(
        "validator_report", f"{mail.id}-remplacement-cda.json",
        json.dumps({"version_precedente": _describe(old.data), "nouvelle_version": _describe(new.data if new else None),
                    "constats": [f.to_dict() for f in findings]}, ensure_ascii=False, indent=2, default=str),
        "règles du remplacement CDA (setId, versionNumber, relatedDocument RPLC)", media_type="application/json")
    segur.expect(
        "document CDA de remplacement : même setId, versionNumber supérieur, relatedDocument RPLC vers la version "
        "précédente",
        expected=f"remplace {_describe(old.data)}",
        observed=(_describe(new.data) if new is not None else "aucun document CDA dans l'IHE_XDM")
        + (" — " + "; ".join(f"{f.rule_id} {f.message}" for f in errors) if errors else ""),
        passed=new is not None and not errors,
        proofs=[segur.attach_submission(mail.submission), proof],
    )


def _associations(xdm: XdmInspection) -> list[dict[str, str]]:
    found = []
    for path, data in xdm.entries.items():
        if not path.upper().endswith("METADATA.XML"):
            continue
        parsed = parse_xml(data, location=path)
        if parsed.tree is None:
            continue
        for assoc in parsed.tree.getroot().iter(f"{{{RIM_NS}}}Association"):
            found.append({"type": assoc.get("associationType") or "", "source": assoc.get("sourceObject") or "",
                          "cible": assoc.get("targetObject") or "", "fichier": path})
    return found


@then("l'archive IHE_XDM du remplacement porte l'association RPLC vers l'entrée de la version précédente")
def replacement_xdm(segur: ScenarioContext) -> None:
    old: XdmDocument = segur.values["initial"]["document"]
    mail, xdm, new = _new_document(segur)
    associations = _associations(xdm) if xdm is not None else []
    rplc = [a for a in associations if a["type"] == ASSOC_RPLC or a["type"].endswith(":RPLC")]
    source = new.entry_id if new is not None else "?"
    proof = segur.evidence.add_proof(
        "validator_report", f"{mail.id}-associations-xdm.json",
        json.dumps({"entree_precedente": {"id": old.entry_id, "uniqueId": old.unique_id},
                    "nouvelle_entree": {"id": source, "uniqueId": new.unique_id if new else None},
                    "associations": associations}, ensure_ascii=False, indent=2),
        "associations de METADATA.XML du remplacement (IHE ITI-32)", media_type="application/json")
    segur.expect(
        "association RPLC de la nouvelle entrée vers l'entrée de la version précédente (METADATA.XML)",
        expected=f"{ASSOC_RPLC} : {source} → {old.entry_id}",
        observed="; ".join(f"{a['type'].rsplit(':', 1)[-1]} : {a['source']} → {a['cible']}" for a in rplc)
        or "aucune association RPLC",
        passed=any(a["source"] == source and a["cible"] == old.entry_id for a in rplc),
        proofs=[segur.attach_submission(mail.submission), proof],
    )


@then(parsers.parse('la demande de suppression du document "{ref}" est transmise à la PFI et consignée sans '
                    "verdict"))
def deletion_recorded(segur: ScenarioContext, ref: str) -> None:
    current = segur.values.get("document_courant", ref)
    before = len(segur.capture.submissions)
    message = hl7v2_message(get_patient(segur.values["patient"]), trigger="T11",
                            doc_type=segur.values["initial"]["doc_type"], ref=current)
    result = _instruct(segur, message, f"suppression du document {current}", note=False)
    sent = segur.capture.submissions[before:]
    for submission in sent:
        segur.attach_submission(submission)
    segur.evidence.note(
        f"suppression (MDM^T11) du document {current} : la PFI "
        + (f"a répondu « {result.detail} »" if result.ok else f"a refusé « {result.detail} »")
        + f", {len(sent)} courriel(s) envoyé(s)" + (" (joints au dossier)" if sent else "")
        + " ; aucun verdict : le codage d'une suppression sur MSSanté n'est spécifié par aucune source publique")


# -- DSN and the producer's acknowledgement (attached to SC.MSS/UX.11: see the feature) ------------------------
@given("le candidat joue le rôle de PFI ou de DPI")
def plays_pfi(segur: ScenarioContext, campaign: Any) -> None:
    profile = getattr(campaign, "profile", None)
    if profile and profile not in PFI_PROFILES:
        raise NotApplicable(f"sans objet pour le profil {profile} : l'accusé de réception construit à partir de "
                            "l'avis de remise (DSN) concerne les DPI et les PFI")


@given(parsers.parse('l\'opérateur ne peut pas remettre les courriels adressés à "{role}"'))
def delivery_fails(segur: ScenarioContext, role: str) -> None:
    segur.operator.faults.set(fail_delivery_to=_address(segur, role))


def _notify(submission: Submission, index: int) -> set[str]:
    options = submission.rcpt_options[index] if index < len(submission.rcpt_options) else []
    for option in options:
        key, _, value = option.partition("=")
        if key.upper() == "NOTIFY":
            return {v.strip().upper() for v in value.split(",") if v.strip()}
    return set()


@then("la PFI demande à l'opérateur un avis de remise pour chaque destinataire")
def dsn_requested(segur: ScenarioContext) -> None:
    submissions = list(segur.capture.submissions)
    segur.received = submissions
    if not submissions:
        segur.expect("courriel de la PFI soumis à l'opérateur", expected="1 courriel", observed="aucun",
                     passed=False)
    for submission in submissions:
        proofs = [segur.attach_submission(submission)]
        if (transcript := segur.transcript_of(submission)) is not None:
            proofs.append(segur.attach_transcript(transcript))
        asked = {rcpt: _notify(submission, i) for i, rcpt in enumerate(submission.rcpt_tos)}
        missing = [r for r, notify in asked.items() if not {"SUCCESS", "FAILURE"} <= notify]
        mail_options = " ".join(submission.mail_options) or "aucun paramètre sur MAIL FROM"
        segur.expect(
            f"avis de remise (DSN, RFC 3461) demandé par la PFI pour le courriel {submission.id}",
            expected="NOTIFY=SUCCESS,FAILURE sur chaque RCPT TO",
            observed="; ".join(f"{r} : NOTIFY={','.join(sorted(n)) or 'absent'}" for r, n in asked.items())
            + f" ({mail_options})",
            passed=bool(asked) and not missing,
            proofs=proofs,
        )


@then("l'opérateur dépose son avis de remise dans la BAL de la PFI")
def dsn_delivered(segur: ScenarioContext) -> None:
    ids = {s.id for s in segur.received}
    reports = [r for r in list(segur.operator.delivery.reports) if r.submission_id in ids]
    delivered = [r for r in reports if r.delivered_uid is not None]
    if not delivered:  # the PFI asked for it (previous step): the harness's operator broke, not the candidate
        raise AssertionError("l'opérateur de référence n'a pas déposé l'avis de remise demandé dans la BAL de la PFI")
    for report in delivered:
        proof = segur.evidence.add_proof("message", f"avis-de-remise-{report.submission_id}.eml", report.raw,
                                         f"avis de remise (DSN) de l'opérateur pour {report.submission_id}",
                                         media_type="message/rfc822")
        validation = validate_dsn(report.raw, subject=f"DSN {report.submission_id}")
        segur.evidence.add_proof("validator_report", f"avis-de-remise-{report.submission_id}-dsn.json",
                                 json.dumps(validation.to_dict(), ensure_ascii=False, indent=2),
                                 f"validation RFC 3464 de l'avis de remise {report.message_id}",
                                 media_type="application/json")
        segur.values.setdefault("avis", []).append({"report": report, "proof": proof})
        segur.evidence.note(f"avis de remise {report.message_id} déposé dans la BAL de la PFI (UID "
                            f"{report.delivered_uid}) : {', '.join(report.actions)}")


@then(parsers.re(r"l'accusé de réception de la PFI au producteur dit \"(?P<outcome>remis|non remis)\" pour "
                 r"\"(?P<role>[^\"]+)\""))
def producer_acknowledgement(segur: ScenarioContext, outcome: str, role: str) -> None:
    address = _address(segur, role).lower()
    wanted = outcome.replace(" ", "_")
    fetched: ActionResult = segur.values["releve"]
    mails = fetched.data.get("courriels")
    proofs: list[Proof] = [a["proof"] for a in segur.values.get("avis", [])]
    if mails is None and Action.ATTEST in segur.candidate.capabilities():  # a person drives the product
        result = require_attestation(segur.candidate, EvidenceRequest(
            key="accuse-producteur",
            instruction=f"capture d'écran (ou export) de l'accusé de réception que la PFI rend au logiciel "
                        f"producteur pour le document envoyé à {address} : « {outcome} »"))
        segur.expect("accusé de réception de la PFI au producteur attesté", expected="une capture d'écran",
                     observed=result.detail, passed=result.ok)
        return
    proofs.append(segur.evidence.add_proof(
        "log", "releve-pfi.json", json.dumps(fetched.data, ensure_ascii=False, indent=2, default=str),
        "relève de la BAL par la PFI : courriels lus et accusés de réception produits", media_type="application/json"))
    acknowledgements = [a for m in mails or [] for a in m.get("accuse_reception") or []]
    sent_ids = {str(SentMail(s).message.get("Message-ID", "")).strip() for s in segur.received}
    document = segur.values.get("document_producteur", "")
    mine = [a for a in acknowledgements if str(a.get("destinataire", "")).lower() == address
            and (a.get("document") == document or a.get("message_id") in sent_ids)]
    segur.expect(
        f"accusé de réception du document {document} pour {address}, tiré de l'avis de remise",
        expected=f"{outcome} (document {document})",
        observed="; ".join(f"{a.get('destinataire')} : {str(a.get('resultat', '')).replace('_', ' ')} "
                           f"(statut {a.get('statut')}, document {a.get('document') or a.get('message_id')})"
                           for a in acknowledgements) or "aucun accusé de réception produit",
        passed=bool(mine) and all(a.get("resultat") == wanted for a in mine),
        proofs=proofs,
    )
