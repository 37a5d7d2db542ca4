"""The requirement catalogue as data: requirements, profiles, feature groups, provenance."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

PROVENANCES = ("officiel", "secondaire", "regroupement", "inconnu")
MODES = ("automatique", "observé", "attesté")
PROVENANCE_LABELS = {
    "officiel": "texte officiel ANS",
    "secondaire": "résumé d'une source secondaire (non officiel)",
    "regroupement": "seul le regroupement fonctionnel ANS est connu (texte non public)",
    "inconnu": "texte inconnu (aucune source publique)",
}

SCENARIO_SUFFIX = re.compile(r"^(?P<req>.+)\.(?P<num>\d{2})$")


@dataclass(frozen=True)
class Requirement:
    id: str
    ref2: str | None
    groupe: str
    titre: str
    resume: str
    provenance: str
    source: str
    modes: tuple[str, ...]
    profils: tuple[str, ...]
    not_tested_reason: str | None = None
    official_text: str | None = None  # filled by the REM import

    def applies_to(self, profile: str | None) -> bool:
        return profile is None or profile in self.profils

    @property
    def provenance_label(self) -> str:
        return PROVENANCE_LABELS[self.provenance]

    @property
    def folder(self) -> str:
        """A file-system-safe name (the IDs contain a slash)."""
        return self.id.replace("/", "_")

    def with_official_text(self, text: str, title: str | None = None) -> Requirement:
        return replace(self, official_text=text, titre=title or self.titre, provenance="officiel")


@dataclass
class Catalogue:
    version: str
    digest: str
    profiles: dict[str, str]
    groups: dict[str, str]
    requirements: dict[str, Requirement] = field(default_factory=dict)
    source: str = ""

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.requirements.values())

    def __len__(self) -> int:
        return len(self.requirements)

    def __contains__(self, requirement_id: object) -> bool:
        return requirement_id in self.requirements

    def get(self, requirement_id: str) -> Requirement:
        return self.requirements[requirement_id]

    def requirement_of_scenario(self, scenario_id: str) -> str | None:
        """`SC.MSS/CONF.16.01` -> `SC.MSS/CONF.16` when that requirement exists."""
        match = SCENARIO_SUFFIX.match(scenario_id)
        if match and match.group("req") in self.requirements:
            return match.group("req")
        return None
