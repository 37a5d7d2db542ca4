"""Business actions for a product outside the harness's process: an action name, a JSON payload, a JSON answer.

The command, HTTP and manual adapters are generic over actions: a method of the `CandidateAdapter` protocol
becomes a request `{"action": …, "payload": {…}}` without adapter code, so a new action only needs data
(a command template, an endpoint, an instruction text).

Request (a JSON file for the command adapter, the body of a POST for the HTTP adapter)::

    {"action": "send_document",
     "scenario": "SC.MSS/CONF.16.02",
     "payload": {"to": ["…"], "patient": "qualifie", "doc_types": ["CR-BIO"], "to_patient": false, …},
     "session": {…} | null,           # what the product returned last time, handed back (stateless commands)
     "login": {"address": "…", "access_token": "…", "refresh_token": "…", "expires_in": 120},  # connect only
     "environment": {…}}              # the operator's parameters (see `environment_json`)

The payload of a method taking one dataclass is that dataclass's fields (`send_message` → the fields of
`OutgoingMessage`); otherwise it maps parameter names to values (`connect_mailbox` → `{"address": …}`).

Answer::

    {"ok": true, "detail": "courriel soumis", "message_ids": ["<…>"], "data": {…},
     "session": {…},                  # optional: handed back with the next request
     "proofs": [{"kind": "export", "path": "/tmp/traces.csv", "title": "…"}]}   # optional, stored and hashed

`login` stands in for the professional's Pro Santé Connect login as long as the operator does not serve PSC to
products: the harness obtains the tokens the user would have obtained and gives them to `connect_mailbox`.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import inspect
import types
import typing
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from segur_mss.candidates.base import (
    ACTION_LABELS,
    Action,
    ActionResult,
    CandidateAdapter,
    CandidateEnvironment,
    DocumentSending,
    EvidenceRequest,
    OutgoingMessage,
)
from segur_mss.candidates.reference import CandidateError

#: Largest proof file a remote product may hand over (videos of a manual session included).
MAX_PROOF_BYTES = 200 * 1024 * 1024
PROOF_KINDS = ("screenshot", "video", "export", "statement", "log")
#: Not a business action: the scenario is over (optional for every adapter).
CLOSE = "close"


class RemoteProtocolError(CandidateError):
    """The product's answer does not follow the protocol (the scenario is `error`, not a verdict)."""


def action_label(action: str) -> str:
    """The French label of an action (its name when the catalogue of labels does not know it)."""
    if action == CLOSE:
        return "fin du scénario"
    try:
        return ACTION_LABELS[Action(action)]
    except (ValueError, KeyError):
        return action


def known_actions() -> tuple[str, ...]:
    return tuple(a.value for a in Action)


# -- encoding (harness side) -------------------------------------------------------------------------------
def to_jsonable(value: Any) -> Any:
    """A JSON-serialisable copy of `value` (dataclasses, tuples, paths, dates, enums, bytes as base64)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def encode_payload(action: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """The JSON payload of a call `candidate.<action>(*args, **kwargs)`, from the protocol's signature."""
    prototype = getattr(CandidateAdapter, action, None) or getattr(_OptionalActions, action, None)
    if prototype is not None:
        bound = inspect.signature(prototype).bind(None, *args, **kwargs)
        arguments = {k: v for k, v in bound.arguments.items() if k != "self"}
    elif args and not kwargs and len(args) == 1 and dataclasses.is_dataclass(args[0]):
        arguments = {"_": args[0]}
    elif args:
        raise TypeError(f"action {action}: positional arguments need a prototype in CandidateAdapter")
    else:
        arguments = dict(kwargs)
    if len(arguments) == 1:
        (only,) = arguments.values()
        if dataclasses.is_dataclass(only) and not isinstance(only, type):
            return to_jsonable(only)
    return {k: to_jsonable(v) for k, v in arguments.items()}


class _OptionalActions:
    """Prototypes of actions that are not (yet) in the `CandidateAdapter` protocol."""

    def attest(self, request: EvidenceRequest) -> ActionResult: ...


def environment_json(env: CandidateEnvironment) -> dict[str, Any]:
    """What the product is given about the operator and itself (the shape of `env.json`, plus the product)."""
    return {
        "smtp": {"host": env.smtp_host, "port": env.smtp_port, "tls": "starttls"},
        "imap": {"host": env.imap_host, "port": env.imap_port, "tls": "starttls"},
        "ca_bundle": str(env.ca_bundle),
        "server_name": env.server_name,
        "psc": to_jsonable(env.psc),
        "directory": {"url": getattr(env, "directory_url", "")},
        "autoconfig": {"url": getattr(env, "autoconfig_url", "")},
        "mailboxes": to_jsonable(getattr(env, "mailboxes", ())),
        "product": {
            "reference_convergence": env.product_reference,
            "options": to_jsonable(getattr(env, "options", {})),
        },
        "scenario": env.scenario_id,
        "workdir": str(env.workdir) if env.workdir else None,
    }


# -- decoding (product side) -------------------------------------------------------------------------------
def _coerce(annotation: Any, value: Any) -> Any:
    if value is None or annotation is None:
        return value
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _coerce(options[0], value) if len(options) == 1 else value
    if origin is tuple and isinstance(value, list):
        inner = typing.get_args(annotation)
        return tuple(_coerce(inner[0], v) for v in value) if inner else tuple(value)
    if origin is list and isinstance(value, list):
        inner = typing.get_args(annotation)
        return [_coerce(inner[0], v) for v in value] if inner else value
    if isinstance(annotation, type):
        if dataclasses.is_dataclass(annotation) and isinstance(value, dict):
            return from_dict(annotation, value)
        if issubclass(annotation, Path):
            return Path(value)
        if issubclass(annotation, datetime) and isinstance(value, str):
            return datetime.fromisoformat(value)
        if issubclass(annotation, enum.Enum):
            return annotation(value)
    return value


def from_dict(cls: type[Any], data: dict[str, Any]) -> Any:
    """An instance of dataclass `cls` from JSON (lists become tuples where the field says so; extras ignored)."""
    hints = typing.get_type_hints(cls)
    values = {f.name: _coerce(hints.get(f.name), data[f.name]) for f in dataclasses.fields(cls) if f.name in data}
    return cls(**values)


def decode_call(method: Callable[..., Any], payload: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """The arguments of `method` from a JSON payload (the inverse of `encode_payload`)."""
    hints = typing.get_type_hints(method)
    params = [
        p for p in inspect.signature(method).parameters.values()
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    ]
    if len(params) == 1:
        annotation = hints.get(params[0].name)
        if isinstance(annotation, type) and dataclasses.is_dataclass(annotation) and params[0].name not in payload:
            return [from_dict(annotation, payload)], {}
    kwargs = {p.name: _coerce(hints.get(p.name), payload[p.name]) for p in params if p.name in payload}
    missing = [p.name for p in params if p.name not in payload and p.default is inspect.Parameter.empty]
    if missing:
        raise RemoteProtocolError(f"paramètre(s) manquant(s) dans la requête : {', '.join(missing)}")
    return [], kwargs


def dispatch(candidate: Any, action: str, payload: dict[str, Any]) -> ActionResult:
    """Perform `action` on an in-process candidate from a JSON payload (product side of the protocol)."""
    if action not in known_actions():
        raise RemoteProtocolError(f"action inconnue : {action} ; actions possibles : {', '.join(known_actions())}")
    if Action(action) not in candidate.capabilities() or not callable(getattr(candidate, action, None)):
        raise RemoteProtocolError(f"le candidat ne sait pas « {action_label(action)} »")
    method = getattr(candidate, action)
    args, kwargs = decode_call(method, payload)
    return method(*args, **kwargs)


@dataclasses.dataclass
class LoginTokens:
    """The tokens of a Pro Santé Connect login, as handed to `connect_mailbox` (see the module docstring)."""

    access_token: str
    refresh_token: str = ""
    expires_in: int = 0


def environment_from_json(
    data: dict[str, Any], login: dict[str, Any] | None = None, workdir: Path | None = None
) -> CandidateEnvironment:
    """A `CandidateEnvironment` for an in-process candidate serving remote requests."""

    def log_in(address: str) -> LoginTokens:
        if not login or str(login.get("address", "")).lower() != address.lower():
            raise CandidateError(f"aucun jeton Pro Santé Connect fourni pour {address}")
        return from_dict(LoginTokens, login)

    product = data.get("product") or {}
    known = {f.name for f in dataclasses.fields(CandidateEnvironment)}
    extra = {
        "directory_url": (data.get("directory") or {}).get("url", ""),
        "autoconfig_url": (data.get("autoconfig") or {}).get("url", ""),
        "mailboxes": tuple(data.get("mailboxes") or ()),
        "options": product.get("options") or {},
    }
    return CandidateEnvironment(
        **{k: v for k, v in extra.items() if k in known},
        smtp_host=data["smtp"]["host"],
        smtp_port=int(data["smtp"]["port"]),
        ca_bundle=Path(data["ca_bundle"]),
        server_name=data.get("server_name", ""),
        product_reference=product.get("reference_convergence", ""),
        imap_host=(data.get("imap") or {}).get("host", "127.0.0.1"),
        imap_port=int((data.get("imap") or {}).get("port", 0)),
        psc=data.get("psc") or {},
        workdir=workdir,
        login=log_in,
        scenario_id=data.get("scenario", ""),
    )


def result_to_json(result: ActionResult, session: Any = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "ok": bool(result.ok),
        "detail": result.detail,
        "message_ids": list(result.message_ids),
        "data": to_jsonable(result.data),
    }
    if session is not None:
        answer["session"] = to_jsonable(session)
    return answer


# -- the answer (harness side) -----------------------------------------------------------------------------
@dataclasses.dataclass
class RemoteAnswer:
    result: ActionResult
    session: Any = None
    proofs: list[dict[str, Any]] = dataclasses.field(default_factory=list)


def parse_answer(answer: Any, where: str) -> RemoteAnswer:
    """Check a product's answer against the protocol; `where` names it in the French error message."""
    if not isinstance(answer, dict):
        raise RemoteProtocolError(f"{where} : un objet JSON est attendu, reçu {type(answer).__name__}")
    if not isinstance(answer.get("ok"), bool):
        raise RemoteProtocolError(f"{where} : la clé « ok » (true/false) est obligatoire")
    detail = answer.get("detail", "")
    ids = answer.get("message_ids", [])
    data = answer.get("data", {})
    proofs = answer.get("proofs", [])
    if not isinstance(detail, str):
        raise RemoteProtocolError(f"{where} : « detail » doit être une chaîne")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise RemoteProtocolError(f"{where} : « message_ids » doit être une liste de chaînes")
    if not isinstance(data, dict):
        raise RemoteProtocolError(f"{where} : « data » doit être un objet")
    if not isinstance(proofs, list) or not all(isinstance(p, dict) for p in proofs):
        raise RemoteProtocolError(f"{where} : « proofs » doit être une liste d'objets")
    for proof in proofs:
        if proof.get("kind") not in PROOF_KINDS:
            raise RemoteProtocolError(
                f"{where} : type de preuve « {proof.get('kind')} » inconnu ; choix : {', '.join(PROOF_KINDS)}"
            )
        if not isinstance(proof.get("path"), str) and not isinstance(proof.get("content_base64"), str):
            raise RemoteProtocolError(f"{where} : une preuve donne « path » (fichier) ou « content_base64 »")
    return RemoteAnswer(ActionResult(answer["ok"], detail, list(ids), data), answer.get("session"), proofs)


class RemoteCandidate:
    """Base of the adapters that drive a product from outside: every action goes through `perform`.

    Subclasses implement `capabilities()` and `exchange(action, request) -> dict` (the product's JSON answer,
    or `CandidateError` with a French reason); they may add proofs to the scenario through `self.add_proof`.
    """

    name = "remote"

    def __init__(self, env: CandidateEnvironment, name: str) -> None:
        self.env = env
        self.name = name
        self.session: Any = None  # kept in memory only, handed back with every request
        self.calls = 0

    # -- the protocol -----------------------------------------------------------------------------------
    def capabilities(self) -> frozenset[Action]:
        raise NotImplementedError

    def exchange(self, action: str, request: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def perform(self, action: str, payload: dict[str, Any], *, login: dict[str, Any] | None = None) -> ActionResult:
        """Ask the product to perform `action`; its answer becomes the `ActionResult` the steps judge."""
        self.calls += 1
        request: dict[str, Any] = {
            "action": action,
            "scenario": self.env.scenario_id,
            "payload": payload,
            "session": self.session,
        }
        if login is not None:
            request["login"] = login
        answer = parse_answer(self.exchange(action, request), f"réponse du candidat à « {action_label(action)} »")
        if answer.session is not None:
            self.session = answer.session
        for number, proof in enumerate(answer.proofs, 1):
            self._store_remote_proof(action, number, proof)
        return answer.result

    # -- the business actions ---------------------------------------------------------------------------
    def connect_mailbox(self, address: str) -> ActionResult:
        login = None
        tokens = self.env.login(address) if self.env.login is not None else None
        if tokens is not None:  # PER/ORG mailboxes only: an APP mailbox opens with its certificate
            login = {
                "address": address,
                "access_token": tokens.access_token,
                "refresh_token": getattr(tokens, "refresh_token", ""),
                "expires_in": getattr(tokens, "expires_in", 0),
            }
        return self.perform(Action.CONNECT_MAILBOX.value, {"address": address}, login=login)

    def send_message(self, message: OutgoingMessage) -> ActionResult:
        return self.perform(Action.SEND_MESSAGE.value, to_jsonable(message))

    def send_document(self, sending: DocumentSending) -> ActionResult:
        return self.perform(Action.SEND_DOCUMENT.value, to_jsonable(sending))

    def attest(self, request: EvidenceRequest) -> ActionResult:
        return self.perform(Action.ATTEST.value, to_jsonable(request))

    def __getattr__(self, name: str) -> Callable[..., ActionResult]:
        """Any other action of the `Action` list: no adapter code needed."""
        if name.startswith("_") or name not in known_actions():
            raise AttributeError(name)

        def call(*args: Any, **kwargs: Any) -> ActionResult:
            return self.perform(name, encode_payload(name, args, kwargs))

        return call

    def close(self) -> None:
        self.session = None

    # -- evidence ---------------------------------------------------------------------------------------
    def add_proof(self, kind: str, filename: str, data: bytes | str, title: str, **options: Any) -> Any:
        if self.env.evidence is None:
            return None
        return self.env.evidence.add_proof(kind, filename, data, title, **options)

    def _store_remote_proof(self, action: str, number: int, proof: dict[str, Any]) -> None:
        title = str(proof.get("title") or f"{proof['kind']} fourni par le candidat ({action_label(action)})")
        if isinstance(proof.get("content_base64"), str):
            try:
                data = base64.b64decode(proof["content_base64"], validate=True)
            except ValueError as exc:
                raise RemoteProtocolError(f"preuve « {title} » : base64 invalide") from exc
            filename = str(proof.get("filename") or f"{action}-{number}")
        else:
            path = Path(proof["path"])
            if not path.is_absolute() and self.env.workdir:
                path = self.env.workdir / path
            if not path.is_file():
                raise RemoteProtocolError(f"preuve « {title} » : fichier introuvable {path}")
            if path.stat().st_size > MAX_PROOF_BYTES:
                raise RemoteProtocolError(f"preuve « {title} » : fichier de plus de {MAX_PROOF_BYTES} octets")
            data = path.read_bytes()
            filename = path.name
        media_type = str(proof.get("media_type") or ("text/plain" if proof["kind"] in ("log", "statement")
                                                      else "application/octet-stream"))
        self.add_proof(proof["kind"], filename, data, title, media_type=media_type)
