"""`env up`: env.json with the contract keys, ports that answer, French parameters printed, clean stop on SIGINT /
SIGTERM, and nothing listening beyond the bind address."""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from segur_mss.operator.service import ReferenceOperator

ROOT = Path(__file__).resolve().parents[2]


def listening_addresses(pid: int) -> set[tuple[str, int]]:
    """(address, port) of the TCP sockets a process listens on, from /proc (Linux)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] != "0A" or fields[9] not in inodes:  # 0A: LISTEN
                continue
            hex_ip, hex_port = fields[1].split(":")
            raw = bytes.fromhex(hex_ip)
            words = [raw[i : i + 4][::-1] for i in range(0, len(raw), 4)]  # little-endian 32-bit words
            raw = b"".join(words)
            found.add((socket.inet_ntop(family, raw), int(hex_port, 16)))
    return found


def start_env_up(out: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "segur_mss.operator.envup", "--out", str(out), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=os.environ | {"PYTHONUNBUFFERED": "1", "COLUMNS": "200"},
    )


def wait_env(out: Path, process: subprocess.Popen[str], timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (out / "env.json").exists():
            return json.loads((out / "env.json").read_text(encoding="utf-8"))
        if process.poll() is not None:
            raise AssertionError(f"env up s'est arrêté : {process.stdout.read() if process.stdout else ''}")
        time.sleep(0.1)
    process.kill()
    raise AssertionError("env.json jamais écrit")


def stop(process: subprocess.Popen[str], sig: int) -> tuple[int, str]:
    process.send_signal(sig)
    try:
        output, _ = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        raise AssertionError("env up ne s'est pas arrêté : " + output) from None
    return process.returncode, output


def test_env_up_writes_the_contract_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    process = start_env_up(tmp_path)
    try:
        env = wait_env(tmp_path, process)
        assert {"imap", "smtp", "ca_bundle", "psc", "directory", "autoconfig", "mailboxes"} <= set(env)
        for service in ("imap", "smtp"):
            assert env[service]["host"] == "127.0.0.1" and env[service]["tls"] == "starttls"
            assert env[service]["port"] > 0
            with socket.create_connection((env[service]["host"], env[service]["port"]), timeout=5) as sock:
                assert sock.recv(128)[:1] in (b"*", b"2")  # IMAP "* OK" / SMTP "220"
        assert {"issuer", "client_id", "client_secret"} <= set(env["psc"]) and env["psc"]["ciba_auto_approve"]
        assert Path(env["ca_bundle"]).is_file()
        ctx = ssl.create_default_context(cafile=env["ca_bundle"])
        meta = httpx.get(env["psc"]["issuer"] + "/.well-known/openid-configuration", verify=ctx, timeout=5).json()
        assert meta["issuer"] == env["psc"]["issuer"]
        assert httpx.get(env["directory"]["url"] + "/Practitioner", verify=ctx, timeout=5).json()["total"] >= 4
        auto = httpx.get(env["autoconfig"]["url"] + "/mail/config-v1.1.xml", verify=ctx, timeout=5)
        assert f"<port>{env['smtp']['port']}</port>" in auto.text
        types = {box["type"] for box in env["mailboxes"]}
        assert {"PER", "ORG", "APP"} <= types
        for box in env["mailboxes"]:
            assert box["address"] and "login_hint" in box
            if box["type"] == "APP":
                assert Path(box["certificate"]).is_file() and Path(box["key"]).is_file()
            if box["type"] == "PER":
                assert box["login_hint"]
        assert (tmp_path / "env.json").stat().st_mode & 0o077 == 0  # holds the client secret
        assert all(host == "127.0.0.1" for host, _port in listening_addresses(process.pid))
    finally:
        code, output = stop(process, signal.SIGINT)
    assert code == 0, output
    assert not (tmp_path / "env.json").exists() and (tmp_path / "env.precedent.json").exists()
    assert "Appuyez sur Ctrl-C" in output and "client_secret" in output and "Opérateur arrêté proprement" in output
    assert env["psc"]["client_secret"] in output  # the person at the keyboard needs it
    assert "Traceback" not in output


def test_env_up_stops_on_sigterm_and_honours_bind(tmp_path: Path) -> None:
    process = start_env_up(tmp_path, "--bind", "127.0.0.2")
    try:
        env = wait_env(tmp_path, process)
        addresses = listening_addresses(process.pid)
        assert addresses and {host for host, _port in addresses} == {"127.0.0.2"}
        assert env["smtp"]["host"] == "127.0.0.2" and env["psc"]["issuer"].startswith("https://127.0.0.2:")
        ctx = ssl.create_default_context(cafile=env["ca_bundle"])  # the certificates name the bind address
        assert httpx.get(env["psc"]["issuer"] + "/.well-known/openid-configuration", verify=ctx, timeout=5).is_success
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", env["smtp"]["port"]), timeout=2).close()
    finally:
        code, output = stop(process, signal.SIGTERM)
    assert code == 0, output


def test_env_up_reports_a_bad_bind_address(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "segur_mss.operator.envup", "--out", str(tmp_path), "--bind", "192.0.2.1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Impossible de démarrer" in result.stdout and not (tmp_path / "env.json").exists()


def test_in_process_operator_listens_on_loopback_only(tmp_path: Path) -> None:
    with ReferenceOperator(tmp_path) as operator:
        sockets = [s for server in operator._servers for s in server.sockets] + operator.web.sockets
        assert len(sockets) >= 4
        assert {s.getsockname()[0] for s in sockets} == {"127.0.0.1"}
        assert listening_addresses(os.getpid()) >= {("127.0.0.1", port) for port in operator.ports.values()}


def test_restart_in_the_same_folder_keeps_ports_and_client_secret(tmp_path: Path) -> None:
    first = start_env_up(tmp_path)
    try:
        before = wait_env(tmp_path, first)
    finally:
        assert stop(first, signal.SIGINT)[0] == 0
    second = start_env_up(tmp_path)
    try:
        after = wait_env(tmp_path, second)
    finally:
        code, output = stop(second, signal.SIGINT)
    assert code == 0, output
    for name in ("imap", "smtp", "imaps", "smtps"):
        assert after[name]["port"] == before[name]["port"]
    assert after["psc"]["issuer"] == before["psc"]["issuer"] and after["crl"]["url"] == before["crl"]["url"]
    assert after["psc"]["client_secret"] == before["psc"]["client_secret"]
    assert "IMAPS" in output and "SMTPS" in output
