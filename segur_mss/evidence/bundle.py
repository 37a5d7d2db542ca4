"""The bundle of a run: `out/<run>.zip` with `manifest.json` (SHA-256 of every file) and an optional signature.

`manifest.json` is written in one canonical form (sorted keys, 2-space indent, UTF-8, final newline) and carries
`manifest_digest`, the SHA-256 of its own canonical form without that key: any change of any byte of the manifest
breaks either the canonical form or the digest, so `verify` notices it even without a signature. With a key the user
gives (`--sign-key`), `manifest.sig` holds the signature of the manifest's bytes and the signer's public key;
`verify --cert` then checks the signer is the expected one.

`verify` works on the zip and on the run folder itself (the manifest is also written there).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from segur_mss.evidence.meta import tool_versions
from segur_mss.evidence.store import atomic_write, now_iso, sha256_file

MANIFEST_FILE = "manifest.json"
SIGNATURE_FILE = "manifest.sig"
FORMAT = "segur-mss-manifest/1"
SIGNATURE_FORMAT = "segur-mss-signature/1"
PASSWORD_ENV = "SEGUR_MSS_SIGN_KEY_PASSWORD"
#: Not part of what is hashed (they describe the rest).
_SELF = (MANIFEST_FILE, SIGNATURE_FILE)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


class BundleError(Exception):
    """A bundle that cannot be written or read (French message naming the file)."""


def canonical(value: dict[str, Any]) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def bundle_path(run_dir: Path) -> Path:
    """`out/<run>.zip`, beside the run folder."""
    run_dir = Path(run_dir)
    return run_dir.parent / f"{run_dir.name}.zip"


def dossier_files(run_dir: Path) -> list[str]:
    """Every file of the run folder (relative POSIX paths, sorted), the manifest and its signature excepted."""
    files = []
    for path in sorted(Path(run_dir).rglob("*")):
        if path.is_file() and not path.is_symlink():
            rel = path.relative_to(run_dir).as_posix()
            if rel not in _SELF:
                files.append(rel)
    return files


def build_manifest(run_dir: Path) -> dict[str, Any]:
    run_dir = Path(run_dir)
    results: dict[str, Any] = {}
    results_path = run_dir / "results.json"
    if results_path.is_file():
        try:
            results = json.loads(results_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            results = {}
    files = [{"path": rel, "sha256": sha256_file(run_dir / rel), "size": (run_dir / rel).stat().st_size}
             for rel in dossier_files(run_dir)]
    body: dict[str, Any] = {
        "format": FORMAT,
        "created": now_iso(),
        "algorithm": "sha256",
        "run": results.get("run") or {"id": run_dir.name},
        "harness": results.get("harness") or {},
        "summary": results.get("summary") or {},
        "tools": tool_versions(),
        "files": files,
    }
    body["manifest_digest"] = hashlib.sha256(canonical(body)).hexdigest()
    return body


# -- signature ----------------------------------------------------------------------------------------------
def _load_private_key(path: Path) -> Any:
    from cryptography.hazmat.primitives import serialization

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise BundleError(f"{path} : clé de signature illisible ({exc.strerror or exc})") from exc
    password = os.environ.get(PASSWORD_ENV)
    try:
        loader = serialization.load_pem_private_key if b"-----BEGIN" in data else serialization.load_der_private_key
        return loader(data, password=password.encode() if password else None)
    except TypeError as exc:
        raise BundleError(f"{path} : clé chiffrée : donnez son mot de passe dans la variable {PASSWORD_ENV}") from exc
    except ValueError as exc:
        raise BundleError(f"{path} : clé privée illisible ou mot de passe incorrect (PEM ou DER attendu ; "
                          "RSA, EC ou Ed25519)") from exc


def _public_der(public_key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def sign_manifest(manifest_bytes: bytes, key_path: Path) -> dict[str, Any]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

    key = _load_private_key(key_path)
    if isinstance(key, rsa.RSAPrivateKey):
        algorithm, signature = "rsa-pkcs1v15-sha256", key.sign(manifest_bytes, padding.PKCS1v15(), hashes.SHA256())
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        algorithm, signature = "ecdsa-sha256", key.sign(manifest_bytes, ec.ECDSA(hashes.SHA256()))
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        algorithm, signature = "ed25519", key.sign(manifest_bytes)
    else:
        raise BundleError(f"{key_path} : type de clé non pris en charge (RSA, EC ou Ed25519)")
    public = _public_der(key.public_key())
    return {
        "format": SIGNATURE_FORMAT,
        "algorithm": algorithm,
        "signed_file": MANIFEST_FILE,
        "public_key": base64.b64encode(public).decode(),
        "public_key_sha256": hashlib.sha256(public).hexdigest(),
        "signature": base64.b64encode(signature).decode(),
    }


def _verify_signature(manifest_bytes: bytes, sig: dict[str, Any]) -> Any:
    """Check the signature with the public key it carries; returns that key. Raises ValueError."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

    public = serialization.load_der_public_key(base64.b64decode(sig["public_key"], validate=True))
    signature = base64.b64decode(sig["signature"], validate=True)
    algorithm = sig.get("algorithm")
    try:
        if algorithm == "rsa-pkcs1v15-sha256" and isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, manifest_bytes, padding.PKCS1v15(), hashes.SHA256())
        elif algorithm == "ecdsa-sha256" and isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, manifest_bytes, ec.ECDSA(hashes.SHA256()))
        elif algorithm == "ed25519" and isinstance(public, ed25519.Ed25519PublicKey):
            public.verify(signature, manifest_bytes)
        else:
            raise ValueError(f"algorithme « {algorithm} » incohérent avec la clé")
    except InvalidSignature as exc:
        raise ValueError("signature invalide") from exc
    return public


def load_trusted_key(path: Path) -> bytes:
    """DER SubjectPublicKeyInfo of a certificate (PEM/DER) or a public key (PEM/DER) the user trusts."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise BundleError(f"{path} : certificat ou clé publique illisible ({exc.strerror or exc})") from exc
    attempts = (
        lambda: x509.load_pem_x509_certificate(data).public_key(),
        lambda: x509.load_der_x509_certificate(data).public_key(),
        lambda: serialization.load_pem_public_key(data),
        lambda: serialization.load_der_public_key(data),
    )
    for attempt in attempts:
        try:
            return _public_der(attempt())
        except ValueError:
            continue
    raise BundleError(f"{path} : ni certificat X.509 ni clé publique (PEM ou DER attendu)")


# -- writing ------------------------------------------------------------------------------------------------
def write_manifest(run_dir: Path, *, sign_key: Path | None = None) -> dict[str, Any]:
    """Write `manifest.json` (and `manifest.sig` with a key) into the run folder."""
    run_dir = Path(run_dir)
    manifest = build_manifest(run_dir)
    data = canonical(manifest)
    signature = sign_manifest(data, sign_key) if sign_key else None
    atomic_write(run_dir / MANIFEST_FILE, data)
    if signature:
        atomic_write(run_dir / SIGNATURE_FILE, canonical(signature))
    else:
        (run_dir / SIGNATURE_FILE).unlink(missing_ok=True)  # an old signature would not match
    return manifest


def write_bundle(run_dir: Path, *, sign_key: Path | None = None, target: Path | None = None) -> Path:
    """Write the manifest into the run folder, then the zip beside it (entries under `<run>/`)."""
    run_dir = Path(run_dir)
    manifest = write_manifest(run_dir, sign_key=sign_key)
    target = Path(target) if target else bundle_path(run_dir)
    names = [f["path"] for f in manifest["files"]] + [n for n in _SELF if (run_dir / n).is_file()]
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            for name in names:
                info = zipfile.ZipInfo(f"{run_dir.name}/{name}", date_time=_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                with (run_dir / name).open("rb") as src, archive.open(info, "w") as dst:
                    for block in iter(lambda: src.read(1 << 16), b""):
                        dst.write(block)
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


# -- verification -------------------------------------------------------------------------------------------
@dataclass
class Verification:
    """What `report verify` found; `ok` only when nothing is altered, missing or extra and the manifest holds."""

    path: Path
    files: int = 0
    altered: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    signature: str = "absente"  # absente | valide (clé non comparée) | valide et de confiance | invalide
    run: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not (self.altered or self.missing or self.extra or self.problems)

    def lines(self) -> list[str]:
        out = [f"fichier modifié : {p}" for p in self.altered]
        out += [f"fichier manquant : {p}" for p in self.missing]
        out += [f"fichier en trop (absent du manifeste) : {p}" for p in self.extra]
        out += list(self.problems)
        return out


class _Source:
    """The files of a bundle, from a zip or a folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.archive: zipfile.ZipFile | None = None
        self.prefix = ""
        if path.is_dir():
            self.names = set(dossier_files(path)) | {n for n in _SELF if (path / n).is_file()}
            return
        try:
            self.archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise BundleError(f"{path} : archive zip illisible ({exc})") from exc
        entries = [i.filename for i in self.archive.infolist() if not i.is_dir()]
        manifests = sorted((n for n in entries if n.rsplit("/", 1)[-1] == MANIFEST_FILE and n.count("/") <= 1),
                           key=len)
        if not manifests:
            raise BundleError(f"{path} : {MANIFEST_FILE} absent de l'archive")
        self.prefix = manifests[0][: -len(MANIFEST_FILE)]
        self.names = set()
        self.outside = []
        for name in entries:
            if name.startswith(self.prefix):
                self.names.add(name[len(self.prefix):])
            else:
                self.outside.append(name)

    def read(self, name: str) -> bytes:
        if self.archive is not None:
            return self.archive.read(self.prefix + name)
        return (self.path / name).read_bytes()

    def sha256(self, name: str) -> str:
        if self.archive is None:
            return sha256_file(self.path / name)
        digest = hashlib.sha256()
        with self.archive.open(self.prefix + name) as fh:
            for block in iter(lambda: fh.read(1 << 16), b""):
                digest.update(block)
        return digest.hexdigest()

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()


def verify(path: Path, *, trusted_key: Path | None = None) -> Verification:
    """Recompute every hash of a bundle (zip) or run folder against its manifest."""
    path = Path(path)
    if not path.exists():
        raise BundleError(f"{path} : introuvable")
    source = _Source(path)
    result = Verification(path=path)
    try:
        _verify(source, result, trusted_key)
    finally:
        source.close()
    return result


def _verify(source: _Source, result: Verification, trusted_key: Path | None) -> None:
    for name in getattr(source, "outside", []):
        result.extra.append(name)
    if MANIFEST_FILE not in source.names:
        raise BundleError(f"{source.path} : {MANIFEST_FILE} absent (dossier jamais scellé : `segur-mss report DIR`)")
    try:
        manifest_bytes = source.read(MANIFEST_FILE)
    except (zipfile.BadZipFile, zlib.error, OSError) as exc:
        result.problems.append(f"manifeste illisible ({exc}) : {MANIFEST_FILE} modifié")
        return
    try:
        manifest = json.loads(manifest_bytes.decode("utf-8"))
        if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
            raise ValueError("structure")
    except (UnicodeDecodeError, ValueError):
        result.problems.append(f"manifeste illisible : {MANIFEST_FILE} modifié")
        return
    body = {k: v for k, v in manifest.items() if k != "manifest_digest"}
    if canonical(manifest) != manifest_bytes:
        result.problems.append(f"{MANIFEST_FILE} modifié (forme canonique rompue)")
    elif hashlib.sha256(canonical(body)).hexdigest() != manifest.get("manifest_digest"):
        result.problems.append(f"{MANIFEST_FILE} modifié (empreinte du manifeste incorrecte)")
    result.run = manifest.get("run") or {}
    listed: dict[str, str] = {}
    for entry in manifest["files"]:
        if isinstance(entry, dict) and isinstance(entry.get("path"), str):
            listed[entry["path"]] = str(entry.get("sha256"))
    result.files = len(listed)
    for name, expected in sorted(listed.items()):
        if name not in source.names:
            result.missing.append(name)
            continue
        try:
            actual = source.sha256(name)
        except (zipfile.BadZipFile, zlib.error, OSError):
            actual = "illisible"
        if actual != expected:
            result.altered.append(name)
    result.extra += sorted(n for n in source.names if n not in listed and n not in _SELF)
    _check_signature(source, result, manifest_bytes, trusted_key)


def _check_signature(source: _Source, result: Verification, manifest_bytes: bytes, trusted_key: Path | None) -> None:
    if SIGNATURE_FILE not in source.names:
        result.signature = "absente"
        if trusted_key:
            result.problems.append(f"signature absente ({SIGNATURE_FILE}) alors qu'une clé de confiance est donnée")
        return
    try:
        raw = source.read(SIGNATURE_FILE)
        sig = json.loads(raw.decode("utf-8"))
        if canonical(sig) != raw:
            raise ValueError("forme canonique rompue")
        public = _verify_signature(manifest_bytes, sig)
    except (zipfile.BadZipFile, zlib.error, OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        result.signature = "invalide"
        result.problems.append(f"signature du manifeste invalide ({SIGNATURE_FILE} ou {MANIFEST_FILE} modifié : "
                               f"{exc})")
        return
    result.signature = "valide (signataire non comparé : donnez --cert)"
    if trusted_key:
        if _public_der(public) == load_trusted_key(trusted_key):
            result.signature = "valide, signataire de confiance"
        else:
            result.signature = "invalide"
            result.problems.append(f"manifeste signé par une autre clé que celle de {trusted_key}")


def check_sign_key(path: Path) -> None:
    """Fail early (before a run) on a signing key that cannot be used."""
    sign_manifest(b"segur-mss", path)
