"""Where the candidate's mailbox session stands, and the guard of the actions that need it (SC.MSS/CONF.10)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from segur_mss.candidates.base import ActionResult

CONNECTED = "connecte"
DISCONNECTED = "deconnecte"
RELOGIN = "reconnexion_demandee"


class SessionOver(Exception):
    """The PSC session is over: the mail sessions are closed and the user is asked to log in again (CONF.10)."""


def mailbox_action(method: Callable[..., ActionResult]) -> Callable[..., ActionResult]:
    """An action on the connected mailbox: refused without any exchange once the user must log in again."""

    @functools.wraps(method)
    def run(self: Any, *args: Any, **kwargs: Any) -> ActionResult:
        if self.state == RELOGIN:
            return self._relogin_result()
        try:
            return method(self, *args, **kwargs)
        except SessionOver:
            return self._relogin_result()

    return run
