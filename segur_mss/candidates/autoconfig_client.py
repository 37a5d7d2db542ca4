"""Auto-configuration of a mailbox from its address alone (SC.MSS/CONF.04).

The method is not fixed by MSSanté: like Thunderbird, the candidate asks the Mozilla autoconfig document of the
address's domain (`https://autoconfig.<domain>/mail/config-v1.1.xml?emailaddress=…`, then
`https://<domain>/.well-known/autoconfig/mail/config-v1.1.xml`); the product may also be given its operator's
auto-configuration URL (where the test operator publishes it), which is asked first. The answer gives the IMAP and
SMTP hosts, ports and security; STARTTLS is preferred, implicit TLS accepted; never plain text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from lxml import etree

from segur_mss.candidates.mail_transport import ServerAddress

SOCKET_TYPES = {"STARTTLS": "starttls", "SSL": "implicit", "TLS": "implicit"}


class AutoconfigError(Exception):
    """No usable configuration was found (French message)."""


@dataclass(frozen=True)
class MailSettings:
    imap: ServerAddress
    smtp: ServerAddress
    source: str  # URL that answered
    authentication: str = ""

    def describe(self) -> dict[str, Any]:
        return {"imap": self.imap.describe(), "smtp": self.smtp.describe(), "source": self.source,
                "authentification": self.authentication}


def candidate_urls(address: str, operator_url: str = "") -> list[str]:
    """Where the autoconfig document of `address` may be, in the order they are tried."""
    domain = address.rsplit("@", 1)[-1].lower()
    query = "?emailaddress=" + quote(address, safe="@")
    urls = []
    if operator_url:
        base = operator_url.rstrip("/")
        urls += [f"{base}/mail/config-v1.1.xml{query}", f"{base}/.well-known/autoconfig/mail/config-v1.1.xml{query}"]
    urls += [
        f"https://autoconfig.{domain}/mail/config-v1.1.xml{query}",
        f"https://{domain}/.well-known/autoconfig/mail/config-v1.1.xml{query}",
    ]
    return urls


def parse_mozilla(xml: bytes, address: str) -> tuple[ServerAddress, ServerAddress, str]:
    """IMAP and SMTP servers of a Mozilla `clientConfig` (TLS only, STARTTLS first)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.fromstring(xml, parser)
    found: dict[str, list[ServerAddress]] = {"imap": [], "smtp": []}
    auth = ""
    for tag in ("incomingServer", "outgoingServer"):
        for node in root.iter(tag):
            kind = node.get("type", "")
            socket_type = SOCKET_TYPES.get((node.findtext("socketType") or "").strip().upper())
            host = (node.findtext("hostname") or "").strip().replace("%EMAILDOMAIN%", address.rsplit("@", 1)[-1])
            port = (node.findtext("port") or "").strip()
            if kind in found and socket_type and host and port.isdigit():
                found[kind].append(ServerAddress(host, int(port), socket_type))
                auth = auth or (node.findtext("authentication") or "").strip()
    for kind in found:
        found[kind].sort(key=lambda s: s.tls != "starttls")
    if not found["imap"] or not found["smtp"]:
        raise AutoconfigError("document d'auto-configuration sans serveur IMAP et SMTP sécurisés")
    return found["imap"][0], found["smtp"][0], auth


def discover(address: str, *, operator_url: str, verify: Any, timeout: float = 3.0) -> MailSettings:
    """The mailbox's servers from its address (first answering URL wins)."""
    problems = []
    with httpx.Client(verify=verify, timeout=timeout, trust_env=False, follow_redirects=False) as client:
        for url in candidate_urls(address, operator_url):
            try:
                response = client.get(url)
            except httpx.HTTPError as exc:
                problems.append(f"{url.split('?')[0]} : {type(exc).__name__}")
                continue
            if response.status_code != 200:
                problems.append(f"{url.split('?')[0]} : HTTP {response.status_code}")
                continue
            try:
                imap, smtp, auth = parse_mozilla(response.content, address)
            except (etree.XMLSyntaxError, AutoconfigError) as exc:
                problems.append(f"{url.split('?')[0]} : {exc}")
                continue
            return MailSettings(imap, smtp, url.split("?")[0], auth)
    raise AutoconfigError("aucune auto-configuration trouvée pour " + address + " (" + " ; ".join(problems) + ")")
