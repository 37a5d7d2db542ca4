"""The sealed bundle: `report verify` passes on a fresh dossier and names every altered, missing or extra file."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from segur_mss.evidence.bundle import MANIFEST_FILE, SIGNATURE_FILE, BundleError, verify, write_bundle

from ..conftest import run_cli
from .conftest import flat


def _flip(data: bytes, position: int) -> bytes:
    position = position % max(len(data), 1)
    return data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1:] if data else b"x"


def _rewrite_zip(source: Path, target: Path, change: dict[str, bytes | None],
                 add: dict[str, bytes] | None = None) -> None:
    """Copy a zip, replacing (bytes) or dropping (None) some entries, adding others."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename in change:
                if change[info.filename] is not None:
                    dst.writestr(info.filename, change[info.filename])
            else:
                dst.writestr(info, src.read(info.filename))
        for name, data in (add or {}).items():
            dst.writestr(name, data)


@pytest.fixture
def sealed(campaign_run: dict[str, Any], tmp_path: Path) -> tuple[Path, Path]:
    """A private copy of the campaign's run folder and bundle."""
    run_dir = tmp_path / "run"
    shutil.copytree(campaign_run["out"], run_dir)
    shutil.copy2(campaign_run["zip"], tmp_path / "run.zip")
    return run_dir, tmp_path / "run.zip"


def test_verify_passes_on_a_fresh_bundle_and_folder(sealed: tuple[Path, Path]) -> None:
    run_dir, bundle = sealed
    for target in (bundle, run_dir):
        result = verify(target)
        assert result.ok, result.lines()
        assert result.files > 10 and result.signature == "absente"
    proc = run_cli("report", "verify", str(bundle))
    assert proc.returncode == 0 and "Dossier intègre" in proc.stdout


def test_changing_any_byte_of_any_file_of_the_folder_is_named(sealed: tuple[Path, Path]) -> None:
    run_dir, _ = sealed
    files = sorted(p for p in run_dir.rglob("*") if p.is_file())
    assert any(p.name == MANIFEST_FILE for p in files)
    for index, path in enumerate(files):
        original = path.read_bytes()
        for position in (0, len(original) // 2 + index, len(original) - 1):
            path.write_bytes(_flip(original, position))
            result = verify(run_dir)
            rel = path.relative_to(run_dir).as_posix()
            assert not result.ok, f"{rel} modifié à l'octet {position} : non détecté"
            if rel != MANIFEST_FILE:
                assert result.altered == [rel], (rel, result.lines())
            else:
                assert any(MANIFEST_FILE in line for line in result.lines())
        path.write_bytes(original)
    assert verify(run_dir).ok


def test_changing_any_file_inside_the_zip_is_named(sealed: tuple[Path, Path], tmp_path: Path) -> None:
    _, bundle = sealed
    with zipfile.ZipFile(bundle) as archive:
        names = [n for n in archive.namelist() if not n.endswith("/")]
        contents = {n: archive.read(n) for n in names}
    altered = tmp_path / "altere.zip"
    for name in names:
        _rewrite_zip(bundle, altered, {name: _flip(contents[name], len(contents[name]) // 3)})
        result = verify(altered)
        assert not result.ok, name
        if not name.endswith(MANIFEST_FILE):
            assert result.altered == [name.split("/", 1)[1]]
    proc = run_cli("report", "verify", str(altered))
    assert proc.returncode == 1 and "Dossier altéré" in proc.stderr


def test_missing_and_extra_files_are_named(sealed: tuple[Path, Path], tmp_path: Path) -> None:
    run_dir, bundle = sealed
    victim = next(n for n in json.loads((run_dir / MANIFEST_FILE).read_text())["files"]
                  if n["path"].startswith("evidence/"))["path"]
    broken = tmp_path / "incomplet.zip"
    _rewrite_zip(bundle, broken, {f"run/{victim}": None}, add={"run/evidence/ajout.txt": b"preuve glissee"})
    result = verify(broken)
    assert result.missing == [victim] and result.extra == ["evidence/ajout.txt"] and not result.altered
    proc = run_cli("report", "verify", str(broken))
    assert proc.returncode == 1
    assert f"fichier manquant : {victim}" in flat(proc.stderr) and "fichier en trop" in flat(proc.stderr)

    (run_dir / victim).unlink()
    (run_dir / "notes.txt").write_text("ajout", encoding="utf-8")
    result = verify(run_dir)
    assert result.missing == [victim] and result.extra == ["notes.txt"]


def test_unreadable_or_foreign_input_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "pas-un-zip.zip").write_bytes(b"bonjour")
    proc = run_cli("report", "verify", str(tmp_path / "pas-un-zip.zip"))
    assert proc.returncode == 1 and "archive zip illisible" in flat(proc.stderr) and "Traceback" not in proc.stderr
    proc = run_cli("report", "verify", str(tmp_path / "absent.zip"))
    assert proc.returncode == 1 and "introuvable" in proc.stderr and "Traceback" not in proc.stderr
    with pytest.raises(BundleError, match=r"manifest\.json absent"):
        verify(tmp_path)


def _self_signed(key: Any, path: Path) -> Path:
    from datetime import UTC, datetime, timedelta

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Editeur TEST segur-mss")])
    now = datetime.now(UTC)
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + timedelta(days=1)).sign(key, algorithm))
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def _write_key(key: Any, path: Path, password: bytes | None = None) -> Path:
    encryption = (serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption())
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption))
    return path


@pytest.mark.parametrize("kind", ["ec", "rsa", "ed25519"])
def test_signed_manifest_is_verified_against_the_signer(synthetic_run: Path, tmp_path: Path, kind: str) -> None:
    key = {"ec": lambda: ec.generate_private_key(ec.SECP256R1()),
           "rsa": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
           "ed25519": ed25519.Ed25519PrivateKey.generate}[kind]()
    key_path = _write_key(key, tmp_path / "editeur.key")
    cert = _self_signed(key, tmp_path / "editeur.pem")
    bundle = write_bundle(synthetic_run, sign_key=key_path)
    result = verify(bundle, trusted_key=cert)
    assert result.ok and result.signature == "valide, signataire de confiance", result.lines()
    assert verify(bundle).ok  # without --cert: signature checked with the key it carries

    other = ec.generate_private_key(ec.SECP256R1())
    stranger = _self_signed(other, tmp_path / "autre.pem")
    result = verify(bundle, trusted_key=stranger)
    assert not result.ok and any("autre clé" in line for line in result.lines())
    private = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    with zipfile.ZipFile(bundle) as archive:
        assert all(private not in archive.read(n) for n in archive.namelist())  # the private key never leaks


def test_altered_signature_or_unsigned_bundle_fails_with_a_cert(synthetic_run: Path, tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    key_path = _write_key(key, tmp_path / "k.pem", password=b"secret-de-test")
    cert = _self_signed(key, tmp_path / "c.pem")
    proc = run_cli("report", str(synthetic_run), "--sign-key", str(key_path))
    assert proc.returncode == 2 and "SEGUR_MSS_SIGN_KEY_PASSWORD" in flat(proc.stderr)
    import os
    import subprocess
    import sys

    from ..conftest import ROOT

    env = dict(os.environ, SEGUR_MSS_SIGN_KEY_PASSWORD="secret-de-test")
    proc = subprocess.run([sys.executable, "-m", "segur_mss.cli", "report", str(synthetic_run), "--sign-key",
                           str(key_path)], cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    bundle = synthetic_run.parent / f"{synthetic_run.name}.zip"
    proc = run_cli("report", "verify", str(bundle), "--cert", str(cert))
    assert proc.returncode == 0 and "signataire de confiance" in flat(proc.stdout), proc.stderr

    sig_name = f"{synthetic_run.name}/{SIGNATURE_FILE}"
    with zipfile.ZipFile(bundle) as archive:
        sig = json.loads(archive.read(sig_name))
    sig["signature"] = sig["signature"][:-6] + ("AAAAAA" if not sig["signature"].endswith("AAAAAA") else "BBBBBB")
    forged = tmp_path / "forge.zip"
    _rewrite_zip(bundle, forged, {sig_name: (json.dumps(sig, indent=2, sort_keys=True) + "\n").encode()})
    assert not verify(forged).ok and not verify(forged, trusted_key=cert).ok

    write_bundle(synthetic_run)  # unsigned again
    proc = run_cli("report", "verify", str(bundle), "--cert", str(cert))
    assert proc.returncode == 1 and "signature absente" in flat(proc.stderr)
