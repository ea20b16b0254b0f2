"""The session policy both drivers follow, written once: who the client says it is, which headers every session
carries, which answers are retried below the session and how, how far a dropped stream is resumed, when a
session still needs its DELETE and when a session the server forgot is opened again.

Sans-IO like the core: the drivers (`driver.py` over httpx, `locust_driver.py` over Locust) only move bytes
and wait; they ask this module what to do.

Retries below the session resend the *same* request bytes, re-signed:
- HTTP 401 with an `Auth` whose token changed when read again: once. The server refused the request before
  reading it; the JSON-RPC message was never delivered.
- An AgentCore front's -32005 "Session operation in progress, please retry" (a JSON-RPC error in HTTP 200):
  after a growing delay, at most `Front.max_retries` times. The front refuses the request *instead of*
  delivering it to the MCP server, so the server never saw that id: sending it again is a redelivery, not a
  second request, and keeps the request's id, progress token and the check's exchange the same. (A new id per
  retry, which the load driver used to send, makes one logical request look like several to the record and to
  the front's own accounting.) The session core never sees the retried answers; the wire log notes them and
  the load driver reports them as "-32005 retried".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from mcp_harness import __version__, agentcore, core
from mcp_harness.auth import Auth

MAX_RESUMPTIONS = 5  # GET + Last-Event-ID attempts for one request's stream


@dataclass(frozen=True)
class Identity:
    """What the client calls itself: the User-Agent of every request and clientInfo at initialize. The run id in
    both lets a server operator find one run's sessions in their logs."""

    run_id: str
    name: str = "mcp-harness"  # "mcp-harness-probe" for the probe, so that it can be counted

    @property
    def user_agent(self) -> str:
        return f"mcp-harness/{__version__} (run {self.run_id})"

    @property
    def client_info(self) -> dict[str, str]:
        return {"name": self.name, "version": f"{__version__}+run.{self.run_id}"}


def session_headers(base: Mapping[str, str], front: agentcore.Front | None) -> dict[str, str]:
    """The headers one new session sends with every request: behind an AgentCore front, its own runtime session
    id, so that the front routes the MCP session to one runtime session."""
    headers = dict(base)
    if front is not None:
        headers[agentcore.RUNTIME_SESSION_HEADER] = agentcore.runtime_session_id()
    return headers


@dataclass(frozen=True)
class Retry:
    kind: str  # "token" (401, a new token) or "busy" (the front's -32005)
    delay: float  # seconds to wait before sending again


@dataclass
class WireRetries:
    """The retries of one request below the session (see the module's text). Ask `after` with each answer's
    status and headers; `body` is called only when the answer could be the front's -32005 (a JSON body)."""

    auth: Auth | None
    front: agentcore.Front | None
    refreshed: bool = False
    attempts: int = 0  # -32005 retries so far

    def after(
        self, status: int, content_type: str | None, body: Callable[[], bytes], sent: Mapping[str, str]
    ) -> Retry | None:
        if status == 401 and self.auth is not None and not self.refreshed and self.auth.refresh(sent):
            self.refreshed = True
            return Retry("token", 0.0)
        if self.front is not None and status == 200 and "json" in (content_type or ""):
            delay = self.front.retry_delay(self.attempts, content_type, status, body())
            if delay is not None:
                self.attempts += 1
                return Retry("busy", delay)
        return None

    def note(self, number: int, retry: Retry) -> str:
        if retry.kind == "token":
            return f"#{number} got HTTP 401: the token was read again; sending once more"
        return f"#{number} got -32005 from the front: retry {self.attempts} in {retry.delay:g}s"


def resumptions(
    resumption: Callable[[core.Exchange], tuple[float, core.Exchange] | None], exchange: core.Exchange, limit: float
) -> Iterator[tuple[float, core.Exchange]]:
    """The GETs that resume `exchange`'s stream, as (seconds to wait, the GET to send), at most MAX_RESUMPTIONS;
    the driver sends each before asking for the next. `resumption` is the core's (under the driver's lock, if
    it has one); each wait is capped at `limit`. Stops when the core says the stream is done, or a GET is not
    answered 200."""
    current = exchange
    for _ in range(MAX_RESUMPTIONS):
        step = resumption(current)
        if step is None:
            return
        delay, current = step
        yield min(delay, limit), current
        if current.status != 200:
            return


def needs_delete(session: core.Session, *, deleted: bool, abandoned: bool = False) -> bool:
    """Whether a session may still be open on the server and must get its DELETE: it was given an id, and was
    neither deleted, abandoned on purpose, nor refused with a 404 (gone already)."""
    return session.session_id is not None and not (deleted or abandoned or session.gone)


def reopens(session: core.Session, exchange: core.Exchange, *, enabled: bool) -> bool:
    """Whether to initialize again and send the step once more: the server answered 404 to our session id (it
    forgot the session) and the driver is told to (load runs are; conformance checks judge the 404 instead)."""
    return enabled and session.gone and exchange.purpose != "delete"
