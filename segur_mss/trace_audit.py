"""Auditing the candidate's functional traces (SC.MSS/CONF.17, CONF.18, UX.37; FAQ ANS industriels, vague 2).

The harness drives a scripted sequence of processings on the candidate's mailbox (`run_trace_sequence`): it
delivers an ordinary mail, a document mail about a known patient and a document mail that cannot be integrated
(unknown patient), the candidate checks its mailbox (consultations, an integration, an integration failure), the
harness delivers the replacement of the document, the candidate checks again (consultation, replacement), sends a
mail to a correspondent, tries to send one the operator refuses (`550 5.1.1` at RCPT), and deletes the ordinary
mail. Each of these is an `ExpectedEvent`; the server's answers come from the operator's own transcripts.

Then it reads the candidate's trace export (`Action.EXPORT_TRACES`) and matches each event to a trace.

Documented export shape (the reference candidate's, `segur_mss/candidates/traces.py`): a JSON list (or JSON lines,
or CSV with a header line) of objects

    {"horodatage": "2026-11-23T13:45:12.123+01:00", "auteur": {...} or "…", "action": "envoi",
     "statut": "succes|echec", "requete": "…", "reponse": "…", "message_id": "<…>"}

given by the adapter as `data["traces"]` (the rows), or `data["export"]` (the text) or `data["fichier"]` (a
path), with the retention period in `data["conservation_jours"]`. An editor whose export differs maps it in the
harness configuration (`--config`, table `[traces]`): field names (dotted paths for nested values), the
product's action names, and the status values that mean failure:

    [traces]
    horodatage = "timestamp"          # also: auteur, action, statut, requete, reponse, message_id, conservation
    auteur = "user.rpps"
    echec = ["KO", "ERROR"]
    [traces.actions]
    consultation = ["MAIL_READ"]      # canonical types: consultation, envoi, suppression, integration,
    envoi = ["MAIL_SENT"]             #   echec_integration, accuse
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from segur_mss.candidates.base import ActionResult, MessageDeletion, OutgoingMessage
from segur_mss.correspondent import Correspondent, CraftedMail, normalise_id
from segur_mss.operator.recording import Capture
from segur_mss.validators.mail import parse_message

CANONICAL_FIELDS = ("horodatage", "auteur", "action", "statut", "requete", "reponse", "message_id")
ACTION_TYPES: dict[str, str] = {
    "consultation": "consultation d'un courriel",
    "envoi": "envoi d'un courriel",
    "suppression": "suppression d'un courriel",
    "integration": "intégration (ou remplacement) d'un document reçu",
    "echec_integration": "échec de l'intégration automatique d'un document reçu",
    "accuse": "envoi d'un accusé de traitement",
}
DEFAULT_ACTIONS: dict[str, tuple[str, ...]] = {
    "consultation": ("consultation", "lecture", "releve", "relève", "fetch", "read"),
    "envoi": ("envoi", "reponse", "réponse", "send", "sent", "emission", "émission"),
    "suppression": ("suppression", "delete", "deleted", "effacement"),
    "integration": ("integration", "intégration", "remplacement", "import_manuel", "integrate"),
    "echec_integration": ("echec_integration", "échec_intégration", "integration_failure"),
    "accuse": ("accuse_integration", "accusé", "mdn"),
}
DEFAULT_FAILURES = ("echec", "échec", "ko", "erreur", "error", "failure", "failed", "false")
DEFAULT_RETENTION = "conservation_jours"
RECOMMENDED_RETENTION_DAYS = 180
#: How far from the sequence a trace's time may be (clock skew, slow machine).
TIME_TOLERANCE = dt.timedelta(minutes=2)


class TraceExportError(ValueError):
    """The export cannot be read (French message)."""


class SequenceError(RuntimeError):
    """The candidate could not perform a step of the scripted sequence (the scenario is an error)."""


# -- mapping ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TraceMapping:
    fields: dict[str, str] = field(default_factory=lambda: {f: f for f in CANONICAL_FIELDS})
    actions: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_ACTIONS))
    failure_values: tuple[str, ...] = DEFAULT_FAILURES
    retention: str = DEFAULT_RETENTION

    @classmethod
    def from_config(cls, table: dict[str, Any] | None) -> TraceMapping:
        """From the `[traces]` table of the harness configuration (empty: the documented shape)."""
        table = dict(table or {})
        base = cls()
        fields = dict(base.fields)
        for name in CANONICAL_FIELDS:
            value = table.get(name)
            if value is not None:
                if not isinstance(value, str) or not value.strip():
                    raise TraceExportError(f"[traces] {name} : un nom de champ est attendu")
                fields[name] = value.strip()
        actions = {k: tuple(v) for k, v in base.actions.items()}
        extra = table.get("actions") or {}
        if not isinstance(extra, dict):
            raise TraceExportError("[traces.actions] : une table type canonique → liste de valeurs est attendue")
        for canonical, values in extra.items():
            if canonical not in ACTION_TYPES:
                raise TraceExportError(f"[traces.actions] {canonical} : type inconnu ; types : "
                                       + ", ".join(ACTION_TYPES))
            listed = [values] if isinstance(values, str) else list(values)
            actions[canonical] = tuple(str(v) for v in listed) + actions.get(canonical, ())
        failures = table.get("echec")
        failure_values = base.failure_values if failures is None else tuple(
            str(v) for v in ([failures] if isinstance(failures, str) else failures))
        retention = str(table.get("conservation") or base.retention)
        return cls(fields, actions, failure_values, retention)

    def value(self, row: dict[str, Any], name: str) -> Any:
        """The value of canonical field `name` in an exported row (dotted paths walk nested objects)."""
        current: Any = row
        for part in self.fields.get(name, name).split("."):
            if not isinstance(current, dict) or part not in current:
                return None
            current = current[part]
        return current

    def canonical_action(self, value: str) -> str:
        lowered = value.strip().lower()
        for canonical, names in self.actions.items():
            if lowered in {n.lower() for n in names}:
                return canonical
        return lowered

    def is_failure(self, value: Any) -> bool | None:
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return not value
        return str(value).strip().lower() in {v.lower() for v in self.failure_values}


# -- reading the export ------------------------------------------------------------------------------------------
@dataclass
class TraceRecord:
    """One exported trace, read through the mapping."""

    index: int
    raw: dict[str, Any]
    timestamp_text: str
    timestamp: dt.datetime | None
    author: str
    action: str  # canonical type when the mapping knows the product's value
    raw_action: str
    failed: bool | None
    request: str
    response: str
    message_id: str

    def summary(self) -> str:
        status = {True: "échec", False: "succès", None: "statut ?"}[self.failed]
        return (f"n° {self.index} {self.raw_action or '?'} ({status}) à {self.timestamp_text or '?'} — requête : "
                f"{_short(self.request)} — réponse : {_short(self.response)}")


def _short(text: str, size: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 1] + "…"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def parse_timestamp(text: str) -> dt.datetime | None:
    """ISO 8601 (naive values are local time)."""
    if not text:
        return None
    try:
        parsed = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.astimezone()


def read_rows(text: str, name: str = "") -> list[dict[str, Any]]:
    """Rows of an export given as text: JSON (a list, or an object with a `traces` list), JSON lines, or CSV."""
    stripped = text.strip()
    if not stripped:
        return []
    if stripped[0] in "[{":
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError:
            data = None
            try:
                return [json.loads(line) for line in stripped.splitlines() if line.strip()]
            except json.JSONDecodeError as exc:
                raise TraceExportError(f"export {name or ''} : JSON illisible ({exc})") from exc
        if isinstance(data, dict):
            data = data.get("traces")
        if not isinstance(data, list):
            raise TraceExportError("export JSON : une liste de traces (ou un objet « traces ») est attendue")
        return [r for r in data if isinstance(r, dict)]
    try:
        dialect = csv.Sniffer().sniff(stripped.splitlines()[0], delimiters=";,\t")
    except csv.Error:
        dialect = csv.excel
    return [dict(row) for row in csv.DictReader(io.StringIO(stripped), dialect=dialect)]


def parse_export(data: dict[str, Any], mapping: TraceMapping) -> tuple[list[TraceRecord], str, str]:
    """(records, where they came from, the export's whole text for the content scan)."""
    if isinstance(data.get("traces"), list):
        rows = [r for r in data["traces"] if isinstance(r, dict)]
        source = "liste « traces » de la réponse de l'adaptateur"
    elif isinstance(data.get("export"), str):
        rows = read_rows(data["export"])
        source = "texte « export » de la réponse de l'adaptateur"
    elif data.get("fichier"):
        path = Path(str(data["fichier"]))
        try:
            rows = read_rows(path.read_text(encoding="utf-8"), path.name)
        except OSError as exc:
            raise TraceExportError(f"fichier d'export illisible : {path} ({exc})") from exc
        source = f"fichier {path}"
    else:
        raise TraceExportError("l'adaptateur n'a rendu ni « traces », ni « export », ni « fichier »")
    records = []
    for index, row in enumerate(rows, 1):
        stamp = _text(mapping.value(row, "horodatage"))
        action = _text(mapping.value(row, "action"))
        records.append(TraceRecord(
            index=index, raw=row, timestamp_text=stamp, timestamp=parse_timestamp(stamp),
            author=_text(mapping.value(row, "auteur")), action=mapping.canonical_action(action), raw_action=action,
            failed=mapping.is_failure(mapping.value(row, "statut")), request=_text(mapping.value(row, "requete")),
            response=_text(mapping.value(row, "reponse")), message_id=_text(mapping.value(row, "message_id")),
        ))
    return records, source, json.dumps(rows, ensure_ascii=False)


# -- the sequence ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExpectedEvent:
    """A processing the harness made the candidate perform, which must have its trace."""

    key: str
    label: str  # French
    action: str  # canonical type
    message_id: str = ""
    failure: bool = False
    server_reply: str = ""  # the operator's answer (from its transcript) for a failure
    received_document: bool = False  # an action on a received document (UX.37)


@dataclass
class TraceSequence:
    started: dt.datetime
    finished: dt.datetime
    events: list[ExpectedEvent]
    delivered: list[CraftedMail]
    content: list[tuple[str, str]]  # (what, value) that no trace may carry
    steps: list[str] = field(default_factory=list)  # what happened, in French, for the evidence

    def journal(self) -> str:
        lines = [f"séquence scriptée du {self.started.isoformat(timespec='seconds')} au "
                 f"{self.finished.isoformat(timespec='seconds')}", "", *self.steps, "", "traitements attendus :"]
        lines += [f"  - {e.key} : {e.label} [{e.action}{', échec' if e.failure else ''}]"
                  + (f" {e.message_id}" if e.message_id else "") + (f" — réponse du serveur : {e.server_reply}"
                                                                   if e.server_reply else "")
                  for e in self.events]
        return "\n".join(lines) + "\n"


def refused_address(domain: str) -> str:
    return f"destinataire.inexistant@{domain}"


def run_trace_sequence(operator: Any, candidate: Any, correspondent: Correspondent, capture: Capture,
                       known_patient: str = "qualifie") -> TraceSequence:
    """Drive the scripted sequence; raise SequenceError when the candidate cannot perform a step."""
    started = dt.datetime.now().astimezone()
    steps: list[str] = []
    events: list[ExpectedEvent] = []

    def need(result: ActionResult, what: str) -> ActionResult:
        steps.append(f"{what} : {'réussi' if result.ok else 'échec'} ({result.detail})")
        if not result.ok:
            raise SequenceError(f"{what} : {result.detail}")
        return result

    plain = correspondent.deliver(operator, correspondent.ordinary_mail(mark_subject=True))
    document = correspondent.deliver(operator, correspondent.document_mail(known_patient))
    refused = correspondent.deliver(operator, correspondent.failing_mail(902, known_patient, receipt=False))
    steps.append("le harnais dépose : " + " ; ".join(m.describe() for m in (plain, document, refused)))
    need(candidate.fetch_new_mail(), "relève de la boîte aux lettres (1)")
    for key, mail in (("consultation-ordinaire", plain), ("consultation-document", document),
                      ("consultation-document-refuse", refused)):
        events.append(ExpectedEvent(key, f"consultation du {mail.label}", "consultation", mail.message_id,
                                    received_document=bool(mail.documents)))
    events.append(ExpectedEvent("integration", f"intégration du document reçu ({document.message_id})",
                                "integration", document.message_id, received_document=True))
    events.append(ExpectedEvent("echec-integration", f"échec d'intégration (902) du document reçu "
                                f"({refused.message_id})", "echec_integration", refused.message_id,
                                failure=True, received_document=True))

    replacement = correspondent.deliver(operator, correspondent.replacement_mail(document))
    steps.append(f"le harnais dépose : {replacement.describe()}")
    need(candidate.fetch_new_mail(), "relève de la boîte aux lettres (2)")
    events.append(ExpectedEvent("consultation-remplacement", f"consultation du {replacement.label}", "consultation",
                                replacement.message_id, received_document=True))
    events.append(ExpectedEvent("remplacement", f"remplacement du document reçu ({replacement.message_id})",
                                "integration", replacement.message_id, received_document=True))

    marker = f"[contenu-harnais {correspondent.seed}-envoi]"
    before = len(capture.submissions)
    need(candidate.send_message(OutgoingMessage(to=(correspondent.address,), subject=f"Avis demandé {marker}",
                                                body=f"Bonjour,\n\nVotre avis sur ce dossier ?\n\n{marker}\n")),
         f"envoi d'un courriel à {correspondent.address}")
    sent = [parse_message(s.raw) for s in capture.submissions[before:]]
    sent_id = next((str(m.get("Message-ID", "")).strip() for m in sent if marker in str(m.get("Subject", ""))), "")
    events.append(ExpectedEvent("envoi", f"envoi d'un courriel à {correspondent.address} ({sent_id or '?'})",
                                "envoi", sent_id))

    refused_to = refused_address(operator.population.domain)
    transcripts_before = len(capture.transcripts)
    failed = candidate.send_message(OutgoingMessage(to=(refused_to,), subject=f"Envoi refusé {marker}",
                                                    body=f"Ce courriel sera refusé.\n{marker}\n"))
    steps.append(f"envoi d'un courriel à {refused_to} (refusé par l'opérateur) : "
                 f"{'accepté ?!' if failed.ok else 'échec'} ({failed.detail})")
    reply = _server_refusal(capture.transcripts[transcripts_before:])
    events.append(ExpectedEvent("envoi-echoue", f"envoi refusé par le serveur ({refused_to})", "envoi",
                                failure=True, server_reply=reply))

    need(candidate.delete_message(MessageDeletion(message_id=plain.message_id)),
         f"suppression du courriel {plain.message_id}")
    events.append(ExpectedEvent("suppression", f"suppression du {plain.label}", "suppression", plain.message_id))

    content = [(f"{what} ({mail.message_id})", value) for mail in correspondent.delivered for what, value in
               mail.content]
    content.append(("corps et objet du courriel envoyé par le candidat", marker))
    return TraceSequence(started, dt.datetime.now().astimezone(), events, list(correspondent.delivered), content,
                         steps)


def _server_refusal(transcripts: Iterable[Any]) -> str:
    """The operator's 5xx answer to the envelope or the data of the refused send, in its SMTP transcripts (e.g.
    `550 5.1.1 Unknown mailbox` to RCPT TO; not a refused AUTH attempt that came before)."""
    for transcript in transcripts:
        if not str(getattr(transcript, "service", "")).startswith("smtp"):
            continue
        command = ""
        for entry in transcript.entries:
            if entry.direction == "C" and entry.text and not entry.text.startswith("["):
                command = entry.text.split(" ", 1)[0].split(":", 1)[0].upper()
            elif (entry.direction == "S" and command in ("MAIL", "RCPT", "DATA", ".")
                  and re.match(r"^5\d\d[ -]", entry.text)):
                return entry.text.strip()
    return ""


# -- judging ---------------------------------------------------------------------------------------------------
def match_events(events: Sequence[ExpectedEvent], records: Sequence[TraceRecord]) -> dict[str, TraceRecord | None]:
    """Each event's trace: same type, same Message-ID when the trace carries one, same outcome; a trace serves once."""
    used: set[int] = set()
    found: dict[str, TraceRecord | None] = {}
    for event in events:
        pool = [r for r in records if r.index not in used and r.action == event.action]
        if event.failure:
            code = event.server_reply[:3]
            pool = [r for r in pool if r.failed is True or (code and code in r.response)]
        else:
            pool = [r for r in pool if r.failed is not True]
        if event.message_id:
            wanted = normalise_id(event.message_id)
            same = [r for r in pool if normalise_id(r.message_id) == wanted]
            pool = same or [r for r in pool if not r.message_id and event.message_id.strip("<>") in r.request]
        chosen = pool[0] if pool else None
        if chosen is not None:
            used.add(chosen.index)
        found[event.key] = chosen
    return found


def record_problems(record: TraceRecord, *, started: dt.datetime, finished: dt.datetime,
                    author_tokens: Sequence[str]) -> list[str]:
    """What a trace lacks among: authenticated author, local timestamp, action type, request and response."""
    problems = []
    if record.timestamp is None:
        problems.append(f"horodatage absent ou illisible ({record.timestamp_text or 'vide'})")
    elif not started - TIME_TOLERANCE <= record.timestamp <= finished + TIME_TOLERANCE:
        problems.append(f"horodatage {record.timestamp_text} hors de la séquence (heure locale attendue)")
    if not record.author.strip():
        problems.append("auteur absent")
    elif not any(token.lower() in record.author.lower() for token in author_tokens if token):
        problems.append(f"auteur « {_short(record.author, 60)} » sans l'identité authentifiée")
    if not record.raw_action.strip():
        problems.append("type d'action absent")
    if not record.request.strip():
        problems.append("requête absente")
    if not record.response.strip():
        problems.append("réponse du serveur absente")
    return problems


def content_leaks(export_text: str, content: Iterable[tuple[str, str]]) -> list[str]:
    """What of the exchanged content appears in the export (the harness's own markers and bytes)."""
    return [what for what, value in content if value and value in export_text]


def retention_days(data: dict[str, Any], mapping: TraceMapping) -> int | None:
    value = data.get(mapping.retention)
    try:
        return int(value) if value is not None and str(value).strip() else None
    except (TypeError, ValueError):
        return None


__all__ = [
    "ACTION_TYPES",
    "ExpectedEvent",
    "SequenceError",
    "TraceExportError",
    "TraceMapping",
    "TraceRecord",
    "TraceSequence",
    "content_leaks",
    "match_events",
    "parse_export",
    "read_rows",
    "record_problems",
    "retention_days",
    "run_trace_sequence",
]
