"""Benchmark of the reference operator's mail side, on loopback only (prints numbers; not a timed test).

1. SMTP -> IMAP throughput: N messages submitted over C authenticated STARTTLS connections, then read back over
   IMAP; every message must arrive byte for byte (zero loss). Targets: >= 300 messages/s, no loss.
2. Concurrent IMAP sessions held: S clients each open STARTTLS + XOAUTH2 + SELECT and stay; all must answer a NOOP
   while all are open. Target: >= 200 sessions.

    .venv/bin/python benchmarks/bench_operator.py [--messages 2000] [--connections 8] [--sessions 250]

The operator runs in this process (its own thread and loop), the clients in a child process (another core), as a
candidate would. Everything is bounded by --timeout and stops by itself. Exit status 1 when a message is lost or
altered or a session fails; the speed targets are reported, not enforced.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import multiprocessing
import resource
import ssl
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from segur_mss.operator.service import ReferenceOperator  # noqa: E402
from segur_mss.operator.wire import b64, open_session, xoauth2  # noqa: E402

SENDER, SENDER_RPPS = "claire.martin@test.mssante.fr", "81000000011"
RECIPIENT, RECIPIENT_RPPS = "paul.durand@test.mssante.fr", "81000000029"
HOST = "127.0.0.1"
TARGET_RATE, TARGET_SESSIONS = 300, 200


def make_message(index: int, size: int) -> bytes:
    head = (
        f"From: Claire MARTIN <{SENDER}>\r\nTo: <{RECIPIENT}>\r\nSubject: XDM/1.0/DDM+Banc {index}\r\n"
        f"Message-ID: <banc-{index}@test.mssante.fr>\r\nX-MSS-NIL: BANC\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    ).encode()
    line = b"Compte rendu de banc d'essai, ligne de texte ordinaire.\r\n"
    body = line * max(1, (size - len(head)) // len(line))
    return head + body


# -- client side (child process) ------------------------------------------------------------------------------
async def smtp_sender(port: int, ctx: ssl.SSLContext, token: str, messages: list[bytes]) -> int:
    reader, writer = await asyncio.open_connection(HOST, port)

    async def reply() -> bytes:
        while True:
            line = await reader.readline()
            if not line:
                raise ConnectionError("connexion fermée par le serveur")
            if line[3:4] != b"-":
                return line

    async def say(command: bytes, expect: bytes) -> None:
        writer.write(command)
        answer = await reply()
        if not answer.startswith(expect):
            raise RuntimeError(f"{command[:20]!r} -> {answer!r}")

    await reply()
    await say(b"EHLO banc\r\n", b"250")
    await say(b"STARTTLS\r\n", b"220")
    await writer.start_tls(ctx, server_hostname="mss.test.mssante.fr")
    await say(b"EHLO banc\r\n", b"250")
    await say(f"AUTH XOAUTH2 {b64(xoauth2(SENDER, token))}\r\n".encode(), b"235")
    sent = 0
    for raw in messages:
        await say(f"MAIL FROM:<{SENDER}>\r\n".encode(), b"250")
        await say(f"RCPT TO:<{RECIPIENT}>\r\n".encode(), b"250")
        await say(b"DATA\r\n", b"354")
        stuffed = b"\r\n".join(b"." + ln if ln.startswith(b".") else ln for ln in raw.split(b"\r\n"))
        await say(stuffed + b".\r\n" if stuffed.endswith(b"\r\n") else stuffed + b"\r\n.\r\n", b"250")
        sent += 1
    await say(b"QUIT\r\n", b"221")
    writer.close()
    return sent


async def read_back(port: int, ctx: ssl.SSLContext, token: str) -> list[bytes]:
    client = await open_session(HOST, port, ctx, RECIPIENT, token)
    await client.command("SELECT INBOX")
    reply = await client.command("UID FETCH 1:* (BODY.PEEK[])", timeout=120)
    await client.command("LOGOUT")
    await client.close()
    bodies = []
    for line in reply.untagged:
        start = line.find(b"}\r\n")
        if start < 0:
            continue
        size = int(line[line.rfind(b"{", 0, start) + 1 : start])
        bodies.append(line[start + 3 : start + 3 + size])
    return bodies


async def hold_sessions(port: int, ctx: ssl.SSLContext, token: str, count: int) -> dict[str, Any]:
    semaphore = asyncio.Semaphore(50)  # open at most 50 at a time (handshakes), then hold them all

    async def open_one() -> Any:
        async with semaphore:
            client = await open_session(HOST, port, ctx, RECIPIENT, token)
            await client.command("SELECT INBOX")
            return client

    start = time.perf_counter()
    results = await asyncio.gather(*(open_one() for _ in range(count)), return_exceptions=True)
    opened = [c for c in results if not isinstance(c, BaseException)]
    open_time = time.perf_counter() - start
    start = time.perf_counter()
    noops = await asyncio.gather(*(c.command("NOOP") for c in opened), return_exceptions=True)
    alive = sum(1 for r in noops if not isinstance(r, BaseException) and r.ok)
    noop_time = time.perf_counter() - start
    await asyncio.gather(*(c.close() for c in opened), return_exceptions=True)
    errors = sorted({repr(r)[:120] for r in results if isinstance(r, BaseException)})
    return {
        "requested": count,
        "opened": len(opened),
        "alive": alive,
        "open_seconds": round(open_time, 2),
        "noop_all_seconds": round(noop_time, 3),
        "errors": errors[:3],
    }


def client_main(params: dict[str, Any], queue: Any) -> None:
    ctx = ssl.create_default_context(cafile=params["ca"])

    async def run() -> dict[str, Any]:
        async with asyncio.timeout(params["timeout"]):
            messages = [make_message(i, params["size"]) for i in range(params["messages"])]
            chunks = [messages[i :: params["connections"]] for i in range(params["connections"])]
            start = time.perf_counter()
            sent = await asyncio.gather(
                *(smtp_sender(params["smtp"], ctx, params["sender_token"], chunk) for chunk in chunks)
            )
            submitted = time.perf_counter() - start
            bodies = await read_back(params["imap"], ctx, params["recipient_token"])
            end_to_end = time.perf_counter() - start
            expected = {hashlib.sha256(m).hexdigest() for m in messages}
            received = [hashlib.sha256(b).hexdigest() for b in bodies]
            throughput = {
                "messages": len(messages),
                "connections": params["connections"],
                "size": len(messages[0]),
                "sent": sum(sent),
                "fetched": len(bodies),
                "identical": len(set(received) & expected),
                "lost": len(expected - set(received)),
                "duplicates": len(received) - len(set(received)),
                "submit_seconds": round(submitted, 2),
                "end_to_end_seconds": round(end_to_end, 2),
                "submit_rate": round(len(messages) / submitted, 1),
                "end_to_end_rate": round(len(messages) / end_to_end, 1),
            }
            sessions = await hold_sessions(params["imap"], ctx, params["recipient_token"], params["sessions"])
            return {"throughput": throughput, "sessions": sessions}

    try:
        queue.put(asyncio.run(run()))
    except BaseException as exc:  # reported to the parent, which prints it
        queue.put({"error": f"{type(exc).__name__}: {exc}"})


# -- operator side --------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Banc d'essai de l'opérateur de référence (boucle locale).")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--size", type=int, default=4096, help="taille approximative d'un message (octets)")
    parser.add_argument("--sessions", type=int, default=250)
    parser.add_argument("--timeout", type=float, default=180.0)
    args = parser.parse_args(argv)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, 4 * args.sessions + 256))
    if wanted > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    with tempfile.TemporaryDirectory(prefix="banc-operateur-") as tmp, ReferenceOperator(Path(tmp)) as operator:
        operator.authority.access_lifetime = int(args.timeout) + 60
        params = {
            "ca": str(operator.pki.ca_bundle),
            "smtp": operator.ports["smtp"],
            "imap": operator.ports["imap"],
            "sender_token": operator.issue_tokens(SENDER_RPPS, "banc").access_token,
            "recipient_token": operator.issue_tokens(RECIPIENT_RPPS, "banc").access_token,
            "messages": args.messages,
            "connections": args.connections,
            "size": args.size,
            "sessions": args.sessions,
            "timeout": args.timeout,
        }
        context = multiprocessing.get_context("spawn")
        queue = context.Queue()
        child = context.Process(target=client_main, args=(params, queue), name="clients-banc")
        child.start()
        try:
            result = queue.get(timeout=args.timeout + 30)
        except Exception:
            result = {"error": "délai dépassé sans résultat des clients"}
        child.join(10)
        if child.is_alive():
            child.kill()
        stats = operator.imap_servers["imap"].stats
        result["operator"] = {
            "imap_accepted": stats.accepted,
            "imap_errors": stats.errors,
            "submissions_recorded": len(operator.recorder.submissions),
            "deliveries": len(operator.delivery.records),
        }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if "error" in result:
        print(f"ÉCHEC : {result['error']}")
        return 1
    thr, ses = result["throughput"], result["sessions"]
    print(
        f"SMTP -> IMAP : {thr['end_to_end_rate']} messages/s de bout en bout ({thr['submit_rate']} msg/s en "
        f"soumission), {thr['lost']} perdu(s), {thr['identical']}/{thr['messages']} identiques à l'octet près "
        f"— objectif {TARGET_RATE} msg/s {'atteint' if thr['end_to_end_rate'] >= TARGET_RATE else 'NON atteint'}"
    )
    print(
        f"Sessions IMAP simultanées tenues : {ses['alive']}/{ses['requested']} — objectif {TARGET_SESSIONS} "
        f"{'atteint' if ses['alive'] >= TARGET_SESSIONS else 'NON atteint'}"
    )
    correct = thr["lost"] == 0 and thr["duplicates"] == 0 and thr["identical"] == thr["messages"]
    return 0 if correct and ses["alive"] == ses["requested"] else 1


if __name__ == "__main__":
    sys.exit(main())
