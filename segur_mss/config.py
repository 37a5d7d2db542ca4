"""Harness configuration: the product under test's declared facts (e.g. its Convergence reference).

Embedded defaults apply when no file is given; a TOML file (`--config`) overrides them. Errors name the file, the
place and the rule.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Convergence reference of the embedded reference candidate (synthetic).
DEFAULT_PRODUCT_REFERENCE = "SEGUR-MSS-REF-0001"


class ConfigError(Exception):
    def __init__(self, path: str, place: str, rule: str) -> None:
        super().__init__(f"{path} : {place} : {rule}")


@dataclass(frozen=True)
class HarnessConfig:
    product_reference: str = DEFAULT_PRODUCT_REFERENCE
    source: str = "valeurs intégrées"
    #: `[traces]`: how to read the product's trace export (field names, action names; see trace_audit.py)
    traces: dict[str, Any] = field(default_factory=dict)
    #: `[connexion]`: authorised cipher suites, reopening delay (see judgement/connection_policy.py)
    connection: dict[str, Any] = field(default_factory=dict)


def load_config(path: Path | None) -> HarnessConfig:
    """Read `[produit] reference_convergence = "…"` from a TOML file, or return the embedded defaults."""
    if path is None:
        return HarnessConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(str(path), "fichier", "fichier introuvable") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "fichier", f"TOML invalide ({exc})") from exc
    produit = data.get("produit", {})
    if not isinstance(produit, dict):
        raise ConfigError(str(path), "[produit]", "doit être une table")
    reference = produit.get("reference_convergence", DEFAULT_PRODUCT_REFERENCE)
    if not isinstance(reference, str) or not reference.strip() or any(c in reference for c in "\r\n"):
        rule = "une chaîne non vide sur une ligne est attendue"
        raise ConfigError(str(path), "[produit] reference_convergence", rule)
    traces = data.get("traces", {})
    if not isinstance(traces, dict):
        raise ConfigError(str(path), "[traces]", "doit être une table")
    if traces:
        from segur_mss.trace_audit import TraceExportError, TraceMapping

        try:
            TraceMapping.from_config(traces)
        except TraceExportError as exc:
            raise ConfigError(str(path), "[traces]", str(exc)) from exc
    connection = data.get("connexion", {})
    if not isinstance(connection, dict):
        raise ConfigError(str(path), "[connexion]", "doit être une table")
    if connection:
        from segur_mss.judgement.connection_policy import ConnectionPolicy, ConnectionPolicyError

        try:
            ConnectionPolicy.from_config(connection)
        except ConnectionPolicyError as exc:
            raise ConfigError(str(path), "[connexion]", str(exc)) from exc
    return HarnessConfig(product_reference=reference.strip(), source=str(path), traces=traces,
                         connection=connection)
