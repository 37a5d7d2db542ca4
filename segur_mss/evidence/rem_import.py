"""Import of the official ANS requirement workbook (REM) into an overlay the catalogue loader applies.

`segur-mss catalogue --import-rem FICHIER.xlsx` reads the sheet « Exigences » (columns Périmètre, ID, Chapitre,
Fonction, Exigence, Commentaire, Profil, N° scénario, Scénario de conformité, N° preuve, Preuve, Profil historique,
Criticité, Ordre), one row per proof, and writes the official wording per requirement to the overlay file
(`segur_mss.catalogue.loader.official_overlay_path()`: `$SEGUR_MSS_REM`, else
`~/.config/segur-mss/rem_officiel.yaml`). The loader then shows that text with the provenance `officiel`.

Bad input never raises a traceback at the user: `RemImportError` names the file, the place and the rule.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from segur_mss.catalogue import Catalogue, load_catalogue
from segur_mss.catalogue.loader import official_overlay_path
from segur_mss.evidence.store import atomic_write, now_iso

SHEET = "Exigences"
ANS_COLUMNS = (
    "Périmètre", "ID", "Chapitre", "Fonction", "Exigence", "Commentaire", "Profil", "N° scénario",
    "Scénario de conformité", "N° preuve", "Preuve", "Profil historique", "Criticité", "Ordre",
)
REQUIRED_COLUMNS = ("ID", "Exigence")
#: Overlay keys of the per-requirement columns.
FIELD_KEYS = {
    "Périmètre": "perimetre", "Chapitre": "chapitre", "Fonction": "fonction", "Exigence": "exigence",
    "Commentaire": "commentaire", "Profil": "profil", "Profil historique": "profil_historique",
    "Criticité": "criticite", "Ordre": "ordre",
}
ID_RULE = re.compile(r"^[A-Z]{2,}\.[A-Z0-9]+/[A-Z0-9]+(?:[.-][A-Z0-9]+)*$")
ID_EXAMPLE = "SC.<DOMAINE>/<FAMILLE>.<NN>, ex. SC.MSS/CONF.16"
MSS_PREFIX = "SC.MSS/"
HEADER_SEARCH_ROWS = 30


class RemImportError(Exception):
    """A REM workbook that cannot be imported: names the file, the place and the rule (French)."""

    def __init__(self, path: Path | str, place: str, rule: str) -> None:
        super().__init__(f"{path} : {place} : {rule}")
        self.path, self.place, self.rule = str(path), place, rule


@dataclass
class RemImport:
    """What an import found."""

    source: Path
    overlay: dict[str, Any]
    imported: list[str] = field(default_factory=list)  # catalogue IDs now carrying the official text
    unknown: list[str] = field(default_factory=list)  # SC.MSS IDs of the REM the catalogue does not know
    outside: list[str] = field(default_factory=list)  # IDs of other domains (SC.DMP/…): not MSSanté, ignored
    missing: list[str] = field(default_factory=list)  # catalogue IDs the REM lacks
    warnings: list[str] = field(default_factory=list)
    target: Path | None = None


def _norm(text: Any) -> str:
    """Header comparison: no accents, no case, `N°`/`No`/`Numéro` alike, single spaces."""
    value = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode().lower()
    value = value.replace("°", " ").replace("º", " ")
    value = re.sub(r"[^a-z0-9]+", " ", value).strip()
    value = re.sub(r"^(numero|num|no|n)\b", "n", value)
    return value


_COLUMN_KEYS = {_norm(name): name for name in ANS_COLUMNS}
_COLUMN_KEYS.update({_norm("Identifiant"): "ID", _norm("Libellé de l'exigence"): "Exigence",
                     _norm("Scénario"): "Scénario de conformité"})


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def read_rem(path: Path, catalogue: Catalogue | None = None) -> RemImport:
    """Read an ANS REM workbook; raises RemImportError on anything that breaks the format."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    path = Path(path)
    catalogue = catalogue or load_catalogue()
    if not path.exists():
        raise RemImportError(path, "fichier", "fichier introuvable")
    if not path.is_file():
        raise RemImportError(path, "fichier", "ce chemin n'est pas un fichier")
    if path.suffix.lower() == ".xls":
        raise RemImportError(path, "fichier", "format Excel 97-2003 (.xls) non pris en charge : enregistrez le "
                             "classeur au format .xlsx")
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, TypeError) as exc:
        raise RemImportError(path, "fichier", f"classeur Excel .xlsx illisible ({type(exc).__name__})") from exc
    try:
        if SHEET not in workbook.sheetnames:
            raise RemImportError(path, f"feuille « {SHEET} »", "feuille absente ; feuilles présentes : "
                                 + (", ".join(f"« {n} »" for n in workbook.sheetnames) or "aucune"))
        rows = [tuple(row) for row in workbook[SHEET].iter_rows(values_only=True)]
    finally:
        workbook.close()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return _parse_rows(path, rows, catalogue, digest)


def _find_header(path: Path, rows: list[tuple[Any, ...]]) -> tuple[int, dict[str, int]]:
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        columns: dict[str, int] = {}
        for position, value in enumerate(row):
            name = _COLUMN_KEYS.get(_norm(value))
            if name and name not in columns:
                columns[name] = position
        if "ID" in columns and ("Exigence" in columns or len(columns) >= 3):
            missing = [c for c in REQUIRED_COLUMNS if c not in columns]
            if missing:
                raise RemImportError(path, f"feuille « {SHEET} », ligne {index + 1}",
                                     "colonne(s) obligatoire(s) absente(s) : " + ", ".join(missing))
            return index, columns
    raise RemImportError(path, f"feuille « {SHEET} », lignes 1 à {min(len(rows), HEADER_SEARCH_ROWS) or 1}",
                         "ligne d'en-têtes introuvable : colonnes attendues " + ", ".join(ANS_COLUMNS))


def _parse_rows(path: Path, rows: list[tuple[Any, ...]], catalogue: Catalogue, digest: str) -> RemImport:
    header, columns = _find_header(path, rows)
    requirements: dict[str, dict[str, Any]] = {}
    warnings: list[str] = []
    current_id = ""

    def value(row: tuple[Any, ...], name: str) -> str:
        position = columns.get(name)
        return _cell(row[position]) if position is not None and position < len(row) else ""

    def place(line: int, name: str) -> str:
        return f"feuille « {SHEET} », ligne {line}, colonne {_column_letter(columns[name])} ({name})"

    for offset, row in enumerate(rows[header + 1:], start=header + 2):
        if not any(_cell(v) for v in row):
            continue
        req_id = value(row, "ID")
        scenario = value(row, "N° scénario")
        proof = value(row, "N° preuve")
        if not req_id:
            if not (scenario or proof) or not current_id:
                raise RemImportError(path, place(offset, "ID"), "identifiant d'exigence vide")
            req_id = current_id  # merged cells: the row continues the previous requirement
        if not ID_RULE.match(req_id):
            raise RemImportError(path, place(offset, "ID"),
                                 f"« {req_id} » n'est pas un identifiant d'exigence ({ID_EXAMPLE})")
        current_id = req_id
        entry = requirements.setdefault(req_id, {"scenarios": {}, "preuves": {}, "lignes": []})
        entry["lignes"].append(offset)
        for column, key in FIELD_KEYS.items():
            text = value(row, column)
            if not text:
                continue
            if key not in entry:
                entry[key] = text
            elif entry[key] != text and key == "exigence":
                warnings.append(f"{place(offset, column)} : texte différent de celui de la ligne "
                                f"{entry['lignes'][0]} pour {req_id} ; le premier est conservé")
        if scenario:
            if scenario.isdigit():
                scenario = f"{req_id}.{int(scenario):02d}"
            if not scenario.startswith(req_id + "."):
                raise RemImportError(path, place(offset, "N° scénario"),
                                     f"« {scenario} » ne prolonge pas l'identifiant {req_id} (attendu {req_id}.NN)")
            text = value(row, "Scénario de conformité")
            if text or scenario not in entry["scenarios"]:
                entry["scenarios"].setdefault(scenario, text)
        if proof:
            base = scenario or ""
            if proof.isdigit() and base:
                proof = f"{base}.{int(proof):02d}"
            if not proof.startswith((base or req_id) + "."):
                expected = f"{base}.NN" if base else f"{req_id}.NN.NN"
                raise RemImportError(path, place(offset, "N° preuve"),
                                     f"« {proof} » ne prolonge pas le numéro de scénario (attendu {expected})")
            entry["preuves"].setdefault(proof, value(row, "Preuve"))
    if not requirements:
        raise RemImportError(path, f"feuille « {SHEET} »", "aucune exigence sous la ligne d'en-têtes")

    result = RemImport(source=path, overlay={}, warnings=warnings)
    kept: dict[str, Any] = {}
    for req_id, entry in requirements.items():
        lines = entry.pop("lignes")
        if not req_id.startswith(MSS_PREFIX):
            result.outside.append(req_id)
            continue
        if not entry.get("exigence"):
            raise RemImportError(path, f"feuille « {SHEET} », exigence {req_id} (ligne {lines[0]})",
                                 "texte de l'exigence (colonne Exigence) vide")
        if req_id not in catalogue:
            result.unknown.append(req_id)
            continue
        result.imported.append(req_id)
        kept[req_id] = {k: v for k, v in entry.items() if v or k == "exigence"}
    result.missing = [r.id for r in catalogue if r.id not in kept]
    result.overlay = {
        "format": "segur-mss-rem/1",
        "source": {"fichier": path.name, "sha256": digest, "importe_le": now_iso(), "feuille": SHEET},
        "requirements": kept,
    }
    return result


def write_overlay(result: RemImport, target: Path | None = None) -> Path:
    """Write the overlay the loader applies (atomically); returns its path."""
    target = Path(target) if target else official_overlay_path()
    header = (
        "# Texte officiel des exigences MSSanté importé d'un REM de l'ANS par `segur-mss catalogue --import-rem`.\n"
        "# Donnée de l'utilisateur : ne pas modifier à la main, réimporter le classeur.\n"
    )
    body = yaml.safe_dump(result.overlay, allow_unicode=True, sort_keys=False, width=120)
    atomic_write(target, (header + body).encode("utf-8"))
    result.target = target
    return target


def import_rem(path: Path, *, catalogue: Catalogue | None = None, target: Path | None = None) -> RemImport:
    """Read the workbook and write the overlay; the catalogue shows the official wording from then on."""
    catalogue = catalogue or load_catalogue(overlay=Path(os.devnull))  # the catalogue without a previous import
    result = read_rem(path, catalogue)
    write_overlay(result, target)
    return result


def load_overlay(path: Path | None = None) -> dict[str, Any]:
    """The imported overlay (empty when none was imported or it is unreadable)."""
    path = Path(path) if path else official_overlay_path()
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def command_import_rem(source: str, console: Any, errors: Any) -> int:
    """`segur-mss catalogue --import-rem FICHIER.xlsx`: 0 imported, 2 bad input (French message, no traceback)."""
    try:
        result = import_rem(Path(source))
    except RemImportError as exc:
        errors.print(f"[bold red]erreur :[/] REM non importé — {exc}")
        return 2
    except OSError as exc:
        errors.print(f"[bold red]erreur :[/] REM non importé — {exc.filename or source} : écriture impossible "
                     f"({exc.strerror or exc})")
        return 2
    console.print(f"REM importé depuis {result.source} : {len(result.imported)} exigence(s) reçoivent le texte "
                  f"officiel (provenance « officiel »).")
    console.print(f"Texte officiel enregistré dans {result.target} (variable SEGUR_MSS_REM pour un autre chemin).")
    if result.unknown:
        console.print(f"[yellow]{len(result.unknown)} ID du REM inconnu(s) du catalogue (ignoré(s)) :[/] "
                      + ", ".join(result.unknown))
    if result.missing:
        console.print(f"[yellow]{len(result.missing)} exigence(s) du catalogue absente(s) du REM (libellé non "
                      "officiel conservé) :[/] " + ", ".join(result.missing))
    if result.outside:
        console.print(f"{len(result.outside)} ID hors périmètre MSSanté ignoré(s) : " + ", ".join(result.outside))
    for warning in result.warnings:
        console.print(f"[yellow]attention :[/] {warning}")
    return 0
