"""Fixtures of the validator tests: the ANS kit and samples from the sibling ``shared/`` folder (skip if absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_ANS = Path(__file__).resolve().parents[2].parent / "shared" / "ans"
KIT_DIR = (
    Path(os.environ["SEGUR_MSS_CDA_KIT"]) if os.environ.get("SEGUR_MSS_CDA_KIT") else SHARED_ANS / "testcontenucda-3.0"
)
EXAMPLES_DIR = KIT_DIR / "ExemplesCDA"
XDM_SAMPLES_DIR = SHARED_ANS / "xdm-samples"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "kit: needs the official ANS CDA kit (slow: compiles the schematrons)")


@pytest.fixture(scope="session")
def kit_dir() -> Path:
    if not (KIT_DIR / "infrastructure" / "cda" / "CDA_extended.xsd").is_file():
        pytest.skip(f"kit ANS TestContenuCDA absent ({KIT_DIR}) : définir SEGUR_MSS_CDA_KIT pour ces tests")
    return KIT_DIR


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    if not EXAMPLES_DIR.is_dir():
        pytest.skip(f"exemples CDA du kit ANS absents ({EXAMPLES_DIR})")
    return EXAMPLES_DIR


@pytest.fixture(scope="session")
def xdm_samples_dir() -> Path:
    if not XDM_SAMPLES_DIR.is_dir():
        pytest.skip(f"archives IHE_XDM d'exemple absentes ({XDM_SAMPLES_DIR})")
    return XDM_SAMPLES_DIR


@pytest.fixture(scope="session")
def kit_cache_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kit-cache")


@pytest.fixture(scope="session")
def kit(kit_dir: Path, kit_cache_root: Path):
    from segur_mss.validators.kit import CdaKit

    return CdaKit(kit_dir, cache_root=kit_cache_root)
