"""Answers prepared ahead of a manual session (`--answers FICHIER` or `SEGUR_MSS_ANSWERS`), YAML or TOML.

A person prepares, per scenario, the files (screenshot, video, export) and the statement the scenario will ask
for, so the session goes without typing::

    # réponses.yaml
    scenarios:
      SC.MSS/CONF.16.01:
        declaration: "Le logiciel affiche la référence SEGUR-MSS-REF-0001 dans « À propos »."
        fichiers:
          - chemin: captures/a-propos.png     # relatif au fichier de réponses
            type: screenshot                  # screenshot | video | export
            titre: "Écran « À propos »"       # facultatif
        demandes:                             # facultatif : réponses propres à une demande (sa clé)
          export-traces:
            fichiers: [{chemin: exports/traces.csv, type: export}]

The same in TOML: `[scenarios."SC.MSS/CONF.16.01"]`, `declaration = "…"`,
`[[scenarios."SC.MSS/CONF.16.01".fichiers]]`, `chemin = "…"`, `type = "screenshot"`.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ANSWERS_ENV = "SEGUR_MSS_ANSWERS"
FILE_KINDS = ("screenshot", "video", "export")


class AnswersError(ValueError):
    """The answers file is not usable: names the file, the place and the rule (in French)."""

    def __init__(self, path: Path | str, place: str, rule: str) -> None:
        super().__init__(f"{path} : {place} : {rule}")


@dataclass(frozen=True)
class PreparedFile:
    path: Path
    kind: str
    title: str = ""


@dataclass(frozen=True)
class PreparedAnswer:
    files: tuple[PreparedFile, ...] = ()
    statement: str = ""


@dataclass
class Answers:
    source: Path | None = None
    #: scenario id → request key ("" for the scenario's default answer) → answer
    scenarios: dict[str, dict[str, PreparedAnswer]] = field(default_factory=dict)

    def for_request(self, scenario_id: str, key: str) -> PreparedAnswer | None:
        entries = self.scenarios.get(scenario_id) or {}
        return entries.get(key) or entries.get("")


def load_answers(path: Path | str) -> Answers:
    """Read and check an answers file (every prepared file must exist)."""
    path = Path(path).expanduser().resolve()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise AnswersError(path, "fichier", "fichier introuvable") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise AnswersError(path, "fichier", f"fichier illisible ({exc})") from exc
    try:
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise AnswersError(path, "fichier", f"syntaxe {'TOML' if path.suffix == '.toml' else 'YAML'} invalide "
                                            f"({' '.join(str(exc).split())})") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict) or set(data) - {"scenarios"}:
        raise AnswersError(path, "racine", "une seule clé « scenarios » (une table par numéro de scénario) est "
                                           "attendue")
    scenarios = data.get("scenarios") or {}
    if not isinstance(scenarios, dict):
        raise AnswersError(path, "scenarios", "une table par numéro de scénario est attendue")
    from segur_mss.catalogue import load_catalogue

    catalogue = load_catalogue()
    answers = Answers(source=path)
    for scenario_id, entry in scenarios.items():
        place = f"scenarios.{scenario_id}"
        if not catalogue.requirement_of_scenario(str(scenario_id)):
            raise AnswersError(path, place, "numéro de scénario inconnu (forme attendue : SC.MSS/CONF.16.01)")
        if not isinstance(entry, dict):
            raise AnswersError(path, place, "une table (declaration, fichiers, demandes) est attendue")
        prepared = {"": _answer(path, place, entry, allow_requests=True)}
        requests = entry.get("demandes") or {}
        if not isinstance(requests, dict):
            raise AnswersError(path, f"{place}.demandes", "une table par clé de demande est attendue")
        for key, sub in requests.items():
            if not isinstance(sub, dict):
                raise AnswersError(path, f"{place}.demandes.{key}", "une table (declaration, fichiers) est attendue")
            prepared[str(key)] = _answer(path, f"{place}.demandes.{key}", sub, allow_requests=False)
        answers.scenarios[str(scenario_id)] = prepared
    return answers


def _answer(path: Path, place: str, entry: dict[str, Any], allow_requests: bool) -> PreparedAnswer:
    allowed = {"declaration", "fichiers"} | ({"demandes"} if allow_requests else set())
    for key in entry:
        if key not in allowed:
            raise AnswersError(path, f"{place}.{key}", f"clé inconnue ; clés possibles : {', '.join(sorted(allowed))}")
    statement = entry.get("declaration", "")
    if not isinstance(statement, str):
        raise AnswersError(path, f"{place}.declaration", "une chaîne est attendue")
    files_raw = entry.get("fichiers") or []
    if not isinstance(files_raw, list):
        raise AnswersError(path, f"{place}.fichiers", "une liste de fichiers (chemin, type, titre) est attendue")
    files = []
    for number, item in enumerate(files_raw, 1):
        where = f"{place}.fichiers[{number}]"
        if not isinstance(item, dict) or not isinstance(item.get("chemin"), str):
            raise AnswersError(path, where, "une table avec « chemin » (et « type », « titre ») est attendue")
        kind = item.get("type", "screenshot")
        if kind not in FILE_KINDS:
            raise AnswersError(path, f"{where}.type", f"type inconnu « {kind} » ; choix : {', '.join(FILE_KINDS)}")
        file_path = (path.parent / item["chemin"]).resolve()
        if not file_path.is_file():
            raise AnswersError(path, f"{where}.chemin", f"fichier introuvable : {file_path}")
        files.append(PreparedFile(file_path, kind, str(item.get("titre", ""))))
    return PreparedAnswer(tuple(files), statement.strip())


def answers_from_environment() -> Answers:
    """The answers named by SEGUR_MSS_ANSWERS (none when unset)."""
    value = os.environ.get(ANSWERS_ENV)
    return load_answers(value) if value else Answers()
