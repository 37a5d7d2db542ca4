"""Trace steps (SC.MSS/CONF.17, CONF.18, UX.37): the scripted sequence of processings on the candidate's mailbox,
the candidate's trace export, and the judgement of each expected trace. The sequence, the export's reading (with
the configurable mapping) and the matching are the engine's (`segur_mss/trace_audit.py`)."""

from __future__ import annotations

import json

from pytest_bdd import given, then, when

from segur_mss.candidates.base import Action, EvidenceRequest, TraceExport, require, require_attestation
from segur_mss.evidence.store import Proof
from segur_mss.scenario import ScenarioContext
from segur_mss.trace_audit import (
    ACTION_TYPES,
    RECOMMENDED_RETENTION_DAYS,
    SequenceError,
    TraceExportError,
    TraceMapping,
    TraceRecord,
    TraceSequence,
    content_leaks,
    match_events,
    parse_export,
    record_problems,
    retention_days,
    run_trace_sequence,
)
from steps.common import CandidateActionFailed
from steps.reception import _correspondent


def _sequence(segur: ScenarioContext) -> TraceSequence:
    sequence = segur.values.get("sequence_traces")
    if sequence is None:
        raise CandidateActionFailed("la séquence scriptée n'a pas été déroulée")
    return sequence


@given("le candidat déroule la séquence scriptée de traitements sur sa BAL")
def scripted_sequence(segur: ScenarioContext) -> None:
    for action in (Action.FETCH_NEW_MAIL, Action.SEND_MESSAGE, Action.DELETE_MESSAGE, Action.EXPORT_TRACES):
        require(segur.candidate, action)
    known = (segur.values.get("patients_connus") or ["qualifie"])[-1]
    try:
        sequence = run_trace_sequence(segur.operator, segur.candidate, _correspondent(segur), segur.capture, known)
    except SequenceError as exc:
        raise CandidateActionFailed(f"séquence scriptée interrompue : {exc}") from exc
    segur.values["sequence_traces"] = sequence
    segur.values["preuve_sequence"] = segur.evidence.add_proof(
        "log", "sequence-scriptee.log", sequence.journal(),
        "séquence scriptée de traitements sur la BAL du candidat et traitements attendus dans ses traces")


@when("le candidat exporte ses traces")
def export_traces(segur: ScenarioContext) -> None:
    sequence = _sequence(segur)
    result = segur.candidate.export_traces(TraceExport(since=sequence.started.isoformat()))  # type: ignore[attr-defined]
    if not result.ok:
        raise CandidateActionFailed(f"l'export des traces a échoué : {result.detail}")
    mapping = TraceMapping.from_config(segur.config.traces)
    try:
        records, source, text = parse_export(result.data, mapping)
    except TraceExportError as exc:
        segur.evidence.note(f"export des traces non lisible automatiquement : {exc}")
        attested = require_attestation(segur.candidate, EvidenceRequest(
            key="export-traces", kinds=("export",),
            instruction="fichier d'export des traces fonctionnelles de la messagerie couvrant la séquence scriptée "
                        f"({sequence.started:%d/%m/%Y %H:%M} – {sequence.finished:%H:%M}), au format JSON ou CSV "
                        "documenté (horodatage, auteur, action, statut, requête, réponse, message_id)",
        ))
        segur.expect("export des traces fourni (preuve attestée)", expected="un fichier d'export",
                     observed=attested.detail, passed=attested.ok)
        segur.values["traces_attestees"] = True
        return
    segur.values["traces"] = (records, result.data, mapping, text)
    segur.values["preuve_traces"] = segur.evidence.add_proof(
        "export", "export-traces.json", json.dumps([r.raw for r in records], ensure_ascii=False, indent=1),
        f"export des traces du candidat depuis le début de la séquence ({len(records)} traces ; {source})",
        media_type="application/json")


def _records(segur: ScenarioContext) -> list[TraceRecord] | None:
    if segur.values.get("traces_attestees"):
        return None
    return segur.values["traces"][0]


def _proofs(segur: ScenarioContext) -> list[Proof]:
    return [p for p in (segur.values.get("preuve_sequence"), segur.values.get("preuve_traces")) if p]


def _judge_events(segur: ScenarioContext, events: list, check: str) -> None:
    records = _records(segur)
    if records is None:
        return
    found = match_events(events, records)
    missing = [e for e in events if found[e.key] is None]
    segur.expect(
        check,
        expected="; ".join(f"{e.label} → trace « {ACTION_TYPES[e.action]} »" for e in events),
        observed=("traces trouvées : " + "; ".join(f"{e.key} → n° {found[e.key].index}" for e in events
                                                   if found[e.key] is not None)
                  + (" — sans trace : " + "; ".join(e.label for e in missing) if missing else "")),
        passed=not missing, proofs=_proofs(segur),
    )
    segur.values["traces_trouvees"] = found


@then("chaque traitement de la séquence a une trace dans l'export du candidat")
def every_processing_traced(segur: ScenarioContext) -> None:
    _judge_events(segur, _sequence(segur).events,
                  "une trace pour chaque traitement de la séquence (consultation, envoi, envoi refusé, suppression, "
                  "intégration, échec d'intégration, remplacement)")


@then("la durée de conservation des traces déclarée par le candidat est relevée")
def retention_reported(segur: ScenarioContext) -> None:
    if segur.values.get("traces_attestees"):
        return
    _, data, mapping, _ = segur.values["traces"]
    days = retention_days(data, mapping)
    if days is None:
        segur.evidence.note("durée de conservation des traces non déclarée par l'adaptateur (six mois recommandés "
                            "par la FAQ ANS) : à indiquer dans le dossier")
        return
    advice = "conforme à la recommandation" if days >= RECOMMENDED_RETENTION_DAYS else "inférieure à la recommandation"
    segur.evidence.note(f"durée de conservation des traces déclarée : {days} jours ({advice} de six mois de la FAQ "
                        "ANS ; recommandation, non vérifiée comme exigence)")


@then("chaque trace porte l'auteur authentifié, l'horodatage local, le type d'action, la requête et la réponse")
def every_trace_complete(segur: ScenarioContext) -> None:
    records = _records(segur)
    if records is None:
        return
    sequence = _sequence(segur)
    bal = segur.values.get("bal", "")
    box = segur.operator.population.mailbox(bal)
    pro = segur.operator.population.professionals.get(box.owner or "") if box else None
    tokens = [t for t in (box.owner if box else None, pro.family if pro else None) if t]
    if box is not None and box.type == "PER":
        tokens.append(bal)  # a personal mailbox names its owner
    problems = {r.index: record_problems(r, started=sequence.started, finished=sequence.finished,
                                         author_tokens=tokens) for r in records}
    bad = {i: p for i, p in problems.items() if p}
    detail = "; ".join(f"n° {i} : {', '.join(p)}" for i, p in list(bad.items())[:5])
    segur.expect(
        "chaque trace : auteur authentifié, horodatage local, type d'action, requête et réponse du serveur",
        expected=f"{len(records)} trace(s) complète(s) (auteur : {', '.join(tokens)})",
        observed=f"{len(records) - len(bad)} complète(s) sur {len(records)}" + (f" — {detail}" if bad else ""),
        passed=bool(records) and not bad, proofs=_proofs(segur),
    )


@then("l'échec d'envoi de la séquence est tracé avec la réponse d'erreur du serveur")
def failed_send_traced(segur: ScenarioContext) -> None:
    records = _records(segur)
    if records is None:
        return
    event = next(e for e in _sequence(segur).events if e.key == "envoi-echoue")
    trace = match_events([event], records)[event.key]
    code = event.server_reply[:3]
    enhanced = event.server_reply.split()[1] if len(event.server_reply.split()) > 1 else ""
    ok = trace is not None and code in trace.response and (not enhanced or enhanced in trace.response)
    segur.expect(
        "l'envoi refusé par le serveur est tracé avec sa requête et la réponse d'erreur du serveur",
        expected=f"une trace d'envoi en échec dont la réponse cite « {event.server_reply} »",
        observed=trace.summary() if trace is not None else "aucune trace de l'envoi refusé",
        passed=ok, proofs=_proofs(segur),
    )


@then("aucune trace ne contient le contenu d'un message ou d'une pièce jointe échangés")
def no_content(segur: ScenarioContext) -> None:
    if segur.values.get("traces_attestees"):
        return
    _, _, _, text = segur.values["traces"]
    sequence = _sequence(segur)
    leaks = content_leaks(text, sequence.content)
    segur.expect(
        "aucun contenu de message dans les traces (corps, objets, pièces jointes échangés)",
        expected=f"aucun des {len(sequence.content)} contenus échangés (marqueurs de corps et d'objet, octets des "
                 "pièces jointes) dans l'export",
        observed=("trouvé dans l'export : " + "; ".join(leaks[:6])) if leaks else "aucun",
        passed=not leaks, proofs=_proofs(segur),
    )


@then("les traces retracent la réception, l'intégration, l'échec d'intégration et le remplacement des documents reçus")
def received_documents_history(segur: ScenarioContext) -> None:
    records = _records(segur)
    if records is None:
        return
    events = [e for e in _sequence(segur).events if e.received_document]
    _judge_events(segur, events, "historique des documents reçus : réception (consultation), intégration, échec "
                                 "d'intégration, remplacement")
    found = segur.values["traces_trouvees"]
    chain = [found[k] for k in ("consultation-document", "integration", "consultation-remplacement", "remplacement")]
    stamps = [t.timestamp for t in chain if t is not None and t.timestamp is not None]
    ordered = len(stamps) == len(chain) and stamps == sorted(stamps)
    segur.expect(
        "ordre chronologique de l'historique du document reçu puis remplacé",
        expected="réception ≤ intégration ≤ réception du remplacement ≤ remplacement",
        observed=" ≤ ".join(t.timestamp_text for t in chain if t is not None) or "horodatages absents",
        passed=ordered, proofs=_proofs(segur),
    )
