"""The Convergence workbook (`convergence.xlsx`): the ANS columns, one row per proof, plus status and hashes.

Sheet « Preuves » carries the columns of the ANS export (Périmètre, ID, Chapitre, Fonction, Exigence, Commentaire,
Profil, N° scénario, Scénario de conformité, N° preuve, Preuve, Profil historique, Criticité, Ordre) followed by what
the run established: provenance of the wording, status, kind of proof, file, SHA-256, timestamp, observations.
Where the official REM was imported its columns come from it; otherwise from the catalogue, with the provenance
column saying the wording is not official. Sheet « Exécution » carries the run's identity and versions.

Cell values that come from the candidate are written as text, never as formulas.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from segur_mss.catalogue import Catalogue
from segur_mss.catalogue.model import PROVENANCE_LABELS
from segur_mss.evidence.rem_import import ANS_COLUMNS, load_overlay
from segur_mss.evidence.store import atomic_write
from segur_mss.verdicts import STATUS_LABELS

WORKBOOK_FILE = "convergence.xlsx"
SHEET = "Preuves"
EXTRA_COLUMNS = (
    "Provenance du libellé", "Statut", "Code statut", "Nature de la preuve", "Fichier de preuve", "SHA-256",
    "Horodatage de la preuve", "Observations",
)
COLUMNS = ANS_COLUMNS + EXTRA_COLUMNS
WIDTHS = {"Exigence": 60, "Scénario de conformité": 45, "Preuve": 45, "Fichier de preuve": 55, "SHA-256": 66,
          "Observations": 60, "Fonction": 35, "Chapitre": 30, "Profil": 25}
FILLS = {"passed": "C6EFCE", "failed": "FFC7CE", "error": "FFEB9C", "awaiting_evidence": "DDEBF7",
         "not_applicable": "EDEDED", "not_tested": "EDEDED"}
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _observations(req: dict[str, Any], sc: dict[str, Any] | None) -> str:
    parts = []
    if sc is None:
        parts.append(req.get("reason") or "")
    else:
        parts += [f"{f['check']} — attendu : {f['expected']} ; observé : {f['observed']}" for f in sc["failures"]]
        if sc.get("reason"):
            parts.append(sc["reason"])
    return "\n".join(p for p in parts if p)


def workbook_rows(results: dict[str, Any], catalogue: Catalogue | None = None,
                  overlay: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The rows of sheet « Preuves » as dictionaries keyed by column name."""
    official = (overlay or {}).get("requirements") or {}
    rows = []
    order = 0
    for req in results["requirements"]:
        rem = official.get(req["id"], {})
        known = catalogue.requirements.get(req["id"]) if catalogue else None
        groups = catalogue.groups if catalogue else {}
        order += 1
        base = {
            "Périmètre": rem.get("perimetre") or "MSSanté",
            "ID": req["id"],
            "Chapitre": rem.get("chapitre") or groups.get(req.get("groupe", ""), req.get("groupe", "")),
            "Fonction": rem.get("fonction") or req["title"],
            "Exigence": rem.get("exigence") or req.get("official_text") or req.get("summary") or req["title"],
            "Commentaire": rem.get("commentaire", ""),
            "Profil": rem.get("profil") or (", ".join(known.profils) if known else ""),
            "Profil historique": rem.get("profil_historique", ""),
            "Criticité": rem.get("criticite", ""),
            "Ordre": rem.get("ordre") or order,
            "Provenance du libellé": PROVENANCE_LABELS.get(req.get("provenance", ""), req.get("provenance", "")),
        }
        if not req["scenarios"]:
            rows.append({**base, "Statut": STATUS_LABELS.get(req["status"], req["status"]),
                         "Code statut": req["status"], "Observations": _observations(req, None)})
            continue
        for sc in req["scenarios"]:
            scenario = {
                **base,
                "N° scénario": sc["id"],
                "Scénario de conformité": (rem.get("scenarios") or {}).get(sc["id"]) or sc["name"],
                "Statut": STATUS_LABELS.get(sc["status"], sc["status"]),
                "Code statut": sc["status"],
                "Observations": _observations(req, sc),
            }
            if not sc["proofs"]:
                rows.append(scenario)
            for proof in sc["proofs"]:
                rows.append({
                    **scenario,
                    "N° preuve": proof["id"],
                    "Preuve": (rem.get("preuves") or {}).get(proof["id"]) or proof.get("title") or proof["kind"],
                    "Nature de la preuve": proof["kind"],
                    "Fichier de preuve": proof["path"],
                    "SHA-256": proof["sha256"],
                    "Horodatage de la preuve": proof.get("created", ""),
                })
    return rows


def _text(value: Any) -> Any:
    if isinstance(value, str):
        return _ILLEGAL.sub("\ufffd", value)
    return value


def _put(sheet: Any, row: int, column: int, value: Any) -> Any:
    cell = sheet.cell(row=row, column=column, value=_text(value))
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # a value that looks like a formula stays text
    return cell


def _timestamp(value: str | None) -> datetime:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)
    except ValueError:
        return datetime(2000, 1, 1)


def build_workbook(results: dict[str, Any], catalogue: Catalogue | None = None,
                   overlay: dict[str, Any] | None = None) -> bytes:
    """The workbook as bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    overlay = load_overlay() if overlay is None else overlay
    run = results["run"]
    wb = Workbook()
    sheet = wb.active
    sheet.title = SHEET
    bold = Font(bold=True)
    for index, name in enumerate(COLUMNS, start=1):
        cell = _put(sheet, 1, index, name)
        cell.font = bold
        cell.fill = PatternFill("solid", fgColor="D9E1F2" if name in ANS_COLUMNS else "FCE4D6")
        sheet.column_dimensions[get_column_letter(index)].width = WIDTHS.get(name, 16)
    wrap = Alignment(wrap_text=True, vertical="top")
    status_column = COLUMNS.index("Statut") + 1
    for line, row in enumerate(workbook_rows(results, catalogue, overlay), start=2):
        for index, name in enumerate(COLUMNS, start=1):
            cell = _put(sheet, line, index, row.get(name, ""))
            cell.alignment = wrap
        fill = FILLS.get(row.get("Code statut", ""))
        if fill:
            sheet.cell(row=line, column=status_column).fill = PatternFill("solid", fgColor=fill)
    sheet.freeze_panes = "C2"
    sheet.auto_filter.ref = sheet.dimensions

    info = wb.create_sheet("Exécution")
    harness = results["harness"]
    source = (overlay or {}).get("source") or {}
    facts = [
        ("Exécution", run.get("id")), ("Candidat", run.get("candidate")),
        ("Profil", run.get("profile") or "tous les profils"), ("Environnement", run.get("env")),
        ("Référence produit (X-MSS-NIL)", run.get("product_reference")),
        ("Début", run.get("started")), ("Fin", run.get("finished")),
        ("Dossier complet", "oui" if run.get("complete") else "non (exécution interrompue ou en cours)"),
        ("Version du harnais", harness.get("version")), ("Catalogue", harness.get("catalogue")),
        ("REM officiel importé", f"{source.get('fichier')} (sha256 {source.get('sha256')})" if source else "non"),
    ]
    facts += [(f"Validateur {k}", v or "non fourni") for k, v in (harness.get("validators") or {}).items()]
    facts += [(f"Synthèse — {STATUS_LABELS.get(k, k)}", v) for k, v in (results.get("summary") or {}).items()]
    for line, (key, value) in enumerate(facts, start=1):
        _put(info, line, 1, key).font = bold
        _put(info, line, 2, "" if value is None else str(value))
    info.column_dimensions["A"].width = 34
    info.column_dimensions["B"].width = 90

    stamp = _timestamp(run.get("finished") or run.get("started"))
    wb.properties.creator = f"segur-mss {harness.get('version')}"
    wb.properties.title = f"Dossier de conformité MSSanté {run.get('id') or ''}".strip()
    wb.properties.created = stamp
    wb.properties.modified = stamp
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def write_workbook(results: dict[str, Any], path: Path, catalogue: Catalogue | None = None,
                   overlay: dict[str, Any] | None = None) -> Path:
    """Write `convergence.xlsx` (atomically)."""
    atomic_write(path, build_workbook(results, catalogue, overlay))
    return path
