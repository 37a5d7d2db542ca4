"""Faulty candidates: the reference candidate with exactly one named defect each.

They are the harness's proof that each scenario can fail. The list, with the requirement each defect must break,
is data (`defects.yaml`); every name there has a class here and the other way round (a test checks it).
"""

from __future__ import annotations

import contextlib
import dataclasses
import email.utils
import json
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from segur_mss.candidates.autoconfig_client import MailSettings
from segur_mss.candidates.base import (
    ActionResult,
    DirectorySearch,
    ManualImport,
)
from segur_mss.candidates.inbox import ReceivedDocument, has_ddm_subject
from segur_mss.candidates.mail_transport import MailCredentials, MailSession, MailSessionError
from segur_mss.candidates.psc_client import MemoryTokenStore, TokenSet, TokenStore
from segur_mss.candidates.records import StoredDocument
from segur_mss.candidates.reference import ReferenceCandidate
from segur_mss.candidates.revocation import CrlCache
from segur_mss.candidates.smtp_session import DsnParameters
from segur_mss.candidates.tls_policy import ANSSI_TLS12_CIPHERS, TlsPolicy
from segur_mss.candidates.traces import TraceEvent
from segur_mss.documents.cda import CdaDocument
from segur_mss.documents.patients import Patient
from segur_mss.documents.xdm import build_xdm
from segur_mss.validators.cda import PatientIdentity


class NoXMssNil(ReferenceCandidate):
    """Forgets X-MSS-NIL on every mail."""

    def set_product_reference(self, msg: EmailMessage) -> None:
        del msg["X-MSS-NIL"]


class WrongXMssNil(ReferenceCandidate):
    """Puts another product's reference in X-MSS-NIL."""

    def set_product_reference(self, msg: EmailMessage) -> None:
        del msg["X-MSS-NIL"]
        msg["X-MSS-NIL"] = "AUTRE-PRODUIT-0000"


class InsFlagWithoutQualifiedIns(ReferenceCandidate):
    """Says X-MSS-INS: O as soon as an INS is known, even without its mandatory traits."""

    def ins_flag(self, patient: Patient) -> str:
        return "O" if patient.ins else "N"


class WrongXMssCodeCda(ReferenceCandidate):
    """Always announces the same document type, whatever the CDA says."""

    def document_codes(self, documents: list[CdaDocument]) -> list[str]:
        return ["11488-4" for _ in documents]


class XMssCodeCdaFirstOnly(ReferenceCandidate):
    """Announces only the first document's code when the archive holds several."""

    def document_codes(self, documents: list[CdaDocument]) -> list[str]:
        return [documents[0].code] if documents else []


class XMssCodeCdaOnPlainMail(ReferenceCandidate):
    """Puts X-MSS-CODECDA (and X-MSS-INS) on mail that carries no CDA."""

    def set_document_headers(self, msg: EmailMessage, documents: list[CdaDocument], patient: Patient | None) -> None:
        if documents and patient is not None:
            super().set_document_headers(msg, documents, patient)
            return
        del msg["X-MSS-CODECDA"]
        msg["X-MSS-CODECDA"] = "11502-2"


class NoXMssMesFin(ReferenceCandidate):
    """Ignores the user's end of exchange: the patient can still reply."""

    def set_end_of_exchange(self, msg: EmailMessage, end: bool) -> None:
        del msg["X-MSS-MES"]


class XMssMesLowercase(ReferenceCandidate):
    """Writes the end-of-exchange value in lower case (`fin`), which the operator does not honour."""

    def set_end_of_exchange(self, msg: EmailMessage, end: bool) -> None:
        del msg["X-MSS-MES"]
        if end:
            msg["X-MSS-MES"] = "fin"


class PatientAddressFromUnqualifiedIns(ReferenceCandidate):
    """Builds the patient's address from any INS, qualified or not."""

    def patient_address(self, patient: Patient) -> str | None:
        return f"{patient.ins}@patient.mssante.fr" if patient.ins else None


FAULTY_CLASSES: dict[str, type[ReferenceCandidate]] = {
    "no-x-mss-nil": NoXMssNil,
    "wrong-x-mss-nil": WrongXMssNil,
    "x-mss-ins-without-qualified-ins": InsFlagWithoutQualifiedIns,
    "wrong-x-mss-codecda": WrongXMssCodeCda,
    "x-mss-codecda-first-only": XMssCodeCdaFirstOnly,
    "x-mss-codecda-on-plain-mail": XMssCodeCdaOnPlainMail,
    "no-x-mss-mes-fin": NoXMssMesFin,
    "x-mss-mes-lowercase": XMssMesLowercase,
    "patient-address-from-unqualified-ins": PatientAddressFromUnqualifiedIns,
}


# -- connection and security (issue 7) ------------------------------------------------------------------------
class AcceptsTls10(ReferenceCandidate):
    """Accepts TLS 1.0 (and the TLS 1.0 suites that come with it) when the server offers nothing better."""

    def tls_policy(self) -> TlsPolicy:
        return dataclasses.replace(
            super().tls_policy(),
            minimum_version=ssl.TLSVersion.TLSv1,
            tls12_ciphers=(*ANSSI_TLS12_CIPHERS, "ECDHE-ECDSA-AES256-SHA", "ECDHE-ECDSA-AES128-SHA"),
            security_level=0,
        )


class WeakCiphers(ReferenceCandidate):
    """Also offers CBC suites with SHA-1 and static RSA key exchange."""

    def tls_policy(self) -> TlsPolicy:
        weak = ("AES128-SHA", "AES256-SHA", "ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA")
        return dataclasses.replace(super().tls_policy(), tls12_ciphers=(*ANSSI_TLS12_CIPHERS, *weak))


class AcceptsRogueCa(ReferenceCandidate):
    """Does not check who issued the server's certificate (name and dates still checked)."""

    def tls_policy(self) -> TlsPolicy:
        return dataclasses.replace(super().tls_policy(), verify_chain=False)


class AcceptsExpiredCertificate(ReferenceCandidate):
    """Does not check the validity period of the server's certificate."""

    def tls_policy(self) -> TlsPolicy:
        return dataclasses.replace(super().tls_policy(), check_expiry=False)


class NoHostnameCheck(ReferenceCandidate):
    """Does not check that the server's certificate names the server contacted."""

    def tls_policy(self) -> TlsPolicy:
        return dataclasses.replace(super().tls_policy(), check_hostname=False)


class IgnoresCrl(ReferenceCandidate):
    """Never checks revocation."""

    def crl_cache(self) -> CrlCache:
        return CrlCache(enabled=False)


class NoCrlCache(ReferenceCandidate):
    """Does not keep the last valid CRL: an unreachable distribution point means refusal."""

    def crl_cache(self) -> CrlCache:
        return CrlCache(fetch_timeout=self.settings.crl_fetch_timeout, keep_last_valid=False)


class PlainLogin(ReferenceCandidate):
    """Tries LOGIN / AUTH PLAIN with the token as a password before XOAUTH2."""

    def authenticate(self, session: MailSession, credentials: MailCredentials) -> str:
        if credentials.certificate is None:
            with contextlib.suppress(MailSessionError):
                return session.login_password(credentials.address, credentials.access_token)
        return super().authenticate(session, credentials)


class _AuthBeforeStarttls(ReferenceCandidate):
    protocol = ""

    def secure_then_authenticate(self, session: MailSession, credentials: MailCredentials) -> str:
        if session.protocol == self.protocol and credentials.certificate is None:
            with contextlib.suppress(MailSessionError):
                return session.authenticate_bearer(self.settings.sasl_mechanism, credentials.address,
                                                   credentials.access_token)
        return super().secure_then_authenticate(session, credentials)


class SmtpAuthBeforeStarttls(_AuthBeforeStarttls):
    """Sends AUTH (with the token) on the submission port before STARTTLS."""

    protocol = "smtp"


class ImapAuthBeforeStarttls(_AuthBeforeStarttls):
    """Sends AUTHENTICATE on the IMAP port before STARTTLS."""

    protocol = "imap"


class FileTokenStore(MemoryTokenStore):
    """Writes the tokens in the working directory (what CONF.28 forbids)."""

    def __init__(self, path: Path | None) -> None:
        super().__init__()
        self.path = path

    def save(self, tokens: TokenSet | None) -> None:
        super().save(tokens)
        if self.path is not None and tokens is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps({"access_token": tokens.access_token,
                                             "refresh_token": tokens.refresh_token}), encoding="utf-8")

    def locations(self) -> list[str]:
        return [str(self.path)] if self.path else []


class StoresAccessToken(ReferenceCandidate):
    """Keeps its PSC tokens in a file of its working directory."""

    def token_store(self) -> TokenStore:
        return FileTokenStore(self.workdir / "session-psc.json" if self.workdir else None)


class NoReconnect(ReferenceCandidate):
    """Gives up when the server drops the session."""

    def reopen_dropped_sessions(self) -> bool:
        return False


class KeepsSessionAfterRefreshFailure(ReferenceCandidate):
    """Ignores a refused refresh: keeps its mail sessions and goes on with the stale token."""

    def psc_session_lost(self, reason: str) -> None:
        return None


class NoAutoconfig(ReferenceCandidate):
    """Cannot configure a mailbox from its address: keeps the hosts and ports typed in by hand."""

    def discover_mail_settings(self, address: str) -> MailSettings:
        return MailSettings(self.servers["imap"], self.servers["smtp"], "configuration manuelle")


class ConnectionErrorStopsSoftware(ReferenceCandidate):
    """After a connection error, the software's other services (directory) stop working."""

    def after_connection_error(self, error: BaseException) -> None:
        self.env = dataclasses.replace(self.env, directory_url="")


# -- receiving, integration, traces (issue 9) ------------------------------------------------------------------
class NotXdmAware(ReferenceCandidate):
    """Recognises a document mail by its subject only, not by its IHE_XDM.zip attachment."""

    def is_document_mail(self, msg: EmailMessage) -> bool:
        return has_ddm_subject(msg)


class IntegratesOnInsMismatch(ReferenceCandidate):
    """Integrates as soon as the INS is known, whatever the identity traits say."""

    def identity_differences(self, patient: Patient, document: ReceivedDocument) -> list[str]:
        return [] if patient.ins == document.identity.ins else ["ins"]


class IntegratesWithoutTraits(ReferenceCandidate):
    """Treats an INS without its mandatory traits as qualified."""

    def identity_is_complete(self, identity: PatientIdentity) -> bool:
        return identity.has_ins


class NoMdnOnIntegrationFailure(ReferenceCandidate):
    """Sends the success MDN only: an integration failure is never reported to the sender."""

    def integration_mdn(self, msg: EmailMessage, code: int | None) -> EmailMessage | None:
        return None if code is not None else super().integration_mdn(msg, code)


class MdnWrongFormat(ReferenceCandidate):
    """Reports the integration outcome in a plain mail instead of an RFC 8098 MDN."""

    def integration_mdn(self, msg: EmailMessage, code: int | None) -> EmailMessage | None:
        answer = EmailMessage()
        answer["From"] = self._sender()
        answer["To"] = str(msg.get("Disposition-Notification-To", ""))
        answer["Subject"] = f"Intégration : {'erreur ' + str(code) if code else 'réussie'}"
        answer["Message-ID"] = self.new_message_id()
        answer["Date"] = email.utils.formatdate(localtime=True)
        answer.set_content(f"Résultat de l'intégration du message {msg.get('Message-ID', '')} : {code or 'OK'}\n")
        return answer


class MdnWhenDntDiffers(ReferenceCandidate):
    """Sends the MDN automatically even when Disposition-Notification-To differs from Return-Path."""

    def wants_integration_mdn(self, msg: EmailMessage) -> bool:
        return bool(msg.get("Disposition-Notification-To"))


class ReplacementHidesPrevious(ReferenceCandidate):
    """Deletes the replaced version from the record instead of keeping it visible as previous."""

    def supersede(self, previous: StoredDocument, new: StoredDocument) -> None:
        self.records.remove_document(previous.ref)


class AcceptsWrongVersion(ReferenceCandidate):
    """Accepts a 'replacement' whatever its version number and RPLC target."""

    def version_problem(self, document: ReceivedDocument, current: StoredDocument) -> str:
        return ""


class AcceptsAnyReplacementAuthor(ReferenceCandidate):
    """Lets anyone replace a document."""

    def author_may_replace(self, document: ReceivedDocument, current: StoredDocument) -> bool:
        return True


class NoNewDocumentNotification(ReferenceCandidate):
    """Integrates documents silently: users are not told of new ones."""

    def notify_users(self, kind: str, text: str, patient: str, document: str) -> None:
        if kind != "nouveau_document":
            super().notify_users(kind, text, patient, document)


class NoUpdateNotification(ReferenceCandidate):
    """Replaces documents silently: users are not told of updated ones."""

    def notify_users(self, kind: str, text: str, patient: str, document: str) -> None:
        if kind != "document_mis_a_jour":
            super().notify_users(kind, text, patient, document)


class NoManualImport(ReferenceCandidate):
    """Documents set aside cannot be imported by hand."""

    def import_manually(self, request: ManualImport) -> ActionResult:
        return ActionResult(False, "import manuel non disponible", data={"erreur": "non_pris_en_charge"})


class TracesMessageContent(ReferenceCandidate):
    """Writes the message's subject and body into its traces."""

    def trace_request(self, request: str, msg: EmailMessage | None = None) -> str:
        if msg is None:
            return request
        body = msg.get_body(("plain",)) if msg.is_multipart() else msg
        text = body.get_content() if body is not None else ""
        return f"{request} | objet : {msg.get('Subject', '')} | corps : {text}"


class NoTraceOnFailure(ReferenceCandidate):
    """Traces what succeeds only."""

    def keep_trace(self, event: TraceEvent) -> bool:
        return event.statut != "echec"


class NoTraceOnDeletion(ReferenceCandidate):
    """Does not trace deletions."""

    def keep_trace(self, event: TraceEvent) -> bool:
        return event.action != "suppression"


class NoTraceOnIntegration(ReferenceCandidate):
    """Does not trace what happens to received documents (integration, failures, manual import)."""

    def keep_trace(self, event: TraceEvent) -> bool:
        return event.action not in ("integration", "echec_integration", "import_manuel")


# -- directory, PFI ---------------------------------------------------------------------------------------------
class DirectorySingleCriterion(ReferenceCandidate):
    """Sends only the first criterion to the directory."""

    def directory_query(self, search: DirectorySearch) -> list[tuple[str, str]]:
        return super().directory_query(search)[:1]


class DirectoryNotSearched(ReferenceCandidate):
    """Offers no directory search: the user types addresses by hand."""

    def search_directory(self, search: DirectorySearch) -> ActionResult:
        return ActionResult(True, "0 résultat(s)", data={"criteres": [], "resultats": [], "adresses": []})


class PfiIgnoresEndOfExchange(ReferenceCandidate):
    """As a PFI, ignores the producer's end of exchange (NTE FIN on DESTMSSANTEPAT)."""

    def end_of_exchange_requested(self, instruction: Any) -> bool:
        return False


class ReplacementNewSetId(ReferenceCandidate):
    """As a PFI, sends a replacement as a brand new document (new setId, version 1, no RPLC)."""

    def replacement_document(self, patient: Patient, doc_type: str, previous: CdaDocument) -> CdaDocument:
        return self.produce_document(patient, doc_type)


# -- sending (issue 8): replies and MDNs, read receipts, DSN acknowledgements, directory, PFI -----------------------
class NoXMssNilOnReplies(ReferenceCandidate):
    """Puts X-MSS-NIL on the mail the user composes, but forgets it on replies and on the MDNs it sends."""

    def set_product_reference(self, msg: EmailMessage) -> None:
        super().set_product_reference(msg)
        if msg.get("In-Reply-To") or msg.get_content_type() == "multipart/report":
            del msg["X-MSS-NIL"]


class NoReadReceiptRequest(ReferenceCandidate):
    """Ignores the user's request for a read receipt: no Disposition-Notification-To."""

    def read_receipt_address(self, requested: bool) -> str | None:
        return None


class NoDsnRequest(ReferenceCandidate):
    """As a PFI, asks the operator for no delivery status notification (no NOTIFY, no ENVID)."""

    def delivery_notification(self, ref: str) -> DsnParameters | None:
        return None


class DsnNotAcknowledged(ReferenceCandidate):
    """As a PFI, reads the operator's DSN but never turns it into the producer's acknowledgement."""

    def acknowledge(self, acknowledgements: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return []


class DirectoryWithoutRpps(ReferenceCandidate):
    """Offers no RPPS criterion: an RPPS typed by the user is not sent to the directory."""

    def directory_query(self, search: DirectorySearch) -> list[tuple[str, str]]:
        return super().directory_query(dataclasses.replace(search, rpps=""))


class ReplacementWithoutXdmRplc(ReferenceCandidate):
    """As a PFI, sends a correct replacement CDA in an IHE_XDM without the RPLC association to the previous entry."""

    def document_archive(self, documents: list[CdaDocument], patient: Patient) -> bytes | None:
        return build_xdm([dataclasses.replace(d, replaces_id="") for d in documents], patient)


FAULTY_CLASSES.update({
    "no-x-mss-nil-on-replies": NoXMssNilOnReplies,
    "no-read-receipt-request": NoReadReceiptRequest,
    "no-dsn-request": NoDsnRequest,
    "dsn-not-acknowledged": DsnNotAcknowledged,
    "directory-without-rpps": DirectoryWithoutRpps,
    "replacement-without-xdm-rplc": ReplacementWithoutXdmRplc,
})


FAULTY_CLASSES.update({
    "accepts-tls-1.0": AcceptsTls10,
    "weak-ciphers": WeakCiphers,
    "accepts-rogue-ca": AcceptsRogueCa,
    "accepts-expired-certificate": AcceptsExpiredCertificate,
    "no-hostname-check": NoHostnameCheck,
    "ignores-crl": IgnoresCrl,
    "no-crl-cache": NoCrlCache,
    "plain-login": PlainLogin,
    "smtp-auth-before-starttls": SmtpAuthBeforeStarttls,
    "imap-auth-before-starttls": ImapAuthBeforeStarttls,
    "stores-access-token": StoresAccessToken,
    "no-reconnect": NoReconnect,
    "keeps-session-after-refresh-failure": KeepsSessionAfterRefreshFailure,
    "no-autoconfig": NoAutoconfig,
    "connection-error-stops-software": ConnectionErrorStopsSoftware,
    "not-xdm-aware": NotXdmAware,
    "integrates-on-ins-mismatch": IntegratesOnInsMismatch,
    "integrates-without-traits": IntegratesWithoutTraits,
    "no-mdn-on-integration-failure": NoMdnOnIntegrationFailure,
    "mdn-wrong-format": MdnWrongFormat,
    "mdn-when-dnt-differs": MdnWhenDntDiffers,
    "replacement-hides-previous": ReplacementHidesPrevious,
    "accepts-wrong-version": AcceptsWrongVersion,
    "accepts-any-replacement-author": AcceptsAnyReplacementAuthor,
    "no-new-document-notification": NoNewDocumentNotification,
    "no-update-notification": NoUpdateNotification,
    "no-manual-import": NoManualImport,
    "traces-message-content": TracesMessageContent,
    "no-trace-on-failure": NoTraceOnFailure,
    "no-trace-on-deletion": NoTraceOnDeletion,
    "no-trace-on-integration": NoTraceOnIntegration,
    "directory-single-criterion": DirectorySingleCriterion,
    "directory-not-searched": DirectoryNotSearched,
    "pfi-ignores-end-of-exchange": PfiIgnoresEndOfExchange,
    "replacement-new-setid": ReplacementNewSetId,
})
