"""The official ANS kit through the project's own pipeline (slow: marked ``kit``; skipped when the kit is absent).

One session compiles the four common profiles once (structuration minimale alone takes several seconds with
Saxon-HE); the examples run here are a representative subset. ``SEGUR_MSS_KIT_FULL=1`` runs all 94 examples.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from segur_mss.documents import PATIENTS, make_cda
from segur_mss.validators.cda import document_codes, validate_cda
from segur_mss.validators.kit import COMMON_PROFILES, CdaKit, KitError, compute_kit_identity, svrl_location

from .helpers import mutate, set_attr, wrap_signed
from .test_cda_builtin import DEFECTS, KNOWN_BUILTIN_DISAGREEMENTS, QUALIFIED

pytestmark = pytest.mark.kit

#: Examples the kit itself rejects (or cannot fully check), with the reason. Keys: example file name; values:
#: (rule ids of the errors expected, or of the warning for KIT-INCLUDE; reason).
KNOWN_KIT_INCONSISTENCIES: dict[str, tuple[set[str], str]] = {
    "01_Modèles_contenus_CDA.xml": (
        {"KIT:CI-SIS_VSM_2023.01"},
        "exemple générique des modèles de contenu portant le templateId VSM 1.2.250.1.213.1.1.1.13 sans être une "
        "VSM ; les rapports du kit (rapports/01_Modèles_contenus_CDA_verif_*.xml) n'y appliquent que les profils "
        "communs — valide sans volet",
    ),
    "CANCER-FRCP_2022.01_Appareil.xml": (
        {"KIT:CI-SIS_ModelesDeContenusCDA"},
        "author/assignedAuthor/code G15_10/SCH10 absent du JDV_J01_XdsAuthorSpecialty_CISIS du kit",
    ),
    "CANCER-FRCP_2022.01_Transversale.xml": (
        {"KIT:CI-SIS_ModelesDeContenusCDA"},
        "author/assignedAuthor/code G15_10/SCH10 absent du JDV_J01_XdsAuthorSpecialty_CISIS du kit",
    ),
    "TLM-DA_2022.01_TCG.xml": (
        {"KIT:CI-SIS_ModelesDeContenusCDA"},
        "author/assignedAuthor/code G15_10/SCH16 absent du JDV_J01_XdsAuthorSpecialty_CISIS du kit",
    ),
    "TLM-DA_2022.01_TCG_anamnèse-non-structurée.xml": (
        {"KIT:CI-SIS_ModelesDeContenusCDA"},
        "author/assignedAuthor/code G15_10/SCH16 absent du JDV_J01_XdsAuthorSpecialty_CISIS du kit",
    ),
    "TLM-DA_2022.01_TE1_anamnèse-non-structurée.xml": (
        {"KIT:CI-SIS_ModelesDeContenusCDA"},
        "author/assignedAuthor/code G15_10/SCH16 absent du JDV_J01_XdsAuthorSpecialty_CISIS du kit",
    ),
    "eDISP-MED_2024.01.xml": (
        {"KIT:ASIP-STRUCT-MIN-StrucMin"},
        "nom de famille avec qualifier SP : la structuration minimale n'autorise que BR et CL",
    ),
    "BIO-CR-BIO_2023.01_Electrophorese.xml": (
        {"KIT-INCLUDE"},
        "les 9 fichiers inclus par CI-SIS_BIO-CR-BIO_2023.01.sch manquent dans le kit : les règles du volet ne "
        "s'appliquent pas (avertissement), le document est valide pour le reste",
    ),
}

#: Cheap, representative subset: N1, self-presenting root, several volets, and known inconsistencies.
SUBSET = (
    "DOC_NON_STRUCTURE_CDA-R2-N1.xml",
    "BIO-CR-BIO_2021.01_CDA-R2-Niveau-1.xml",
    "BIO-CR-BIO_2021.01_Auto-Presentable.xml",
    "BIO-CR-BIO_2024.01_TSH_1.xml",
    "BIO-CR-BIO_2024.01_Microbiologie_V1.xml",
    "LDL-SES_2022.01.xml",
    "LDL-EES_2022.01.xml",
    "IMG-DA-IMG_2024.01_TEP_Thorax.xml",
    "VAC-NOTE_2023.01.xml",
    "TLM-DA_2022.01_TCG.xml",
    "eDISP-MED_2024.01.xml",
    "BIO-CR-BIO_2023.01_Electrophorese.xml",
    "01_Modèles_contenus_CDA.xml",
)

#: Built-in rules stricter than the kit (the kit accepts these defects): rule -> why the harness keeps it.
BUILTIN_ONLY = {
    "INS too short": "le kit ne contrôle pas la longueur du matricule INS",
    "unexpected code system": "le kit ne contrôle que le code, pas son système",
    "relatedDocument not RPLC": "seul RPLC a un sens pour MSSanté (remplacement)",
    "RPLC on version 1": "un remplacement incrémente versionNumber (guide ANS)",
    "N1 body not base64": "corps N1 : representation B64 (CDA_XDM.md)",
    "N1 media type": "corps N1 : application/pdf ou text/plain",
    "N1 invalid base64": "corps N1 : base64 décodable",
    "N1 empty body": "corps N1 non vide",
    "N1 not a PDF": "corps N1 : le contenu correspond au mediaType",
}


def volet_from_name(kit: CdaKit, name: str) -> str | None:
    m = re.match(r"(.+?_\d{4}\.\d{2})", name)
    return m.group(1) if m and kit.volet_by_name(m.group(1)) else None


def validate_example(kit: CdaKit, path: Path):
    data = path.read_bytes()
    codes = document_codes(data)
    volet = volet_from_name(kit, path.name) if codes and codes.level == "N3" else None
    return kit.validate(data, subject=path.name, volet=volet)


def check_example(kit: CdaKit, path: Path) -> None:
    report = validate_example(kit, path)
    assert report.extra["kit"]["content_sha256"] == kit.identity.content_hash
    assert report.extra["complete"], path.name
    if path.name in KNOWN_KIT_INCONSISTENCIES:
        expected, _reason = KNOWN_KIT_INCONSISTENCIES[path.name]
        if expected == {"KIT-INCLUDE"}:
            assert report.valid and report.has("KIT-INCLUDE", "warning"), path.name
        else:
            assert report.rule_ids("error") == expected, (path.name, [str(f) for f in report.errors])
        return
    assert report.valid, (path.name, [str(f) for f in report.errors])
    builtin = validate_cda(path.read_bytes(), allowed_codes=kit.type_codes())
    if path.name not in KNOWN_BUILTIN_DISAGREEMENTS:
        assert builtin.valid, (path.name, [str(f) for f in builtin.errors])


def test_setup_is_cached_and_lists_kit_defects(kit: CdaKit, kit_dir: Path, kit_cache_root: Path) -> None:
    before = compute_kit_identity(kit_dir)
    cold = kit.setup()
    assert [g.sch for g in cold.generated] == list(COMMON_PROFILES)
    ihe = next(g for g in cold.generated if g.sch.endswith("IHE.sch"))
    assert "../include/entrees/E_directiveAnticipee_int.sch" in ihe.case_fixed_includes
    derived = (
        kit.cache_dir / "schematrons/profils/structurationMinimale/include/voc-1.2.250.1.213.1.1.5.471-DYNAMIC.xml"
    )
    assert derived.is_file() and b'id="1.2.250.1.213.1.1.5.471"' in derived.read_bytes()
    assert not (kit_dir / "schematrons/profils/structurationMinimale/include" / derived.name).exists()
    volet_2023 = kit.generated(kit.volet_by_name("BIO-CR-BIO_2023.01"))
    assert len(volet_2023.unresolved_includes) == 9 and volet_2023.generator_messages
    # a second kit object on the same cache: everything comes from disk
    t0 = time.perf_counter()
    warm = CdaKit(kit_dir, cache_root=kit_cache_root).setup()
    elapsed = time.perf_counter() - t0
    assert warm.from_cache and elapsed < 3, elapsed
    assert compute_kit_identity(kit_dir) == before  # the kit is never modified


def test_volet_selection(kit: CdaKit) -> None:
    assert kit.volet_for(("1.2.250.1.213.1.1.1.55",)).endswith("CI-SIS_BIO-CR-BIO_2024.01.sch")
    assert kit.volet_for(("1.2.250.1.213.1.1.1.2.1", "1.2.250.1.213.1.1.1.2.1.1")).endswith(
        "CARD-F-PRC-AVK_2022.01.sch"
    )
    assert kit.volet_for(("1.2.250.1.213.1.1.1.13",)).endswith("CI-SIS_VSM_2023.01.sch")
    assert kit.volet_for(("9.9.9",)) is None
    assert kit.volet_by_name("eP-MED-DM_2024.01").endswith("CI-SIS_EP-MED-DM_2024.01.sch")
    assert {"11502-2", "11490-0", "18748-4"} <= kit.type_codes()


@pytest.mark.parametrize("patient", ["qualifie", "qualifie_3", "sans_ins", "traits_incomplets"])
def test_synthetic_documents_kit_and_builtin_agree(kit: CdaKit, patient: str) -> None:
    doc = make_cda(PATIENTS[patient])
    kit_report = kit.validate(doc.xml, subject=patient)
    builtin = validate_cda(doc.xml, allowed_codes=kit.type_codes())
    expected_valid = PATIENTS[patient].ins is None or PATIENTS[patient].has_qualified_ins
    assert kit_report.valid == builtin.valid == expected_valid, (
        [str(f) for f in kit_report.errors],
        [str(f) for f in builtin.errors],
    )
    assert kit_report.extra["level"] == "N1" and kit_report.extra["volet"] is None


def test_signed_root_through_the_kit(kit: CdaKit) -> None:
    report = kit.validate(wrap_signed(make_cda(QUALIFIED).xml))
    assert report.valid, [str(f) for f in report.errors]


@pytest.mark.parametrize("name", sorted(set(DEFECTS) - set(BUILTIN_ONLY)))
def test_injected_defects_caught_by_both(kit: CdaKit, name: str) -> None:
    change, _rule = DEFECTS[name]
    level = "N3" if "(N3)" in name else "N1"
    xml = mutate(make_cda(QUALIFIED, level=level).xml, change)
    assert not validate_cda(xml).valid
    report = kit.validate(xml)
    assert not report.valid, name
    assert all(f.location.startswith("/") or f.rule_id == "KIT-XSD" for f in report.errors)


def test_builtin_only_rules_are_documented(kit: CdaKit) -> None:
    for name in BUILTIN_ONLY:
        change, _rule = DEFECTS[name]
        xml = mutate(make_cda(QUALIFIED).xml, change)
        assert not validate_cda(xml).valid and kit.validate(xml).valid, name


def test_unknown_type_code_needs_the_kit_list(kit: CdaKit) -> None:
    xml = mutate(make_cda(QUALIFIED).xml, set_attr("/h:ClinicalDocument/h:code", "code", "99999-9"))
    assert validate_cda(xml).valid  # no list without the kit: only an info
    assert "CDA-CODE-004" in validate_cda(xml, allowed_codes=kit.type_codes()).rule_ids("error")
    assert not kit.validate(xml).valid


@pytest.mark.parametrize("name", SUBSET)
def test_kit_examples_subset(kit: CdaKit, examples_dir: Path, name: str) -> None:
    check_example(kit, examples_dir / name)


def test_model_example_is_valid_without_volet(kit: CdaKit, examples_dir: Path) -> None:
    report = kit.validate((examples_dir / "01_Modèles_contenus_CDA.xml").read_bytes(), volet="")
    assert report.valid and report.extra["volet"] is None


@pytest.mark.skipif(
    not os.environ.get("SEGUR_MSS_KIT_FULL"), reason="SEGUR_MSS_KIT_FULL=1 pour les 94 exemples (~80 s)"
)
def test_kit_examples_full(kit: CdaKit, examples_dir: Path) -> None:
    for path in sorted(examples_dir.glob("*.xml")):
        check_example(kit, path)


def test_unusable_kit_folder(tmp_path: Path) -> None:
    with pytest.raises(KitError, match="introuvable"):
        CdaKit(tmp_path / "absent")
    with pytest.raises(KitError, match="TestContenuCDA"):
        CdaKit(tmp_path)


def test_svrl_location_is_namespace_free() -> None:
    loc = "/*[local-name()='ClinicalDocument' and namespace-uri()='urn:hl7-org:v3']/*[local-name()='id' and namespace-uri()='urn:hl7-org:v3'][2]"
    assert svrl_location(loc) == "/ClinicalDocument/id[2]"


def test_cli_with_kit_reports_kit_identity(
    kit: CdaKit, kit_dir: Path, kit_cache_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    monkeypatch.setenv("SEGUR_MSS_CACHE_DIR", str(kit_cache_root))  # same cache: compiled stylesheets reused

    from segur_mss.validators.cli import run_validate

    from .test_cli import FakeConsole

    path = tmp_path / "doc.xml"
    path.write_bytes(make_cda(QUALIFIED).xml)
    console = FakeConsole()
    assert run_validate("cda", path, kit=kit_dir, as_json=True, console=console) == 0
    doc = json.loads(console.text)
    assert doc["kit"]["content_sha256"] == kit.identity.content_hash
    assert [r["validator"] for r in doc["reports"]] == ["segur-mss.cda-builtin", "segur-mss.cda-kit"]
    console = FakeConsole()
    assert run_validate("cda", path, kit=kit_dir, as_json=False, console=console) == 0
    assert f"sha256 {kit.identity.content_hash}" in console.text
