"""CLI usage errors: exit 2 with a French message naming the valid choices."""

from __future__ import annotations

from pathlib import Path

from .conftest import run_cli


def test_help_is_in_french() -> None:
    proc = run_cli("--help")
    assert proc.returncode == 0
    assert "utilisation" in proc.stdout and "exécute la campagne" in proc.stdout


def test_unknown_candidate_exits_2_with_choices() -> None:
    proc = run_cli("run", "--candidate", "martien")
    assert proc.returncode == 2
    assert "candidat inconnu" in proc.stderr and "faulty:no-x-mss-nil" in proc.stderr


def test_unknown_faulty_candidate_exits_2() -> None:
    proc = run_cli("run", "--candidate", "faulty:rien")
    assert proc.returncode == 2 and "reference" in proc.stderr


def test_unknown_requirement_exits_2_with_choices() -> None:
    proc = run_cli("run", "--requirements", "SC.MSS/CONF.99")
    assert proc.returncode == 2
    assert "SC.MSS/CONF.99" in proc.stderr and "SC.MSS/CONF.16" in proc.stderr


def test_unknown_profile_exits_2() -> None:
    proc = run_cli("run", "--profile", "mainframe")
    assert proc.returncode == 2 and "lps-per" in proc.stderr


def test_bad_config_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "produit.toml"
    bad.write_text("[produit]\nreference_convergence = 42\n", encoding="utf-8")
    proc = run_cli("run", "--config", str(bad))
    assert proc.returncode == 2
    assert str(bad) in proc.stderr and "reference_convergence" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_non_empty_output_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "précieux.txt").write_text("ne pas écraser", encoding="utf-8")
    proc = run_cli("run", "--out", str(tmp_path))
    assert proc.returncode == 2
    assert (tmp_path / "précieux.txt").read_text(encoding="utf-8") == "ne pas écraser"


def test_catalogue_coverage_lists_conf16() -> None:
    proc = run_cli("catalogue", "--coverage")
    assert proc.returncode == 0
    assert "SC.MSS/CONF.16.01" in proc.stdout


def test_doctor_checks_the_machine(tmp_path: Path) -> None:
    proc = run_cli("doctor", "--out", str(tmp_path / "sortie"))
    assert proc.returncode == 0, proc.stdout
    assert "Python" in proc.stdout and "saxonche" in proc.stdout


def test_doctor_names_the_fix_when_output_is_not_writable(tmp_path: Path) -> None:
    blocker = tmp_path / "fichier"
    blocker.write_text("x", encoding="utf-8")
    proc = run_cli("doctor", "--out", str(blocker / "sous-dossier"))
    assert proc.returncode == 1
    assert "ÉCHEC" in proc.stdout and "--out" in proc.stdout


def test_validate_command_exit_codes(tmp_path: Path) -> None:
    from segur_mss.documents.cda import make_cda
    from segur_mss.documents.patients import get_patient

    good = tmp_path / "document.xml"
    good.write_bytes(make_cda(get_patient("qualifie")).xml)
    bad = tmp_path / "sans-setid.xml"
    bad.write_bytes(good.read_bytes().replace(b"<setId", b"<autreId"))
    assert run_cli("validate", "cda", str(good)).returncode == 0
    invalid = run_cli("validate", "cda", str(bad), "--json")
    assert invalid.returncode == 1 and '"severity": "error"' in invalid.stdout
    missing = run_cli("validate", "mail", str(tmp_path / "absent.eml"))
    assert missing.returncode == 2 and "absent.eml" in missing.stderr + missing.stdout
    assert "Traceback" not in missing.stderr
