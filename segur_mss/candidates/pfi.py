"""The PFI role: what a producing software (DPI, RIS, SGL) asks the platform to send (SC.MSS/CONF.24, UX.05.BIS).

The producer's HL7v2 message (ANS guide "Transmission d'un document CDA-R2 en HL7v2", simplified) says:
- MSH-9 the process: `MDM^T02` initial transmission, `MDM^T10` replacement, `MDM^T11` deletion (ORU^R01 is read
  as an initial transmission);
- PID-3 the patient (INS `…^NH`, local IPP `…^PI`);
- TXA-2 the document type (CR-BIO, CR-IMG…), TXA-12 the producer's document number, TXA-13 the number of the
  document it replaces;
- OBX `DESTMSSANTEPS` the professionals' MSSanté addresses (repetitions `~`), OBX `DESTMSSANTEPAT` `Y` to send
  to the patient's Mon Espace Santé mailbox, followed by an NTE whose text is `FIN` to close the exchange with the
  patient (the mail then carries `X-MSS-MES: FIN`).

Reception acknowledgement (ANS: for a DPI/PFI, built from the recipient server's DSN, RFC 3461-3464): each mail the
PFI sends asks the operator for a DSN (`NOTIFY=SUCCESS,FAILURE`, `ENVID` = the producer's document number); when
the PFI reads the DSN in its mailbox, it turns it into the producer's acknowledgement (delivered / not delivered,
per recipient). How the acknowledgement travels back to the producer (HL7v2 ACK, MDM status…) is the product's
business: here it is a record the harness can read (`fetch_new_mail`, `user_notifications`).
"""

from __future__ import annotations

import base64
import dataclasses
import re
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from typing import Any

from segur_mss.candidates.base import ActionResult, ProducerInstruction
from segur_mss.candidates.records import Notification
from segur_mss.candidates.session_state import mailbox_action
from segur_mss.candidates.smtp_session import DsnParameters
from segur_mss.documents.cda import CdaDocument, make_cda
from segur_mss.documents.patients import PATIENTS, Patient, get_patient
from segur_mss.validators.dsn import is_dsn, parse_dsn

PROCESSES = {"T02": "initial", "T10": "replacement", "T11": "deletion", "R01": "initial"}


class InstructionError(ValueError):
    """The producer's message cannot be processed (French message)."""


@dataclass(frozen=True)
class Instruction:
    """The instruction as the PFI understood it."""

    patient: str
    doc_type: str
    destinations: tuple[str, ...]
    to_patient: bool
    end_of_exchange: bool
    process: str
    document_ref: str
    replaces_ref: str = ""


def _fields(segment: str) -> list[str]:
    return segment.split("|")


def _field(fields: list[str], index: int) -> str:
    # MSH counts its field separator as MSH-1: the list index of MSH-n is n-1, of any other segment's field n is n.
    return fields[index] if index < len(fields) else ""


def patient_of(pid3: str) -> str:
    """The synthetic patient named by PID-3 (INS or IPP)."""
    for repetition in pid3.split("~"):
        value = repetition.split("^", 1)[0].strip()
        if not value:
            continue
        for key, patient in PATIENTS.items():
            if value in (patient.ins, patient.ipp):
                return key
    raise InstructionError(f"patient inconnu de la plateforme : {pid3}")


def parse_hl7v2(message: str) -> Instruction:
    """Read an MDM/ORU message (segments separated by CR or LF)."""
    segments = [s for s in re.split(r"\r\n|\r|\n", message.strip()) if s.strip()]
    if not segments or not segments[0].startswith("MSH|"):
        raise InstructionError("message HL7v2 sans segment MSH")
    msh = _fields(segments[0])
    trigger = _field(msh, 8).split("^")[1:2]
    process = PROCESSES.get(trigger[0] if trigger else "", "")
    if not process:
        raise InstructionError(f"type de message HL7v2 non pris en charge : {_field(msh, 8)}")
    patient = doc_type = document_ref = replaces_ref = ""
    destinations: list[str] = []
    to_patient = end_of_exchange = False
    last_obx = ""
    for segment in segments[1:]:
        fields = _fields(segment)
        kind = fields[0]
        if kind == "PID":
            patient = patient_of(_field(fields, 3))
        elif kind == "TXA":
            doc_type = _field(fields, 2).split("^", 1)[0]
            document_ref = _field(fields, 12).split("^", 1)[0]
            replaces_ref = _field(fields, 13).split("^", 1)[0]
        elif kind == "OBX":
            last_obx = _field(fields, 3).split("^", 1)[0].upper()
            value = _field(fields, 5)
            if last_obx == "DESTMSSANTEPS":
                destinations += [v.split("^", 1)[0].strip() for v in value.split("~") if v.strip()]
            elif last_obx == "DESTMSSANTEPAT":
                to_patient = value.split("^", 1)[0].strip().upper() in ("Y", "O", "OUI", "YES")
        elif kind == "NTE" and last_obx == "DESTMSSANTEPAT":
            end_of_exchange = end_of_exchange or _field(fields, 3).strip().upper() == "FIN"
    if not patient:
        raise InstructionError("segment PID absent : patient inconnu")
    return Instruction(patient, doc_type or "CR-BIO", tuple(destinations), to_patient, end_of_exchange, process,
                       document_ref, replaces_ref)


def understand(instruction: ProducerInstruction) -> Instruction:
    """The instruction from its HL7v2 message when given, else from its fields."""
    if instruction.hl7v2.strip():
        return parse_hl7v2(instruction.hl7v2)
    if instruction.process not in ("initial", "replacement", "deletion"):
        raise InstructionError(f"processus inconnu : {instruction.process}")
    if instruction.patient not in PATIENTS:
        raise InstructionError(f"patient inconnu de la plateforme : {instruction.patient}")
    return Instruction(
        patient=instruction.patient,
        doc_type=instruction.doc_type,
        destinations=tuple(instruction.destinations),
        to_patient=instruction.to_patient,
        end_of_exchange=instruction.end_of_exchange,
        process=instruction.process,
        document_ref=instruction.document_ref,
        replaces_ref=instruction.document_ref if instruction.process != "initial" else "",
    )


class ProducerRole:
    """The reference candidate as a PFI: it sends what the producer's message asks (mixed into
    `ReferenceCandidate`)."""

    @mailbox_action
    def process_producer_instruction(self, request: ProducerInstruction) -> ActionResult:
        try:
            instruction = understand(request)
        except InstructionError as exc:
            self._trace("demande_producteur", "echec", "local", "lecture de la demande HL7v2", str(exc))
            return ActionResult(False, str(exc), data={"erreur": "demande"})
        if instruction.process == "deletion":
            self._trace("demande_producteur", "echec", "local", f"suppression du document {instruction.document_ref}",
                        "non pris en charge")
            return ActionResult(False, "suppression d'un document par MSSanté : codage non publié par l'ANS, "
                                "non pris en charge", data={"erreur": "non_pris_en_charge"})
        patient = get_patient(instruction.patient)
        previous = None
        if instruction.process == "replacement":
            previous = self._generated(instruction.replaces_ref)
            if previous is None:
                return ActionResult(False, f"document à remplacer inconnu : {instruction.replaces_ref}",
                                    data={"erreur": "inconnu"})
            document = self.replacement_document(patient, instruction.doc_type, previous)
        else:
            document = self.produce_document(patient, instruction.doc_type)
        recipients = list(instruction.destinations)
        to_patient = instruction.to_patient
        if to_patient:
            address = self.patient_address(patient)
            if address is None:
                return ActionResult(False, "envoi au patient refusé : pas d'INS qualifiée pour construire son adresse")
            recipients.append(address)
        if not recipients:
            return ActionResult(False, "aucun destinataire dans la demande", data={"erreur": "demande"})
        msg = self._document_mail([document], patient, recipients,
                                  end_of_exchange=to_patient and self.end_of_exchange_requested(instruction))
        ref = instruction.document_ref or instruction.replaces_ref or document.set_id
        result = self.submit(msg, recipients, dsn=self.delivery_notification(ref))
        if result.ok:
            self._remember_generated(instruction.document_ref or instruction.replaces_ref or document.set_id,
                                     document)
        self._trace("demande_producteur", "succes" if result.ok else "echec", "local",
                    f"demande {instruction.process} du document {instruction.document_ref or document.set_id}",
                    result.detail, message_id=result.message_ids[0] if result.message_ids else "")
        result.data["document"] = {"id": document.unique_id, "set_id": document.set_id, "version": document.version,
                                   "remplace": document.replaces_id}
        return result

    def delivery_notification(self, ref: str) -> DsnParameters | None:
        """A DSN for every recipient, success and failure, with the producer's document number as ENVID: the
        acknowledgement the PFI owes the producer is built from it (ANS, DPI/PFI)."""
        return DsnParameters(notify=("SUCCESS", "FAILURE"), ret="HDRS", envid=ref[:100])

    def report_received(self, msg: EmailMessage) -> dict[str, Any]:
        """A report read in the mailbox: a DSN becomes the acknowledgement of each recipient (MDNs are listed)."""
        if not is_dsn(msg):
            return {}
        info = parse_dsn(msg)
        ref = (info.original_envelope_id or "").strip()
        original_id = _returned_message_id(msg)
        acknowledgements = []
        for recipient in info.recipients:
            action = recipient.action or ""
            outcome = ("remis" if action in ("delivered", "relayed", "expanded")
                       else "en_attente" if action == "delayed" else "non_remis")
            acknowledgements.append({
                "document": ref, "message_id": original_id, "destinataire": recipient.final_recipient or "",
                "resultat": outcome, "statut": recipient.status or "", "diagnostic": recipient.diagnostic_code or "",
                "avis": str(msg.get("Message-ID", "")).strip(), "producteur": ref in self.records.generated,
            })
        return {"accuse_reception": self.acknowledge(acknowledgements)} if acknowledgements else {}

    def acknowledge(self, acknowledgements: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The producer (or the user) is told, per recipient, whether the document was delivered."""
        for ack in acknowledgements:
            label = {"remis": "remis", "non_remis": "NON remis", "en_attente": "en attente"}[ack["resultat"]]
            self.records.notify(Notification(
                "accuse_reception", f"Document {ack['document'] or ack['message_id']} {label} à "
                f"{ack['destinataire']} (statut {ack['statut']})", "", ack["document"]))
            self._trace("accuse_reception", "succes", "local", f"avis de remise {ack['avis']} du message "
                        f"{ack['message_id']}", f"{ack['destinataire']} : {ack['resultat']} ({ack['statut']})",
                        message_id=ack["message_id"])
        return acknowledgements

    def end_of_exchange_requested(self, instruction: Any) -> bool:
        """The producer's NTE FIN on OBX DESTMSSANTEPAT closes the exchange with the patient (CONF.24)."""
        return bool(instruction.end_of_exchange)

    def replacement_document(self, patient: Patient, doc_type: str, previous: CdaDocument) -> CdaDocument:
        """A replacement keeps the setId, raises the version and points at the previous one (UX.05.BIS)."""
        return make_cda(patient, doc_type=doc_type, replaces=previous, uid_seed=uuid.uuid4().hex)

    def _remember_generated(self, ref: str, document: CdaDocument) -> None:
        meta = {f.name: getattr(document, f.name) for f in dataclasses.fields(document) if f.name != "xml"}
        meta["xml"] = base64.b64encode(document.xml).decode("ascii")
        self.records.remember_generated(ref, meta)

    def _generated(self, ref: str) -> CdaDocument | None:
        meta = dict(self.records.generated.get(ref) or {})
        if not meta:
            return None
        meta["xml"] = base64.b64decode(meta["xml"])
        return CdaDocument(**meta)



def _returned_message_id(report: EmailMessage) -> str:
    """The Message-ID of the original message, from the headers a DSN returns (text/rfc822-headers or the whole)."""
    for part in report.walk():
        ctype = part.get_content_type()
        if ctype == "text/rfc822-headers":
            payload = part.get_payload(decode=True) or b""
            return str(BytesHeaderParser().parsebytes(payload).get("Message-ID", "")).strip()
        if ctype == "message/rfc822":
            inner = part.get_payload()
            original = inner[0] if isinstance(inner, list) and inner else inner
            return str(getattr(original, "get", lambda *_: "")("Message-ID", "")).strip()
    return ""
