"""Manual adapter (`--candidate manual`): a person drives a desktop product; the harness judges what arrives.

For each action it prints a French instruction (what to do, to which address, with which synthetic patient —
texts are data in `instructions.yaml`), then waits with a visible countdown for what should reach the operator
(a mail), or for the person to press Enter; the steps then judge what reached the operator, exactly as for an
automated candidate. For attested proofs (`Action.ATTEST`) it asks for files (screenshot, video, export) and a
statement, and stores and hashes them in the scenario's evidence.

The person talks to the harness through the terminal (`/dev/tty`, which pytest's capture and the campaign log
do not touch). Without a terminal, or with CI=true, nothing is asked: actions and attestations are
`awaiting_evidence` (never `passed`), and the instruction is kept in the dossier. Answers prepared ahead of time
(`answers.py`) are used for attestations; without a terminal their files are stored but still await a person.
"""

from __future__ import annotations

import contextlib
import hashlib
import mimetypes
import os
import select
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import yaml
from rich.console import Console
from rich.live import Live
from rich.panel import Panel
from rich.text import Text

from segur_mss.candidates.answers import Answers, PreparedAnswer, PreparedFile, answers_from_environment
from segur_mss.candidates.base import (
    Action,
    ActionResult,
    CandidateEnvironment,
    DocumentSending,
    EvidenceRequest,
    OutgoingMessage,
)
from segur_mss.candidates.remote import action_label, encode_payload, known_actions, to_jsonable
from segur_mss.verdicts import AwaitingEvidence

WAIT_MAIL = "courriel"
WAIT_CONFIRMATION = "confirmation"
TIMEOUT_ENV = "SEGUR_MSS_MANUEL_DELAI"


# -- instructions as data -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Instruction:
    text: str
    wait: str
    timeout: float


class Instructions:
    """The instruction texts of `instructions.yaml`, rendered with the request's values."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.default = data["defaut"]
        self.actions: dict[str, dict[str, Any]] = data.get("actions") or {}
        self.options: dict[str, str] = data.get("options") or {}

    @classmethod
    def load(cls) -> Instructions:
        text = resources.files("segur_mss.candidates").joinpath("instructions.yaml").read_text(encoding="utf-8")
        return cls(yaml.safe_load(text))

    def for_action(self, action: str, context: dict[str, str]) -> Instruction:
        entry = {**self.default, **self.actions.get(action, {})}
        override = os.environ.get(TIMEOUT_ENV)
        timeout = float(override) if override and override.replace(".", "", 1).isdigit() else float(entry["delai"])
        text = str(entry["instruction"]).format_map(_Lenient(context)).rstrip()
        lines = [line for line in text.splitlines() if line.strip() or not line]  # drop empty option lines
        return Instruction("\n".join(lines), str(entry["attendre"]), timeout)

    def context(self, action: str, payload: dict[str, Any], env: CandidateEnvironment) -> dict[str, str]:
        """Placeholder values: the request's own values, the operator's parameters, the synthetic patient."""
        values: dict[str, str] = {}
        for key, value in payload.items():
            values[key] = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        options = [f"  - {text}" for key, text in self.options.items() if payload.get(key) is True]
        values.update({
            "libelle": action_label(action),
            "scenario": env.scenario_id,
            "smtp": f"{env.smtp_host}:{env.smtp_port}",
            "imap": f"{env.imap_host}:{env.imap_port}" if env.imap_port else "(pas encore servi par l'opérateur)",
            "ca_bundle": str(env.ca_bundle),
            "reference_produit": env.product_reference,
            "options": "\n".join(options),
            "parametres": "\n".join(f"  - {k} : {values[k]}" for k in payload) or "  (aucun)",
        })
        if isinstance(payload.get("doc_types"), list):
            values["documents"] = _documents(payload["doc_types"])
        if isinstance(payload.get("patient"), str):
            values.update(_patient_values(payload["patient"]))
        return values


class _Lenient(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _documents(doc_types: list[str]) -> str:
    from segur_mss.documents.doctypes import get_document_type

    names = []
    for key in doc_types:
        try:
            kind = get_document_type(key)
            names.append(f"« {key} » ({kind.display_name}, code LOINC {kind.code})")
        except (KeyError, ValueError):
            names.append(f"« {key} »")
    return ", ".join(names)


def _patient_values(key: str) -> dict[str, str]:
    from segur_mss.documents.patients import get_patient

    try:
        patient = get_patient(key)
    except (KeyError, ValueError):
        return {"patient_identite": f"  patient de test « {key} »"}
    ins = patient.ins or "aucune (identifiant local seulement)"
    qualified = "INS qualifiée" if patient.has_qualified_ins else "INS non qualifiée : traits d'identité incomplets"
    birth = patient.birth_date.strftime("%d/%m/%Y") if patient.birth_date else "?"
    identity = (
        f"  patient de test « {key} » : {patient.family_birth} {patient.given_all}, né(e) le {birth}, "
        f"sexe {patient.gender}, lieu de naissance (code INSEE) {patient.birth_county or 'inconnu'}\n"
        f"  INS : {ins} ({qualified}) ; IPP : {patient.ipp or '—'}"
    )
    return {
        "patient_identite": identity,
        "patient_nom": patient.family_birth,
        "patient_prenoms": patient.given_all,
        "patient_naissance": birth,
        "patient_sexe": patient.gender,
        "patient_ins": ins,
    }


# -- the terminal -------------------------------------------------------------------------------------------
class Terminal(Protocol):
    """How the adapter talks to the person (the real terminal, or a scripted one in tests)."""

    console: Console

    def poll_line(self, timeout: float) -> str | None:
        """A line typed within `timeout` seconds, or None."""
        ...

    def ask(self, prompt: str) -> str: ...

    def close(self) -> None: ...


class TtyTerminal:
    """The controlling terminal (`/dev/tty`), untouched by pytest's capture and by the campaign's log file."""

    def __init__(self) -> None:
        self.fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
        self._out = open(os.dup(self.fd), "w", encoding="utf-8", buffering=1)  # noqa: SIM115
        self.console = Console(file=self._out, force_terminal=True, highlight=False)
        self._buffer = b""

    def poll_line(self, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if not ready:
                return None
            chunk = os.read(self.fd, 1024)
            if not chunk:
                raise EOFError("terminal fermé")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode("utf-8", "replace").strip()

    def ask(self, prompt: str) -> str:
        self.console.print(prompt, end="")
        line = None
        while line is None:
            line = self.poll_line(3600)
        return line

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._out.close()
        with contextlib.suppress(OSError):
            os.close(self.fd)


def open_terminal() -> tuple[Terminal | None, str]:
    """The person's terminal, or None and why the session is not interactive."""
    if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes", "oui"):
        return None, "exécution non interactive (CI=true)"
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return None, "exécution parallèle (--workers) : une session manuelle se fait en série"
    try:
        return TtyTerminal(), ""
    except OSError:
        return None, "exécution non interactive (pas de terminal)"


_AUTO: Any = object()


# -- the adapter --------------------------------------------------------------------------------------------
class ManualCandidate:
    """A person drives the product; the harness instructs, waits, and stores what the person attests."""

    name = "manual"

    def __init__(
        self,
        env: CandidateEnvironment,
        *,
        terminal: Terminal | None = _AUTO,
        answers: Answers | None = None,
        instructions: Instructions | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.env = env
        self.reason = ""
        if terminal is _AUTO:
            terminal, self.reason = open_terminal()
        elif terminal is None:
            self.reason = "exécution non interactive (pas de terminal)"
        self.terminal = terminal
        self.answers = answers if answers is not None else answers_from_environment()
        self.instructions = instructions or Instructions.load()
        self.clock = clock
        self._steps = 0

    @property
    def interactive(self) -> bool:
        return self.terminal is not None

    def capabilities(self) -> frozenset[Action]:
        return frozenset(Action)  # a person can do anything the product can

    def close(self) -> None:
        if self.terminal is not None:
            self.terminal.close()
            self.terminal = None

    # -- business actions ---------------------------------------------------------------------------------
    def connect_mailbox(self, address: str) -> ActionResult:
        return self.perform(Action.CONNECT_MAILBOX.value, {"address": address})

    def send_message(self, message: OutgoingMessage) -> ActionResult:
        return self.perform(Action.SEND_MESSAGE.value, to_jsonable(message))

    def send_document(self, sending: DocumentSending) -> ActionResult:
        return self.perform(Action.SEND_DOCUMENT.value, to_jsonable(sending))

    def __getattr__(self, name: str) -> Callable[..., ActionResult]:
        if name.startswith("_") or name not in known_actions() or name == Action.ATTEST.value:
            raise AttributeError(name)

        def call(*args: Any, **kwargs: Any) -> ActionResult:
            return self.perform(name, encode_payload(name, args, kwargs))

        return call

    def perform(self, action: str, payload: dict[str, Any]) -> ActionResult:
        """Instruct the person, wait for what should arrive (or Enter), and hand over to the steps' judgement."""
        self._steps += 1
        instruction = self.instructions.for_action(action, self.instructions.context(action, payload, self.env))
        if self.terminal is None:
            self._record(action, instruction, f"non réalisée : {self.reason}")
            raise AwaitingEvidence(
                f"action manuelle « {action_label(action)} » : {self.reason} ; à réaliser lors d'une session "
                "manuelle (segur-mss run --candidate manual, depuis un terminal)"
            )
        console = self.terminal.console
        console.print(Panel(instruction.text, title=f"{self.env.scenario_id} — {action_label(action)}",
                            border_style="cyan", expand=False))
        outcome, arrived = self._countdown(instruction)
        self._record(action, instruction, outcome)
        console.print(f"[green]→ {outcome}[/]" if arrived or outcome.startswith("confirmé") else f"[red]→ {outcome}[/]")
        return ActionResult(not outcome.startswith("délai"), outcome)

    def _countdown(self, instruction: Instruction) -> tuple[str, bool]:
        assert self.terminal is not None
        seen = self.env.submissions_seen or (lambda: 0)
        baseline = seen()
        deadline = self.clock() + instruction.timeout
        waits_for_mail = instruction.wait == WAIT_MAIL
        what = "du courriel du logiciel à l'opérateur" if waits_for_mail else "de votre confirmation"
        with Live(console=self.terminal.console, refresh_per_second=4, transient=True) as live:
            while True:
                if waits_for_mail and seen() > baseline:
                    return f"courriel reçu par l'opérateur ({seen() - baseline})", True
                remaining = deadline - self.clock()
                if remaining <= 0:
                    missing = "courriel reçu" if waits_for_mail else "confirmation"
                    return f"délai de {instruction.timeout:g} s écoulé sans {missing}", False
                minutes, seconds = divmod(int(remaining + 0.999), 60)
                live.update(Text(f"⏳ {minutes:02d}:{seconds:02d} — en attente {what} "
                                 "(Entrée : c'est fait, ou le logiciel refuse)", style="bold yellow"))
                if self.terminal.poll_line(min(0.25, remaining)) is not None:
                    if waits_for_mail and seen() > baseline:
                        return f"courriel reçu par l'opérateur ({seen() - baseline})", True
                    return "confirmé par la personne (Entrée)", False

    def _record(self, action: str, instruction: Instruction, outcome: str) -> None:
        if self.env.evidence is None:
            return
        text = (f"action manuelle : {action} ({action_label(action)})\nscénario : {self.env.scenario_id}\n"
                f"date : {_now()}\nattente : {instruction.wait}, {instruction.timeout:g} s\nrésultat : {outcome}\n\n"
                f"--- consigne donnée ---\n{instruction.text}\n")
        self.env.evidence.add_proof("log", f"manuel-{self._steps:02d}-{action}.log", text,
                                    f"consigne de l'action manuelle : {action_label(action)}")

    # -- attested proofs ----------------------------------------------------------------------------------
    def attest(self, request: EvidenceRequest) -> ActionResult:
        """Files and a statement from the person (or prepared answers), stored and hashed."""
        prepared = self.answers.for_request(self.env.scenario_id, request.key)
        if self.terminal is None:
            stored = self._store(request, prepared, "fichier de réponses (session non interactive)") if prepared else []
            joined = f" ; {len(stored)} preuve(s) préparée(s) jointe(s), à confirmer" if stored else ""
            raise AwaitingEvidence(f"preuve attestée « {request.instruction} » : {self.reason}{joined} ; à fournir "
                                   "lors d'une session manuelle (segur-mss run --candidate manual)")
        console = self.terminal.console
        kinds = ", ".join(request.kinds) or "aucun fichier"
        body = f"{request.instruction}\n\nPreuves acceptées : {kinds}"
        if request.statement:
            body += f"\nDéclaration à attester : « {request.statement} »"
        console.print(Panel(body, title=f"{self.env.scenario_id} — preuve attestée ({request.key})",
                            border_style="magenta", expand=False))
        source = "saisie interactive"
        if prepared is not None:
            for item in prepared.files:
                console.print(f"  fichier préparé : {item.path} ({item.kind})")
            if prepared.statement:
                console.print(f"  déclaration préparée : « {prepared.statement} »")
            if self.terminal.ask("Utiliser ces réponses préparées ? [O/n] ").strip().lower() in ("", "o", "oui", "y"):
                source = f"réponses préparées ({self.answers.source})"
            else:
                prepared = None
        if prepared is None:
            prepared = self._ask(request)
        if not prepared.files and not prepared.statement:
            raise AwaitingEvidence(f"preuve attestée « {request.instruction} » : rien n'a été fourni")
        stored = self._store(request, prepared, source)
        return ActionResult(True, f"preuve attestée fournie ({len(stored)} élément(s))",
                            data={"proofs": stored, "statement": prepared.statement or request.statement})

    def _ask(self, request: EvidenceRequest) -> PreparedAnswer:
        assert self.terminal is not None
        files: list[PreparedFile] = []
        default_kind = request.kinds[0] if request.kinds else "screenshot"
        while request.kinds:
            raw = self.terminal.ask("Chemin d'un fichier de preuve (vide pour terminer) : ").strip()
            if not raw:
                break
            path = Path(raw).expanduser()
            if not path.is_file():
                self.terminal.console.print(f"[red]fichier introuvable : {path}[/]")
                continue
            kind = self.terminal.ask(f"Type ({', '.join(request.kinds)}) [{default_kind}] : ").strip() or default_kind
            if kind not in request.kinds:
                self.terminal.console.print(f"[red]type non accepté ici : {kind}[/]")
                continue
            files.append(PreparedFile(path.resolve(), kind))
        if request.statement:
            answer = self.terminal.ask(f"Attestez-vous : « {request.statement} » ? [oui/non] ").strip().lower()
            statement = request.statement if answer in ("o", "oui", "y", "yes") else \
                f"NON ATTESTÉ : {request.statement}"
        else:
            statement = self.terminal.ask("Votre déclaration (ce que montre la preuve) : ").strip()
        return PreparedAnswer(tuple(files), statement)

    def _store(self, request: EvidenceRequest, answer: PreparedAnswer, source: str) -> list[str]:
        if self.env.evidence is None:
            return []
        stored: list[str] = []
        lines = []
        for item in answer.files:
            data = item.path.read_bytes()
            media_type = mimetypes.guess_type(item.path.name)[0] or "application/octet-stream"
            title = item.title or f"{item.kind} fourni(e) pour : {request.instruction}"
            proof = self.env.evidence.add_proof(item.kind, item.path.name, data, title, media_type=media_type,
                                                redact=False)  # stored byte for byte: the hash is the file's
            stored.append(getattr(proof, "id", item.path.name))
            lines.append(f"  - {item.path.name} ({item.kind}) sha256 {hashlib.sha256(data).hexdigest()}")
        statement = answer.statement or request.statement
        text = (f"Déclaration — scénario {self.env.scenario_id}, demande « {request.key} »\n"
                f"date : {_now()}\nsource : {source}\ndemande : {request.instruction}\n"
                f"déclaration : « {statement} »\nfichiers joints :\n" + ("\n".join(lines) or "  (aucun)") + "\n")
        proof = self.env.evidence.add_proof("statement", f"declaration-{request.key}.txt", text,
                                            f"déclaration attestée : {request.key}")
        stored.append(getattr(proof, "id", "declaration"))
        return stored


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
