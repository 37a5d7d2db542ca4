"""The requirement catalogue: complete, well-formed, and consistent with the feature files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from segur_mss.catalogue import CatalogueError, load_catalogue
from segur_mss.catalogue.features import duplicates, scan_features
from segur_mss.catalogue.model import PROVENANCES

from .conftest import ROOT

WAVE2_IDS = [
    "SC.MSS/CONF.01", "SC.MSS/CONF.03", "SC.MSS/CONF.04", "SC.MSS/CONF.05", "SC.MSS/CONF.06", "SC.MSS/CONF.07",
    "SC.MSS/CONF.08", "SC.MSS/CONF.10", "SC.MSS/CONF.11", "SC.MSS/CONF.12", "SC.MSS/CONF.14", "SC.MSS/CONF.15",
    "SC.MSS/CONF.16", "SC.MSS/CONF.17", "SC.MSS/CONF.18", "SC.MSS/CONF.20", "SC.MSS/CONF.21", "SC.MSS/CONF.22",
    "SC.MSS/CONF.24", "SC.MSS/CONF.27", "SC.MSS/CONF.28", "SC.MSS/UX.01", "SC.MSS/UX.05", "SC.MSS/UX.05.BIS",
    "SC.MSS/UX.07", "SC.MSS/UX.10", "SC.MSS/UX.11", "SC.MSS/UX.25", "SC.MSS/UX.28", "SC.MSS/UX.31", "SC.MSS/UX.32",
    "SC.MSS/UX.37", "SC.MSS/UX.38", "SC.MSS/UX.39", "SC.MSS/UX.40", "SC.MSS/UX.41",
]


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


def test_catalogue_has_the_36_wave2_ids(catalogue) -> None:
    assert list(catalogue.requirements) == WAVE2_IDS


def test_catalogue_matches_the_shared_requirements_table(catalogue, shared_dir: Path) -> None:
    table = (shared_dir / "domain" / "REQUIREMENTS_TABLE.md").read_text(encoding="utf-8")
    ids = re.findall(r"^\| (SC\.MSS/[A-Z]+\.\d+(?:\.BIS)?) \|", table, re.M)
    assert sorted(ids) == sorted(catalogue.requirements)


def test_every_entry_is_complete(catalogue) -> None:
    for req in catalogue:
        assert req.provenance in PROVENANCES
        assert req.titre and req.resume and req.source
        assert req.profils, req.id
        assert set(req.profils) <= set(catalogue.profiles)


def test_provenance_never_claims_official_without_rem(catalogue) -> None:
    # No official wording has been imported: nothing may present itself as official text.
    assert not [r.id for r in catalogue if r.provenance == "officiel" and not r.official_text]


def test_feature_tags_are_catalogue_requirements(catalogue) -> None:
    scenarios, problems = scan_features(ROOT / "features", catalogue)
    assert not problems, "\n".join(map(str, problems))
    assert not duplicates(scenarios)
    assert scenarios, "aucun scénario trouvé"


def test_every_requirement_has_a_scenario_or_a_reason(catalogue) -> None:
    scenarios, _ = scan_features(ROOT / "features", catalogue)
    covered = {s.requirement for s in scenarios}
    orphans = [r.id for r in catalogue if r.id not in covered and not r.not_tested_reason]
    assert not orphans, f"exigences sans scénario ni raison : {orphans}"


def test_covered_requirements_do_not_keep_a_stale_reason(catalogue) -> None:
    scenarios, _ = scan_features(ROOT / "features", catalogue)
    covered = {s.requirement for s in scenarios}
    stale = [r.id for r in catalogue if r.id in covered and r.not_tested_reason]
    assert not stale, f"exigences couvertes qui gardent un not_tested_reason : {stale}"


def test_unknown_tag_is_reported(tmp_path: Path, catalogue) -> None:
    (tmp_path / "x.feature").write_text(
        "# language: fr\n@SC.MSS/CONF.99\nFonctionnalité: x\n\n  @SC.MSS/CONF.99.01\n  Scénario: y\n"
        "    Soit l'opérateur de référence est démarré\n",
        encoding="utf-8",
    )
    _, problems = scan_features(tmp_path, catalogue)
    messages = " ".join(str(p) for p in problems)
    assert "x.feature:2" in messages and "@SC.MSS/CONF.99" in messages


def test_scenario_numbers_extend_the_requirement(catalogue) -> None:
    assert catalogue.requirement_of_scenario("SC.MSS/UX.05.BIS.01") == "SC.MSS/UX.05.BIS"
    assert catalogue.requirement_of_scenario("SC.MSS/CONF.16.02") == "SC.MSS/CONF.16"
    assert catalogue.requirement_of_scenario("SC.MSS/CONF.16") is None


def test_bad_catalogue_names_file_place_and_rule(tmp_path: Path) -> None:
    bad = tmp_path / "requirements.yaml"
    bad.write_text(
        "version: x\nprofils: {lgc: a}\ngroupes: {interop: b}\nrequirements:\n"
        "  - {id: SC.MSS/CONF.01, groupe: interop, titre: t, resume: r, provenance: officieux, profils: [lgc]}\n",
        encoding="utf-8",
    )
    with pytest.raises(CatalogueError) as err:
        load_catalogue(bad)
    assert str(bad) in str(err.value) and "SC.MSS/CONF.01" in str(err.value) and "officieux" in str(err.value)


def test_unreadable_yaml_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "requirements.yaml"
    bad.write_text("requirements:\n  - id: a\n    titre: un : deux : trois\n", encoding="utf-8")
    with pytest.raises(CatalogueError) as err:
        load_catalogue(bad)
    assert "ligne 3" in str(err.value)
