"""Functional traces of every processing on the mailbox (SC.MSS/CONF.17, CONF.18, UX.37; ANS FAQ, vague 2).

One JSON object per line (`traces.jsonl` in the product's working directory), in French:

    {"horodatage": "2026-11-23T13:45:12.123+01:00",     # local time, with its UTC offset
     "auteur": {"bal": "…", "professionnel": "<RPPS>", "nom": "…", "authentification": "PSC/XOAUTH2"},
     "action": "envoi",                                  # see ACTIONS
     "statut": "succes" | "echec",
     "serveur": "smtp",                                  # imap, smtp, psc, annuaire, autoconfiguration, local
     "requete": "MAIL FROM:<…> RCPT TO:<…> DATA [contenu non tracé, 2345 octets]",
     "reponse": "250 2.0.0 Message accepted",
     "message_id": "<…>", "detail": "…"}

Never the content of a message (body, subject, attachments), never a token; not the full IMAP/SMTP exchange:
the request that did the processing and the server's answer, failures included. Entries older than the retention
period (six months by default, as the FAQ recommends) are purged when the journal opens.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ACTIONS = {
    "connexion": "ouverture d'une session sur la BAL",
    "deconnexion": "fermeture d'une session",
    "reconnexion": "réouverture automatique d'une session coupée",
    "rafraichissement_jeton": "rafraîchissement du jeton Pro Santé Connect",
    "fin_de_session": "fin de session : reconnexion demandée à l'utilisateur",
    "autoconfiguration": "configuration automatique de la BAL",
    "consultation": "consultation (relève) d'un courriel",
    "envoi": "envoi d'un courriel",
    "reponse": "réponse à un courriel reçu",
    "suppression": "suppression d'un courriel",
    "integration": "intégration d'un document reçu",
    "echec_integration": "échec de l'intégration automatique d'un document reçu",
    "import_manuel": "import manuel d'un document reçu",
    "accuse_integration": "envoi d'un accusé de traitement (MDN)",
    "recherche_annuaire": "recherche dans l'annuaire MSSanté",
    "demande_producteur": "traitement d'une demande d'un logiciel producteur (PFI)",
}
DEFAULT_RETENTION_DAYS = 183


def local_now() -> str:
    """The local time with its offset, to the millisecond."""
    return dt.datetime.now().astimezone().isoformat(timespec="milliseconds")


@dataclass
class TraceEvent:
    """One processing on the mailbox, as the product records it."""

    action: str
    statut: str  # succes | echec
    serveur: str
    requete: str
    reponse: str
    message_id: str = ""
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class TraceJournal:
    """Append-only JSON lines, in memory when the product has no working directory."""

    def __init__(
        self,
        path: Path | None,
        author: Callable[[], dict[str, str]],
        *,
        retention_days: int = DEFAULT_RETENTION_DAYS,
    ) -> None:
        self.path = path
        self.author = author
        self.retention_days = retention_days
        self._memory: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._purge()

    def record(self, event: TraceEvent) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "horodatage": local_now(),
            "auteur": self.author(),
            "action": event.action,
            "statut": event.statut,
            "serveur": event.serveur,
            "requete": event.requete,
            "reponse": event.reponse,
        }
        if event.message_id:
            entry["message_id"] = event.message_id
        if event.detail:
            entry["detail"] = event.detail
        entry.update(event.extra)
        line = json.dumps(entry, ensure_ascii=False)
        with self._lock:
            if self.path is None:
                self._memory.append(entry)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as fh:
                    fh.write(line + "\n")
        return entry

    def entries(self, since: str = "") -> list[dict[str, Any]]:
        """The traces recorded at or after `since` (ISO 8601; naive values are local time)."""
        threshold = _parse(since) if since else None
        with self._lock:
            entries = list(self._memory) if self.path is None else self._read()
        if threshold is None:
            return entries
        return [e for e in entries if _parse(e["horodatage"]) >= threshold]

    def _read(self) -> list[dict[str, Any]]:
        if self.path is None or not self.path.is_file():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(json.loads(line))
        return out

    def _purge(self) -> None:
        if self.path is None or not self.path.is_file():
            return
        limit = dt.datetime.now().astimezone() - dt.timedelta(days=self.retention_days)
        kept = [e for e in self._read() if _parse(e["horodatage"]) >= limit]
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in kept), encoding="utf-8")
        tmp.replace(self.path)


def _parse(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.astimezone()
