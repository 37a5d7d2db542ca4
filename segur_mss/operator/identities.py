"""The operator's synthetic population: professionals (PSC identities) and their MSSanté mailboxes."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml


@dataclass(frozen=True)
class Professional:
    rpps: str
    family: str
    given: str
    profession: str
    profession_code: str
    specialty: str
    place: str
    login_hint: str

    @property
    def display_name(self) -> str:
        return f"{self.given} {self.family}"


@dataclass(frozen=True)
class Mailbox:
    address: str
    type: str  # PER | ORG | APP | PATIENT
    owner: str | None = None  # RPPS of the owner (PER/ORG)
    members: tuple[str, ...] = ()
    organisation: str | None = None  # APP
    role: str = ""

    def granted_to(self, rpps: str) -> bool:
        """Whether the professional may open this mailbox with a PSC token."""
        if self.type == "PER":
            return self.owner == rpps
        if self.type == "ORG":
            return rpps == self.owner or rpps in self.members
        return False


@dataclass
class Population:
    domain: str
    patient_domain: str
    professionals: dict[str, Professional]
    mailboxes: dict[str, Mailbox] = field(default_factory=dict)

    def mailbox(self, address: str) -> Mailbox | None:
        return self.mailboxes.get(address.lower())

    def by_role(self, role: str) -> Mailbox:
        for box in self.mailboxes.values():
            if box.role == role:
                return box
        raise KeyError(role)

    def patient_mailbox(self, ins: str) -> Mailbox:
        """Patient mailboxes exist for every INS: `<INS>@patient.mssante.fr` (Mon Espace Santé)."""
        address = f"{ins}@{self.patient_domain}".lower()
        box = self.mailboxes.get(address)
        if box is None:
            box = Mailbox(address=address, type="PATIENT", role="patient")
            self.mailboxes[address] = box
        return box

    def is_patient_address(self, address: str) -> bool:
        return address.lower().endswith("@" + self.patient_domain)


def load_population() -> Population:
    raw: dict[str, Any] = yaml.safe_load(
        resources.files("segur_mss.operator").joinpath("identities.yaml").read_text(encoding="utf-8")
    )
    pros = {p["rpps"]: Professional(**p) for p in raw["professionals"]}
    boxes = {}
    for b in raw["mailboxes"]:
        b = dict(b)
        b["members"] = tuple(b.get("members", ()))
        boxes[b["address"].lower()] = Mailbox(**b)
    return Population(raw["domain"], raw["patient_domain"], pros, boxes)
