"""Import of an official REM workbook (built by the test, with the ANS columns) into the catalogue overlay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from segur_mss.catalogue import load_catalogue
from segur_mss.evidence.rem_import import ANS_COLUMNS, RemImportError, import_rem, read_rem

from ..conftest import load_results, requirement, run_cli
from .conftest import build_synthetic_run

OFFICIAL_16 = "Le LPS DOIT renseigner l'en-tête X-MSS-NIL avec la référence Convergence du logiciel (texte de test)."


def rem_rows() -> list[list[Any]]:
    """Rows of an ANS-like export: one per proof, requirement columns repeated or left blank (merged cells)."""
    def row(req: str, text: str, scenario: str = "", sc_text: str = "", proof: str = "", proof_text: str = "",
            order: int = 1, chapter: str = "Interopérabilité") -> list[Any]:
        return ["MSSanté", req, chapter, "Envoi", text, "", "LGC, DPI", scenario, sc_text, proof, proof_text,
                "LPS", "EXIGENCE", order]

    return [
        row("SC.MSS/CONF.16", OFFICIAL_16, "SC.MSS/CONF.16.01", "Envoyer un courriel simple", "SC.MSS/CONF.16.01.01",
            "Capture du courriel reçu"),
        ["", "", "", "", "", "", "", "SC.MSS/CONF.16.01", "", "SC.MSS/CONF.16.01.02", "Trace SMTP", "", "", None],
        row("SC.MSS/CONF.14", "Le LPS DOIT renseigner X-MSS-INS (texte de test).", "SC.MSS/CONF.14.01",
            "Envoyer un document", "SC.MSS/CONF.14.01.01", "Courriel", order=2),
        row("SC.MSS/CONF.99", "Exigence inconnue du catalogue (texte de test).", order=3),
        row("SC.DMP/ALIM.01", "Exigence DMP hors périmètre (texte de test).", order=4, chapter="DMP"),
    ]


def build_rem(path: Path, rows: list[list[Any]] | None = None, *, sheet: str = "Exigences",
              header: list[str] | None = None, title_rows: int = 2) -> Path:
    workbook = Workbook()
    ws = workbook.active
    ws.title = sheet
    for _ in range(title_rows):  # ANS exports start with a title block
        ws.append(["Référentiel d'exigences Ségur vague 2 — export Convergence (test)"])
    ws.append(header or list(ANS_COLUMNS))
    for row in rows if rows is not None else rem_rows():
        ws.append(row)
    workbook.save(path)
    return path


def test_import_replaces_texts_and_reports_unknown_and_missing(tmp_path: Path, _isolated_rem: Path) -> None:
    rem = build_rem(tmp_path / "REM_vague2.xlsx")
    proc = run_cli("catalogue", "--import-rem", str(rem))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = " ".join(proc.stdout.split())
    assert "2 exigence(s) reçoivent le texte officiel" in out
    assert "SC.MSS/CONF.99" in out and "inconnu" in out
    assert "SC.DMP/ALIM.01" in out and "hors périmètre" in out
    assert "34 exigence(s) du catalogue absente(s) du REM" in out and "SC.MSS/UX.41" in out
    assert _isolated_rem.is_file() and "rem_officiel.yaml" in out

    catalogue = load_catalogue()
    conf16 = catalogue.get("SC.MSS/CONF.16")
    assert conf16.provenance == "officiel" and conf16.official_text == OFFICIAL_16
    assert catalogue.get("SC.MSS/CONF.01").provenance != "officiel"
    assert "+rem-" in catalogue.digest


def test_overlay_keeps_scenarios_and_proofs_and_feeds_the_reports(tmp_path: Path, _isolated_rem: Path) -> None:
    rem = build_rem(tmp_path / "rem.xlsx")
    result = import_rem(rem)
    entry = result.overlay["requirements"]["SC.MSS/CONF.16"]
    assert entry["scenarios"] == {"SC.MSS/CONF.16.01": "Envoyer un courriel simple"}
    assert entry["preuves"] == {"SC.MSS/CONF.16.01.01": "Capture du courriel reçu",
                                "SC.MSS/CONF.16.01.02": "Trace SMTP"}
    assert result.overlay["source"]["fichier"] == "rem.xlsx" and len(result.overlay["source"]["sha256"]) == 64

    run_dir = tmp_path / "execution"
    build_synthetic_run(run_dir)  # reports written with the official wording
    results = load_results(run_dir)
    conf16 = requirement(results, "SC.MSS/CONF.16")
    assert conf16["provenance"] == "officiel" and conf16["official_text"] == OFFICIAL_16
    assert results["harness"]["rem"]["fichier"] == "rem.xlsx"
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "Texte officiel (REM ANS importé)" in html and "REM officiel importé : rem.xlsx" in html
    workbook = load_workbook(run_dir / "convergence.xlsx", read_only=True)
    rows = list(workbook["Preuves"].iter_rows(values_only=True))
    header = rows[0]
    records = [dict(zip(header, r, strict=True)) for r in rows[1:]]
    first = next(r for r in records if r["N° preuve"] == "SC.MSS/CONF.16.01.01")
    assert first["Exigence"] == OFFICIAL_16 and first["Preuve"] == "Capture du courriel reçu"
    assert first["Scénario de conformité"] == "Envoyer un courriel simple" and first["Criticité"] == "EXIGENCE"
    assert first["Provenance du libellé"] == "texte officiel ANS"
    workbook.close()


def test_accented_or_abbreviated_headers_are_recognised(tmp_path: Path) -> None:
    header = [c.upper().replace("É", "E").replace("N°", "No") for c in ANS_COLUMNS]
    result = read_rem(build_rem(tmp_path / "rem.xlsx", header=header, title_rows=0), load_catalogue())
    assert "SC.MSS/CONF.16" in result.imported


BAD_INPUTS = [
    ("absent", "fichier introuvable"),
    ("texte", "classeur Excel .xlsx illisible"),
    ("xls", "format Excel 97-2003"),
    ("feuille", "feuille absente ; feuilles présentes : « Feuil1 »"),
    ("entetes", "ligne d'en-têtes introuvable"),
    ("colonne", "colonne(s) obligatoire(s) absente(s) : Exigence"),
    ("id", "« CONF 16 » n'est pas un identifiant d'exigence"),
    ("scenario", "« SC.MSS/CONF.15.01 » ne prolonge pas l'identifiant SC.MSS/CONF.16"),
    ("vide", "aucune exigence sous la ligne d'en-têtes"),
    ("texte-vide", "texte de l'exigence (colonne Exigence) vide"),
]


def _bad(tmp_path: Path, case: str) -> Path:
    rows = rem_rows()
    if case == "absent":
        return tmp_path / "absent.xlsx"
    if case == "texte":
        (tmp_path / "rem.xlsx").write_text("ID;Exigence\n", encoding="utf-8")
        return tmp_path / "rem.xlsx"
    if case == "xls":
        (tmp_path / "rem.xls").write_bytes(b"\xd0\xcf\x11\xe0")
        return tmp_path / "rem.xls"
    if case == "feuille":
        return build_rem(tmp_path / "rem.xlsx", sheet="Feuil1")
    if case == "entetes":
        return build_rem(tmp_path / "rem.xlsx", header=["A", "B", "C"])
    if case == "colonne":
        return build_rem(tmp_path / "rem.xlsx", header=[c if c != "Exigence" else "Texte" for c in ANS_COLUMNS])
    if case == "id":
        rows[0][1] = "CONF 16"
    if case == "scenario":
        rows[0][7] = "SC.MSS/CONF.15.01"
    if case == "vide":
        rows = []
    if case == "texte-vide":
        rows[2][4] = ""
    return build_rem(tmp_path / "rem.xlsx", rows)


@pytest.mark.parametrize(("case", "rule"), BAD_INPUTS, ids=[c for c, _ in BAD_INPUTS])
def test_bad_input_is_a_french_error_naming_file_place_and_rule(tmp_path: Path, case: str, rule: str,
                                                               _isolated_rem: Path) -> None:
    path = _bad(tmp_path, case)
    with pytest.raises(RemImportError) as caught:
        read_rem(path, load_catalogue())
    message = str(caught.value)
    assert rule in message and str(path) in message
    if case in ("id", "scenario"):
        assert "feuille « Exigences », ligne 4, colonne" in message
    assert not _isolated_rem.exists()


def test_bad_input_through_the_cli_exits_2_without_traceback(tmp_path: Path, _isolated_rem: Path) -> None:
    path = _bad(tmp_path, "id")
    proc = run_cli("catalogue", "--import-rem", str(path))
    assert proc.returncode == 2
    err = " ".join(proc.stderr.split())
    assert "REM non importé" in err and "ligne 4, colonne B (ID)" in err and "Traceback" not in proc.stderr
    assert not _isolated_rem.exists()
