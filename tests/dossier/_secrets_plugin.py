"""Test-only pytest plugin loaded into the campaign's child process (`PYTEST_ADDOPTS=-p tests.dossier._secrets_plugin`).

At the end of the session, before the campaign plugin stops the operator and deletes its folder, it writes every
secret of this process — what the operator registered with the redactor (access, refresh and id tokens, client
secrets, authorization codes, CIBA request ids) and the private keys of the test PKI — to a file under
`$SEGUR_MSS_TEST_SECRETS_DIR`, outside the dossier, so the test can grep the whole bundle for them. One file per
process: under pytest-xdist every worker has its own operator and its own secrets.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from segur_mss.redaction import REDACTOR


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get("SEGUR_MSS_TEST_SECRETS_DIR")
    if not target:
        return
    from fixtures.campaign import STATE_KEY

    state = session.config.stash.get(STATE_KEY, None)
    keys = []
    operator_dir = getattr(state, "operator_dir", None)
    if operator_dir and Path(operator_dir).is_dir():
        for path in sorted(Path(operator_dir).rglob("*")):
            if path.is_file() and b"PRIVATE KEY-----" in path.read_bytes():
                keys.append(path.read_text(encoding="ascii", errors="replace"))
    out = Path(target) / f"secrets-{os.getpid()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"secrets": sorted(REDACTOR.secrets), "private_keys": keys}), encoding="utf-8")
