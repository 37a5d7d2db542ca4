"""The reference candidate: a conformant LPS and PFI, the living example of what the harness expects.

It is configured like a real product (the operator's parameters of env.json, the IGC-Santé test root, its
Convergence reference, its own settings: `settings.py`) and behaves as the Référentiel #2 and the ANS guides ask:

- connection (CONF.01, 03, 05, 06, 07, 22, 27): TLS ≥ 1.2 with the allowed suites only, the IGC-Santé root as the
  only anchor, server name, expiry and revocation (CRL, last valid one kept) checked before anything is sent;
  STARTTLS before any authentication; SASL XOAUTH2 (or OAUTHBEARER) with the professional's PSC access token, or
  SASL EXTERNAL with the organisation's certificate for an applicative mailbox; auto-configuration (CONF.04);
- PSC session (CONF.10, 11, 28): CIBA poll or authorization code + PKCE, tokens in memory only, refreshed before
  expiry; a dropped session is reopened with a fresh access token; a refused refresh ends the mail sessions and
  asks the user to log in again;
- sending (CONF.14, 15, 16, 21, 24): IHE_XDM, `XDM/1.0/DDM+` subject, X-MSS-* headers, end of exchange with the
  patient; as a PFI, what the producer's HL7v2 message asks (replacement keeps the setId);
- receiving (UX.01, 05, 07, 11, 38, 39, 40): document mail recognised, automatic integration only on an exact
  qualified INS match, replacement keeping the previous version visible, integration MDN (codes 900–906), user
  notifications, manual import;
- traces (CONF.17, 18, UX.37) of every processing, without message content; directory search (CONF.20, UX.10).

Each product rule is a small method; the faulty candidates (`faulty.py`) override exactly one of them. The
receiving side lives in `receiving.py` (`ReceivingRole`), the PFI side in `pfi.py` (`ProducerRole`); the pieces
they use each have their module: `psc_client`, `imap_session`, `smtp_session`, `tls_policy`, `revocation`,
`autoconfig_client`, `directory_client`, `inbox`, `records`, `traces`.
"""

from __future__ import annotations

import email.utils
import time
import uuid
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

from segur_mss.candidates import directory_client
from segur_mss.candidates.autoconfig_client import AutoconfigError, MailSettings, discover
from segur_mss.candidates.base import (
    Action,
    ActionResult,
    CandidateEnvironment,
    DirectorySearch,
    DocumentSending,
    MailboxAutoconfiguration,
    OutgoingMessage,
    PatientMessage,
    SessionKeeping,
    TraceExport,
)
from segur_mss.candidates.directory_client import DirectoryError
from segur_mss.candidates.imap_session import ImapSession
from segur_mss.candidates.inbox import LocalPatients
from segur_mss.candidates.mail_transport import (
    AsyncRunner,
    AuthenticationRefused,
    MailCredentials,
    MailSession,
    MailSessionError,
    ServerAddress,
    SessionDropped,
)
from segur_mss.candidates.pfi import ProducerRole
from segur_mss.candidates.psc_client import (
    USER_RELOGIN_MESSAGE,
    MemoryTokenStore,
    PscClient,
    PscConfiguration,
    PscError,
    PscSession,
    PscSessionEnded,
    TokenSet,
    TokenStore,
)
from segur_mss.candidates.receiving import ReceivingRole
from segur_mss.candidates.records import LocalRecords, Notification
from segur_mss.candidates.revocation import CrlCache
from segur_mss.candidates.session_state import CONNECTED, DISCONNECTED, RELOGIN, SessionOver, mailbox_action
from segur_mss.candidates.settings import ReferenceSettings
from segur_mss.candidates.smtp_session import DsnParameters, SmtpSession
from segur_mss.candidates.tls_policy import ClientCertificate, TlsPolicy, TlsRefused, negotiated, peer_chain
from segur_mss.candidates.traces import TraceEvent, TraceJournal
from segur_mss.documents.cda import CdaDocument, make_cda
from segur_mss.documents.mail import build_document_mail
from segur_mss.documents.patients import Patient, get_patient

R = TypeVar("R")


class CandidateError(Exception):
    """The candidate could not perform an action (the harness reports `error`, not a verdict)."""


class ReferenceCandidate(ReceivingRole, ProducerRole):
    """A conformant LPS (PER/ORG mailbox with Pro Santé Connect, APP mailbox with a certificate) and PFI."""

    name = "reference"

    def __init__(self, env: CandidateEnvironment) -> None:
        self.env = env
        self.settings = ReferenceSettings.from_options(env.options)
        self.workdir = Path(env.workdir) if env.workdir else None
        self.mailbox: str | None = None
        self.state = DISCONNECTED
        self.servers = {
            "imap": ServerAddress(env.imap_host, env.imap_port, "starttls"),
            "smtp": ServerAddress(env.smtp_host, env.smtp_port, "starttls"),
        }
        self.identity: dict[str, str] = {}
        self.reconnections: list[dict[str, Any]] = []
        self.runner = AsyncRunner()
        psc_config = PscConfiguration.from_env(env.psc, self.settings.psc_flow)
        self.psc_client = (
            PscClient(psc_config, verify=self.tls_policy().client_context(), timeout=self.settings.io_timeout)
            if psc_config else None
        )
        self.psc = PscSession(self.psc_client, store=self.token_store(), refresh_margin=self.settings.refresh_margin,
                              on_event=self._psc_event)
        self.crl = self.crl_cache()
        self.traces = TraceJournal(self._path("traces.jsonl"), self._author,
                                   retention_days=self.settings.trace_retention_days)
        self.records = LocalRecords(self._path("dossier-local"))
        self.patients = LocalPatients(self.settings.local_patients)
        self._imap: ImapSession | None = None

    def capabilities(self) -> frozenset[Action]:
        return frozenset({
            Action.CONNECT_MAILBOX, Action.SEND_MESSAGE, Action.SEND_DOCUMENT, Action.FETCH_NEW_MAIL,
            Action.INTEGRATED_DOCUMENTS, Action.EXPORT_TRACES, Action.SEARCH_DIRECTORY,
            Action.TOKEN_STORAGE_LOCATIONS, Action.AUTOCONFIGURE, Action.KEEP_SESSION, Action.SESSION_STATUS,
            Action.DISCONNECT_MAILBOX, Action.REPLY_TO_MESSAGE, Action.DELETE_MESSAGE, Action.IMPORT_MANUALLY,
            Action.USER_NOTIFICATIONS, Action.PROCESS_PRODUCER_INSTRUCTION, Action.ENSURE_LOCAL_PATIENT,
            Action.WRITE_TO_PATIENT,
        })

    # =====================================================================================================
    # Session: connection, PSC, reconnection, end of session
    # =====================================================================================================
    def connect_mailbox(self, address: str) -> ActionResult:
        """The user opens a mailbox: PSC login (PER/ORG) or certificate (APP), then the IMAP session."""
        self.mailbox = address
        entry = self._mailbox_entry(address)
        try:
            certificate = self._certificate(address)
            if certificate is None:
                self._log_in(address, entry)
            else:
                self.identity = {"bal": address, "certificat": certificate.subject(),
                                 "authentification": "certificat IGC-Santé ORG (SASL EXTERNAL)"}
            self.state = CONNECTED
            tls: dict[str, Any] = {}
            if self.servers["imap"].port:
                session = self._open_imap()
                tls = session.tls
        except PscError as exc:
            self.state = DISCONNECTED
            self._trace("connexion", "echec", "psc", "connexion Pro Santé Connect", exc.message)
            return ActionResult(False, f"connexion Pro Santé Connect impossible : {exc.message}",
                                data={"erreur": "psc", "code": exc.code})
        except SessionOver:
            return self._relogin_result()
        except (TlsRefused, MailSessionError) as exc:
            self.state = DISCONNECTED
            return self._refusal(exc)
        return ActionResult(True, f"connecté à {address}", data={"tls": tls, "identite": dict(self.identity)})

    def _log_in(self, address: str, entry: dict[str, Any]) -> None:
        """The professional's PSC login (the in-process stand-in `env.login` when no PSC is configured)."""
        if self.psc_client is not None:
            hint = str(entry.get("login_hint") or address)
            tokens = self.psc_client.login(hint, binding_message="Connexion à la messagerie MSSanté")
            try:
                info = self.psc_client.userinfo(tokens)
            except PscError:
                info = {}
            tokens.display_name = " ".join(x for x in (info.get("given_name"), info.get("family_name")) if x)
        elif self.env.login is not None:
            raw = self.env.login(address)
            lifetime = int(getattr(raw, "expires_in", 0) or 0)
            tokens = TokenSet(access_token=raw.access_token, refresh_token=getattr(raw, "refresh_token", "") or "",
                              expires_in=lifetime, expires_at=time.monotonic() + lifetime)
        else:
            raise CandidateError("aucun moyen d'obtenir un jeton Pro Santé Connect n'est configuré")
        self.psc.start(tokens)
        self.identity = {
            "bal": address,
            "professionnel": tokens.subject or str(entry.get("login_hint") or ""),
            "nom": tokens.display_name,
            "authentification": f"Pro Santé Connect / SASL {self.settings.sasl_mechanism}",
        }
        if self.psc_client is not None:
            flow = "CIBA" if self.psc_client.config.flow == "ciba" else "code d'autorisation + PKCE"
            self._trace("connexion", "succes", "psc", f"authentification Pro Santé Connect ({flow})", "jetons reçus")

    def close(self) -> None:
        """The product stops: sessions closed, tokens forgotten."""
        self._end_imap()
        self.psc.store.save(None)
        self.runner.close()
        if self.psc_client is not None:
            self.psc_client.close()

    def disconnect_mailbox(self) -> ActionResult:
        """The user logs out: IMAP LOGOUT, refresh token revoked."""
        self._end_imap()
        self.psc.logout()
        self.state = DISCONNECTED
        return ActionResult(True, "déconnecté")

    def session_status(self) -> ActionResult:
        message = "Votre session Pro Santé Connect a pris fin : reconnectez-vous." if self.state == RELOGIN else ""
        return ActionResult(True, self.state, data={
            "etat": self.state, "bal": self.mailbox, "session_imap_ouverte": self._imap is not None,
            "message_utilisateur": message, "fin_de_session": self.psc.ended, "reconnexions": list(self.reconnections),
        })

    @mailbox_action
    def keep_session(self, keeping: SessionKeeping) -> ActionResult:
        """Stay on the mailbox for a while, polling it; reopen it by itself if the server drops it (CONF.11)."""
        if keeping.new_connection:
            self._end_imap()
        deadline = time.monotonic() + max(0.0, keeping.seconds)
        polls = 0
        while True:
            try:
                if self._certificate(self._sender()) is None:
                    self._token()  # refreshed before it expires
                session = self._imap or self._open_imap()
                session.noop()
                polls += 1
            except SessionDropped as exc:
                self._imap = None
                if not self.reopen_dropped_sessions():
                    self._trace("reconnexion", "echec", "imap", "NOOP", exc.message, detail="session perdue")
                    return ActionResult(False, f"session perdue : {exc.message}", data={"erreur": exc.code})
                try:
                    self._reconnect_imap(exc)
                except (TlsRefused, MailSessionError) as failure:
                    return self._refusal(failure)
            except (TlsRefused, MailSessionError) as exc:
                return self._refusal(exc)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            time.sleep(min(max(keeping.poll_interval, 0.05), remaining))
        return ActionResult(True, f"session maintenue {keeping.seconds:g} s", data={
            "interrogations": polls, "reconnexions": list(self.reconnections), "etat": self.state})

    def _token(self, *, fresh: bool = False) -> str:
        """A usable access token (a fresh one when asked); a refused refresh ends the session (rule below)."""
        if not self.psc.active and not self.psc.ended:
            raise MailSessionError("aucune session Pro Santé Connect : connexion à la BAL d'abord", "non_connecte")
        try:
            return self.psc.refresh().access_token if fresh else self.psc.access_token()
        except PscSessionEnded as exc:
            self.psc_session_lost(exc.message)
            return self.psc.stale_access_token()

    def _credentials(self, *, fresh: bool = False) -> MailCredentials:
        address = self._sender()
        certificate = self._certificate(address)
        if certificate is not None:
            return MailCredentials(address, certificate=certificate)
        return MailCredentials(address, access_token=self._token(fresh=fresh))

    def _open_imap(self, *, fresh: bool = False) -> ImapSession:
        """A new IMAP session: TLS, checks, authentication, INBOX selected. A refused token is retried once
        with a fresh one (the server may judge it expired before the product does)."""
        address = self._sender()
        for attempt in ("courant", "nouveau") if not fresh else ("nouveau",):
            # the token first: a refused refresh ends the session before any connection is opened (CONF.10)
            try:
                credentials = self._credentials(fresh=attempt == "nouveau")
            except MailSessionError as exc:
                self._trace("connexion", "echec", "imap", "jeton d'accès pour AUTHENTICATE", exc.message)
                raise
            session = ImapSession(self.servers["imap"], self._tls_context(address), self._check_peer,
                                  timeout=self.settings.io_timeout)
            try:
                session.connect()
                answer = self.secure_then_authenticate(session, credentials)
                selected = session.select_inbox()
            except AuthenticationRefused as exc:
                session.logout()
                if attempt == "courant" and self._certificate(address) is None:
                    continue
                self._trace("connexion", "echec", "imap", self._auth_request(session), exc.message)
                raise
            except (TlsRefused, MailSessionError) as exc:
                session.logout()
                self._trace("connexion", "echec", "imap", self._auth_request(session), exc.message)
                raise
            self._trace("connexion", "succes", "imap", self._auth_request(session) + " ; SELECT INBOX",
                        f"{answer} ; {selected}", extra={"tls": session.tls})
            self._imap = session
            return session
        raise AssertionError("unreachable")

    def _reconnect_imap(self, cause: MailSessionError) -> ImapSession:
        """Reopen a dropped IMAP session with a fresh access token, within the configured delay (CONF.11)."""
        started = time.monotonic()
        deadline = started + self.settings.reconnect_delay
        last: MailSessionError = cause
        while time.monotonic() < deadline:
            try:
                session = self._open_imap(fresh=True)
            except (SessionDropped, MailSessionError) as exc:
                if isinstance(exc, AuthenticationRefused):
                    raise
                last = exc
                time.sleep(self.settings.reconnect_pause)
                continue
            delay = round(time.monotonic() - started, 3)
            self.reconnections.append({"service": "imap", "delai_s": delay, "cause": cause.message})
            self._trace("reconnexion", "succes", "imap", "réouverture de la session IMAP avec un nouveau jeton",
                        f"session rouverte en {delay} s", detail=cause.message)
            return session
        self._trace("reconnexion", "echec", "imap", "réouverture de la session IMAP", last.message)
        raise SessionDropped(f"session IMAP non rétablie dans le délai de {self.settings.reconnect_delay:g} s : "
                             f"{last.message}")

    def _with_imap(self, operation: Callable[[ImapSession], R]) -> R:
        """Run an IMAP operation on the session, reopening it once if the server dropped it."""
        session = self._imap or self._open_imap()
        try:
            return operation(session)
        except SessionDropped as exc:
            self._imap = None
            if not self.reopen_dropped_sessions():
                raise
            return operation(self._reconnect_imap(exc))

    def _end_imap(self) -> None:
        session, self._imap = self._imap, None
        if session is not None:
            answer = session.logout()
            self._trace("deconnexion", "succes", "imap", "LOGOUT", answer)

    def end_mail_sessions(self) -> None:
        """IMAP LOGOUT (submission sessions end with QUIT after each message: none stays open)."""
        self._end_imap()

    # -- the product's session rules ----------------------------------------------------------------------
    def token_store(self) -> TokenStore:
        """Where tokens are kept: the process's memory only (CONF.28)."""
        return MemoryTokenStore()

    def reopen_dropped_sessions(self) -> bool:
        """A session the server drops is reopened by the product itself while PSC is valid (CONF.11)."""
        return True

    def psc_session_lost(self, reason: str) -> None:
        """PSC refused the refresh: end the mail sessions, forget the tokens, ask the user to log in (CONF.10)."""
        self.end_mail_sessions()
        self.psc.forget(reason)
        self.state = RELOGIN
        self.records.notify(Notification(
            "reconnexion_demandee", f"Votre session Pro Santé Connect a pris fin ({reason}) : reconnectez-vous."))
        self._trace("fin_de_session", "succes", "psc", "POST token grant_type=refresh_token", reason,
                    detail=USER_RELOGIN_MESSAGE)
        raise SessionOver(reason)

    def secure_then_authenticate(self, session: MailSession, credentials: MailCredentials) -> str:
        """TLS first (STARTTLS, server checked), then SASL: nothing sensitive in clear (CONF.05, CONF.06)."""
        session.starttls()
        return self.authenticate(session, credentials)

    def authenticate(self, session: MailSession, credentials: MailCredentials) -> str:
        """SASL XOAUTH2/OAUTHBEARER with the PSC token (CONF.07), EXTERNAL with the certificate (CONF.27)."""
        if not session.tls_established:
            raise MailSessionError("authentification refusée par le produit : la session n'est pas chiffrée")
        if credentials.certificate is not None:
            return session.authenticate_external(credentials.address)
        return session.authenticate_bearer(self.settings.sasl_mechanism, credentials.address,
                                           credentials.access_token)

    def tls_policy(self) -> TlsPolicy:
        """TLS ≥ 1.2, allowed suites, IGC-Santé root only, name and dates checked (CONF.01, 03, 27)."""
        return TlsPolicy(trust_anchor=Path(self.env.ca_bundle), tls12_ciphers=self.settings.tls12_ciphers)

    def crl_cache(self) -> CrlCache:
        """Revocation checked from the certificate's CRL, the last valid CRL kept (CONF.22)."""
        return CrlCache(directory=self._path("lcr"), fetch_timeout=self.settings.crl_fetch_timeout,
                        max_age=self.settings.crl_max_age)

    def after_connection_error(self, error: BaseException) -> None:
        """The error is shown to the user; the rest of the software goes on as before (CONF.08)."""
        message = getattr(error, "message", str(error))
        self.records.notify(Notification("erreur_connexion", f"Connexion à la messagerie impossible : {message}"))

    def discover_mail_settings(self, address: str) -> MailSettings:
        """Hosts and ports from the address alone (CONF.04)."""
        return discover(address, operator_url=self.env.autoconfig_url, verify=self._https_context(),
                        timeout=self.settings.io_timeout)

    # -- TLS helpers --------------------------------------------------------------------------------------
    def _tls_context(self, address: str) -> Any:
        return self.tls_policy().client_context(self._certificate(address))

    def _https_context(self) -> Any:
        return self.tls_policy().client_context()

    def _check_peer(self, ssl_object: Any, hostname: str) -> dict[str, Any]:
        """After the handshake, before any credential: policy checks and revocation."""
        self.tls_policy().check_peer(ssl_object, hostname)
        status = self.crl.check(peer_chain(ssl_object))
        return negotiated(ssl_object) | {"revocation": status.describe()}

    # =====================================================================================================
    # Configuration
    # =====================================================================================================
    def autoconfigure(self, request: MailboxAutoconfiguration) -> ActionResult:
        try:
            found = self.discover_mail_settings(request.address)
        except AutoconfigError as exc:
            self._trace("autoconfiguration", "echec", "autoconfiguration", f"configuration de {request.address}",
                        str(exc))
            return ActionResult(False, str(exc), data={"erreur": "autoconfiguration"})
        self.servers = {"imap": found.imap, "smtp": found.smtp}
        self._trace("autoconfiguration", "succes", "autoconfiguration", f"GET {found.source}",
                    f"IMAP {found.imap.host}:{found.imap.port} ({found.imap.tls}), "
                    f"SMTP {found.smtp.host}:{found.smtp.port} ({found.smtp.tls})")
        return ActionResult(True, f"BAL {request.address} configurée automatiquement", data=found.describe())

    # =====================================================================================================
    # Sending
    # =====================================================================================================
    @mailbox_action
    def send_message(self, message: OutgoingMessage) -> ActionResult:
        msg = EmailMessage(policy=policy.default)
        msg["From"] = self._sender()
        msg["To"] = ", ".join(message.to)
        msg["Date"] = email.utils.formatdate(localtime=True)
        msg["Message-ID"] = self.new_message_id()
        msg["Subject"] = message.subject
        self.set_product_reference(msg)
        self.set_document_headers(msg, [], None)
        receipt_to = self.read_receipt_address(message.read_receipt)
        if receipt_to:
            msg["Disposition-Notification-To"] = receipt_to
        msg.set_content(message.body, charset="utf-8")
        return self.submit(msg, list(message.to))

    @mailbox_action
    def send_document(self, sending: DocumentSending) -> ActionResult:
        patient = get_patient(sending.patient)
        recipients = list(sending.to)
        if sending.to_patient:
            address = self.patient_address(patient)
            if address is None:
                return ActionResult(False, "envoi au patient refusé : pas d'INS qualifiée pour construire son adresse")
            recipients.append(address)
        documents = [self.produce_document(patient, doc_type) for doc_type in sending.doc_types]
        msg = self._document_mail(documents, patient, recipients, read_receipt=sending.read_receipt,
                                  end_of_exchange=sending.end_of_exchange and sending.to_patient)
        return self.submit(msg, recipients)

    @mailbox_action
    def write_to_patient(self, message: PatientMessage) -> ActionResult:
        """From the patient's record: the address comes from the record's qualified INS, never typed (UX.32)."""
        patient = self.patients.get(message.patient)
        if patient is None:
            return ActionResult(False, f"patient inconnu du logiciel : {message.patient}", data={"erreur": "inconnu"})
        address = self.patient_address(patient)
        if address is None:
            return ActionResult(False, "écriture au patient impossible : pas d'INS qualifiée dans son dossier",
                                data={"erreur": "ins_non_qualifiee"})
        msg = EmailMessage(policy=policy.default)
        msg["From"] = self._sender()
        msg["To"] = address
        msg["Date"] = email.utils.formatdate(localtime=True)
        msg["Message-ID"] = self.new_message_id()
        msg["Subject"] = message.subject
        self.set_product_reference(msg)
        self.set_document_headers(msg, [], None)
        self.set_end_of_exchange(msg, message.end_of_exchange)
        msg.set_content(message.body, charset="utf-8")
        result = self.submit(msg, [address])
        result.data["destinataire"] = address
        return result

    def _document_mail(self, documents: list[CdaDocument], patient: Patient, recipients: list[str], *,
                       read_receipt: bool = False, end_of_exchange: bool = False) -> EmailMessage:
        msg = build_document_mail(
            documents, patient, sender=self._sender(), to=recipients,
            disposition_notification_to=self.read_receipt_address(read_receipt), message_id=self.new_message_id(),
            xdm=self.document_archive(documents, patient),
        )
        del msg["Date"]
        msg["Date"] = email.utils.formatdate(localtime=True)
        self.set_product_reference(msg)
        self.set_document_headers(msg, documents, patient)
        self.set_end_of_exchange(msg, end_of_exchange)
        return msg

    def submit(self, msg: EmailMessage, recipients: list[str], *, action: str = "envoi",
               dsn: DsnParameters | None = None) -> ActionResult:
        """One submission session per message (EHLO, STARTTLS, checks, AUTH, MAIL/RCPT/DATA, QUIT); a dropped
        session is reopened with a fresh token within the configured delay (CONF.11). `dsn`: the delivery status
        notification asked of the operator (RFC 3461: RET/ENVID on MAIL FROM, NOTIFY on each RCPT TO)."""
        sender = self._sender()
        raw = msg.as_bytes(policy=policy.SMTP)
        message_id = str(msg.get("Message-ID", ""))
        request = (f"MAIL FROM:<{sender}> " + " ".join(f"RCPT TO:<{r}>" for r in recipients)
                   + f" DATA [contenu non tracé, {len(raw)} octets]")
        started = time.monotonic()
        fresh = False
        while True:
            session = SmtpSession(self.servers["smtp"], self._tls_context(sender), self._check_peer, self.runner,
                                  timeout=self.settings.io_timeout)
            try:
                session.connect()
                self.secure_then_authenticate(session, self._credentials(fresh=fresh))
                answer = session.send(raw, sender, recipients, dsn=dsn)
                session.quit()
            except SessionDropped as exc:
                late = time.monotonic() - started > self.settings.reconnect_delay
                if not self.reopen_dropped_sessions() or late:
                    self._trace(action, "echec", "smtp", request, exc.message, message_id=message_id, msg=msg)
                    return self._refusal(exc)
                self.reconnections.append({"service": "smtp", "delai_s": round(time.monotonic() - started, 3),
                                           "cause": exc.message})
                self._trace("reconnexion", "succes", "smtp", "nouvelle session de soumission avec un nouveau jeton",
                            exc.message)
                fresh = True
                time.sleep(self.settings.reconnect_pause)
                continue
            except AuthenticationRefused as exc:
                if not fresh and self._certificate(sender) is None:
                    fresh = True  # the server may judge the token expired: one more try with a fresh one
                    continue
                self._trace(action, "echec", "smtp", request, exc.message, message_id=message_id, msg=msg)
                return self._refusal(exc)
            except (TlsRefused, MailSessionError) as exc:
                self._trace(action, "echec", "smtp", request, exc.message, message_id=message_id, msg=msg)
                return self._refusal(exc)
            finally:
                session.quit()
            self._trace(action, "succes", "smtp", request, answer, message_id=message_id, msg=msg,
                        extra={"tls": session.tls, "mecanisme": session.mechanism})
            return ActionResult(True, "courriel soumis", message_ids=[message_id],
                                data={"tls": session.tls, "mecanisme": session.mechanism})

    # -- the product's sending rules (faulty candidates override exactly one of them) ---------------------
    def set_product_reference(self, msg: EmailMessage) -> None:
        """X-MSS-NIL: the product's Convergence reference, on every mail (CONF.16)."""
        del msg["X-MSS-NIL"]
        msg["X-MSS-NIL"] = self.env.product_reference

    def set_document_headers(self, msg: EmailMessage, documents: list[CdaDocument], patient: Patient | None) -> None:
        """X-MSS-CODECDA (CONF.15) and X-MSS-INS (CONF.14): only on a mail carrying CDA documents."""
        del msg["X-MSS-CODECDA"]
        del msg["X-MSS-INS"]
        if not documents or patient is None:
            return
        for code in self.document_codes(documents):
            msg["X-MSS-CODECDA"] = code
        msg["X-MSS-INS"] = self.ins_flag(patient)

    def document_codes(self, documents: list[CdaDocument]) -> list[str]:
        """The CDA `code` of each document, one header each."""
        return [document.code for document in documents]

    def ins_flag(self, patient: Patient) -> str:
        """X-MSS-INS: O only for a qualified INS with its traits (CONF.14)."""
        return "O" if patient.has_qualified_ins else "N"

    def patient_address(self, patient: Patient) -> str | None:
        """The patient's Mon Espace Santé address, built from a qualified INS only (CONF.21)."""
        return patient.patient_address

    def set_end_of_exchange(self, msg: EmailMessage, end: bool) -> None:
        """X-MSS-MES: FIN (three capital letters) when the user closes the channel with the patient (CONF.21)."""
        del msg["X-MSS-MES"]
        if end:
            msg["X-MSS-MES"] = "FIN"

    def read_receipt_address(self, requested: bool) -> str | None:
        """When the user asks for a read receipt: Disposition-Notification-To = the sending mailbox (Ref#2
        ECO.2.3.2; checked with SC.MSS/UX.11's scenarios .5x)."""
        return self._sender() if requested else None

    def document_archive(self, documents: list[CdaDocument], patient: Patient) -> bytes | None:
        """The IHE_XDM archive; None: the standard one, whose METADATA.XML carries an RPLC association from a
        replacement's entry to the replaced one (UX.05.BIS)."""
        return None

    def produce_document(self, patient: Patient, doc_type: str) -> CdaDocument:
        return make_cda(patient, doc_type=doc_type, uid_seed=uuid.uuid4().hex)

    def new_message_id(self) -> str:
        return email.utils.make_msgid(domain="lps-reference.test")

    # =====================================================================================================
    # Directory
    # =====================================================================================================
    def search_directory(self, search: DirectorySearch) -> ActionResult:
        """Multi-criteria search (CONF.20, UX.10): every criterion the user gave goes to the directory."""
        params = self.directory_query(search)
        try:
            entries, request, status = directory_client.search(self.env.directory_url, params,
                                                               verify=self._https_context(),
                                                               timeout=self.settings.io_timeout)
        except DirectoryError as exc:
            self._trace("recherche_annuaire", "echec", "annuaire", "GET PractitionerRole", str(exc))
            return ActionResult(False, str(exc), data={"erreur": "annuaire"})
        self._trace("recherche_annuaire", "succes", "annuaire", request, f"HTTP {status} : {len(entries)} résultat(s)")
        addresses = [b["adresse"] for e in entries for b in e.mailboxes]
        return ActionResult(True, f"{len(entries)} résultat(s)", data={
            "criteres": [list(p) for p in params], "resultats": [e.describe() for e in entries],
            "adresses": addresses})

    def directory_query(self, search: DirectorySearch) -> list[tuple[str, str]]:
        """All the criteria given, combined (AND)."""
        return directory_client.search_parameters(search)

    # =====================================================================================================
    # Traces, token storage
    # =====================================================================================================
    def export_traces(self, export: TraceExport) -> ActionResult:
        entries = self.traces.entries(export.since)
        return ActionResult(True, f"{len(entries)} trace(s)", data={
            "traces": entries, "format": "json-lines", "fichier": str(self.traces.path or ""),
            "conservation_jours": self.traces.retention_days})

    def token_storage_locations(self) -> ActionResult:
        """Tokens live in memory only; everything the product writes is listed so the harness can scan it."""
        stored = self.psc.store.locations()
        places = [str(self.workdir)] if self.workdir else []
        return ActionResult(True, "jetons conservés en mémoire uniquement" if not stored else "jetons sur disque",
                            data={"memoire": True, "emplacements": places + stored, "fichiers_de_jetons": stored})

    def trace_request(self, request: str, msg: EmailMessage | None = None) -> str:
        """What of a request goes into the traces: the command, never the message content (CONF.17)."""
        return request

    def keep_trace(self, event: TraceEvent) -> bool:
        """Every processing is traced, failures included (CONF.18, UX.37)."""
        return True

    def _trace(self, action: str, status: str, server: str, request: str, response: str, *, message_id: str = "",
               detail: str = "", extra: dict[str, Any] | None = None, msg: EmailMessage | None = None) -> None:
        event = TraceEvent(action, status, server, self.trace_request(request, msg), response, message_id, detail,
                           extra or {})
        if self.keep_trace(event):
            self.traces.record(event)

    def _psc_event(self, kind: str, exchange: Any, problem: str) -> None:
        self._trace(kind, "echec" if problem else "succes", "psc", exchange.request if exchange else "PSC",
                    problem or (exchange.response if exchange else ""))

    def _author(self) -> dict[str, str]:
        return dict(self.identity) or {"bal": self.mailbox or ""}

    # =====================================================================================================
    # Helpers
    # =====================================================================================================
    def _sender(self) -> str:
        if not self.mailbox:
            raise CandidateError("aucune BAL connectée")
        return self.mailbox

    def _mailbox_entry(self, address: str) -> dict[str, Any]:
        return next((dict(m) for m in self.env.mailboxes if str(m.get("address", "")).lower() == address.lower()),
                    {})

    def _certificate(self, address: str) -> ClientCertificate | None:
        entry = self._mailbox_entry(address)
        if entry.get("type") == "APP" and entry.get("certificate") and entry.get("key"):
            # the chain (leaf + IGC-Santé ORG CA) when given: the server only trusts the root
            return ClientCertificate(Path(entry.get("chain") or entry["certificate"]), Path(entry["key"]))
        return None

    def _path(self, name: str) -> Path | None:
        return self.workdir / name if self.workdir else None

    @staticmethod
    def _auth_request(session: ImapSession) -> str:
        steps = ["CAPABILITY", "STARTTLS"] if session.server.tls == "starttls" else ["CAPABILITY"]
        return " ; ".join([*steps, f"AUTHENTICATE {session.mechanism or '…'}"])

    def _refusal(self, exc: BaseException) -> ActionResult:
        code = getattr(exc, "code", "erreur")
        message = getattr(exc, "message", str(exc))
        self.after_connection_error(exc)
        return ActionResult(False, message, data={"erreur": code})

    def _relogin_result(self) -> ActionResult:
        return ActionResult(False, f"{USER_RELOGIN_MESSAGE} : {self.psc.ended or 'session terminée'}",
                            data={"erreur": "session_terminee", "etat": RELOGIN})

    # -- compatibility with the command adapter's session hand-back (cli_reference.py) --------------------------
    @property
    def _tokens(self) -> TokenSet | None:
        return self.psc.tokens

    @_tokens.setter
    def _tokens(self, value: Any) -> None:
        if value is None:
            self.psc.store.save(None)
            return
        lifetime = int(getattr(value, "expires_in", 0) or 0)
        self.psc.start(TokenSet(access_token=value.access_token, refresh_token=getattr(value, "refresh_token", ""),
                                expires_in=lifetime, expires_at=time.monotonic() + lifetime))
        self.state = CONNECTED
