"""No bearer token, password, client secret or private key of the run appears anywhere in the bundle.

What is searched, and why: a test-only plugin in the campaign's child process (`_secrets_plugin`) writes, outside
the dossier, every secret that process's operator registered with the redactor (access / refresh / id tokens, PSC
client secrets, authorisation codes, CIBA request ids) and the private keys of its test PKI. The test then reads
every entry of the bundle — expanding nested archives (convergence.xlsx) and the MIME parts of stored messages — and
looks for each secret verbatim and base64-encoded (SASL carries tokens in base64), for each private key's DER and
PEM body, and for the generic shapes a secret nobody registered would have (JWT, PEM private key, `Bearer xxx`).
"""

from __future__ import annotations

import base64
import email
import io
import json
import re
import zipfile
from email import policy
from pathlib import Path
from typing import Any

JWT = re.compile(rb"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
PEM_KEY = re.compile(rb"-----BEGIN (?:[A-Z ]+ )?PRIVATE KEY-----")
BEARER = re.compile(rb"(?i)(?<![a-z])bearer\s+(?!\[EXPURG)[A-Za-z0-9._~+/=-]{12,}")


def _expand(name: str, data: bytes, depth: int = 0) -> list[tuple[str, bytes]]:
    """The blob, plus what archives and messages inside it contain."""
    blobs = [(name, data)]
    if depth > 3:
        return blobs
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for entry in archive.namelist():
                    blobs += _expand(f"{name}!{entry}", archive.read(entry), depth + 1)
        except zipfile.BadZipFile:
            pass
    if name.endswith(".eml"):
        message = email.message_from_bytes(data, policy=policy.default)
        for index, part in enumerate(message.walk()):
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                blobs += _expand(f"{name}#{index}", payload, depth + 1)
    return blobs


def _base64_forms(secret: bytes) -> list[bytes]:
    """The secret's base64 in the three alignments it can take inside a longer base64 string."""
    forms = []
    for pad in range(3):
        encoded = base64.b64encode(b"\0" * pad + secret)
        forms.append(encoded[4 if pad else 0:-4])
    return [f for f in forms if len(f) >= 12]


def _needles(secrets_dir: Path) -> tuple[list[tuple[str, bytes]], int, int]:
    needles: list[tuple[str, bytes]] = []
    tokens = keys = 0
    for path in secrets_dir.glob("secrets-*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        for secret in data["secrets"]:
            raw = secret.encode()
            tokens += 1
            needles.append(("secret", raw))
            needles += [("secret en base64", form) for form in _base64_forms(raw)]
        for pem in data["private_keys"]:
            keys += 1
            body = "".join(line for line in pem.splitlines() if line and not line.startswith("-----"))
            needles.append(("clé privée (PEM)", body[:64].encode()))
            needles.append(("clé privée (DER)", base64.b64decode(body)[-48:]))
    return needles, tokens, keys


def _leaks(blobs: list[tuple[str, bytes]], needles: list[tuple[str, bytes]]) -> list[str]:
    found = []
    for name, data in blobs:
        for kind, needle in needles:
            if needle in data:
                found.append(f"{kind} dans {name}")
        for kind, pattern in (("JWT", JWT), ("clé privée PEM", PEM_KEY), ("jeton Bearer", BEARER)):
            match = pattern.search(data)
            if match:
                found.append(f"{kind} dans {name} : {match.group(0)[:40]!r}")
    return found


def _bundle_blobs(bundle: Path) -> list[tuple[str, bytes]]:
    blobs: list[tuple[str, bytes]] = []
    with zipfile.ZipFile(bundle) as archive:
        for entry in archive.namelist():
            blobs += _expand(entry, archive.read(entry))
    return blobs


def test_the_whole_bundle_is_free_of_the_runs_secrets(campaign_run: dict[str, Any]) -> None:
    needles, tokens, keys = _needles(campaign_run["secrets_dir"])
    assert tokens >= 3, "le greffon de test n'a relevé aucun jeton : la recherche ne prouverait rien"
    assert keys >= 2, "aucune clé privée de la PKI de test relevée"
    blobs = _bundle_blobs(campaign_run["zip"])
    assert any(name.endswith(".xlsx!xl/worksheets/sheet1.xml") for name, _ in blobs)
    assert any("#" in name for name, _ in blobs)  # MIME parts of the stored messages were searched too
    assert _leaks(blobs, needles) == []


def test_the_search_would_see_a_leak(campaign_run: dict[str, Any]) -> None:
    """The check itself works: a token slipped into a proof, raw or in base64 through SASL, is found."""
    needles, _, _ = _needles(campaign_run["secrets_dir"])
    token = next(n for kind, n in needles if kind == "secret" and n.startswith(b"eyJ"))
    sasl = base64.b64encode(b"user=a@test.mssante.fr\x01auth=Bearer " + token + b"\x01\x01")
    planted = [("evidence/x.log", b"C AUTH XOAUTH2 " + sasl), ("results.json", b'{"observed": "' + token + b'"}')]
    leaks = _leaks(planted, needles)
    assert any("base64" in leak and "x.log" in leak for leak in leaks)
    assert any(leak.startswith("secret dans results.json") for leak in leaks)
