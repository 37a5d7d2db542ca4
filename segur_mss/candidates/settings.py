"""Settings of the reference candidate, as an editor would expose them in the product's configuration.

Given through `CandidateEnvironment.options` (keys below, French aliases accepted for the report's readers);
everything has a conformant default.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, fields
from typing import Any

from segur_mss.candidates.tls_policy import ANSSI_TLS12_CIPHERS


@dataclass(frozen=True)
class ReferenceSettings:
    #: TLS 1.2 cipher suites allowed (CONF.03); TLS 1.3 suites are OpenSSL's (the ANSSI ones)
    tls12_ciphers: tuple[str, ...] = ANSSI_TLS12_CIPHERS
    #: SASL mechanism carrying the PSC token: XOAUTH2 (CONF.07) or OAUTHBEARER (RFC 7628)
    sasl_mechanism: str = "XOAUTH2"
    #: PSC flow: "ciba" (poll) or "authorization_code" (PKCE); empty: CIBA when PSC approves on its own, else code
    psc_flow: str = ""
    #: refresh the access token when less than this remains (seconds; at most a quarter of its lifetime)
    refresh_margin: float = 30.0
    #: time allowed to reopen a dropped IMAP/SMTP session by itself (CONF.11), and pause between attempts
    reconnect_delay: float = 5.0
    reconnect_pause: float = 0.05
    #: CRL download timeout, and age under which a cached CRL is used without downloading again (0: always try)
    crl_fetch_timeout: float = 2.0
    crl_max_age: float = 0.0
    #: network timeout of one IMAP/SMTP/HTTP exchange
    io_timeout: float = 15.0
    #: how long functional traces are kept (days)
    trace_retention_days: int = 183
    #: Reporting-UA of the integration MDNs
    reporting_ua: str = "segur-mss LPS de reference; integration"
    #: local patients (keys of the synthetic patients) known to the product; empty: all of them
    local_patients: tuple[str, ...] = ()

    @classmethod
    def from_options(cls, options: dict[str, Any] | None) -> ReferenceSettings:
        options = dict(options or {})
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in options.items():
            if key not in known:
                continue
            default = known[key].default
            if isinstance(default, tuple):
                value = tuple(value.split(":") if isinstance(value, str) else value)
            elif isinstance(default, float):
                value = float(value)
            elif isinstance(default, int):
                value = int(value)
            values[key] = value
        return cls(**values)

    def describe(self) -> dict[str, Any]:
        return {
            "version_tls_minimale": ssl.TLSVersion.TLSv1_2.name,
            "suites_tls12": list(self.tls12_ciphers),
            "mecanisme_sasl": self.sasl_mechanism,
            "flux_psc": self.psc_flow or "automatique",
            "delai_reconnexion_s": self.reconnect_delay,
            "conservation_traces_jours": self.trace_retention_days,
        }
