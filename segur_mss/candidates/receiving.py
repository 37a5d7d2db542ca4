"""The receiving side of the reference candidate (SC.MSS/UX.01, 05, 07, 11, 38, 39, 40; traces UX.37).

Relève of the mailbox, recognition of MSSanté document mail, automatic integration only on an exact qualified
INS match (else manual handling), replacement keeping the previous version visible, integration MDN per the ANS
guide (codes 900–906), user notifications, manual import, reply and deletion. The product rules are small
methods the faulty candidates override; `ReferenceCandidate` provides the sessions, traces and records.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from segur_mss.candidates.base import ActionResult, LocalPatient, ManualImport, MessageDeletion, MessageReply
from segur_mss.candidates.inbox import (
    AUTHOR_NOT_ALLOWED,
    DOCUMENT,
    INCOMPLETE_INS,
    INS_MISMATCH,
    NO_INS,
    ORDINARY,
    OTHER,
    REPORT,
    UNKNOWN_PATIENT,
    WRONG_VERSION,
    IntegrationProblem,
    ReceivedDocument,
    has_ddm_subject,
    has_xdm_attachment,
    identity_differences,
    is_report,
    read_documents,
    xdm_archive,
    xdm_patient_ins,
)
from segur_mss.candidates.mail_transport import MailSessionError
from segur_mss.candidates.records import PREVIOUS, Notification, PendingDocument, ReceivedMail, StoredDocument
from segur_mss.candidates.session_state import mailbox_action
from segur_mss.candidates.tls_policy import TlsRefused
from segur_mss.documents.patients import Patient
from segur_mss.validators.cda import PatientIdentity
from segur_mss.validators.mdn import build_integration_mdn, should_send_mdn


class ReceivingRole:
    """What the product does with the mail it receives (mixed into `ReferenceCandidate`, whose sessions,
    traces and records it uses)."""

    @mailbox_action
    def fetch_new_mail(self) -> ActionResult:
        """Relève: each unseen mail is read, recognised, integrated or set aside, then marked as seen."""
        try:
            uids = self._with_imap(lambda s: s.unseen())
            handled = []
            for uid in uids:
                raw = self._with_imap(lambda s, u=uid: s.fetch(u))
                handled.append(self._receive(uid, raw))
                self._with_imap(lambda s, u=uid: s.mark_seen(u))
        except (TlsRefused, MailSessionError) as exc:
            return self._refusal(exc)
        return ActionResult(True, f"{len(handled)} courriel(s) relevé(s)",
                            message_ids=[h["message_id"] for h in handled], data={"courriels": handled})

    def _receive(self, uid: int, raw: bytes) -> dict[str, Any]:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(msg, EmailMessage)
        message_id = str(msg.get("Message-ID", "")).strip()
        self._trace("consultation", "succes", "imap", f"UID FETCH {uid} (BODY.PEEK[])", f"OK ({len(raw)} octets)",
                    message_id=message_id, msg=msg)
        kind = self.classify(msg)
        self.records.add_mail(ReceivedMail(
            message_id=message_id, sender=email.utils.parseaddr(str(msg.get("From", "")))[1],
            reply_to=email.utils.parseaddr(str(msg.get("Reply-To", "")))[1], subject=str(msg.get("Subject", "")),
            references=str(msg.get("References", "")), kind=kind,
        ))
        outcome: dict[str, Any] = {"message_id": message_id, "uid": uid, "type": kind}
        if kind == DOCUMENT:
            outcome |= self._integrate_mail(msg)
        elif kind == REPORT:  # a DSN about a mail the product sent: its acknowledgement (pfi.py)
            outcome |= self.report_received(msg)  # type: ignore[attr-defined]
        return outcome

    def classify(self, msg: EmailMessage) -> str:
        """Report (MDN/DSN), MSSanté document mail, or ordinary mail (UX.01)."""
        if is_report(msg):
            return REPORT
        return DOCUMENT if self.is_document_mail(msg) else ORDINARY

    def _integrate_mail(self, msg: EmailMessage) -> dict[str, Any]:
        message_id = str(msg.get("Message-ID", "")).strip()
        archive = xdm_archive(msg)
        documents, problem = read_documents(archive)
        outcomes: list[dict[str, Any]] = []
        failures: list[IntegrationProblem] = []
        if not documents:
            failure = IntegrationProblem(OTHER, problem)
            failures.append(failure)
            outcomes.append(self._set_aside(message_id, None, failure, archive))
        for document in documents:
            if any(d.document_id == document.document_id for d in self.records.documents):
                outcomes.append({"document_id": document.document_id, "resultat": "deja_integre"})
                continue
            failure = self.integration_problem(document)
            if failure is None:
                patient = self.patients.by_ins(document.identity.ins or "")
                assert patient is not None
                stored = self._integrate(document, patient, message_id, mode="automatique")
                outcomes.append({"document_id": document.document_id, "resultat": "integre", "ref": stored.ref,
                                 "patient": patient.key, "version": stored.version})
            else:
                failures.append(failure)
                outcomes.append(self._set_aside(message_id, document, failure, archive))
        code = failures[0].code if failures else None
        return {"documents": outcomes, "code": code, "accuse": self._answer_with_mdn(msg, code, failures)}

    def integration_problem(self, document: ReceivedDocument) -> IntegrationProblem | None:
        """Why the document may not be integrated automatically (ANS codes), or None (UX.07, UX.05)."""
        identity = document.identity
        if not identity.has_ins:
            return IntegrationProblem(NO_INS, "le document ne porte pas d'INS")
        if not self.identity_is_complete(identity):
            return IntegrationProblem(INCOMPLETE_INS, "traits d'identité manquants : "
                                      + ", ".join(identity.missing_traits))
        patient = self.patients.by_ins(identity.ins or "")
        if patient is None:
            return IntegrationProblem(UNKNOWN_PATIENT, "aucun patient local ne porte cette INS")
        differences = self.identity_differences(patient, document)
        if differences:
            return IntegrationProblem(INS_MISMATCH, "l'identité ne correspond pas exactement au patient local ("
                                      + ", ".join(differences) + ")")
        return self.replacement_problem(document, self.records.current(document.set_id))

    def replacement_problem(self, document: ReceivedDocument, current: StoredDocument | None) -> (
        IntegrationProblem | None
    ):
        if current is None:
            if document.replaces:
                return IntegrationProblem(WRONG_VERSION, "remplacement d'un document absent du dossier")
            return None
        wrong = self.version_problem(document, current)
        if wrong:
            return IntegrationProblem(WRONG_VERSION, wrong)
        if not self.author_may_replace(document, current):
            return IntegrationProblem(AUTHOR_NOT_ALLOWED, "l'auteur n'est ni l'auteur ni la structure du document "
                                      "remplacé")
        return None

    def _integrate(self, document: ReceivedDocument, patient: Patient, message_id: str, *, mode: str) -> (
        StoredDocument
    ):
        previous = self.records.current(document.set_id)
        stored = StoredDocument(
            ref=self.records.next_ref("doc"), patient=patient.key, ins=patient.ins or "",
            document_id=document.document_id, set_id=document.set_id, version=document.version, code=document.code,
            title=document.title, author=document.author, organisation=document.organisation,
            message_id=message_id, mode=mode, replaces=previous.ref if previous else "",
        )
        self.records.add_document(stored, document.cda)
        who = f"{patient.family_birth} {patient.given_birth}"
        if previous is not None:
            self.supersede(previous, stored)
            self.notify_users("document_mis_a_jour", f"Document mis à jour dans le dossier de {who} : "
                              f"{stored.title} (version {stored.version} ; la version {previous.version} reste "
                              "consultable)", patient.key, stored.ref)
        else:
            self.notify_users("nouveau_document", f"Nouveau document intégré au dossier de {who} : {stored.title}",
                              patient.key, stored.ref)
        action = "import_manuel" if mode == "manuel" else "integration"
        self._trace(action, "succes", "local", f"intégration du document {document.document_id} (lot "
                    f"{document.set_id}, version {document.version}) au dossier {patient.key}",
                    "intégré" + (f", remplace {previous.ref}" if previous else ""), message_id=message_id)
        return stored

    def _set_aside(self, message_id: str, document: ReceivedDocument | None, failure: IntegrationProblem,
                   archive: bytes | None) -> dict[str, Any]:
        item = PendingDocument(
            ref=self.records.next_ref("attente"), message_id=message_id, code=failure.code, reason=failure.detail,
            document_id=document.document_id if document else "", set_id=document.set_id if document else "",
            version=document.version if document else 0, ins=(document.identity.ins or "") if document else "",
            title=document.title if document else "",
        )
        self.records.add_pending(item, archive)
        self.notify_users("integration_manuelle_requise", f"Document reçu à traiter manuellement : "
                          f"{item.title or 'archive IHE_XDM'} — {failure.label} ({failure.code})", "", item.ref)
        self._trace("echec_integration", "echec", "local", f"intégration automatique du document "
                    f"{item.document_id or '(illisible)'}", f"{failure.code} {failure.label}",
                    message_id=message_id, detail=failure.detail)
        return {"document_id": item.document_id, "resultat": "attente_manuelle", "ref": item.ref,
                "code": failure.code, "raison": failure.detail}

    def _answer_with_mdn(self, msg: EmailMessage, code: int | None, failures: list[IntegrationProblem]) -> (
        dict[str, Any]
    ):
        if not self.wants_integration_mdn(msg):
            return {"envoye": False, "raison": should_send_mdn(msg)[1]}
        mdn = self.integration_mdn(msg, code)
        if mdn is None:
            return {"envoye": False, "raison": "pas d'accusé"}
        self.set_product_reference(mdn)
        recipients = [a for _, a in email.utils.getaddresses([str(mdn.get("To", ""))]) if a]
        result = self.submit(mdn, recipients, action="accuse_integration")
        return {"envoye": result.ok, "code": code, "message_id": str(mdn.get("Message-ID", "")),
                "destinataire": recipients, "detail": result.detail}

    # -- the product's receiving rules --------------------------------------------------------------------
    def is_document_mail(self, msg: EmailMessage) -> bool:
        """An IHE_XDM.zip attachment, or a subject starting with XDM/1.0/DDM (UX.01)."""
        return has_xdm_attachment(msg) or has_ddm_subject(msg)

    def identity_is_complete(self, identity: PatientIdentity) -> bool:
        """An INS with every mandatory trait (UX.07; otherwise 905)."""
        return identity.complete

    def identity_differences(self, patient: Patient, document: ReceivedDocument) -> list[str]:
        """Exact comparison of the INS and traits with the local patient, and of the XDM patientId (UX.07)."""
        differences = identity_differences(patient, document.identity)
        xdm_ins = xdm_patient_ins(document)
        if xdm_ins is not None and xdm_ins != document.identity.ins:
            differences.append("patientId XDM")
        return differences

    def version_problem(self, document: ReceivedDocument, current: StoredDocument) -> str:
        """A replacement raises the version and points at the integrated one (RPLC) (UX.05; otherwise 900)."""
        if document.version <= current.version:
            return f"version {document.version} non supérieure à la version intégrée {current.version}"
        if current.document_id not in document.replaces:
            return "le document ne désigne pas la version intégrée comme document remplacé (RPLC)"
        return ""

    def author_may_replace(self, document: ReceivedDocument, current: StoredDocument) -> bool:
        """Only the author of the replaced document, or its organisation, may replace it (UX.05; otherwise 901)."""
        return document.author == current.author or bool(document.organisation
                                                         and document.organisation == current.organisation)

    def supersede(self, previous: StoredDocument, new: StoredDocument) -> None:
        """The replaced version stays in the record, visible as previous (UX.05)."""
        previous.status = PREVIOUS
        previous.replaced_by = new.ref
        self.records.save()

    def wants_integration_mdn(self, msg: EmailMessage) -> bool:
        """Only when asked (Disposition-Notification-To), and not when it differs from Return-Path (UX.11)."""
        return should_send_mdn(msg)[0]

    def integration_mdn(self, msg: EmailMessage, code: int | None) -> EmailMessage | None:
        """The ANS integration MDN: multipart/report, processed or processed/Error: <code>^<label> (UX.11)."""
        return build_integration_mdn(
            msg, reporting_mailbox=self._sender(), error_code=code, reporting_ua=self.settings.reporting_ua,
            original_recipient=self._sender(), message_id=self.new_message_id(),
        )

    def notify_users(self, kind: str, text: str, patient: str, document: str) -> None:
        """Users are told of new, updated and set-aside documents (UX.38, UX.39, UX.40)."""
        self.records.notify(Notification(kind, text, patient, document))

    # -- what the user does with received mail --------------------------------------------------------------
    def integrated_documents(self) -> ActionResult:
        documents = [dataclasses.asdict(d) for d in self.records.documents]
        pending = [dataclasses.asdict(p) for p in self.records.pending]
        mail = [dataclasses.asdict(m) for m in self.records.mail]
        return ActionResult(True, f"{len(documents)} document(s) intégré(s), {len(pending)} en attente", data={
            "documents": documents, "attente_manuelle": pending, "courriels": mail})

    def ensure_local_patient(self, request: LocalPatient) -> ActionResult:
        """The user creates the patient (or finds it) with exactly this identity in the product's patient base."""
        patient = Patient(
            key=request.patient, family_birth=request.family_birth, given_birth=request.given_birth,
            given_all=request.given_all, birth_date=dt.date.fromisoformat(request.birth_date), gender=request.gender,
            birth_county=request.birth_county, ins=request.ins, ins_oid=request.ins_oid, ipp=request.ipp,
        )
        created = self.patients.add(patient)
        return ActionResult(True, f"patient {request.patient} {'créé' if created else 'déjà connu'}",
                            data={"patient": request.patient, "ins": request.ins or "", "cree": created})

    def user_notifications(self) -> ActionResult:
        notes = [dataclasses.asdict(n) for n in self.records.notifications]
        return ActionResult(True, f"{len(notes)} notification(s)", data={"notifications": notes})

    def import_manually(self, request: ManualImport) -> ActionResult:
        """The user files a set-aside document in a patient's record, from the XDM envelope (UX.39)."""
        item = self.records.pending_item(request.item)
        patient = self.patients.get(request.patient)
        if item is None or patient is None:
            return ActionResult(False, "document en attente ou patient inconnu", data={"erreur": "inconnu"})
        documents, problem = read_documents(self.records.pending_archive(item.ref))
        document = next((d for d in documents if d.document_id == item.document_id), None) or next(
            iter(documents), None)
        if document is None:
            self._trace("import_manuel", "echec", "local", f"import manuel de {item.ref}", problem)
            return ActionResult(False, f"import impossible : {problem}", data={"erreur": "archive"})
        stored = self._integrate(document, patient, item.message_id, mode="manuel")
        item.status = "importe"
        self.records.save()
        return ActionResult(True, f"document importé dans le dossier de {patient.key}",
                            data={"document": dataclasses.asdict(stored)})

    @mailbox_action
    def reply_to_message(self, reply: MessageReply) -> ActionResult:
        original = self.records.mail_by_id(reply.message_id)
        if original is None:
            return ActionResult(False, f"courriel inconnu : {reply.message_id}", data={"erreur": "inconnu"})
        msg = EmailMessage(policy=policy.default)
        to = original.reply_to or original.sender
        msg["From"] = self._sender()
        msg["To"] = to
        msg["Date"] = email.utils.formatdate(localtime=True)
        msg["Message-ID"] = self.new_message_id()
        subject = original.subject
        msg["Subject"] = subject if subject.lower().startswith(("re:", "re :")) else f"RE: {subject}"
        msg["In-Reply-To"] = original.message_id
        msg["References"] = " ".join(x for x in (original.references, original.message_id) if x)
        self.set_product_reference(msg)
        msg.set_content(reply.body, charset="utf-8")
        return self.submit(msg, [to], action="reponse")

    @mailbox_action
    def delete_message(self, deletion: MessageDeletion) -> ActionResult:
        try:
            uid = self._with_imap(lambda s: s.find(deletion.message_id))
            if uid is None:
                self._trace("suppression", "echec", "imap", "UID SEARCH HEADER Message-ID", "aucun courriel",
                            message_id=deletion.message_id)
                return ActionResult(False, "courriel introuvable dans la BAL", data={"erreur": "inconnu"})
            answer = self._with_imap(lambda s: s.delete(uid))
        except (TlsRefused, MailSessionError) as exc:
            self._trace("suppression", "echec", "imap", "UID STORE +FLAGS (\\Deleted)",
                        getattr(exc, "message", str(exc)), message_id=deletion.message_id)
            return self._refusal(exc)
        self._trace("suppression", "succes", "imap", f"UID STORE {uid} +FLAGS (\\Deleted) ; UID EXPUNGE {uid}",
                    answer, message_id=deletion.message_id)
        return ActionResult(True, "courriel supprimé", message_ids=[deletion.message_id])

