"""Connection and security steps (SC.MSS/CONF.01, 03, 04, 05, 06, 07, 08, 10, 11, 22, 27, 28).

The operator is armed (TLS profile, fault, CRL state, PSC controls, clock), the candidate acts, and the judgement
reads what reached the operator through `segur_mss.judgement` (transcripts, token scan); steps only record it.
"""

from __future__ import annotations

import json
import time
from typing import Any

from pytest_bdd import given, parsers, then, when

from segur_mss.candidates.base import (
    Action,
    ActionResult,
    DirectorySearch,
    EvidenceRequest,
    MailboxAutoconfiguration,
    OutgoingMessage,
    SessionKeeping,
    require,
    require_attestation,
)
from segur_mss.evidence.store import Proof
from segur_mss.judgement import transcripts as tr
from segur_mss.judgement.connection_policy import ConnectionPolicy
from segur_mss.judgement.token_storage import scan_for_tokens
from segur_mss.operator.tls_profiles import PROFILES
from segur_mss.scenario import ScenarioContext
from segur_mss.verdicts import NotTested
from steps.common import CandidateActionFailed

CERTIFICATE_PROFILES = {
    "révoqué": "certificat-revoque",
    "émis par une autorité non reconnue": "ac-non-reconnue",
    "expiré": "certificat-expire",
    "dont le nom ne correspond pas au serveur": "nom-incorrect",
}
#: How long the candidate stays on its mailbox while the operator misbehaves, and how often it polls (the
#: operator's clock is moved instead of waiting for expiry; a reopening not seen yet is waited for, below).
ACTIVITY_SECONDS = 0.1
POLL_SECONDS = 0.05
#: The session the candidate keeps is closed by the operator at its 7th command (after the opening: CAPABILITY,
#: STARTTLS, CAPABILITY, AUTHENTICATE, SELECT and the first poll of "maintient une session IMAP ouverte").
FAULT_AFTER_COMMANDS = 6


def _box(segur: ScenarioContext, role: str) -> str:
    return segur.operator.population.by_role(role).address


def _policy(segur: ScenarioContext) -> ConnectionPolicy:
    return ConnectionPolicy.from_config(getattr(segur.config, "connection", None), segur.config.source)


def _proofs(segur: ScenarioContext, readings: list[tr.ConnectionReading]) -> list[Proof]:
    return [segur.attach_transcript(r.transcript) for r in readings]


def _note_refusal(segur: ScenarioContext, what: str, result: ActionResult) -> None:
    """What the candidate said when an action did not succeed (each note costs a durable write: only these)."""
    if not result.ok:
        segur.evidence.note(f"{what} : refusé ou échoué côté candidat — {result.detail}")


def _tls_profile(segur: ScenarioContext, name: str) -> None:
    segur.operator.tls_profile(name)
    segur.values["panne"] = f"profil TLS « {name} » ({PROFILES[name].description})"


# -- arming the operator ----------------------------------------------------------------------------------------
@given("l'opérateur ne propose plus que TLS 1.0 et TLS 1.1")
def only_old_tls(segur: ScenarioContext) -> None:
    _tls_profile(segur, "tls-obsolete")


@given("l'opérateur ne propose plus que des suites de chiffrement faibles")
def only_weak_ciphers(segur: ScenarioContext) -> None:
    _tls_profile(segur, "chiffrement-faible")


@given(parsers.parse("l'opérateur présente un certificat {kind}"))
def server_certificate(segur: ScenarioContext, kind: str) -> None:
    _tls_profile(segur, CERTIFICATE_PROFILES[kind])


@given("l'opérateur refuse toute authentification")
def refuse_auth(segur: ScenarioContext) -> None:
    segur.operator.faults.set("refus-authentification")


@given("l'opérateur répond 421 à la prochaine connexion SMTP")
def smtp_421(segur: ScenarioContext) -> None:
    # after EHLO, STARTTLS, EHLO, AUTH: the session is closed (421) once the candidate is authenticated
    segur.operator.faults.set("fermeture", bye_after_commands=4, services={"smtp"}, connections=1)


@given("la liste de révocation publiée par l'autorité est expirée")
def crl_expired(segur: ScenarioContext) -> None:
    segur.operator.crl.set_expired(True)
    segur.values["panne"] = "liste de révocation publiée expirée"


@given("le point de distribution de la liste de révocation est injoignable")
@when("le point de distribution de la liste de révocation devient injoignable")
def crl_unreachable(segur: ScenarioContext) -> None:
    segur.operator.crl.set_reachability("refused")
    segur.values["panne"] = "point de distribution de la liste de révocation injoignable (connexion refusée)"


@given("l'opérateur fermera par BYE la session IMAP que le candidat va ouvrir")
def imap_bye(segur: ScenarioContext) -> None:
    segur.operator.faults.set("fermeture", bye_after_commands=FAULT_AFTER_COMMANDS, services={"imap"},
                              connections=1)


@given("l'opérateur coupera sans préavis la connexion IMAP que le candidat va ouvrir")
def imap_cut(segur: ScenarioContext) -> None:
    segur.operator.faults.set("coupure", drop_after_commands=FAULT_AFTER_COMMANDS, services={"imap"},
                              connections=1)


@when("Pro Santé Connect révoque le jeton de rafraîchissement du professionnel")
def revoke_refresh(segur: ScenarioContext) -> None:
    owner = segur.operator.population.mailbox(segur.values["bal"]).owner
    segur.operator.psc.revoke_refresh_tokens(owner)


@when("le jeton d'accès du candidat expire")
def access_token_expires(segur: ScenarioContext) -> None:
    seconds = segur.operator.authority.access_lifetime + 5
    segur.operator.clock.advance(seconds)
    segur.evidence.note(f"horloge de l'opérateur avancée de {seconds} s (jeton d'accès expiré)")


@when("le jeton de rafraîchissement du professionnel expire")
def refresh_token_expires(segur: ScenarioContext) -> None:
    seconds = segur.operator.authority.refresh_lifetime + 60
    segur.operator.clock.advance(seconds)
    segur.evidence.note(f"horloge de l'opérateur avancée de {seconds} s (jeton de rafraîchissement expiré)")


# -- the candidate acts -----------------------------------------------------------------------------------------
@given("le candidat maintient une session IMAP ouverte")
def keep_imap_session(segur: ScenarioContext) -> None:
    """A new IMAP session (it meets the faults armed before it), kept open after one poll."""
    require(segur.candidate, Action.KEEP_SESSION)
    result = segur.candidate.keep_session(SessionKeeping(seconds=0, poll_interval=POLL_SECONDS, new_connection=True))
    if not result.ok:
        raise CandidateActionFailed(f"le candidat n'a pas pu garder sa session IMAP ouverte : {result.detail}")


@when(parsers.parse('le candidat tente de se connecter à la BAL "{role}"'))
def try_connect(segur: ScenarioContext, role: str) -> None:
    require(segur.candidate, Action.CONNECT_MAILBOX)
    segur.values["bal"] = _box(segur, role)
    segur.values["connexion"] = result = segur.candidate.connect_mailbox(segur.values["bal"])
    _note_refusal(segur, f"connexion à {segur.values['bal']}", result)


@when(parsers.parse('le candidat tente d\'envoyer un courriel simple à "{role}"'))
def try_send(segur: ScenarioContext, role: str) -> None:
    require(segur.candidate, Action.SEND_MESSAGE)
    message = OutgoingMessage(to=(_box(segur, role),), subject="Essai de connexion", body="Bonjour,\n\nessai.\n")
    _note_refusal(segur, "envoi", segur.candidate.send_message(message))


@when(parsers.re(r"le candidat poursuit son activité (?P<where>de messagerie|sur cette session)"))
def carry_on(segur: ScenarioContext, where: str) -> None:
    """`de messagerie`: it opens a new session first (its token is presented again: CONF.10); `sur cette
    session`: it goes on polling the session it keeps (the one the operator was armed to close: CONF.11)."""
    require(segur.candidate, Action.KEEP_SESSION)
    keeping = SessionKeeping(seconds=ACTIVITY_SECONDS, poll_interval=POLL_SECONDS,
                             new_connection=where == "de messagerie")
    segur.values["activite"] = kept = segur.candidate.keep_session(keeping)
    _note_refusal(segur, "activité de messagerie", kept)


@when(parsers.parse('le candidat se configure automatiquement pour la BAL "{role}"'))
def autoconfigure(segur: ScenarioContext, role: str) -> None:
    require(segur.candidate, Action.AUTOCONFIGURE)
    segur.values["bal"] = _box(segur, role)
    segur.values["autoconfiguration"] = segur.candidate.autoconfigure(MailboxAutoconfiguration(segur.values["bal"]))


@when(parsers.parse('le candidat recherche dans l\'annuaire un "{profession}" nommé "{name}"'))
def search_directory(segur: ScenarioContext, profession: str, name: str) -> None:
    require(segur.candidate, Action.SEARCH_DIRECTORY)
    segur.values["annuaire"] = segur.candidate.search_directory(DirectorySearch(name=name, profession=profession))


@when("le candidat ferme sa session")
def close_session(segur: ScenarioContext) -> None:
    require(segur.candidate, Action.DISCONNECT_MAILBOX)
    segur.candidate.disconnect_mailbox()


# -- judgements: TLS (CONF.01, 03), refusals (CONF.01, 03, 22, 27) ------------------------------------------------
@then("chaque connexion du candidat à l'opérateur a négocié TLS 1.2 ou plus")
def tls_versions(segur: ScenarioContext) -> None:
    readings = tr.mail_connections(segur.capture)
    verdict = tr.tls_versions(readings)
    segur.expect("version TLS de chaque connexion IMAP/SMTP du candidat",
                 expected="TLSv1.2 ou TLSv1.3 sur chaque connexion (au moins une connexion)",
                 observed=verdict.observed, passed=verdict.passed, proofs=_proofs(segur, readings))


@then("chaque connexion du candidat a négocié une suite de chiffrement autorisée")
def tls_suites(segur: ScenarioContext) -> None:
    policy = _policy(segur)
    listed = segur.evidence.add_proof("statement", "suites-autorisees.txt", policy.describe(),
                                      "suites de chiffrement autorisées appliquées par le harnais (configuration)")
    readings = tr.mail_connections(segur.capture)
    verdict = tr.tls_suites(readings, policy.authorised_suites)
    segur.expect("suite de chiffrement de chaque connexion IMAP/SMTP du candidat",
                 expected=f"une des {len(policy.authorised_suites)} suites autorisées (preuve « suites autorisées »)",
                 observed=verdict.observed, passed=verdict.passed, proofs=[listed, *_proofs(segur, readings)])


@then("aucune connexion du candidat n'aboutit à une authentification ni à un message")
def nothing_gets_through(segur: ScenarioContext) -> None:
    readings = tr.mail_connections(segur.capture)
    verdict = tr.refused_to_proceed(readings, len(segur.capture.submissions))
    fault = segur.values.get("panne")
    segur.expect("refus du candidat face au serveur non conforme",
                 expected=(f"{fault} : " if fault else "")
                 + "au moins une tentative de connexion, aucune authentification acceptée, aucun message",
                 observed=verdict.observed, passed=verdict.passed, proofs=_proofs(segur, readings))


# -- judgements: protocols and cinematics (CONF.05, 06, 07) ----------------------------------------------------
@then("la transcription SMTP suit l'ordre EHLO, STARTTLS, EHLO, AUTH avant tout envoi")
def smtp_order(segur: ScenarioContext) -> None:
    readings = tr.mail_connections(segur.capture, tr.SMTP_SERVICES)
    verdict = tr.command_order(readings, tr.smtp_order_problem)
    segur.expect("ordre des commandes SMTP", expected="EHLO → STARTTLS → EHLO → AUTH → MAIL",
                 observed=verdict.observed, passed=verdict.passed, proofs=_proofs(segur, readings))


@then(parsers.re(r"aucune commande d'authentification ni donnée de message ne circule avant TLS sur "
                 r"(?P<service>SMTP|IMAP)"))
def nothing_in_clear(segur: ScenarioContext, service: str) -> None:
    smtp = service == "SMTP"
    readings = tr.mail_connections(segur.capture, tr.SMTP_SERVICES if smtp else tr.IMAP_SERVICES)
    verdict = tr.command_order(readings, tr.smtp_order_problem if smtp else tr.imap_order_problem, only_clear=True)
    allowed = tr.SMTP_CLEAR_COMMANDS if smtp else tr.IMAP_CLEAR_COMMANDS
    segur.expect(f"commandes {service} envoyées en clair", expected=f"seulement {', '.join(allowed)} avant TLS",
                 observed=verdict.observed, passed=verdict.passed, proofs=_proofs(segur, readings))


@then("la transcription IMAP montre STARTTLS avant AUTHENTICATE")
def imap_order(segur: ScenarioContext) -> None:
    readings = tr.mail_connections(segur.capture, tr.IMAP_SERVICES)
    verdict = tr.command_order(readings, tr.imap_order_problem)
    segur.expect("ordre des commandes IMAP", expected="CAPABILITY → STARTTLS → AUTHENTICATE",
                 observed=verdict.observed, passed=verdict.passed, proofs=_proofs(segur, readings))


@then("le candidat n'utilise pas la commande IMAP LOGIN")
def no_login(segur: ScenarioContext) -> None:
    readings = tr.mail_connections(segur.capture)
    verdict = tr.password_logins(readings)
    segur.expect("absence d'authentification par mot de passe (IMAP LOGIN, SASL PLAIN/LOGIN)",
                 expected="jamais", observed=verdict.observed, passed=verdict.passed,
                 proofs=_proofs(segur, readings))


@then("chaque authentification du candidat utilise SASL XOAUTH2 après TLS")
def xoauth2_after_tls(segur: ScenarioContext) -> None:
    readings = tr.mail_connections(segur.capture)
    if tr.used_oauthbearer(readings):
        segur.evidence.note("le candidat a utilisé OAUTHBEARER (RFC 7628) : son acceptation par les opérateurs "
                            "n'est pas confirmée publiquement")
    verdict = tr.bearer_after_tls(readings)
    segur.expect("mécanisme SASL de chaque authentification", expected="XOAUTH2, après la négociation TLS",
                 observed=verdict.observed, passed=verdict.passed, proofs=_proofs(segur, readings))


@then("chaque jeton présenté a été émis par Pro Santé Connect pour le professionnel titulaire de la BAL")
def token_of_the_owner(segur: ScenarioContext) -> None:
    mailbox = segur.operator.population.mailbox(segur.values["bal"])
    readings = tr.mail_connections(segur.capture)
    verdict = tr.tokens_from_psc(readings, segur.operator.authority.issued_jti_digests(),
                                 lambda rpps: mailbox is not None and mailbox.granted_to(rpps))
    segur.expect(f"jeton d'accès présenté pour la BAL {segur.values['bal']}",
                 expected="un jeton émis par Pro Santé Connect à un professionnel habilité sur la BAL, accepté",
                 observed=verdict.observed, passed=verdict.passed, proofs=_proofs(segur, readings))


# -- judgements: autoconfiguration (CONF.04) --------------------------------------------------------------------
@then("l'opérateur a reçu une demande de configuration automatique pour cette adresse")
def autoconfig_requested(segur: ScenarioContext) -> None:
    requests = [h for h in segur.capture.http if h.service == "autoconfig" or "autoconfig" in h.path
                or "config-v1.1" in h.path or "autodiscover" in h.path.lower()]
    log = "\n".join(f"{h.at} {h.method} {h.path} -> {h.status}" for h in requests)
    proof = segur.evidence.add_proof("log", "autoconfiguration-http.log", (log or "aucune requête") + "\n",
                                     "requêtes d'auto-configuration reçues par l'opérateur")
    segur.expect("demande d'auto-configuration reçue par l'opérateur",
                 expected=f"une requête aboutie pour {segur.values['bal']}",
                 observed=log.replace("\n", " ; ") or "aucune requête",
                 passed=any(h.status == 200 for h in requests), proofs=[proof])


@then("la configuration trouvée par le candidat désigne les serveurs IMAP et SMTP de l'opérateur")
def autoconfig_result(segur: ScenarioContext) -> None:
    result = segur.values["autoconfiguration"]
    found = result.data if result.ok else {}
    ports, env = segur.operator.ports, segur.operator.env()
    hosts = {env["imap"]["host"], env["smtp"]["host"], segur.operator.settings.hostname}
    imap_ports, smtp_ports = {ports.get("imap"), ports.get("imaps")}, {ports.get("smtp"), ports.get("smtps")}
    found_imap, found_smtp = found.get("imap", {}), found.get("smtp", {})

    def shown(server: dict[str, Any]) -> str:
        return f"{server.get('hote')}:{server.get('port')} ({server.get('tls')})"

    segur.expect(
        "serveurs trouvés par l'auto-configuration du candidat",
        expected=f"IMAP port {' ou '.join(str(p) for p in sorted(p for p in imap_ports if p))}, SMTP port "
                 f"{' ou '.join(str(p) for p in sorted(p for p in smtp_ports if p))}, sur {' / '.join(sorted(hosts))}",
        observed=f"IMAP {shown(found_imap)}, SMTP {shown(found_smtp)}" if found else f"échec : {result.detail}",
        passed=bool(found) and found_imap.get("port") in imap_ports and found_smtp.get("port") in smtp_ports
        and found_imap.get("hote") in hosts and found_smtp.get("hote") in hosts,
    )


# -- judgements: errors and sessions (CONF.08, 10, 11) ----------------------------------------------------------
@then("la recherche dans l'annuaire a abouti malgré l'erreur de connexion")
def directory_still_works(segur: ScenarioContext) -> None:
    connection, search = segur.values.get("connexion"), segur.values["annuaire"]
    refused = connection is not None and not connection.ok
    segur.expect(
        "recherche dans l'annuaire après l'échec de connexion à la messagerie",
        expected="connexion refusée, puis recherche aboutie avec au moins un résultat",
        observed=f"connexion : {'refusée' if refused else 'acceptée'} ; recherche : {search.detail}",
        passed=refused and search.ok and bool(search.data.get("resultats")),
    )


@then("le candidat signale l'erreur de connexion à l'utilisateur")
def error_shown(segur: ScenarioContext) -> None:
    require(segur.candidate, Action.USER_NOTIFICATIONS)
    notes = segur.candidate.user_notifications().data.get("notifications", [])
    errors = [n for n in notes if "erreur" in str(n.get("kind", ""))]
    segur.expect("information de l'utilisateur sur l'erreur de connexion", expected="une notification d'erreur",
                 observed="; ".join(str(n.get("text", n)) for n in errors) or "aucune notification d'erreur",
                 passed=bool(errors))


@then("une capture d'écran du message d'erreur présenté à l'utilisateur est fournie")
def error_screenshot(segur: ScenarioContext) -> None:
    result = require_attestation(segur.candidate, EvidenceRequest(
        key="erreur-connexion",
        instruction="capture d'écran du message d'erreur que le logiciel affiche quand l'opérateur refuse "
                    "l'authentification, les autres fonctions restant accessibles",
    ))
    segur.expect("capture de l'erreur de connexion fournie", expected="une capture d'écran",
                 observed=result.detail, passed=result.ok)


@then("le candidat a fermé ses sessions de messagerie")
def sessions_closed(segur: ScenarioContext) -> None:
    readings = tr.mail_connections(segur.capture, tr.IMAP_SERVICES)
    verdict = tr.open_sessions(readings)
    segur.expect("fin des sessions IMAP authentifiées du candidat",
                 expected="chaque session authentifiée terminée (LOGOUT ou connexion fermée)",
                 observed=verdict.observed, passed=verdict.passed, proofs=_proofs(segur, readings))


@then("le candidat n'a plus tenté de s'authentifier avec un jeton périmé")
def no_stale_auth(segur: ScenarioContext) -> None:
    readings = tr.mail_connections(segur.capture)
    verdict = tr.attempts_after_refusal(readings)
    segur.expect("tentatives d'authentification après le refus du jeton",
                 expected="aucune nouvelle tentative après le premier refus",
                 observed=verdict.observed, passed=verdict.passed, proofs=_proofs(segur, readings))


@then("le candidat demande à l'utilisateur de se reconnecter")
def asks_relogin(segur: ScenarioContext) -> None:
    require(segur.candidate, Action.SESSION_STATUS)
    status = segur.candidate.session_status().data
    segur.expect("demande de reconnexion à l'utilisateur", expected="état « reconnexion_demandee » et un message",
                 observed=f"état {status.get('etat')} ; message « {status.get('message_utilisateur', '')} »",
                 passed=status.get("etat") == "reconnexion_demandee" and bool(status.get("message_utilisateur")))


def _reopening(segur: ScenarioContext, services: tuple[str, ...], delay: float) -> tr.Reopening | None:
    """The reopening seen by the operator; while the candidate says it is still active, waited for up to `delay`
    (a product running on its own may reconnect after the action returned)."""
    kept = segur.values.get("activite")
    deadline = time.monotonic() + delay
    while True:
        found = tr.reopening(tr.mail_connections(segur.capture, services))
        if (found is not None and found.reopened is not None) or kept is None or not kept.ok \
                or time.monotonic() >= deadline:
            return found
        time.sleep(0.02)


@then(parsers.re(r"le candidat a rouvert une session (?P<service>IMAP|SMTP) authentifiée dans le délai configuré"))
def reopened(segur: ScenarioContext, service: str) -> None:
    policy = _policy(segur)
    services = tr.IMAP_SERVICES if service == "IMAP" else tr.SMTP_SERVICES
    segur.values["services"] = services
    found = segur.values["reouverture"] = _reopening(segur, services, policy.reopen_delay)
    proofs = _proofs(segur, tr.mail_connections(segur.capture, services))
    kept = segur.values.get("activite")
    declared = kept.data.get("reconnexions", []) if kept is not None else []
    if declared:
        proofs.insert(0, segur.evidence.add_proof(
            "log", "reconnexions.json", json.dumps(declared, ensure_ascii=False, indent=2),
            "reconnexions déclarées par le candidat (service, délai, cause)", media_type="application/json"))
    verdict = tr.judge_reopening(found, policy.reopen_delay)
    segur.expect(f"réouverture automatique de la session {service} fermée par le serveur",
                 expected=f"nouvelle session authentifiée par le candidat lui-même au plus {policy.reopen_delay:g} s "
                          "après la fermeture, sans action de l'utilisateur",
                 observed=verdict.observed, passed=verdict.passed, proofs=proofs)


@then("le jeton présenté à la réouverture est un nouveau jeton d'accès")
def fresh_token(segur: ScenarioContext) -> None:
    services = segur.values.get("services", tr.IMAP_SERVICES)
    found = segur.values.get("reouverture") or tr.reopening(tr.mail_connections(segur.capture, services))
    verdict = tr.judge_fresh_token(found)
    segur.expect("jeton d'accès présenté à la réouverture", expected="différent du jeton de la session fermée",
                 observed=verdict.observed, passed=verdict.passed,
                 proofs=_proofs(segur, tr.mail_connections(segur.capture, services)))


# -- judgements: CRL (CONF.22), APP mailbox (CONF.27), token storage (CONF.28) -----------------------------------
@then("le candidat a téléchargé la liste de révocation de l'autorité avant la coupure")
def crl_downloaded(segur: ScenarioContext) -> None:
    fetched = [h for h in segur.capture.http if h.path.startswith("/crl/")]
    log = "\n".join(f"{h.at} {h.method} {h.path} -> {h.status}" for h in fetched)
    proof = segur.evidence.add_proof("log", "lcr-http.log", (log or "aucun téléchargement") + "\n",
                                     "téléchargements de la liste de révocation servis par l'opérateur")
    segur.expect("téléchargement de la liste de révocation par le candidat",
                 expected="au moins un téléchargement abouti de la LCR de l'autorité",
                 observed=log.replace("\n", " ; ") or "aucun téléchargement",
                 passed=any(h.status == 200 for h in fetched), proofs=[proof])


@then("la BAL applicative a été ouverte par certificat client IGC Santé (SASL EXTERNAL)")
def opened_by_certificate(segur: ScenarioContext) -> None:
    readings = tr.mail_connections(segur.capture)
    verdict = tr.certificate_authentications(readings)
    segur.expect("authentification de la BAL applicative",
                 expected="SASL EXTERNAL accepté avec un certificat client de l'AC IGC-Santé Organisations",
                 observed=verdict.observed, passed=verdict.passed, proofs=_proofs(segur, readings))


@then("aucun jeton d'accès émis pendant le scénario ne se trouve dans le stockage déclaré par le candidat")
def no_stored_token(segur: ScenarioContext) -> None:
    require(segur.candidate, Action.TOKEN_STORAGE_LOCATIONS)
    declared = segur.candidate.token_storage_locations().data.get("emplacements", [])
    workdir = getattr(segur.candidate, "workdir", None)
    places = [*declared, *([workdir] if workdir else [])]
    tokens = segur.operator.authority.issued_access_tokens
    scan = scan_for_tokens(places, tokens)
    if not scan.places:
        raise NotTested("le candidat ne déclare aucun emplacement de stockage que le harnais puisse inspecter : "
                        "la déclaration attestée de l'éditeur (SC.MSS/CONF.28.02) en tient lieu")
    segur.expect("recherche des jetons d'accès émis dans le stockage du candidat",
                 expected="au moins un emplacement examiné, aucun fichier ne contient un jeton d'accès émis",
                 observed=scan.describe(len(tokens)), passed=bool(tokens) and bool(scan.places) and not scan.found)


@then("une déclaration de l'éditeur sur la non-conservation du jeton d'accès est fournie")
def token_statement(segur: ScenarioContext) -> None:
    result = require_attestation(segur.candidate, EvidenceRequest(
        key="jeton-non-conserve",
        instruction="déclaration de l'éditeur : où le logiciel garde le jeton d'accès PSC (mémoire seulement) et "
                    "ce que le harnais ne peut pas inspecter (base de données, registre, journal)",
        kinds=("export",),
        statement="Le jeton d'accès Pro Santé Connect n'est jamais enregistré de façon permanente par le logiciel.",
    ))
    statement = str(result.data.get("statement", ""))
    segur.expect("déclaration sur la conservation du jeton fournie", expected="la déclaration attestée par l'éditeur",
                 observed=f"{result.detail} ; « {statement} »",
                 passed=result.ok and bool(statement) and not statement.startswith("NON ATTESTÉ"))
