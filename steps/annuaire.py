"""Directory steps (SC.MSS/CONF.20, UX.10, UX.41): the user searches the health directory before sending; the
harness reads the reference operator's directory log (what was asked, which criteria were applied, which
addresses came back) and judges what the candidate proposes and where its mail goes."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from pytest_bdd import given, parsers, then, when

from segur_mss.candidates.base import (
    Action,
    ActionResult,
    DirectorySearch,
    EvidenceRequest,
    OutgoingMessage,
    require,
    require_attestation,
)
from segur_mss.evidence.store import Proof
from segur_mss.operator.directory import DirectoryQuery, normalise
from segur_mss.operator.identities import Professional
from segur_mss.scenario import ScenarioContext
from segur_mss.sent_mail import SentMail
from segur_mss.verdicts import NotApplicable

#: The user's words for the criteria → the fields of `DirectorySearch`.
CRITERIA = {"nom": "name", "RPPS": "rpps", "profession": "profession", "spécialité": "specialty", "lieu": "place"}
CRITERION = re.compile(r'(?P<label>nom|RPPS|profession|spécialité|lieu) "(?P<value>[^"]*)"')


@dataclass(frozen=True)
class Criterion:
    label: str
    value: str


def _criteria(text: str) -> list[Criterion]:
    found = [Criterion(m.group("label"), m.group("value")) for m in CRITERION.finditer(text)]
    if not found:
        raise ValueError(f"aucun critère reconnu dans « {text} » (nom, RPPS, profession, spécialité, lieu)")
    return found


def _queries(segur: ScenarioContext) -> list[DirectoryQuery]:
    """The directory requests of this scenario's search (the log is the operator's, kept across scenarios)."""
    start = int(segur.values.get("annuaire_debut", 0))
    return list(segur.operator.directory.queries[start:])


def _returned_addresses(queries: list[DirectoryQuery]) -> set[str]:
    return {a.lower() for q in queries for a in q.mailboxes}


def _proposed(segur: ScenarioContext) -> list[str] | None:
    """The addresses the candidate proposes to the user (None: the adapter reports none, e.g. a person)."""
    result: ActionResult = segur.values["recherche"]
    if "adresses" not in result.data:
        return None
    return [str(a).lower() for a in result.data.get("adresses") or []]


def _professional(segur: ScenarioContext, name: str) -> Professional:
    for pro in segur.operator.population.professionals.values():
        if normalise(pro.display_name) == normalise(name) or normalise(f"{pro.family} {pro.given}") == normalise(name):
            return pro
    raise KeyError(f"professionnel de test inconnu : {name}")


def _personal_address(segur: ScenarioContext, pro: Professional) -> str:
    return next(b.address for b in segur.operator.population.mailboxes.values()
                if b.type == "PER" and b.owner == pro.rpps)


def _applied(criterion: Criterion, query: DirectoryQuery, codes: dict[str, set[str]]) -> list[str]:
    """The parameters of `query` that carry `criterion` and that the directory applied (not ignored)."""
    wanted = normalise(criterion.value)
    accepted = {wanted} | {normalise(c) for c in codes.get(wanted, set())}
    hits = []
    for name, value in query.params:
        if (name.startswith("_") and not name.startswith("_has")) or name in query.ignored:
            continue
        tokens = {normalise(value)} | {normalise(part) for part in re.split(r"[|,]", value) if part.strip()}
        if accepted & tokens - {""}:
            hits.append(f"{name}={value}")
    return hits


def _codes(segur: ScenarioContext) -> dict[str, set[str]]:
    """Codes a candidate may send instead of the user's words: the profession's TRE-G15 code, the IDNPS of an
    RPPS (`8` + RPPS)."""
    codes: dict[str, set[str]] = {}
    for pro in segur.operator.population.professionals.values():
        codes.setdefault(normalise(pro.profession), set()).add(pro.profession_code)
        codes.setdefault(pro.rpps, set()).add("8" + pro.rpps)
    return codes


def _log_proof(segur: ScenarioContext, queries: list[DirectoryQuery]) -> Proof:
    exchanges = [asdict(x) for x in segur.capture.http if x.service == "annuaire"]
    data = {"requetes_annuaire": [asdict(q) for q in queries],
            "echanges_http": [{k: x[k] for k in ("method", "path", "status", "at")} for x in exchanges]}
    key = "annuaire_preuve"
    if segur.values.get(key + "_n") != len(queries):
        segur.values[key] = segur.evidence.add_proof(
            "log", "journal-annuaire.json", json.dumps(data, ensure_ascii=False, indent=2),
            "journal de l'annuaire de l'opérateur : requêtes du candidat, critères appliqués, adresses renvoyées",
            media_type="application/json")
        segur.values[key + "_n"] = len(queries)
    return segur.values[key]


def _result_proof(segur: ScenarioContext) -> Proof:
    result: ActionResult = segur.values["recherche"]
    if "recherche_preuve" not in segur.values:
        segur.values["recherche_preuve"] = segur.evidence.add_proof(
            "log", "resultats-candidat.json",
            json.dumps({"ok": result.ok, "detail": result.detail, "donnees": result.data}, ensure_ascii=False,
                       indent=2, default=str),
            "résultats de la recherche tels que le candidat les présente", media_type="application/json")
    return segur.values["recherche_preuve"]


# -- actions --------------------------------------------------------------------------------------------------
@when(parsers.parse("l'utilisateur cherche dans l'annuaire santé : {criteria}"))
def search(segur: ScenarioContext, criteria: str) -> None:
    require(segur.candidate, Action.SEARCH_DIRECTORY)
    wanted = _criteria(criteria)
    segur.values["criteres"] = wanted
    segur.values["annuaire_debut"] = len(segur.operator.directory.queries)
    request = DirectorySearch(**{CRITERIA[c.label]: c.value for c in wanted})
    result = segur.candidate.search_directory(request)
    segur.values["recherche"] = result
    if not result.ok:
        segur.evidence.note(f"recherche dans l'annuaire refusée ou échouée côté candidat : {result.detail}")


@when(parsers.parse("le candidat envoie un courriel simple à l'adresse de \"{name}\" trouvée dans l'annuaire"))
def send_to_found_address(segur: ScenarioContext, name: str) -> None:
    require(segur.candidate, Action.SEND_MESSAGE)
    expected = _personal_address(segur, _professional(segur, name))
    proposed = _proposed(segur) or []
    # The user picks the professional's own mailbox among what the product proposes.
    chosen = expected if expected in proposed or not proposed else proposed[0]
    segur.values["adresse_choisie"] = chosen
    segur.candidate.send_message(OutgoingMessage(
        to=(chosen,), subject="Demande d'avis — test segur-mss",
        body="Bonjour,\n\nJe vous adresse une demande d'avis pour un patient commun.\n\nBien confraternellement.\n",
    ))


# -- judgements -----------------------------------------------------------------------------------------------
@then("l'annuaire santé de l'opérateur a reçu la recherche du candidat")
def directory_was_searched(segur: ScenarioContext) -> None:
    queries = _queries(segur)
    codes = _codes(segur)
    applied = {c.label: [h for q in queries for h in _applied(c, q, codes)] for c in segur.values["criteres"]}
    carried = [f"{label} ({', '.join(hits)})" for label, hits in applied.items() if hits]
    segur.expect(
        "recherche du destinataire reçue par l'annuaire santé pendant l'action de l'utilisateur",
        expected="au moins une requête de recherche portant le critère saisi",
        observed=(f"{len(queries)} requête(s) ; critère(s) appliqué(s) : {', '.join(carried) or 'aucun'}"
                  if queries else "aucune requête reçue par l'annuaire"),
        passed=bool(queries) and bool(carried),
        proofs=[_log_proof(segur, queries)],
    )


@then("l'annuaire santé de l'opérateur a reçu et appliqué chacun des critères de la recherche")
def every_criterion_applied(segur: ScenarioContext) -> None:
    queries = _queries(segur)
    codes = _codes(segur)
    proof = _log_proof(segur, queries)
    if not queries:
        segur.expect("recherche reçue par l'annuaire santé", expected="au moins une requête de recherche",
                     observed="aucune requête reçue par l'annuaire", passed=False, proofs=[proof])
    ignored = sorted({name for q in queries for name in q.ignored})
    for criterion in segur.values["criteres"]:
        hits = [h for q in queries for h in _applied(criterion, q, codes)]
        segur.expect(
            f"critère « {criterion.label} » transmis à l'annuaire et appliqué",
            expected=f"un paramètre de recherche portant « {criterion.value} »",
            observed=(", ".join(hits) or "critère absent des requêtes"
                      + (f" (paramètres ignorés par l'annuaire : {', '.join(ignored)})" if ignored else "")),
            passed=bool(hits),
            proofs=[proof],
        )


@then(parsers.parse("le candidat propose l'adresse MSSanté de \"{name}\" renvoyée par l'annuaire"))
def proposes_directory_address(segur: ScenarioContext, name: str) -> None:
    pro = _professional(segur, name)
    expected = _personal_address(segur, pro)
    queries = _queries(segur)
    returned = _returned_addresses(queries)
    proofs = [_log_proof(segur, queries), _result_proof(segur)]
    proposed = _proposed(segur)
    if proposed is None and Action.ATTEST in segur.candidate.capabilities():
        segur.evidence.note("adresses proposées non rapportées par l'adaptateur (session manuelle) : l'adresse "
                            "utilisée est jugée sur le courriel envoyé")
        return
    proposed = proposed or []
    segur.expect(
        f"adresse MSSanté de {pro.display_name} parmi les résultats du candidat",
        expected=expected,
        observed=", ".join(proposed) or "aucune adresse proposée",
        passed=expected in proposed,
        proofs=proofs,
    )
    foreign = [a for a in proposed if a not in returned]
    segur.expect(
        "adresses proposées par le candidat issues de la réponse de l'annuaire",
        expected="toutes renvoyées par l'annuaire pendant la recherche",
        observed=f"hors réponse de l'annuaire : {', '.join(foreign)}" if foreign else
        f"{len(proposed)} adresse(s), toutes renvoyées par l'annuaire",
        passed=not foreign,
        proofs=proofs,
    )


@then("le courriel reçu part à l'adresse trouvée dans l'annuaire")
def mail_to_found_address(segur: ScenarioContext) -> None:
    returned = _returned_addresses(_queries(segur))
    for mail in (SentMail(s) for s in segur.received):
        outside = [r for r in mail.recipients if r not in returned]
        segur.expect(
            f"destinataire du {mail.label()} trouvé dans l'annuaire",
            expected="une adresse renvoyée par l'annuaire pendant la recherche",
            observed=", ".join(mail.recipients) + (f" (hors annuaire : {', '.join(outside)})" if outside else ""),
            passed=bool(mail.recipients) and not outside,
            proofs=[segur.attach_submission(mail.submission), _log_proof(segur, _queries(segur))],
        )


# -- attested variant -----------------------------------------------------------------------------------------
@given("le candidat ne peut pas être observé quand il interroge l'annuaire de l'opérateur de référence")
def directory_not_observable(segur: ScenarioContext) -> None:
    capabilities = segur.candidate.capabilities()
    if Action.SEARCH_DIRECTORY in capabilities and Action.ATTEST not in capabilities:
        raise NotApplicable("sans objet : le candidat est piloté automatiquement et interroge l'annuaire de "
                            "l'opérateur de référence ; sa recherche est vérifiée par le journal de l'annuaire")


def _attest(segur: ScenarioContext, key: str, instruction: str, check: str) -> Any:
    result = require_attestation(segur.candidate, EvidenceRequest(key=key, instruction=instruction))
    segur.expect(check, expected="une capture d'écran", observed=result.detail, passed=result.ok)
    return result


@then("une capture d'écran de la recherche du destinataire dans l'annuaire santé avant l'envoi est fournie")
def directory_screenshot(segur: ScenarioContext) -> None:
    _attest(segur, "recherche-annuaire",
            "capture d'écran de la recherche du destinataire dans l'annuaire santé depuis l'écran de rédaction, "
            "avec la liste des résultats et l'adresse MSSanté retenue pour l'envoi",
            "capture de la recherche dans l'annuaire fournie")


@then("une capture d'écran de la recherche multicritère dans l'annuaire santé est fournie")
def multicriteria_screenshot(segur: ScenarioContext) -> None:
    _attest(segur, "recherche-multicritere",
            "capture d'écran du formulaire de recherche de l'annuaire santé montrant les critères disponibles "
            "(RPPS, nom, profession, spécialité, lieu d'exercice), une recherche combinant plusieurs critères et "
            "ses résultats avec les adresses MSSanté",
            "capture de la recherche multicritère fournie")
