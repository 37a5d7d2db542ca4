"""A small HTTP test endpoint wrapping the reference candidate, as an editor would expose a product to the harness."""

from __future__ import annotations

import asyncio
import tempfile
import threading
from pathlib import Path
from typing import Any

from aiohttp import web

from segur_mss.candidates.faulty import FAULTY_CLASSES
from segur_mss.candidates.reference import CandidateError, ReferenceCandidate
from segur_mss.candidates.remote import dispatch, environment_from_json, result_to_json


class ReferenceServer:
    """One reference candidate per scenario, kept between requests (the product keeps its own session)."""

    def __init__(self, defect: str | None = None) -> None:
        self.defect = defect
        self.candidates: dict[str, ReferenceCandidate] = {}
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = []  # forced answers for the next requests (e.g. 503 to test retries)
        self.delay = 0.0  # seconds before answering (read timeouts)
        self.capabilities = ["connect_mailbox", "send_message", "send_document"]
        self.loop: asyncio.AbstractEventLoop | None = None
        self.runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/segur"

    # -- handlers -----------------------------------------------------------------------------------------
    async def get_capabilities(self, request: web.Request) -> web.Response:
        self.requests.append({"path": request.path, "headers": dict(request.headers)})
        return web.json_response({"actions": [*self.capabilities, "une_action_future"]})

    async def post_action(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        body = await request.json()
        self.requests.append({"path": request.path, "headers": dict(request.headers), "body": body})
        if self.statuses:
            status = self.statuses.pop(0)
            return web.json_response({"erreur": "indisponible"}, status=status, headers={"Retry-After": "0"})
        if self.delay:
            await asyncio.sleep(self.delay)
        scenario = body.get("scenario", "")
        if action == "close":
            self.candidates.pop(scenario, None)
            return web.json_response({"ok": True})
        if action == "connect_mailbox" or scenario not in self.candidates:
            # a real product has its own working folder: the harness inspects it for stored tokens (CONF.28)
            workdir = Path(tempfile.mkdtemp(prefix="segur-mss-candidat-http-"))
            env = environment_from_json(body["environment"], body.get("login"), workdir=workdir)
            cls = FAULTY_CLASSES[self.defect] if self.defect else ReferenceCandidate
            self.candidates[scenario] = cls(env)
        candidate = self.candidates[scenario]
        loop = asyncio.get_running_loop()
        try:  # the reference candidate is synchronous (it runs its own event loop to send)
            result = await loop.run_in_executor(None, dispatch, candidate, action, body.get("payload") or {})
        except CandidateError as exc:
            return web.json_response({"erreur": str(exc)}, status=500)
        return web.json_response(result_to_json(result))

    # -- lifecycle ----------------------------------------------------------------------------------------
    def start(self) -> ReferenceServer:
        ready = threading.Event()
        self.loop = asyncio.new_event_loop()

        def run() -> None:
            assert self.loop is not None
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(self._start())
            ready.set()
            self.loop.run_forever()

        threading.Thread(target=run, name="serveur-candidat-reference", daemon=True).start()
        ready.wait(10)
        return self

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_get("/segur/capabilities", self.get_capabilities)
        app.router.add_post("/segur/{action}", self.post_action)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def stop(self) -> None:
        if self.loop is None:
            return
        assert self.runner is not None
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.loop = None
