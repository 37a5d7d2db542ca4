"""Mailbox auto-configuration for the test domain (CONF.04): Mozilla autoconfig XML, Microsoft Autodiscover (POX)
and the RFC 6186 SRV records as JSON data, all giving the running operator's real hosts and ports.

MSSanté does not say which method an LPS must use (MSSANTE.md: the 2014 specification used Mozilla AutoConfig and
Microsoft AutoDiscover, a secondary source cites RFC 6186): the operator offers all three and records which one
the candidate asked for (`AutoconfigService.requests`, plus the HTTP exchange in the recorder).
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET

from aiohttp import web

from segur_mss.operator.identities import Population

if TYPE_CHECKING:
    from segur_mss.operator.psc import PscProvider

MOZILLA_PATHS = ("/mail/config-v1.1.xml", "/.well-known/autoconfig/mail/config-v1.1.xml")
AUTODISCOVER_PATHS = ("/autodiscover/autodiscover.xml", "/Autodiscover/Autodiscover.xml")
SRV_PATH = "/autoconfig/srv.json"
AUTOCONFIG_PATHS = (*MOZILLA_PATHS, *AUTODISCOVER_PATHS, SRV_PATH)
#: names the mail servers may register their ports under in `ReferenceOperator.ports`
IMAP_STARTTLS = ("imap",)
IMAP_IMPLICIT = ("imaps", "imap_tls")
SMTP_STARTTLS = ("smtp", "submission")
SMTP_IMPLICIT = ("submissions", "smtps", "smtp_tls")
_EMAIL_IN_XML = re.compile(r"<(?:\w+:)?EMailAddress>\s*([^<\s]{1,320})\s*</(?:\w+:)?EMailAddress>", re.I)
AD_RESPONSE_NS = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
AD_OUTLOOK_NS = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"


@dataclass(frozen=True)
class AutoconfigRequest:
    at: float
    method: str  # mozilla | autodiscover | srv
    address: str | None
    answered: bool


@dataclass(frozen=True)
class MailServer:
    protocol: str  # imap | smtp
    host: str
    port: int
    socket_type: str  # STARTTLS | SSL


class AutoconfigService:
    """Auto-configuration documents computed from the live ports of the operator."""

    def __init__(
        self, population: Population, *, host: str, ports: dict[str, int], psc: PscProvider | None = None
    ) -> None:
        self.population = population
        self.host = host
        self.ports = ports  # the operator's live port table
        self.psc = psc
        self.base_url = ""
        self.requests: list[AutoconfigRequest] = []
        self._lock = threading.Lock()

    # -- data -------------------------------------------------------------------------------------------------
    def _port(self, names: tuple[str, ...]) -> int | None:
        return next((self.ports[n] for n in names if self.ports.get(n)), None)

    def servers(self) -> list[MailServer]:
        """The mail servers actually listening, STARTTLS ones first."""
        found = []
        for protocol, names, socket_type in (
            ("imap", IMAP_STARTTLS, "STARTTLS"),
            ("imap", IMAP_IMPLICIT, "SSL"),
            ("smtp", SMTP_STARTTLS, "STARTTLS"),
            ("smtp", SMTP_IMPLICIT, "SSL"),
        ):
            port = self._port(names)
            if port:
                found.append(MailServer(protocol, self.host, port, socket_type))
        return found

    def knows(self, address: str | None) -> bool:
        """Whether the address is one of the operator's domain (unknown mailboxes of the domain included)."""
        return address is None or address.lower().endswith("@" + self.population.domain)

    def _authentication(self, address: str | None) -> str:
        box = self.population.mailbox(address) if address else None
        return "TLS-client-cert" if box is not None and box.type == "APP" else "OAuth2"

    def _record(self, method: str, address: str | None, answered: bool) -> None:
        with self._lock:
            self.requests.append(AutoconfigRequest(time.time(), method, address, answered))

    def mozilla_xml(self, address: str | None) -> str:
        """The Mozilla `clientConfig` document (ISPDB format 1.1)."""
        domain = self.population.domain
        root = ET.Element("clientConfig", version="1.1")
        provider = ET.SubElement(root, "emailProvider", id=domain)
        ET.SubElement(provider, "domain").text = domain
        ET.SubElement(provider, "displayName").text = "Opérateur MSSanté de référence (segur-mss, test)"
        ET.SubElement(provider, "displayShortName").text = "MSSanté test"
        auth = self._authentication(address)
        for server in self.servers():
            tag = "incomingServer" if server.protocol == "imap" else "outgoingServer"
            node = ET.SubElement(provider, tag, type=server.protocol)
            ET.SubElement(node, "hostname").text = server.host
            ET.SubElement(node, "port").text = str(server.port)
            ET.SubElement(node, "socketType").text = server.socket_type
            ET.SubElement(node, "username").text = "%EMAILADDRESS%"
            ET.SubElement(node, "authentication").text = auth
        doc = ET.SubElement(provider, "documentation", url=self.base_url or "https://localhost/")
        ET.SubElement(doc, "descr", lang="fr").text = (
            "BAL PER et ORG : SASL XOAUTH2/OAUTHBEARER avec un jeton Pro Santé Connect ; "
            "BAL applicatives : certificat client IGC-Santé (SASL EXTERNAL)."
        )
        if self.psc is not None and self.psc.base_url and auth == "OAuth2":
            oauth = ET.SubElement(root, "oAuth2")
            ET.SubElement(oauth, "issuer").text = self.psc.issuer
            ET.SubElement(oauth, "scope").text = "openid scope_all"
            ET.SubElement(oauth, "authURL").text = self.psc.endpoint("authorization")
            ET.SubElement(oauth, "tokenURL").text = self.psc.endpoint("token")
        ET.indent(root)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

    def autodiscover_xml(self, address: str) -> str:
        """The Outlook "POX" Autodiscover answer (IMAP and SMTP protocols)."""
        root = ET.Element("Autodiscover", xmlns=AD_RESPONSE_NS)
        response = ET.SubElement(root, "Response", xmlns=AD_OUTLOOK_NS)
        account = ET.SubElement(response, "Account")
        ET.SubElement(account, "AccountType").text = "email"
        ET.SubElement(account, "Action").text = "settings"
        for server in self.servers():
            proto = ET.SubElement(account, "Protocol")
            ET.SubElement(proto, "Type").text = server.protocol.upper()
            ET.SubElement(proto, "Server").text = server.host
            ET.SubElement(proto, "Port").text = str(server.port)
            ET.SubElement(proto, "LoginName").text = address
            ET.SubElement(proto, "SPA").text = "off"
            ET.SubElement(proto, "SSL").text = "on"
            ET.SubElement(proto, "Encryption").text = "TLS" if server.socket_type == "STARTTLS" else "SSL"
            ET.SubElement(proto, "AuthRequired").text = "on"
        ET.indent(root)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

    def srv_records(self, domain: str | None = None) -> dict[str, Any]:
        """RFC 6186 SRV records of the domain, as data (target "." = service not offered)."""
        domain = domain or self.population.domain
        records = []
        for service, names in (
            ("_submission._tcp", SMTP_STARTTLS),
            ("_submissions._tcp", SMTP_IMPLICIT),  # RFC 8314
            ("_imap._tcp", IMAP_STARTTLS),
            ("_imaps._tcp", IMAP_IMPLICIT),
        ):
            port = self._port(names)
            records.append(
                {
                    "name": f"{service}.{domain}.",
                    "type": "SRV",
                    "ttl": 300,
                    "priority": 0,
                    "weight": 1 if port else 0,
                    "port": port or 0,
                    "target": f"{self.host}." if port else ".",
                }
            )
        return {"domain": domain, "rfc": "6186", "records": records}

    # -- HTTP -------------------------------------------------------------------------------------------------
    def add_routes(self, app: web.Application) -> None:
        for path in MOZILLA_PATHS:
            app.router.add_get(path, self._mozilla)
        for path in AUTODISCOVER_PATHS:
            app.router.add_post(path, self._autodiscover)
        app.router.add_get(SRV_PATH, self._srv)

    async def _mozilla(self, request: web.Request) -> web.Response:
        address = request.query.get("emailaddress")
        if not self.knows(address):
            self._record("mozilla", address, False)
            return web.Response(status=404, text="Domaine inconnu de cet opérateur")
        self._record("mozilla", address, True)
        return web.Response(text=self.mozilla_xml(address), content_type="application/xml", charset="utf-8")

    async def _autodiscover(self, request: web.Request) -> web.Response:
        body = (await request.read())[:65536].decode("utf-8", "replace")
        match = _EMAIL_IN_XML.search(body)
        address = match.group(1) if match else None
        if address is None or not self.knows(address):
            self._record("autodiscover", address, False)
            return web.Response(status=404, text="Adresse absente ou domaine inconnu")
        self._record("autodiscover", address, True)
        return web.Response(text=self.autodiscover_xml(address), content_type="application/xml", charset="utf-8")

    async def _srv(self, request: web.Request) -> web.Response:
        domain = request.query.get("domain", self.population.domain)
        if domain.lower() != self.population.domain:
            self._record("srv", domain, False)
            return web.json_response({"domain": domain, "records": []}, status=404)
        self._record("srv", domain, True)
        return web.json_response(self.srv_records(domain))
