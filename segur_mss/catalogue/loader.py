"""Loading and checking the catalogue file; errors name the file, the place and the rule."""

from __future__ import annotations

import hashlib
import os
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from segur_mss.catalogue.model import MODES, PROVENANCES, Catalogue, Requirement

#: libyaml's loader when present (the pure-Python one takes ~0.1 s for the catalogue)
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
CATALOGUE_FILE = "requirements.yaml"
#: Official wording imported from an ANS REM workbook (`segur-mss catalogue --import-rem`). It is the user's data
#: (the REM is not redistributable): it lives outside the package so that upgrades keep it, at `$SEGUR_MSS_REM`
#: when set, else `$XDG_CONFIG_HOME/segur-mss/rem_officiel.yaml` (`~/.config/segur-mss/rem_officiel.yaml`).
OFFICIAL_OVERLAY = "rem_officiel.yaml"
REM_ENV = "SEGUR_MSS_REM"


def official_overlay_path() -> Path:
    """Where the official REM overlay is read from and written to."""
    explicit = os.environ.get(REM_ENV)
    if explicit:
        return Path(explicit).expanduser()
    config_home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config_home) / "segur-mss" / OFFICIAL_OVERLAY


class CatalogueError(Exception):
    """A catalogue file that breaks a rule: names the file, the place and the rule (French)."""

    def __init__(self, path: str, place: str, rule: str) -> None:
        super().__init__(f"{path} : {place} : {rule}")
        self.path, self.place, self.rule = path, place, rule


def default_path() -> Path:
    return Path(str(resources.files("segur_mss.catalogue").joinpath(CATALOGUE_FILE)))


def load_catalogue(path: Path | None = None, overlay: Path | None = None) -> Catalogue:
    """Load the catalogue; official wording from the REM overlay replaces the summaries when present."""
    path = path or default_path()
    raw_text = path.read_text(encoding="utf-8")
    try:
        raw = yaml.load(raw_text, Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f"ligne {mark.line + 1}, colonne {mark.column + 1}" if mark else "fichier"
        raise CatalogueError(str(path), place, f"YAML illisible ({getattr(exc, 'problem', exc)})") from exc
    if not isinstance(raw, dict) or "requirements" not in raw:
        raise CatalogueError(str(path), "racine", "la clé « requirements » est obligatoire")
    profiles = dict(raw.get("profils") or {})
    groups = dict(raw.get("groupes") or {})
    catalogue = Catalogue(
        version=str(raw.get("version", "?")),
        digest=hashlib.sha256(raw_text.encode()).hexdigest()[:12],
        profiles=profiles,
        groups=groups,
        source=str(path),
    )
    for index, item in enumerate(raw["requirements"]):
        req = _requirement(str(path), index, item, profiles, groups)
        if req.id in catalogue.requirements:
            raise CatalogueError(str(path), f"exigence {req.id}", "identifiant en double")
        catalogue.requirements[req.id] = req
    overlay = overlay if overlay is not None else official_overlay_path()
    if overlay.is_file():
        apply_official_overlay(catalogue, overlay)
    return catalogue


def _requirement(path: str, index: int, item: Any, profiles: dict[str, str], groups: dict[str, str]) -> Requirement:
    place = f"requirements[{index}]"
    if not isinstance(item, dict):
        raise CatalogueError(path, place, "chaque exigence est un dictionnaire")
    for key in ("id", "groupe", "titre", "resume", "provenance", "profils"):
        if not item.get(key):
            raise CatalogueError(path, f"{place} ({item.get('id', '?')})", f"le champ « {key} » est obligatoire")
    place = f"exigence {item['id']}"
    if item["provenance"] not in PROVENANCES:
        raise CatalogueError(path, place, f"provenance « {item['provenance']} » inconnue ({', '.join(PROVENANCES)})")
    if item["groupe"] not in groups:
        raise CatalogueError(path, place, f"groupe « {item['groupe']} » absent de la liste des groupes")
    for mode in item.get("modes") or []:
        if mode not in MODES:
            raise CatalogueError(path, place, f"mode « {mode} » inconnu ({', '.join(MODES)})")
    for profile in item["profils"]:
        if profile not in profiles:
            raise CatalogueError(path, place, f"profil « {profile} » absent de la liste des profils")
    return Requirement(
        id=item["id"],
        ref2=item.get("ref2"),
        groupe=item["groupe"],
        titre=item["titre"],
        resume=item["resume"],
        provenance=item["provenance"],
        source=item.get("source", ""),
        modes=tuple(item.get("modes") or ()),
        profils=tuple(item["profils"]),
        not_tested_reason=item.get("not_tested_reason"),
    )


def apply_official_overlay(catalogue: Catalogue, overlay: Path) -> None:
    """Replace summaries by the official wording recorded by a REM import."""
    raw_text = overlay.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(raw_text) or {}
    except yaml.YAMLError as exc:
        raise CatalogueError(str(overlay), "fichier", f"REM officiel importé illisible ({exc}) : réimportez-le"
                             ) from exc
    if not isinstance(data, dict):
        raise CatalogueError(str(overlay), "racine", "le REM officiel importé doit être un dictionnaire")
    catalogue.digest = f"{catalogue.digest}+rem-{hashlib.sha256(raw_text.encode()).hexdigest()[:8]}"
    for req_id, entry in (data.get("requirements") or {}).items():
        if req_id in catalogue.requirements:
            catalogue.requirements[req_id] = catalogue.requirements[req_id].with_official_text(
                entry.get("exigence", ""), entry.get("titre")
            )
