"""Hostile input: each abuse gets the protocol's error or a closed connection, and the servers go on serving."""

from __future__ import annotations

import asyncio
import os
import ssl
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from segur_mss.operator.service import ReferenceOperator
from segur_mss.operator.wire import ImapWire, b64, open_session, xoauth2

CLAIRE = "claire.martin@test.mssante.fr"
PAUL = "paul.durand@test.mssante.fr"
HOST = "127.0.0.1"
ROUNDS = 5  # each abuse is repeated, on fresh connections


@pytest.fixture
def operator(tmp_path: Path) -> Iterator[ReferenceOperator]:
    op = ReferenceOperator(tmp_path / "operateur").start()
    try:
        yield op
    finally:
        op.stop()


@pytest.fixture
def tls(operator: ReferenceOperator) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(operator.pki.ca_bundle))


async def read_all(client: ImapWire, timeout: float = 5.0) -> bytes:
    """Everything the server says until it closes the connection."""
    data = b""
    try:
        while True:
            chunk = await asyncio.wait_for(client.reader.read(65536), timeout)
            if not chunk:
                return data
            data += chunk
    except (ConnectionError, TimeoutError):
        return data


async def raw_exchange(port: int, payload: bytes, *, close: bool = True) -> bytes:
    """Connect, send bytes as they are, then read what comes back until the server closes or goes quiet."""
    reader, writer = await asyncio.open_connection(HOST, port)
    data = b""
    try:
        data = await asyncio.wait_for(reader.readline(), 5)
        writer.write(payload)
        await writer.drain()
        if close:
            writer.write_eof()
        while True:
            try:
                chunk = await asyncio.wait_for(reader.read(65536), 2)
            except TimeoutError:
                return data
            if not chunk:
                return data
            data += chunk
    except ConnectionError:
        return data
    finally:
        writer.close()


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def assert_still_serving(operator: ReferenceOperator, tls: ssl.SSLContext, sessions: int = 10) -> None:
    """`sessions` clients in parallel: all authenticate and read their INBOX."""
    token = operator.issue_tokens("81000000011", "lps-test").access_token

    async def one() -> str:
        client = await open_session(HOST, operator.ports["imap"], tls, CLAIRE, token)
        reply = await client.command("SELECT INBOX")
        await client.command("LOGOUT")
        await client.close()
        return reply.status

    async def many() -> list[str]:
        return list(await asyncio.gather(*(one() for _ in range(sessions))))

    assert asyncio.run(many()) == ["OK"] * sessions


def test_garbage_commands_get_bad_then_bye(operator: ReferenceOperator, tls: ssl.SSLContext) -> None:
    garbage = [
        b"\x00\x01\x02\xff\xfe garbage\r\n",
        b"* * *\r\n",
        b"a1 FROBNICATE everything\r\n",
        b"\r\n",
        "a2 SELECT «boîte»\r\n".encode("latin-1"),
        b"a3 FETCH 1:* (BODY[])\r\n",  # not authenticated
    ]
    replies = []
    for _ in range(ROUNDS):
        replies.append(asyncio.run(raw_exchange(operator.ports["imap"], b"".join(garbage))))
    for data in replies:
        lines = data.split(b"\r\n")
        assert sum(1 for line in lines if b" BAD " in line) == 5  # five BADs in a row...
        assert any(line.startswith(b"* BYE") for line in lines)  # ...and the server says goodbye
    stats = operator.imap_servers["imap"].stats
    assert stats.errors == 0 and stats.accepted == ROUNDS
    assert_still_serving(operator, tls)


def test_oversized_lines_and_literals(operator: ReferenceOperator, tls: ssl.SSLContext) -> None:
    port = operator.ports["imap"]
    long_line = asyncio.run(raw_exchange(port, b"a1 NOOP " + b"x" * 200_000 + b"\r\n"))
    assert b"* BYE [TOOBIG]" in long_line
    huge_plus = asyncio.run(raw_exchange(port, b"a1 APPEND INBOX {999999999999+}\r\nabc\r\n"))
    assert b"* BYE [TOOBIG]" in huge_plus
    huge_sync = asyncio.run(raw_exchange(port, b"a1 APPEND INBOX {999999999999}\r\na2 NOOP\r\n"))
    assert b"a1 BAD" in huge_sync and b"a2 OK" in huge_sync  # refused without a continuation, session goes on
    big_login = asyncio.run(raw_exchange(port, b"a1 LOGIN {5000}\r\na2 NOOP\r\n"))
    assert b"a1 BAD" in big_login and b"a2 OK" in big_login
    token = operator.issue_tokens("81000000011", "lps-test").access_token

    async def authenticated_append() -> tuple[str, str]:
        client = await open_session(HOST, port, tls, CLAIRE, token)
        too_big = await client.command(f"APPEND INBOX {{{64 * 1024 * 1024 + 1}}}")
        fine = await client.command("NOOP")
        await client.close()
        return too_big.text, fine.status

    too_big, fine = asyncio.run(authenticated_append())
    assert "BAD" in too_big and fine == "OK"
    assert operator.imap_servers["imap"].stats.errors == 0
    assert_still_serving(operator, tls)


def test_invalid_base64_and_cancelled_authenticate(operator: ReferenceOperator, tls: ssl.SSLContext) -> None:
    async def run() -> list[str]:
        texts = []
        client = await ImapWire.connect(HOST, operator.ports["imap"])
        await client.starttls(tls)
        texts.append((await client.command("AUTHENTICATE XOAUTH2 !!!not*base64!!!")).text)
        texts.append((await client.command("AUTHENTICATE XOAUTH2", answer=[b"%%%% no base64 %%%%"])).text)
        texts.append((await client.command("AUTHENTICATE OAUTHBEARER", answer=[b"*"])).text)
        texts.append((await client.command("AUTHENTICATE XOAUTH2 " + b64(b"user=x\x01\x01"))).text)
        texts.append((await client.command("AUTHENTICATE EXTERNAL " + b64(os.urandom(64)))).text)
        texts.append((await client.command("AUTHENTICATE GSSAPI")).text)
        await client.close()
        return texts

    texts = asyncio.run(run())
    assert [t.split()[1] for t in texts] == ["BAD", "BAD", "BAD", "NO", "NO", "NO"]
    assert "AUTHENTICATIONFAILED" in texts[3] and "AUTHENTICATIONFAILED" in texts[4]
    # Nothing secret in the transcript, and the server kept serving.
    assert operator.imap_servers["imap"].stats.errors == 0
    assert_still_serving(operator, tls, sessions=3)


def test_tls_garbage_on_every_port(operator: ReferenceOperator, tls: ssl.SSLContext) -> None:
    noise = b"\x16\x03\x01\x02\x00" + os.urandom(512)

    async def implicit(port: int) -> bytes:
        reader, writer = await asyncio.open_connection(HOST, port)
        writer.write(noise)
        await writer.drain()
        try:
            return await asyncio.wait_for(reader.read(4096), 5)
        except ConnectionError:
            return b""
        finally:
            writer.close()

    async def starttls(port: int, command: bytes) -> bytes:
        reader, writer = await asyncio.open_connection(HOST, port)
        await reader.readline()
        if port == operator.ports["smtp"]:
            writer.write(b"EHLO x\r\n")
            while not (await reader.readline()).startswith(b"250 "):
                pass
        writer.write(command)
        await reader.readline()
        writer.write(noise)
        await writer.drain()
        try:
            return await asyncio.wait_for(reader.read(4096), 5)
        except ConnectionError:
            return b""
        finally:
            writer.close()

    for _ in range(ROUNDS):
        for port in (operator.ports["imaps"], operator.ports["smtps"]):
            answer = asyncio.run(implicit(port))
            assert b"OK" not in answer and b"220" not in answer  # a TLS alert at most, then closed
        assert b"OK" not in asyncio.run(starttls(operator.ports["imap"], b"a1 STARTTLS\r\n"))
        assert b"250" not in asyncio.run(starttls(operator.ports["smtp"], b"STARTTLS\r\n"))
    imaps = operator.imap_servers["imaps"].stats
    assert imaps.tls_failures == ROUNDS and imaps.errors == 0
    failures = [t for t in operator.recorder.transcripts if t.events("tls_echec")]
    assert len(failures) >= 3 * ROUNDS  # imaps, smtps and IMAP STARTTLS failures are recorded
    assert_still_serving(operator, tls)


def test_clients_vanishing_mid_data_mid_literal_mid_sasl(operator: ReferenceOperator, tls: ssl.SSLContext) -> None:
    token = operator.issue_tokens("81000000011", "lps-test").access_token
    smtp_tls = ssl.create_default_context(cafile=str(operator.pki.ca_bundle))

    async def vanish_mid_data() -> None:
        reader, writer = await asyncio.open_connection(HOST, operator.ports["smtp"])

        async def say(line: bytes, expect: bytes) -> None:
            writer.write(line)
            while True:
                reply = await asyncio.wait_for(reader.readline(), 5)
                if reply[3:4] == b" ":
                    assert reply.startswith(expect), reply
                    return

        await reader.readline()
        await say(b"EHLO x\r\n", b"250")
        await say(b"STARTTLS\r\n", b"220")
        await writer.start_tls(smtp_tls, server_hostname="mss.test.mssante.fr")
        await say(b"EHLO x\r\n", b"250")
        await say(f"AUTH XOAUTH2 {b64(xoauth2(CLAIRE, token))}\r\n".encode(), b"235")
        await say(f"MAIL FROM:<{CLAIRE}>\r\n".encode(), b"250")
        await say(f"RCPT TO:<{PAUL}>\r\n".encode(), b"250")
        await say(b"DATA\r\n", b"354")
        writer.write(b"Subject: coupe\r\n\r\nla moitie du message")
        await writer.drain()
        writer.transport.abort()

    async def vanish_mid_literal() -> None:
        client = await open_session(HOST, operator.ports["imap"], tls, CLAIRE, token)
        await client.send(b"a1 APPEND INBOX {100000+}\r\n" + b"x" * 1000)
        client.writer.transport.abort()

    async def vanish_mid_sasl() -> None:
        client = await ImapWire.connect(HOST, operator.ports["imap"])
        await client.starttls(tls)
        await client.send(b"a1 AUTHENTICATE XOAUTH2\r\n")
        await client.read_line()
        client.writer.transport.abort()

    async def all_at_once() -> None:
        for _ in range(ROUNDS):
            await asyncio.gather(vanish_mid_data(), vanish_mid_literal(), vanish_mid_sasl())

    asyncio.run(all_at_once())
    stats = operator.imap_servers["imap"].stats
    assert wait_until(lambda: stats.active == 0 and all(t.closed for t in operator.recorder.transcripts))
    assert operator.recorder.submissions == []  # no half message accepted
    assert operator.read_mailbox(PAUL) == [] and operator.read_mailbox(CLAIRE) == []
    assert stats.errors == 0 and stats.accepted == 2 * ROUNDS
    assert_still_serving(operator, tls)


def test_a_session_survives_a_barrage_on_its_server(operator: ReferenceOperator, tls: ssl.SSLContext) -> None:
    token = operator.issue_tokens("81000000011", "lps-test").access_token
    operator.deliver(CLAIRE, b"Subject: survivant\r\n\r\nx\r\n")

    async def run() -> tuple[str, int]:
        survivor = await open_session(HOST, operator.ports["imap"], tls, CLAIRE, token)
        await survivor.command("SELECT INBOX")
        payloads = [
            ("imap", os.urandom(2048) + b"\r\n"),
            ("imap", b"a1 NOOP " + b"y" * 100_000 + b"\r\n"),
            ("imap", b"a1 APPEND INBOX {99999999999+}\r\n"),
            ("smtp", os.urandom(2048) + b"\r\n"),
            ("smtp", b"EHLO " + b"z" * 100_000 + b"\r\n"),
        ] * 4
        abuses = [raw_exchange(operator.ports[service], payload) for service, payload in payloads]
        await asyncio.gather(*abuses)
        fetched = await survivor.command("FETCH 1 (BODY.PEEK[])")
        await survivor.close()
        return fetched.status, len(abuses)

    status, count = asyncio.run(run())
    assert status == "OK" and count == 20
    assert operator.imap_servers["imap"].stats.accepted >= 13  # the survivor and the 12 IMAP abuses
    assert operator.imap_servers["imap"].stats.errors == 0


def test_smtp_garbage_oversized_and_bad_base64(operator: ReferenceOperator, tls: ssl.SSLContext) -> None:
    port = operator.ports["smtp"]
    for _ in range(ROUNDS):
        binary = b"".join(b"\x00\xff%d\x80 GARBAGE\r\n" % i for i in range(3))
        unknown = b"".join(b"FROB%d x\r\n" % i for i in range(6))
        replies = asyncio.run(raw_exchange(port, binary + unknown)).split(b"\r\n")
        assert sum(1 for r in replies if r.startswith(b"500 ")) == 3  # bad syntax
        assert sum(1 for r in replies if r.startswith(b"530 ")) == 6  # nothing but STARTTLS before TLS
        oversized = asyncio.run(raw_exchange(port, b"EHLO " + b"z" * 100_000 + b"\r\nNOOP\r\n"))
        assert b"500 Command line too long" in oversized and b"250 OK" in oversized
    smtp_tls = ssl.create_default_context(cafile=str(operator.pki.ca_bundle))

    async def bad_base64() -> list[bytes]:
        reader, writer = await asyncio.open_connection(HOST, port)
        answers = []

        async def say(line: bytes) -> bytes:
            writer.write(line)
            while True:
                reply = await asyncio.wait_for(reader.readline(), 5)
                if reply[3:4] == b" ":
                    return reply

        await reader.readline()
        await say(b"EHLO x\r\n")
        await say(b"STARTTLS\r\n")
        await writer.start_tls(smtp_tls, server_hostname="mss.test.mssante.fr")
        await say(b"EHLO x\r\n")
        answers.append(await say(b"AUTH XOAUTH2 !!!pas-du-base64!!!\r\n"))
        answers.append(await say(b"AUTH OAUTHBEARER\r\n"))
        answers.append(await say(b"%%%%\r\n"))
        answers.append(await say(b"NOOP\r\n"))
        writer.close()
        return answers

    answers = asyncio.run(bad_base64())
    assert answers[0].startswith(b"501") and answers[1].startswith(b"334") and answers[2].startswith(b"501")
    assert answers[3].startswith(b"250")
    assert operator.recorder.submissions == []
    assert_still_serving(operator, tls, sessions=3)
