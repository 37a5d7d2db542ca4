"""Connection and security steps (SC.MSS/CONF.01, 03, 04, 05, 06, 07, 08, 10, 11, 22, 27, 28).

The operator is armed (TLS profile, fault, CRL state, PSC controls, clock), the candidate acts, and the judgement
reads the operator's transcripts through `segur_mss.transcripts`.
"""

from __future__ import annotations

import json
from pathlib import Path

from pytest_bdd import given, parsers, then, when

from segur_mss.candidates.base import (
    Action,
    DirectorySearch,
    EvidenceRequest,
    MailboxAutoconfiguration,
    OutgoingMessage,
    SessionKeeping,
    require,
    require_attestation,
)
from segur_mss.operator.tls_profiles import TlsPolicy
from segur_mss.scenario import ScenarioContext
from segur_mss.transcripts import (
    IMAP_SERVICES,
    SMTP_SERVICES,
    STRONG_VERSIONS,
    ConnectionReading,
    authorised_suites,
    describe,
    imap_order_problem,
    mail_connections,
    smtp_order_problem,
)

CERTIFICATE_PROFILES = {
    "révoqué": "certificat-revoque",
    "émis par une autorité non reconnue": "ac-non-reconnue",
    "expiré": "certificat-expire",
    "dont le nom ne correspond pas au serveur": "nom-incorrect",
}
#: How long the candidate is asked to stay on its mailbox while the operator misbehaves (no real waiting for
#: expiry: the operator's clock is moved instead).
ACTIVITY_SECONDS = 0.6


def _box(segur: ScenarioContext, role: str) -> str:
    return segur.operator.population.by_role(role).address


def _proofs(segur: ScenarioContext, readings: list[ConnectionReading]) -> list:  # type: ignore[type-arg]
    return [segur.attach_transcript(r.transcript) for r in readings]


def _note_result(segur: ScenarioContext, what: str, result: object) -> None:
    ok = getattr(result, "ok", False)
    segur.evidence.note(f"{what} : {'réussi' if ok else 'refusé ou échoué'} — {getattr(result, 'detail', '')}")


# -- arming the operator ----------------------------------------------------------------------------------------
@given("l'opérateur ne propose plus que TLS 1.0 et TLS 1.1")
def only_old_tls(segur: ScenarioContext) -> None:
    segur.operator.tls_profile("tls-obsolete")


@given("l'opérateur ne propose plus que des suites de chiffrement faibles")
def only_weak_ciphers(segur: ScenarioContext) -> None:
    segur.operator.tls_profile("chiffrement-faible")


@given(parsers.parse("l'opérateur présente un certificat {kind}"))
def server_certificate(segur: ScenarioContext, kind: str) -> None:
    segur.operator.tls_profile(CERTIFICATE_PROFILES[kind])


@given("l'opérateur refuse toute authentification")
def refuse_auth(segur: ScenarioContext) -> None:
    segur.operator.faults.set("refus-authentification")


@given("l'opérateur répond 421 à la prochaine connexion SMTP")
def smtp_421(segur: ScenarioContext) -> None:
    segur.operator.faults.set("fermeture", bye_after_commands=4, services={"smtp"}, connections=1)


@given("la liste de révocation publiée par l'autorité est expirée")
def crl_expired(segur: ScenarioContext) -> None:
    segur.operator.crl.set_expired(True)


@given("le point de distribution de la liste de révocation est injoignable")
@when("le point de distribution de la liste de révocation devient injoignable")
def crl_unreachable(segur: ScenarioContext) -> None:
    segur.operator.crl.set_reachability("refused")


@when("l'opérateur ferme la session IMAP du candidat par BYE")
def imap_bye(segur: ScenarioContext) -> None:
    segur.operator.faults.set("fermeture", bye_after_commands=6, services={"imap"}, connections=1)


@when("l'opérateur coupe la connexion IMAP du candidat sans préavis")
def imap_cut(segur: ScenarioContext) -> None:
    segur.operator.faults.set("coupure", drop_after_commands=6, services={"imap"}, connections=1)


@when("Pro Santé Connect révoque le jeton de rafraîchissement du professionnel")
def revoke_refresh(segur: ScenarioContext) -> None:
    owner = segur.operator.population.mailbox(segur.values["bal"]).owner
    segur.operator.psc.revoke_refresh_tokens(owner)


@when("le jeton d'accès du candidat expire")
def access_token_expires(segur: ScenarioContext) -> None:
    segur.operator.clock.advance(segur.operator.authority.access_lifetime + 5)


@when("le jeton de rafraîchissement du professionnel expire")
def refresh_token_expires(segur: ScenarioContext) -> None:
    segur.operator.clock.advance(segur.operator.authority.refresh_lifetime + 60)


# -- the candidate acts -----------------------------------------------------------------------------------------
@given("le candidat maintient une session IMAP ouverte")
def keep_imap_session(segur: ScenarioContext) -> None:
    require(segur.candidate, Action.KEEP_SESSION)
    result = segur.candidate.keep_session(SessionKeeping(seconds=0.1, poll_interval=0.05))
    _note_result(segur, "session IMAP ouverte", result)


@when(parsers.parse('le candidat tente de se connecter à la BAL "{role}"'))
def try_connect(segur: ScenarioContext, role: str) -> None:
    require(segur.candidate, Action.CONNECT_MAILBOX)
    segur.values["bal"] = _box(segur, role)
    segur.values["connexion"] = result = segur.candidate.connect_mailbox(segur.values["bal"])
    _note_result(segur, f"connexion à {segur.values['bal']}", result)


@when(parsers.parse('le candidat tente d\'envoyer un courriel simple à "{role}"'))
def try_send(segur: ScenarioContext, role: str) -> None:
    require(segur.candidate, Action.SEND_MESSAGE)
    result = segur.candidate.send_message(OutgoingMessage(to=(_box(segur, role),), subject="Essai de connexion",
                                                          body="Bonjour,\n\nessai.\n"))
    _note_result(segur, "envoi", result)


@when("le candidat poursuit son activité de messagerie")
def carry_on(segur: ScenarioContext) -> None:
    require(segur.candidate, Action.KEEP_SESSION)
    kept = segur.candidate.keep_session(SessionKeeping(seconds=ACTIVITY_SECONDS, poll_interval=0.1,
                                                       new_connection=True))
    segur.values["activite"] = kept
    _note_result(segur, "activité de messagerie", kept)


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


# -- judgements: TLS (CONF.01, 03) ------------------------------------------------------------------------------
@then("chaque connexion du candidat à l'opérateur a négocié TLS 1.2 ou plus")
def tls_versions(segur: ScenarioContext) -> None:
    readings = mail_connections(segur.capture)
    versions = [f"{r.id} : {(r.tls or {}).get('version', 'sans TLS')}" for r in readings]
    segur.expect(
        "version TLS de chaque connexion IMAP/SMTP du candidat",
        expected="TLSv1.2 ou TLSv1.3 sur chaque connexion (au moins une connexion)",
        observed="; ".join(versions) or "aucune connexion",
        passed=bool(readings) and all((r.tls or {}).get("version") in STRONG_VERSIONS for r in readings),
        proofs=_proofs(segur, readings),
    )


@then("chaque connexion du candidat a négocié une suite de chiffrement autorisée")
def tls_suites(segur: ScenarioContext) -> None:
    allowed = authorised_suites(TlsPolicy().tls12_ciphers)
    segur.evidence.add_proof("statement", "suites-autorisees.txt",
                             "Suites de chiffrement autorisées (configuration ; liste officielle non publique) :\n"
                             + "\n".join(allowed) + "\n", "liste des suites autorisées appliquée par le harnais")
    readings = mail_connections(segur.capture)
    seen = [f"{r.id} : {(r.tls or {}).get('cipher', 'sans TLS')}" for r in readings]
    segur.expect(
        "suite de chiffrement de chaque connexion IMAP/SMTP du candidat",
        expected="une suite de la liste autorisée (voir la preuve « suites autorisées »)",
        observed="; ".join(seen) or "aucune connexion",
        passed=bool(readings) and all((r.tls or {}).get("cipher") in allowed for r in readings),
        proofs=_proofs(segur, readings),
    )


@then("le candidat a tenté de se connecter et aucune connexion n'aboutit à une authentification ni à un message")
def nothing_gets_through(segur: ScenarioContext) -> None:
    readings = mail_connections(segur.capture)
    accepted = [r.id for r in readings for a in r.auths if a.get("success")]
    failures = [e.text for r in readings for e in r.transcript.events("tls_echec")]
    segur.expect(
        "refus du candidat face au serveur non conforme",
        expected="au moins une tentative de connexion, aucune authentification acceptée, aucun message",
        observed=(f"{len(readings)} connexion(s) ; authentifications acceptées : {', '.join(accepted) or 'aucune'} ; "
                  f"messages : {len(segur.capture.submissions)} ; échecs TLS côté serveur : {len(failures)}"),
        passed=bool(readings) and not accepted and not segur.capture.submissions,
        proofs=_proofs(segur, readings),
    )


# -- judgements: protocols and cinematics (CONF.05, 06, 07) ----------------------------------------------------
def _order_check(segur: ScenarioContext, services: tuple[str, ...], label: str, expected: str,
                 problem_of: object, only_clear: bool) -> None:
    readings = mail_connections(segur.capture, services)
    problems = []
    for r in readings:
        problem = problem_of(r)  # type: ignore[operator]
        if problem and (not only_clear or problem.startswith("en clair")):
            problems.append(f"{r.id} : {problem}")
    segur.expect(
        label,
        expected=expected,
        observed="; ".join(problems) or "; ".join(describe(r) for r in readings) or "aucune connexion",
        passed=bool(readings) and not problems,
        proofs=_proofs(segur, readings),
    )


@then("la transcription SMTP suit l'ordre EHLO, STARTTLS, EHLO, AUTH avant tout envoi")
def smtp_order(segur: ScenarioContext) -> None:
    _order_check(segur, SMTP_SERVICES, "ordre des commandes SMTP", "EHLO → STARTTLS → EHLO → AUTH → MAIL",
                 smtp_order_problem, only_clear=False)


@then(parsers.parse("aucune commande d'authentification ni donnée de message ne circule avant TLS sur {service}"))
def nothing_in_clear(segur: ScenarioContext, service: str) -> None:
    services, problem_of = (SMTP_SERVICES, smtp_order_problem) if service == "SMTP" else (IMAP_SERVICES,
                                                                                          imap_order_problem)
    _order_check(segur, services, f"commandes {service} envoyées en clair", "seulement EHLO/CAPABILITY/STARTTLS",
                 problem_of, only_clear=True)


@then("la transcription IMAP montre STARTTLS avant AUTHENTICATE")
def imap_order(segur: ScenarioContext) -> None:
    _order_check(segur, IMAP_SERVICES, "ordre des commandes IMAP", "CAPABILITY → STARTTLS → AUTHENTICATE",
                 imap_order_problem, only_clear=False)


@then("le candidat n'utilise pas la commande IMAP LOGIN")
def no_login(segur: ScenarioContext) -> None:
    readings = mail_connections(segur.capture, IMAP_SERVICES)
    users = [r.id for r in readings if "LOGIN" in r.commands]
    segur.expect("absence de la commande IMAP LOGIN (mot de passe)", expected="jamais LOGIN",
                 observed=", ".join(users) or "jamais LOGIN", passed=bool(readings) and not users,
                 proofs=_proofs(segur, readings))


@then("chaque authentification du candidat utilise SASL XOAUTH2 après TLS")
def xoauth2_after_tls(segur: ScenarioContext) -> None:
    readings = [r for r in mail_connections(segur.capture) if r.auths]
    seen = [f"{r.id} : {a.get('mechanism')} ({'après TLS' if r.tls else 'sans TLS'})" for r in readings
            for a in r.auths]
    if any(a.get("mechanism") == "OAUTHBEARER" for r in readings for a in r.auths):
        segur.evidence.note("le candidat a utilisé OAUTHBEARER : son acceptation par les opérateurs n'est pas "
                            "confirmée publiquement")
    segur.expect(
        "mécanisme SASL de chaque authentification",
        expected="XOAUTH2, après la négociation TLS",
        observed="; ".join(seen) or "aucune authentification",
        passed=bool(readings) and all(a.get("mechanism") == "XOAUTH2" and r.tls for r in readings for a in r.auths),
        proofs=_proofs(segur, readings),
    )


@then("chaque jeton présenté a été émis par Pro Santé Connect pour le professionnel titulaire de la BAL")
def token_of_the_owner(segur: ScenarioContext) -> None:
    issued = segur.operator.authority.issued_jti_digests()
    mailbox = segur.operator.population.mailbox(segur.values["bal"])
    readings = [r for r in mail_connections(segur.capture) if r.auths]
    seen, good = [], True
    for r in readings:
        for auth in r.auths:
            token = auth.get("token") or {}
            from_psc = token.get("jti_sha256") in issued
            owner = mailbox is not None and mailbox.granted_to(str(token.get("sub", "")))
            good &= bool(auth.get("success")) and from_psc and owner
            seen.append(f"{r.id} : professionnel {token.get('sub', '?')}, jeton "
                        f"{'émis par PSC' if from_psc else 'inconnu de PSC'}, "
                        f"{'accepté' if auth.get('success') else 'refusé'}")
    segur.expect(
        f"jeton d'accès présenté pour la BAL {segur.values['bal']}",
        expected="un jeton émis par Pro Santé Connect pour un professionnel habilité sur la BAL",
        observed="; ".join(seen) or "aucune authentification",
        passed=bool(seen) and good,
        proofs=_proofs(segur, readings),
    )


# -- judgements: autoconfiguration (CONF.04) --------------------------------------------------------------------
@then("l'opérateur a reçu une demande de configuration automatique pour cette adresse")
def autoconfig_requested(segur: ScenarioContext) -> None:
    address = segur.values["bal"]
    requests = [h for h in segur.capture.http if h.service == "autoconfig" or "autoconfig" in h.path
                or "config-v1.1" in h.path or "autodiscover" in h.path.lower()]
    log = "\n".join(f"{h.method} {h.path} -> {h.status}" for h in requests)
    proof = segur.evidence.add_proof("log", "autoconfiguration-http.log", log or "aucune requête\n",
                                     "requêtes d'auto-configuration reçues par l'opérateur")
    segur.expect("demande d'auto-configuration reçue par l'opérateur", expected=f"une requête pour {address}",
                 observed=log.replace("\n", " ; ") or "aucune requête",
                 passed=any(h.status == 200 for h in requests), proofs=[proof])


@then("la configuration trouvée par le candidat désigne les serveurs IMAP et SMTP de l'opérateur")
def autoconfig_result(segur: ScenarioContext) -> None:
    result = segur.values["autoconfiguration"]
    found = result.data if result.ok else {}
    ports = segur.operator.ports
    found_imap, found_smtp = found.get("imap", {}), found.get("smtp", {})
    host = segur.operator.settings.bind
    expected = (f"IMAP {host}:{ports['imap']} ou {host}:{ports.get('imaps')}, "
                f"SMTP {host}:{ports['smtp']} ou {host}:{ports.get('smtps')}")

    def shown(server: dict) -> str:  # type: ignore[type-arg]
        return f"{server.get('hote')}:{server.get('port')} ({server.get('tls')})"

    segur.expect(
        "serveurs trouvés par l'auto-configuration du candidat",
        expected=expected,
        observed=f"IMAP {shown(found_imap)}, SMTP {shown(found_smtp)}" if found else f"échec : {result.detail}",
        passed=bool(found) and found_imap.get("port") in (ports["imap"], ports.get("imaps"))
        and found_smtp.get("port") in (ports["smtp"], ports.get("smtps")),
    )


# -- judgements: errors and sessions (CONF.08, 10, 11) ----------------------------------------------------------
@then("la recherche dans l'annuaire a abouti malgré l'erreur de connexion")
def directory_still_works(segur: ScenarioContext) -> None:
    connection, search = segur.values.get("connexion"), segur.values["annuaire"]
    segur.expect(
        "recherche dans l'annuaire après l'échec de connexion à la messagerie",
        expected="connexion refusée, puis recherche aboutie avec au moins un résultat",
        observed=(f"connexion : {'acceptée' if connection and connection.ok else 'refusée'} ; recherche : "
                  f"{search.detail}"),
        passed=bool(connection is not None and not connection.ok and search.ok and search.data.get("resultats")),
    )


@then("le candidat signale l'erreur de connexion à l'utilisateur")
def error_shown(segur: ScenarioContext) -> None:
    require(segur.candidate, Action.USER_NOTIFICATIONS)
    notes = segur.candidate.user_notifications().data.get("notifications", [])
    errors = [n for n in notes if "erreur" in str(n.get("kind", ""))]
    segur.expect("information de l'utilisateur sur l'erreur de connexion", expected="une notification d'erreur",
                 observed="; ".join(str(n.get("text", n)) for n in errors) or "aucune notification d'erreur",
                 passed=bool(errors))


@then("une capture d'écran du message d'erreur de connexion présenté à l'utilisateur est fournie")
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
    readings = [r for r in mail_connections(segur.capture, IMAP_SERVICES) if any(a.get("success") for a in r.auths)]
    left_open = [r.id for r in readings if not r.closed_by_client()]
    segur.expect("fin des sessions IMAP authentifiées du candidat", expected="LOGOUT sur chaque session",
                 observed=f"sessions non fermées : {', '.join(left_open)}" if left_open else
                 f"{len(readings)} session(s) fermée(s) par LOGOUT",
                 passed=bool(readings) and not left_open, proofs=_proofs(segur, readings))


@then("le candidat n'a plus tenté de s'authentifier avec un jeton périmé")
def no_stale_auth(segur: ScenarioContext) -> None:
    attempts = sorted(((e.t, r.id, bool(e.data.get("success"))) for r in mail_connections(segur.capture)
                       for e in r.transcript.events("auth")), key=lambda a: a[0])
    first_refusal = next((i for i, a in enumerate(attempts) if not a[2]), None)
    after = attempts[first_refusal + 1:] if first_refusal is not None else []
    segur.expect(
        "tentatives d'authentification après le refus du jeton",
        expected="aucune nouvelle tentative après le premier refus",
        observed=f"{len(after)} tentative(s) après le refus" if first_refusal is not None else "aucun refus observé",
        passed=not after,
        proofs=_proofs(segur, mail_connections(segur.capture)),
    )


@then("le candidat demande à l'utilisateur de se reconnecter")
def asks_relogin(segur: ScenarioContext) -> None:
    require(segur.candidate, Action.SESSION_STATUS)
    status = segur.candidate.session_status().data
    segur.expect("demande de reconnexion à l'utilisateur", expected="état « reconnexion demandée » et un message",
                 observed=f"état {status.get('etat')} ; message « {status.get('message_utilisateur', '')} »",
                 passed=status.get("etat") == "reconnexion_demandee" and bool(status.get("message_utilisateur")))


@then("le candidat a rouvert une session IMAP authentifiée dans le délai configuré")
def reopened(segur: ScenarioContext) -> None:
    kept = segur.values["activite"]
    reconnections = kept.data.get("reconnexions", []) if kept.ok else []
    readings = mail_connections(segur.capture, IMAP_SERVICES)
    closed = [r.id for r in readings if r.closed_by_server()]
    reopened_after = [r.id for r in readings if any(a.get("success") for a in r.auths) and r.id > min(closed or [""])]
    if reconnections:
        segur.evidence.add_proof("log", "reconnexions.json", json.dumps(reconnections, ensure_ascii=False, indent=2),
                                 "reconnexions déclarées par le candidat (service, délai, cause)",
                                 media_type="application/json")
    segur.expect(
        "réouverture automatique de la session IMAP fermée par le serveur",
        expected=f"session fermée par l'opérateur puis nouvelle session authentifiée en moins de "
                 f"{ACTIVITY_SECONDS:g} s, sans action de l'utilisateur",
        observed=(f"fermetures : {', '.join(closed) or 'aucune'} ; sessions authentifiées ensuite : "
                  f"{', '.join(reopened_after) or 'aucune'} ; reconnexions déclarées par le candidat : "
                  f"{len(reconnections)}"),
        passed=bool(closed) and bool(reopened_after) and kept.ok,
        proofs=_proofs(segur, readings),
    )


@then("le jeton présenté à la réouverture est un nouveau jeton d'accès")
def fresh_token(segur: ScenarioContext) -> None:
    readings = mail_connections(segur.capture, IMAP_SERVICES)
    tokens = [a["token"]["jti_sha256"] for r in readings for a in r.auths if a.get("success") and a.get("token")]
    segur.expect("jeton d'accès présenté à la réouverture", expected="différent du jeton de la session fermée",
                 observed=f"{len(tokens)} jeton(s) acceptés, {len(set(tokens))} distincts",
                 passed=len(tokens) >= 2 and tokens[-1] != tokens[0], proofs=_proofs(segur, readings))


# -- judgements: APP mailbox (CONF.27) and token storage (CONF.28) ----------------------------------------------
@then("la BAL applicative a été ouverte par certificat client IGC Santé (SASL EXTERNAL)")
def opened_by_certificate(segur: ScenarioContext) -> None:
    readings = [r for r in mail_connections(segur.capture) if r.auths]
    seen = [f"{r.id} : {a.get('mechanism')} {'accepté' if a.get('success') else 'refusé'} ; certificat client "
            f"{(r.tls or {}).get('client_cert') or 'aucun'}" for r in readings for a in r.auths]
    segur.expect(
        "authentification de la BAL applicative",
        expected="SASL EXTERNAL accepté avec un certificat client de l'AC IGC-Santé Organisations",
        observed="; ".join(seen) or "aucune authentification",
        passed=bool(readings) and all(a.get("mechanism") == "EXTERNAL" and a.get("success") and
                                      (r.tls or {}).get("client_cert") for r in readings for a in r.auths),
        proofs=_proofs(segur, readings),
    )


@then("aucun jeton d'accès émis pendant le scénario ne se trouve dans le stockage déclaré par le candidat")
def no_stored_token(segur: ScenarioContext) -> None:
    require(segur.candidate, Action.TOKEN_STORAGE_LOCATIONS)
    places = segur.candidate.token_storage_locations().data.get("emplacements", [])
    tokens = segur.operator.authority.issued_access_tokens
    found = []
    scanned = 0
    for place in places:
        root = Path(place)
        files = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()] if root.exists() else []
        for path in files:
            scanned += 1
            data = path.read_bytes()
            if any(t.encode() in data for t in tokens):
                found.append(str(path))
    segur.expect(
        "recherche des jetons d'accès émis dans le stockage du candidat",
        expected="aucun fichier ne contient un jeton d'accès émis",
        observed=(f"jetons émis cherchés dans {scanned} fichier(s) de {len(places)} emplacement(s) ; "
                  f"trouvés dans : {', '.join(found) or 'aucun'}"),
        passed=bool(tokens) and bool(places) and not found,
    )


@then("une déclaration de l'éditeur sur la non-conservation du jeton d'accès est fournie")
def token_statement(segur: ScenarioContext) -> None:
    result = require_attestation(segur.candidate, EvidenceRequest(
        key="jeton-non-conserve",
        instruction="déclaration de l'éditeur : où le logiciel garde le jeton d'accès PSC (mémoire seulement) et "
                    "ce que le harnais ne peut pas inspecter (base de données, registre, journal)",
        kinds=("statement",),
        statement="Le jeton d'accès Pro Santé Connect n'est jamais enregistré de façon permanente par le logiciel.",
    ))
    segur.expect("déclaration sur la conservation du jeton fournie", expected="une déclaration signée",
                 observed=result.detail, passed=result.ok)
