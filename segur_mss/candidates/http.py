"""HTTP adapter (`--candidate http:URL`): each business action is a JSON POST to the editor's test endpoint.

- `GET URL/capabilities` → `{"actions": ["connect_mailbox", "send_message", …]}`: the actions it supports;
- `POST URL/<action>` with the request of `remote.py` (plus `"environment"`: the operator's parameters) →
  the answer of `remote.py` (`{"ok": …, "detail": …, "message_ids": […], "data": {…}}`), HTTP 200;
- `POST URL/close` at the end of each scenario (optional: errors are ignored).

Timeouts and bounded retries: `SEGUR_MSS_HTTP_DELAI` seconds per action (default 30), `SEGUR_MSS_HTTP_ESSAIS`
retries (default 2). A business action is not idempotent (a mail sent twice is two mails), so a request is
retried only when it surely did not reach the product: connection refused or not established in time, or an
explicit HTTP 503/429 (with `Retry-After`, capped). Every request carries the same `Idempotency-Key` across its
retries. A read timeout is not retried: the scenario is `error` with the reason. Each exchange is kept as a
`log` proof (secrets redacted). `SEGUR_MSS_HTTP_CA`: a CA bundle for an https endpoint.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from segur_mss.candidates.base import Action, CandidateEnvironment
from segur_mss.candidates.reference import CandidateError
from segur_mss.candidates.remote import CLOSE, RemoteCandidate, action_label, environment_json, known_actions
from segur_mss.redaction import REDACTOR

MAX_ANSWER = 16 * 1024 * 1024
EXCERPT = 16 * 1024
RETRY_STATUSES = (429, 503)
MAX_RETRY_AFTER = 5.0


@dataclass(frozen=True)
class HttpSettings:
    timeout: float = 30.0
    retries: int = 2
    connect_timeout: float = 5.0
    backoff: float = 0.3
    ca_bundle: str | None = None


def http_settings(environ: dict[str, str] | None = None) -> HttpSettings:
    """Settings from the environment; a bad value is a `ValueError` with a French message."""
    environ = dict(os.environ if environ is None else environ)
    settings = HttpSettings()
    raw_timeout = environ.get("SEGUR_MSS_HTTP_DELAI")
    raw_retries = environ.get("SEGUR_MSS_HTTP_ESSAIS")
    timeout, retries = settings.timeout, settings.retries
    if raw_timeout:
        try:
            timeout = float(raw_timeout)
        except ValueError:
            timeout = -1
        if not 0 < timeout <= 3600:
            raise ValueError(f"SEGUR_MSS_HTTP_DELAI : un nombre de secondes entre 0 et 3600 est attendu, pas "
                             f"« {raw_timeout} »")
    if raw_retries:
        if not raw_retries.isdigit() or int(raw_retries) > 10:
            raise ValueError(f"SEGUR_MSS_HTTP_ESSAIS : un nombre entier de 0 à 10 est attendu, pas « {raw_retries} »")
        retries = int(raw_retries)
    return HttpSettings(timeout=timeout, retries=retries, connect_timeout=min(settings.connect_timeout, timeout),
                        ca_bundle=environ.get("SEGUR_MSS_HTTP_CA") or None)


class HttpCandidate(RemoteCandidate):
    """Drives a product through its HTTP test endpoint."""

    def __init__(
        self,
        env: CandidateEnvironment,
        url: str,
        name: str | None = None,
        settings: HttpSettings | None = None,
    ) -> None:
        super().__init__(env, name or f"http:{url}")
        self.url = url.rstrip("/")
        self.settings = settings or http_settings()
        self.client = httpx.Client(
            timeout=httpx.Timeout(self.settings.timeout, connect=self.settings.connect_timeout),
            verify=self.settings.ca_bundle or True,
            headers={"User-Agent": "segur-mss"},
        )
        self._capabilities: frozenset[Action] | None = None
        self._exchanges = 0

    # -- capabilities -------------------------------------------------------------------------------------
    def capabilities(self) -> frozenset[Action]:
        if self._capabilities is None:
            status, body, attempts, problem = self._send("GET", "capabilities", None)
            self._log("capabilities", None, status, body, attempts, problem)
            if problem:
                raise CandidateError(problem)
            try:
                listed = json.loads(body)["actions"]
                assert isinstance(listed, list)
            except (ValueError, KeyError, TypeError, AssertionError) as exc:
                raise CandidateError(
                    f"{self.url}/capabilities doit répondre {{\"actions\": [...]}} ({type(exc).__name__})"
                ) from exc
            self._capabilities = frozenset(Action(a) for a in listed if a in known_actions())
        return self._capabilities

    # -- actions ------------------------------------------------------------------------------------------
    def exchange(self, action: str, request: dict[str, Any]) -> dict[str, Any]:
        body = dict(request, environment=environment_json(self.env))
        status, text, attempts, problem = self._send("POST", action, body)
        self._log(action, request, status, text, attempts, problem)
        if problem:
            raise CandidateError(problem)
        try:
            return json.loads(text)
        except ValueError as exc:
            raise CandidateError(f"la réponse à « {action_label(action)} » n'est pas du JSON valide ({exc})") from exc

    def close(self) -> None:
        try:
            with contextlib.suppress(httpx.HTTPError):  # optional; the scenario's verdict is already known
                self.client.post(f"{self.url}/{CLOSE}", json={"action": CLOSE, "scenario": self.env.scenario_id,
                                                             "payload": {}, "session": self.session},
                                 timeout=min(2.0, self.settings.timeout))
        finally:
            self.client.close()
            super().close()

    # -- transport ----------------------------------------------------------------------------------------
    def _send(self, method: str, path: str, body: dict[str, Any] | None) -> tuple[int | None, str, list[str], str]:
        """(status, text, attempts, problem): `problem` is the French reason when the exchange failed."""
        url = f"{self.url}/{path}"
        label = action_label(path) if path != "capabilities" else "capacités"
        key = str(uuid.uuid4())
        attempts: list[str] = []
        retry_after: str | None = None
        for attempt in range(self.settings.retries + 1):
            if attempt:
                time.sleep(self._delay(attempt, retry_after))
                retry_after = None
            started = time.monotonic()
            try:
                with self.client.stream(method, url, json=body, headers={
                    "Idempotency-Key": key, "X-Segur-Mss-Scenario": self.env.scenario_id,
                }) as response:
                    text, too_big = _read_capped(response)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                attempts.append(f"essai {attempt + 1} : connexion impossible ({type(exc).__name__} : {exc})")
                continue
            except httpx.TimeoutException as exc:
                attempts.append(f"essai {attempt + 1} : délai dépassé après {time.monotonic() - started:.1f} s")
                return None, "", attempts, (f"« {label} » : le point d'accès {url} n'a pas répondu dans le délai de "
                                            f"{self.settings.timeout:g} s ({type(exc).__name__}) ; non renvoyé, "
                                            "l'action a pu être exécutée")
            except httpx.HTTPError as exc:
                attempts.append(f"essai {attempt + 1} : erreur HTTP ({type(exc).__name__} : {exc})")
                return None, "", attempts, f"« {label} » : échange HTTP avec {url} impossible ({exc})"
            status = response.status_code
            attempts.append(f"essai {attempt + 1} : HTTP {status} en {time.monotonic() - started:.2f} s")
            if too_big:
                return status, text, attempts, f"« {label} » : réponse de plus de {MAX_ANSWER} octets"
            if status in RETRY_STATUSES:
                attempts[-1] += f" (Retry-After : {response.headers.get('Retry-After', '—')})"
                retry_after = response.headers.get("Retry-After")
                continue
            if status != 200:
                excerpt = _readable(text)[:300].strip()
                return status, text, attempts, (f"« {label} » : le point d'accès {url} a répondu HTTP {status}"
                                                + (f" : {excerpt}" if excerpt else ""))
            return status, text, attempts, ""
        return None, "", attempts, (f"« {label} » : point d'accès {url} injoignable après "
                                    f"{self.settings.retries + 1} essai(s) ; {attempts[-1] if attempts else ''}")

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        """Exponential backoff, or the product's Retry-After (in seconds, capped) when it gave one."""
        delay = self.settings.backoff * (2 ** (attempt - 1))
        if retry_after and retry_after.strip().isdigit():
            delay = max(delay, min(float(retry_after), MAX_RETRY_AFTER))
        return delay

    def _log(self, action: str, request: dict[str, Any] | None, status: int | None, text: str,
             attempts: list[str], problem: str) -> None:
        self._exchanges += 1
        excerpt = text if len(text) <= 2 * EXCERPT else (
            text[:EXCERPT] + f"\n[… {len(text) - 2 * EXCERPT} caractères omis …]\n" + text[-EXCERPT:])
        lines = [
            f"action : {action} ({action_label(action)})",
            f"scénario : {self.env.scenario_id}",
            f"requête : {'GET' if request is None else 'POST'} {self.url}/{action}",
            f"délai : {self.settings.timeout:g} s ; essais : {self.settings.retries + 1} au plus",
            *attempts,
            f"résultat : {problem or f'HTTP {status}, réponse lue'}",
            "",
            "--- requête (JSON) ---",
            json.dumps(request, ensure_ascii=False, indent=2) if request is not None else "(aucune)",
            "",
            "--- réponse ---",
            excerpt or "(vide)",
        ]
        label = action_label(action) if action != "capabilities" else "capacités"
        self.add_proof("log", f"http-{self._exchanges:02d}-{action}.log", REDACTOR.text("\n".join(lines)),
                       f"échange HTTP avec le candidat : {label}")


def _readable(text: str) -> str:
    """A JSON error body shown with its accents (not as \\u escapes)."""
    try:
        return json.dumps(json.loads(text), ensure_ascii=False)
    except ValueError:
        return text


def _read_capped(response: httpx.Response) -> tuple[str, bool]:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_ANSWER:
            return b"".join(chunks)[:EXCERPT].decode("utf-8", "replace"), True
        chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace"), False
