"""The generic protocol of the remote adapters: an action name and a JSON payload, whatever the action."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from segur_mss.candidates.base import Action, ActionResult, DocumentSending, OutgoingMessage
from segur_mss.candidates.reference import ReferenceCandidate
from segur_mss.candidates.remote import (
    RemoteCandidate,
    RemoteProtocolError,
    decode_call,
    dispatch,
    encode_payload,
    environment_from_json,
    environment_json,
    parse_answer,
)

from .conftest import make_env


@dataclass(frozen=True)
class FutureCriteria:
    """An action argument that no adapter knows about."""

    names: tuple[str, ...]
    since: str = ""


class Recorder(RemoteCandidate):
    """A remote candidate that answers every request itself and keeps them."""

    def __init__(self, env) -> None:  # type: ignore[no-untyped-def]
        super().__init__(env, "enregistreur")
        self.requests: list[dict] = []

    def capabilities(self) -> frozenset[Action]:
        return frozenset(Action)

    def exchange(self, action: str, request: dict) -> dict:
        self.requests.append(json.loads(json.dumps(request)))  # must be JSON
        return {"ok": True, "session": {"n": len(self.requests)}}


def test_payloads_follow_the_method_signatures(tmp_path: Path) -> None:
    assert encode_payload("connect_mailbox", ("a@x",), {}) == {"address": "a@x"}
    sending = DocumentSending(to=("a@x",), patient="qualifie", doc_types=("CR-BIO", "LDL-SES"))
    assert encode_payload("send_document", (sending,), {}) == {
        "to": ["a@x"], "patient": "qualifie", "doc_types": ["CR-BIO", "LDL-SES"], "to_patient": False,
        "end_of_exchange": False, "read_receipt": False,
    }
    assert encode_payload("fetch_new_mail", (), {}) == {}
    assert encode_payload("search_directory", (FutureCriteria(("DURAND",)),), {}) == {"names": ["DURAND"],
                                                                                     "since": ""}


def test_new_actions_need_no_adapter_code(tmp_path: Path) -> None:
    env, _ = make_env(tmp_path)
    candidate = Recorder(env)
    candidate.search_directory(FutureCriteria(("DURAND",), "2025"))  # type: ignore[attr-defined]
    candidate.fetch_new_mail()  # type: ignore[attr-defined]
    assert [r["action"] for r in candidate.requests] == ["search_directory", "fetch_new_mail"]
    assert candidate.requests[0]["payload"] == {"names": ["DURAND"], "since": "2025"}
    assert candidate.requests[1]["session"] == {"n": 1}  # the product's session is handed back
    with pytest.raises(AttributeError):
        candidate.not_an_action  # noqa: B018


def test_product_side_decodes_what_the_harness_encodes() -> None:
    class Product:
        def send_message(self, message: OutgoingMessage) -> ActionResult:
            return ActionResult(True, data={"message": message})

        def search_directory(self, criteria: FutureCriteria, limit: int = 10) -> ActionResult:
            return ActionResult(True)

    message = OutgoingMessage(to=("a@x", "b@x"), subject="s", body="b", read_receipt=True)
    args, kwargs = decode_call(Product().send_message, encode_payload("send_message", (message,), {}))
    assert args == [message] and not kwargs
    args, kwargs = decode_call(Product().search_directory, {"criteria": {"names": ["X"]}, "limit": 3})
    assert kwargs == {"criteria": FutureCriteria(("X",)), "limit": 3}
    with pytest.raises(RemoteProtocolError, match="criteria"):
        decode_call(Product().search_directory, {})


def test_dispatch_refuses_unknown_and_unsupported_actions(tmp_path: Path) -> None:
    env, _ = make_env(tmp_path)
    reference = ReferenceCandidate(env)
    with pytest.raises(RemoteProtocolError, match="action inconnue"):
        dispatch(reference, "rm_rf", {})
    with pytest.raises(RemoteProtocolError, match="ne sait pas"):
        dispatch(reference, "attest", {"key": "k", "instruction": "i"})


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ([], "un objet JSON est attendu"),
        ({"detail": "x"}, "la clé « ok »"),
        ({"ok": True, "message_ids": "<1@x>"}, "message_ids"),
        ({"ok": True, "data": []}, "« data » doit être un objet"),
        ({"ok": True, "proofs": [{"kind": "photo", "path": "x"}]}, "type de preuve « photo » inconnu"),
        ({"ok": True, "proofs": [{"kind": "export"}]}, "« path » (fichier) ou « content_base64 »"),
    ],
)
def test_answers_are_checked(answer: object, message: str) -> None:
    with pytest.raises(RemoteProtocolError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_answer(answer, "réponse")


def test_environment_round_trip(tmp_path: Path) -> None:
    env, _ = make_env(tmp_path)
    data = json.loads(json.dumps(environment_json(env)))
    assert data["smtp"] == {"host": "127.0.0.1", "port": 2525, "tls": "starttls"}
    again = environment_from_json(data, {"address": "a@x", "access_token": "t" * 12})
    assert (again.smtp_host, again.smtp_port, again.ca_bundle, again.product_reference) == (
        env.smtp_host, env.smtp_port, env.ca_bundle, env.product_reference)
    assert again.login is not None and again.login("A@x").access_token == "t" * 12
