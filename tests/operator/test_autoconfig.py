"""Auto-configuration of the test domain (CONF.04): Mozilla autoconfig, Autodiscover, RFC 6186 SRV data, with the
running operator's real ports."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Iterator
from xml.etree import ElementTree as ET

import httpx
import pytest

from segur_mss.operator.service import ReferenceOperator


@pytest.fixture(scope="module")
def operator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceOperator]:
    op = ReferenceOperator(tmp_path_factory.mktemp("operateur-autoconfig")).start()
    if "imap" not in op.ports:  # the IMAP server may not be wired yet: a listener stands in for it

        async def greet(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(b"* OK test\r\n")
            await writer.drain()
            writer.close()

        op.add_server("imap", lambda: asyncio.start_server(greet, "127.0.0.1", 0))
    yield op
    op.stop()


@pytest.fixture(scope="module")
def web(operator: ReferenceOperator) -> Iterator[httpx.Client]:
    env = operator.env()
    ctx = ssl.create_default_context(cafile=env["ca_bundle"])
    with httpx.Client(base_url=env["autoconfig"]["url"], verify=ctx, timeout=5) as client:
        yield client


IMPLICIT = {"imap": "imaps", "smtp": "smtps"}  # names of the implicit-TLS ports in `operator.ports`


def servers(xml: str) -> list[dict[str, str]]:
    root = ET.fromstring(xml)
    return [
        {"type": node.get("type", "")} | {child.tag: child.text or "" for child in node}
        for node in root.iter()
        if node.tag in ("incomingServer", "outgoingServer")
    ]


def expected_port(operator: ReferenceOperator, server: dict[str, str]) -> int:
    name = server["type"] if server["socketType"] == "STARTTLS" else IMPLICIT[server["type"]]
    return operator.ports[name]


@pytest.mark.parametrize("path", ["/mail/config-v1.1.xml", "/.well-known/autoconfig/mail/config-v1.1.xml"])
def test_mozilla_autoconfig_gives_the_live_hosts_and_ports(
    operator: ReferenceOperator, web: httpx.Client, path: str
) -> None:
    response = web.get(path, params={"emailaddress": "claire.martin@test.mssante.fr"})
    assert response.status_code == 200 and "xml" in response.headers["content-type"]
    found = servers(response.text)
    starttls = {(s["type"], int(s["port"])) for s in found if s["socketType"] == "STARTTLS"}
    assert starttls == {("imap", operator.ports["imap"]), ("smtp", operator.ports["smtp"])}
    assert found[0]["type"] == "imap" and found[0]["socketType"] == "STARTTLS"  # preferred first
    for server in found:
        assert server["hostname"] == "127.0.0.1" and server["authentication"] == "OAuth2"
        assert int(server["port"]) == expected_port(operator, server)
        with socket.create_connection((server["hostname"], int(server["port"])), timeout=5) as sock:  # ports answer
            if server["socketType"] == "STARTTLS":
                assert sock.recv(64)[:1] in (b"*", b"2")
    root = ET.fromstring(response.text)
    assert root.findtext("oAuth2/issuer") == operator.psc.issuer
    assert root.findtext("emailProvider/domain") == "test.mssante.fr"


def test_app_mailbox_is_told_to_use_its_certificate(web: httpx.Client) -> None:
    response = web.get("/mail/config-v1.1.xml", params={"emailaddress": "pfi.clinique@test.mssante.fr"})
    assert {s["authentication"] for s in servers(response.text)} == {"TLS-client-cert"}
    assert ET.fromstring(response.text).find("oAuth2") is None


def test_other_domains_are_not_answered(web: httpx.Client) -> None:
    assert web.get("/mail/config-v1.1.xml", params={"emailaddress": "x@gmail.com"}).status_code == 404
    assert web.get("/autoconfig/srv.json", params={"domain": "example.org"}).status_code == 404


def test_srv_records_and_autodiscover(operator: ReferenceOperator, web: httpx.Client) -> None:
    records = {r["name"]: r for r in web.get("/autoconfig/srv.json").json()["records"]}
    assert records["_submission._tcp.test.mssante.fr."]["port"] == operator.ports["smtp"]
    assert records["_imap._tcp.test.mssante.fr."]["port"] == operator.ports["imap"]
    assert records["_imap._tcp.test.mssante.fr."]["target"] == "127.0.0.1."
    if "imaps" in operator.ports:
        assert records["_imaps._tcp.test.mssante.fr."]["port"] == operator.ports["imaps"]
    else:
        assert records["_imaps._tcp.test.mssante.fr."]["target"] == "."  # RFC 6186: service not offered
    body = (
        '<?xml version="1.0"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/'
        'requestschema/2006"><Request><EMailAddress>paul.durand@test.mssante.fr</EMailAddress>'
        "<AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
        "</AcceptableResponseSchema></Request></Autodiscover>"
    )
    answer = web.post("/autodiscover/autodiscover.xml", content=body, headers={"Content-Type": "text/xml"})
    assert answer.status_code == 200
    ns = {"o": "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"}
    protocols = {
        (p.findtext("o:Type", namespaces=ns), p.findtext("o:Encryption", namespaces=ns)): int(
            p.findtext("o:Port", namespaces=ns) or 0
        )
        for p in ET.fromstring(answer.text).iter(f"{{{ns['o']}}}Protocol")
    }
    assert protocols[("IMAP", "TLS")] == operator.ports["imap"]
    assert protocols[("SMTP", "TLS")] == operator.ports["smtp"]


def test_autoconfig_requests_are_recorded(operator: ReferenceOperator, web: httpx.Client) -> None:
    with operator.capture() as cap:
        web.get("/.well-known/autoconfig/mail/config-v1.1.xml", params={"emailaddress": "paul.durand@test.mssante.fr"})
    assert [(e.service, e.status) for e in cap.http] == [("autoconfig", 200)]
    last = operator.web.autoconfig.requests[-1]
    assert (last.method, last.address, last.answered) == ("mozilla", "paul.durand@test.mssante.fr", True)
