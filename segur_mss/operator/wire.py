"""Bare-wire clients of the operator's mail servers, for its own tests, the benchmark and diagnostics.

They speak the protocol line by line (no client library smoothing anything over), so that hostile input, exact
server replies and many simultaneous sessions can be exercised from asyncio.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import ssl
from base64 import b64encode
from dataclasses import dataclass, field

_TAGGED = re.compile(rb"^(\S+) (OK|NO|BAD)\b")
_LITERAL = re.compile(rb"\{(\d+)\}\r\n$")


def xoauth2(address: str, token: str) -> bytes:
    """XOAUTH2 initial client response (not base64-encoded)."""
    return f"user={address}\x01auth=Bearer {token}\x01\x01".encode()


def oauthbearer(address: str, token: str, host: str = "127.0.0.1", port: int = 0) -> bytes:
    """RFC 7628 OAUTHBEARER initial client response (not base64-encoded)."""
    authzid = address.replace("=", "=3D").replace(",", "=2C")
    return f"n,a={authzid},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01".encode()


def b64(data: bytes) -> str:
    return b64encode(data).decode("ascii")


@dataclass
class ImapReply:
    """What the server answered to one command: untagged lines (literals inlined) and the tagged status."""

    tag: str
    status: str  # OK | NO | BAD | BYE (connection closed with BYE) | EOF (closed without a word)
    text: str
    untagged: list[bytes] = field(default_factory=list)
    continuations: list[bytes] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "OK"


class ImapWire:
    """A minimal asyncio IMAP client."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.greeting = b""
        self._tags = itertools.count(1)

    @classmethod
    async def connect(
        cls,
        host: str,
        port: int,
        *,
        tls: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
        timeout: float = 10.0,
    ) -> ImapWire:
        """Open a connection (implicit TLS when `tls` is given) and read the greeting."""
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(
                host, port, ssl=tls, server_hostname=server_hostname if tls else None, limit=1 << 20
            ),
            timeout,
        )
        client = cls(reader, writer)
        client.greeting = await asyncio.wait_for(reader.readline(), timeout)
        return client

    def next_tag(self) -> str:
        return f"t{next(self._tags)}"

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def read_line(self, timeout: float = 10.0) -> bytes:
        """One logical server line, with any literal it announces appended."""
        line = await asyncio.wait_for(self.reader.readline(), timeout)
        while True:
            match = _LITERAL.search(line)
            if not match:
                return line
            line += await asyncio.wait_for(self.reader.readexactly(int(match.group(1))), timeout)
            line += await asyncio.wait_for(self.reader.readline(), timeout)

    async def wait_tagged(self, tag: str, *, answer: list[bytes] | None = None, timeout: float = 10.0) -> ImapReply:
        """Read until the tagged reply; `answer` lines are sent, one per continuation request (`+`)."""
        pending = list(answer or [])
        reply = ImapReply(tag, "EOF", "")
        while True:
            line = await self.read_line(timeout)
            if not line:
                return reply
            if line.startswith(b"+"):
                reply.continuations.append(line)
                await self.send((pending.pop(0) if pending else b"") + b"\r\n")
                continue
            match = _TAGGED.match(line)
            if match and match.group(1).decode() == tag:
                reply.status = match.group(2).decode()
                reply.text = line.decode("utf-8", "replace").strip()
                return reply
            reply.untagged.append(line)
            if line.startswith(b"* BYE"):
                reply.status = "BYE"
                reply.text = line.decode("utf-8", "replace").strip()

    async def command(self, text: str, *, answer: list[bytes] | None = None, timeout: float = 10.0) -> ImapReply:
        tag = self.next_tag()
        await self.send(f"{tag} {text}\r\n".encode())
        return await self.wait_tagged(tag, answer=answer, timeout=timeout)

    async def starttls(self, context: ssl.SSLContext, server_hostname: str = "mss.test.mssante.fr") -> ImapReply:
        reply = await self.command("STARTTLS")
        if reply.ok:
            await self.writer.start_tls(context, server_hostname=server_hostname)
        return reply

    async def authenticate(self, mechanism: str, blob: bytes, *, initial: bool = True) -> ImapReply:
        """AUTHENTICATE with the initial response on the command line (SASL-IR) or after the `+`."""
        if initial:
            return await self.command(f"AUTHENTICATE {mechanism} {b64(blob) or '='}", answer=[b""])
        return await self.command(f"AUTHENTICATE {mechanism}", answer=[b64(blob).encode(), b""])

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(TimeoutError, ConnectionError, ssl.SSLError, OSError):
            await asyncio.wait_for(self.writer.wait_closed(), 2)


async def open_session(
    host: str,
    port: int,
    context: ssl.SSLContext,
    address: str,
    token: str,
    *,
    mechanism: str = "XOAUTH2",
    implicit: bool = False,
) -> ImapWire:
    """A connected, TLS-protected, authenticated IMAP session (raises RuntimeError when refused)."""
    client = await ImapWire.connect(
        host, port, tls=context if implicit else None, server_hostname="mss.test.mssante.fr"
    )
    if not implicit:
        reply = await client.starttls(context)
        if not reply.ok:
            raise RuntimeError(f"STARTTLS refusé : {reply.text}")
    blob = xoauth2(address, token) if mechanism == "XOAUTH2" else oauthbearer(address, token, host, port)
    reply = await client.authenticate(mechanism, blob)
    if not reply.ok:
        await client.close()
        raise RuntimeError(f"authentification refusée : {reply.text}")
    return client
