"""``run_validate``: exit codes, text and JSON output, clear French message for unreadable input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from segur_mss.documents import PATIENTS, build_xdm, make_cda
from segur_mss.documents.mail import build_document_mail
from segur_mss.validators.cli import run_validate
from segur_mss.validators.mdn import build_integration_mdn

from .helpers import mutate, remove

P = PATIENTS["qualifie"]


class FakeConsole:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def print(self, *objects: object, **kwargs: object) -> None:
        self.lines.append(" ".join(str(o) for o in objects))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    out = {
        "cda": tmp_path / "doc.xml",
        "bad_cda": tmp_path / "bad.xml",
        "xdm": tmp_path / "IHE_XDM.zip",
        "mail": tmp_path / "mail.eml",
        "bad_mail": tmp_path / "bad.eml",
        "mdn": tmp_path / "mdn.eml",
    }
    doc = make_cda(P)
    out["cda"].write_bytes(doc.xml)
    out["bad_cda"].write_bytes(mutate(doc.xml, remove("/h:ClinicalDocument/h:setId")))
    out["xdm"].write_bytes(build_xdm([doc], P))
    mail = build_document_mail([doc], P)
    out["mail"].write_bytes(mail.as_bytes())
    out["bad_mail"].write_bytes(build_document_mail([doc], P, nil=None).as_bytes())
    out["mdn"].write_bytes(
        build_integration_mdn(mail, reporting_mailbox="pfi@test.mssante.fr", error_code=904).as_bytes()
    )
    return out


@pytest.mark.parametrize(
    "kind,key,code",
    [
        ("cda", "cda", 0),
        ("cda", "bad_cda", 1),
        ("xdm", "xdm", 0),
        ("mail", "mail", 0),
        ("mail", "bad_mail", 1),
        ("mail", "mdn", 0),
        ("xdm", "cda", 1),
    ],
)
def test_exit_codes(files: dict[str, Path], kind: str, key: str, code: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEGUR_MSS_CDA_KIT", raising=False)
    console = FakeConsole()
    assert run_validate(kind, files[key], kit=None, as_json=False, console=console) == code
    assert str(files[key]) in console.text
    assert ("Verdict : VALIDE" in console.text) == (code == 0)


def test_text_output_names_rule_and_requirement(files: dict[str, Path], monkeypatch) -> None:
    monkeypatch.delenv("SEGUR_MSS_CDA_KIT", raising=False)
    console = FakeConsole()
    run_validate("mail", files["bad_mail"], kit=None, as_json=False, console=console)
    assert "ERREUR" in console.text and "MAIL-NIL-001 [SC.MSS/CONF.16]" in console.text


def test_json_output(files: dict[str, Path], monkeypatch) -> None:
    monkeypatch.delenv("SEGUR_MSS_CDA_KIT", raising=False)
    console = FakeConsole()
    assert run_validate("cda", files["bad_cda"], kit=None, as_json=True, console=console) == 1
    doc = json.loads(console.text)
    assert doc["valid"] is False and doc["kind"] == "cda" and doc["kit"] is None
    assert doc["reports"][0]["findings"][0]["rule_id"] == "CDA-VER-001"


def test_unreadable_inputs(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("SEGUR_MSS_CDA_KIT", raising=False)
    console = FakeConsole()
    missing = tmp_path / "absent.xml"
    assert run_validate("cda", missing, kit=None, as_json=False, console=console) == 2
    assert "impossible de lire" in console.text and str(missing) in console.text and "Traceback" not in console.text
    console = FakeConsole()
    assert run_validate("xdm", tmp_path, kit=None, as_json=True, console=console) == 2
    assert "dossier" in console.text
    console = FakeConsole()
    assert run_validate("cda", missing, kit=tmp_path / "pas-de-kit", as_json=False, console=console) == 2
    assert run_validate("cda", tmp_path, kit=None, as_json=False, console=None) == 2


def test_unusable_kit_is_a_clear_error(files: dict[str, Path], tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("SEGUR_MSS_CDA_KIT", raising=False)
    console = FakeConsole()
    assert run_validate("cda", files["cda"], kit=tmp_path, as_json=False, console=console) == 2
    assert "kit CDA inutilisable" in console.text


def test_rich_console_is_not_confused_by_brackets(files: dict[str, Path], monkeypatch) -> None:
    from rich.console import Console

    monkeypatch.delenv("SEGUR_MSS_CDA_KIT", raising=False)
    console = Console(record=True, width=200)
    run_validate("mail", files["bad_mail"], kit=None, as_json=False, console=console)
    assert "[SC.MSS/CONF.16]" in console.export_text()
