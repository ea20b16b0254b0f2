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

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace

from mcp_harness import __version__, agentcore, core
from mcp_harness.auth import Auth

MAX_RESUMPTIONS = 5  # GET + Last-Event-ID attempts for one request's stream
MiB = 1024 * 1024
DEFAULT_EXCHANGE_TIMEOUT = 60.0  # seconds for one whole exchange: headers, body, stream to the awaited message
DEFAULT_MAX_MESSAGE = 16 * MiB  # one SSE event or one JSON body
DEFAULT_MAX_EXCHANGE = 64 * MiB  # everything one exchange may bring
DRAIN_S = 1.0  # an answer that carries nothing awaited (to a notification, a reply, a DELETE) is read this long …
DRAIN_BYTES = 64 * 1024  # … and this far, then dropped
KEPT_BYTES = 4096  # of a body cut off at a size cap, kept for the report
DRAINED = "drained: its body carries nothing awaited"  # Exchange.cut of an answer read only briefly


@dataclass(frozen=True)
class Limits:
    """Bounds on what one exchange may cost, whatever the server sends: a stream of keep-alives, a trickled body
    or an endless event ends by the deadline or at the size cap, and the exchange is cut off (the driver says
    why). A slow tool's call gets a longer deadline from its caller."""

    exchange_timeout: float = DEFAULT_EXCHANGE_TIMEOUT
    max_message: int = DEFAULT_MAX_MESSAGE
    max_exchange: int = DEFAULT_MAX_EXCHANGE

    def oversize(self, exchange: core.Exchange) -> str | None:
        """Why `exchange` must be cut off now, or None."""
        if exchange.received > self.max_exchange:
            return f"the answer passed {_size(self.max_exchange)} (the exchange size cap)"
        pending = exchange.sse.pending if exchange.sse is not None else len(exchange.body)
        if pending > self.max_message:
            what = "one SSE event" if exchange.sse is not None else "the body"
            return f"{what} passed {_size(self.max_message)} (the message size cap)"
        return None


@dataclass
class Health:
    """Whether the server answers at all, shared by every client of a run: after `threshold` exchanges in a row
    got no HTTP response (refused, reset, or silent past the read timeout), requests fail at once instead of each
    waiting for its timeout, except one trial every `trial_every` seconds; any answer restores it. A server that
    died or went silent mid-run so costs seconds, not a timeout per request, and every check still ends."""

    threshold: int = 3
    trial_every: float = 30.0
    failures: int = 0
    last: str = ""
    _trial: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def admit(self) -> str | None:
        """None when a request may go out; else why not."""
        with self._lock:
            if self.failures < self.threshold:
                return None
            now = time.monotonic()
            if now - self._trial >= self.trial_every:
                self._trial = now
                return None
            return (
                f"not sent: the server stopped answering ({self.failures} exchanges in a row got no response; "
                f"last: {self.last})"
            )

    def answered(self) -> None:
        with self._lock:
            self.failures = 0

    def unanswered(self, what: str) -> None:
        with self._lock:
            self.failures += 1
            self.last = what
            if self.failures == self.threshold:
                self._trial = time.monotonic()


def limits_with_message_size(limits: Limits, size: int) -> Limits:
    """The limits with another message cap (the exchange cap stays at least four messages)."""
    return replace(limits, max_message=size, max_exchange=max(limits.max_exchange, 4 * size))


def awaits_body(exchange: core.Exchange) -> bool:
    """Whether the answer's body may carry what the caller waits for: a request's response (and the stream of
    server messages with it), a GET stream. An answer to a notification, to one of our replies or to a DELETE
    says everything in its status; its body is drained briefly (DRAIN_S, DRAIN_BYTES) and dropped."""
    if exchange.http.method == "DELETE" or exchange.purpose in ("notification", "response", "delete"):
        return False
    message = exchange.message  # a check's own notification (purpose "raw") is judged by its status too
    return not (exchange.purpose == "raw" and isinstance(message, dict) and "method" in message and "id" not in message)


def cut_off(exchange: core.Exchange, reason: str) -> None:
    """Mark `exchange` cut off at a size cap (the core then decodes none of it), keeping an excerpt for the report."""
    exchange.cut = reason
    del exchange.body[KEPT_BYTES:]


def drained(exchange: core.Exchange, until: float) -> bool:
    """Whether an answer that carries nothing awaited has been read far enough (DRAIN_BYTES) or long enough (to
    `until`, a monotonic time); it is then marked as drained."""
    if exchange.received > DRAIN_BYTES or time.monotonic() >= until:
        exchange.cut = DRAINED
        return True
    return False


def _size(n: int) -> str:
    return f"{n / MiB:g} MiB" if n >= MiB else f"{n} bytes"


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
