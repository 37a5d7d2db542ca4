"""Deterministic fault profiles of the reference operator's mail servers (IMAP and SMTP submission).

A scenario selects a profile through the operator (`operator.faults.set(...)`, or `with operator.faults.apply(...)`):
drop the connection after N commands, close it politely (IMAP `BYE` / SMTP `421`) after N commands, refuse every
authentication, slow every response down, fail the delivery to some recipients. Nothing is random: the same
profile and the same client exchange give the same transcript. The profile in force when a connection opens is
the one that connection meets (a `connections` budget limits how many connections it hits). Every fault that
fires is written as a `faute` event in the connection's transcript.

TLS faults (protocol versions, ciphers, certificates) and token revocation live elsewhere.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

SERVICES = ("imap", "smtp")


@dataclass(frozen=True)
class FaultProfile:
    """What goes wrong, and where."""

    name: str = "personnalise"
    #: services the profile applies to (`imap`, `smtp`)
    services: frozenset[str] = frozenset(SERVICES)
    #: close the connection without a word when the client sends its command number N+1 (0: at once, no greeting)
    drop_after_commands: int | None = None
    #: IMAP `* BYE` / SMTP `421` then close, when the client sends command N+1 (0: instead of the greeting)
    bye_after_commands: int | None = None
    #: every authentication attempt fails, whatever the credentials
    refuse_auth: bool = False
    #: seconds added before every server response (slow link)
    delay: float = 0.0
    #: recipients whose delivery fails (a DSN reports it); `*` fails every delivery
    fail_delivery_to: frozenset[str] = frozenset()
    #: number of connections the profile hits before it stops firing (None: every connection)
    connections: int | None = None

    def __post_init__(self) -> None:
        unknown = set(self.services) - set(SERVICES)
        if unknown:
            raise ValueError(f"service inconnu dans le profil de panne : {sorted(unknown)}")
        for name in ("drop_after_commands", "bye_after_commands", "connections"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} doit être positif ou nul")
        if self.delay < 0 or self.delay > 60:
            raise ValueError("delay doit être compris entre 0 et 60 secondes")

    def fails_delivery(self, address: str) -> bool:
        return "*" in self.fail_delivery_to or address.lower() in self.fail_delivery_to

    def describe(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["services"] = sorted(self.services)
        data["fail_delivery_to"] = sorted(self.fail_delivery_to)
        return data


#: Named profiles a scenario can select by name (parameters can be overridden).
NAMED_PROFILES: dict[str, FaultProfile] = {
    "aucune": FaultProfile("aucune"),
    "coupure": FaultProfile("coupure", drop_after_commands=3),
    "fermeture": FaultProfile("fermeture", bye_after_commands=3),
    "refus-authentification": FaultProfile("refus-authentification", refuse_auth=True),
    "lien-lent": FaultProfile("lien-lent", delay=0.2),
    "echec-remise": FaultProfile("echec-remise", fail_delivery_to=frozenset({"*"})),
}


class ConnectionFaults:
    """The faults one connection meets, with its own command counter."""

    def __init__(self, controller: FaultController, profile: FaultProfile, service: str) -> None:
        self.controller = controller
        self.profile = profile
        self.service = service
        self.commands = 0

    def opened(self, transcript: Any) -> None:
        """Note the faults that act on every exchange (slow link) when the connection opens."""
        if self.profile.delay:
            self.record(transcript, "slow", f"panne simulée : lien lent, {self.profile.delay} s avant chaque réponse")

    def command(self) -> str | None:
        """Count one client command; returns `drop` or `bye` when the connection must end now."""
        self.commands += 1
        return self._verdict(self.commands - 1)

    def at_greeting(self) -> str | None:
        return self._verdict(0) if self.commands == 0 else None

    def _verdict(self, served: int) -> str | None:
        profile = self.profile
        if profile.drop_after_commands is not None and served >= profile.drop_after_commands:
            return "drop"
        if profile.bye_after_commands is not None and served >= profile.bye_after_commands:
            return "bye"
        return None

    def record(self, transcript: Any, what: str, text: str) -> None:
        """Write the fault in the connection's transcript and in the controller's history."""
        connection = getattr(transcript, "id", "")
        if transcript is not None:
            transcript.event("faute", text, fault=what, profile=self.profile.name)
        self.controller.fired(self.profile, self.service, connection, what)

    @property
    def refuse_auth(self) -> bool:
        return self.profile.refuse_auth

    @property
    def delay(self) -> float:
        return self.profile.delay


class FaultController:
    """The operator's switchboard of fault profiles (thread-safe: the campaign sets, the servers read)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._profile: FaultProfile | None = None
        self._hits = 0
        self.history: list[dict[str, Any]] = []  # every fault that fired: service, connection, what

    # -- campaign side ----------------------------------------------------------------------------------
    def set(self, profile: FaultProfile | str | None = None, **overrides: Any) -> FaultProfile | None:
        """Select a profile (an object, a name from NAMED_PROFILES, or fields given as keywords).

        `None` without keywords clears the faults. Returns the active profile.
        """
        if profile is None and not overrides:
            self.clear()
            return None
        if isinstance(profile, str):
            try:
                base = NAMED_PROFILES[profile]
            except KeyError:
                raise ValueError(f"profil de panne inconnu : {profile!r} (connus : {sorted(NAMED_PROFILES)})") from None
        else:
            base = profile or FaultProfile()
        for key in ("services", "fail_delivery_to"):
            if key in overrides and not isinstance(overrides[key], frozenset):
                value = overrides[key]
                overrides[key] = frozenset([value] if isinstance(value, str) else value)
        if "fail_delivery_to" in overrides:
            overrides["fail_delivery_to"] = frozenset(a.lower() for a in overrides["fail_delivery_to"])
        chosen = dataclasses.replace(base, **overrides)
        with self._lock:
            self._profile = chosen
            self._hits = 0
        return chosen

    def clear(self) -> None:
        with self._lock:
            self._profile = None
            self._hits = 0

    @contextlib.contextmanager
    def apply(self, profile: FaultProfile | str | None = None, **overrides: Any) -> Iterator[FaultProfile | None]:
        """`with operator.faults.apply("coupure", drop_after_commands=2): ...` (restores the previous profile)."""
        with self._lock:
            previous, hits = self._profile, self._hits
        try:
            yield self.set(profile, **overrides)
        finally:
            with self._lock:
                self._profile, self._hits = previous, hits

    @property
    def current(self) -> FaultProfile | None:
        with self._lock:
            return self._profile

    # -- server side ------------------------------------------------------------------------------------
    def for_connection(self, service: str) -> ConnectionFaults | None:
        """The faults a new connection of `service` meets (claims one connection of the profile's budget)."""
        with self._lock:
            profile = self._profile
            if profile is None or service not in profile.services or not self._has_connection_faults(profile):
                return None
            if profile.connections is not None:
                if self._hits >= profile.connections:
                    return None
                self._hits += 1
        return ConnectionFaults(self, profile, service)

    def delivery_failure(self, address: str) -> FaultProfile | None:
        profile = self.current
        if profile is not None and profile.fails_delivery(address):
            return profile
        return None

    def fired(self, profile: FaultProfile, service: str, connection: str, what: str) -> None:
        with self._lock:
            self.history.append({"service": service, "connection": connection, "faute": what, "profil": profile.name})

    @staticmethod
    def _has_connection_faults(profile: FaultProfile) -> bool:
        return (
            profile.drop_after_commands is not None
            or profile.bye_after_commands is not None
            or profile.refuse_auth
            or profile.delay > 0
        )
