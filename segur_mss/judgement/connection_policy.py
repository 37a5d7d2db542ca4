"""What the connection family expects, as configuration (`[connexion]` of the `--config` TOML file).

The authorised cipher suites of SC.MSS/CONF.03 are not public: the default is the ANSSI recommendation for TLS 1.2
("Recommandations de sécurité relatives à TLS", annex A.1, as transcribed by the operator's `tls_profiles`) and
the three TLS 1.3 suites; an editor who knows the official list puts it in the file::

    [connexion]
    suites_tls12 = ["ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384"]   # noms OpenSSL
    suites_tls13 = ["TLS_AES_256_GCM_SHA384"]
    delai_reouverture_s = 5     # SC.MSS/CONF.11 : délai maximal de réouverture d'une session fermée

The list in force is shown in the evidence of every CONF.03 scenario.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from segur_mss.operator.tls_profiles import ANSSI_TLS12_CIPHERS, TLS13_SUITES

KEYS = ("suites_tls12", "suites_tls13", "delai_reouverture_s")
DEFAULT_SOURCE = "valeur par défaut : recommandations TLS de l'ANSSI (TLS 1.2, annexe A.1) et suites TLS 1.3"


class ConnectionPolicyError(ValueError):
    """A `[connexion]` value the harness cannot use (French message naming the key and the rule)."""


@dataclass(frozen=True)
class ConnectionPolicy:
    tls12_suites: tuple[str, ...] = ANSSI_TLS12_CIPHERS
    tls13_suites: tuple[str, ...] = TLS13_SUITES
    #: seconds within which a session the server closed must be authenticated again (CONF.11)
    reopen_delay: float = 5.0
    source: str = DEFAULT_SOURCE

    @property
    def authorised_suites(self) -> tuple[str, ...]:
        return (*self.tls12_suites, *self.tls13_suites)

    @classmethod
    def from_config(cls, table: dict[str, Any] | None, source: str = "") -> ConnectionPolicy:
        table = dict(table or {})
        unknown = sorted(set(table) - set(KEYS))
        if unknown:
            raise ConnectionPolicyError(f"clé(s) inconnue(s) : {', '.join(unknown)} ; clés possibles : "
                                        f"{', '.join(KEYS)}")
        values: dict[str, Any] = {}
        for key, field_name in (("suites_tls12", "tls12_suites"), ("suites_tls13", "tls13_suites")):
            if key in table:
                suites = table[key]
                if not isinstance(suites, list) or not all(isinstance(s, str) and s.strip() for s in suites):
                    raise ConnectionPolicyError(f"{key} : une liste de noms de suites (noms OpenSSL) est attendue")
                values[field_name] = tuple(s.strip() for s in suites)
        if not values.get("tls12_suites", True) and not values.get("tls13_suites", True):
            raise ConnectionPolicyError("suites_tls12, suites_tls13 : au moins une suite autorisée est attendue")
        if "delai_reouverture_s" in table:
            delay = table["delai_reouverture_s"]
            if isinstance(delay, bool) or not isinstance(delay, int | float) or not 0 < delay <= 600:
                raise ConnectionPolicyError("delai_reouverture_s : un nombre de secondes entre 0 et 600 est attendu")
            values["reopen_delay"] = float(delay)
        if values:
            values["source"] = f"configuration {source}".strip() if source else "configuration"
        return cls(**values)

    def describe(self) -> str:
        """The list in force, for the evidence (a proof of every CONF.03 scenario)."""
        lines = [f"Suites de chiffrement autorisées ({self.source}) ;",
                 "la liste officielle MSSanté n'est pas publique : à remplacer par [connexion] suites_tls12 / "
                 "suites_tls13 dans le fichier --config.", "", "TLS 1.2 :"]
        lines += [f"  {s}" for s in self.tls12_suites] or ["  (aucune)"]
        lines += ["TLS 1.3 :"]
        lines += [f"  {s}" for s in self.tls13_suites] or ["  (aucune)"]
        return "\n".join(lines) + "\n"
