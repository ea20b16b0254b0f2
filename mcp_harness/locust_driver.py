"""The Locust driver: a thin loop that runs the core `Session` over a Locust `FastHttpSession` for load.

Like the httpx driver it only moves bytes: the core builds every message and header, decodes SSE,
correlates ids and answers server→client requests. What this loop adds is what load needs:

- each exchange is one Locust request event named after its step ("initialize", "tools/call echo",
  "DELETE", …), timed over the whole exchange: the SSE stream read to its end, resumptions, and the
  server→client round trips made meanwhile. Their replies are POSTed on a second pooled connection while
  the stream is still open, and reported too ("reply elicitation/create");
- violations the core reports become failures named "violation <rule id>" and are counted;
- a 404 to our session id is reported as "404 session gone" (not a failure), counted, and followed by a
  re-initialize ("re-initialize") and one retry of the step;
- every exchange has a deadline; every session still open when the user stops is DELETEd;
- a session may hold a GET stream open (its own greenlet and pooled connection) for the server's messages;
- sessions open at once are counted per process (GAUGE) and can be capped (LoadConfig.max_sessions);
- a long-lived session keeps only its latest step's records (core.Session.prune);
- the session policy (policy.py) is the conformance driver's: identity, the per-session headers, the retries
  below the session (a 401 with a token read again; an AgentCore front's -32005, reported as "-32005 retried",
  not a failure, and the same request sent again after a growing delay), resumption, the DELETE rule.

SSE is read as it arrives: `read_some` returns whatever body bytes the socket has delivered (one `recv`
at most), not a fixed-size chunk, so no event waits in a buffer. It reads two private attributes of
geventhttpclient's response (`_body_buffer`, `_sock`): pin geventhttpclient and locust exactly.

Counters, the open-session gauge, the run summary and the error guard are in load_stats.py. Runs under gevent
inside Locust. Importing this module imports gevent and geventhttpclient but not locust (whose import
monkey-patches the process).
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

import gevent
from gevent import GreenletExit
from geventhttpclient.response import HTTPConnectionClosed, HTTPParseError, HTTPSocketPoolResponse
from geventhttpclient.url import URL

from mcp_harness import agentcore, core, policy
from mcp_harness.auth import Auth
from mcp_harness.load_stats import COUNTERS, GAUGE

CAP_POLL_S = 0.05  # how often a session waiting for the session cap looks again
STREAM_REOPEN_S = 0.5  # pause before a GET stream the server ended is opened again
STREAM_STOP_S = 2.0  # how long a GET stream may take to end after DELETE before it is closed
# What a failed read or write can raise: the step fails with the exception's type name.
NETWORK_ERRORS = (OSError, HTTPParseError)
# Exchanges that carry a request of ours (a reply to the server carries an id too, not ours).
REQUESTS = ("initialize", "request")


class FastHttpSessionLike(Protocol):
    """The parts of locust.contrib.fasthttp.FastHttpSession this driver uses."""

    client: Any  # LocustUserAgent: its `clientpool` and `default_headers`
    request_event: Any
    auth_header: str | None


class StepError(Exception):
    """A step failed; the message is short and stable, since Locust groups failures by it."""


class ProtocolViolation(Exception):
    """The server broke a protocol rule (the message is the rule id)."""


class CutOff(Exception):
    """An answer passed a size cap (the message says which); the step fails with it."""


class ScenarioError(Exception):
    """A step failed in a way the scenario cannot go on from; the failure has already been reported."""


# --- reading a response as it arrives ---------------------------------------------------------------


def read_some(response: HTTPSocketPoolResponse) -> bytes:
    """The body bytes received so far, waiting for one socket read if there are none; b"" at the end.

    geventhttpclient's public reads wait for a full chunk or a line end; an SSE event must be handed to
    the core as soon as its bytes arrive, whatever line ends the server uses.
    """
    buffer = response._body_buffer
    while not buffer:
        if response.message_complete:
            return b""
        sock = response._sock
        if sock is None:
            raise HTTPConnectionClosed("connection closed")
        data = sock.recv(response.block_size)
        response.feed(data)  # b"" ends a close-delimited body, or raises for a cut-off chunked one
        if not data and not response.message_complete:
            raise HTTPConnectionClosed("connection closed before the end of the response")
    chunk = bytes(buffer)
    del buffer[:]
    return chunk


def _read_all(response: HTTPSocketPoolResponse, into: list[bytes]) -> bytes:
    """The whole body (kept in `into`, so that it is read once)."""
    if not into:
        into.append(response.read())
    return into[0]


def step_name(method: str, params: Mapping[str, Any] | None) -> str:
    """The name a request is reported under: its method, and the tool for tools/call."""
    if method == "tools/call" and params and isinstance(params.get("name"), str):
        return f"tools/call {params['name']}"
    return method


# --- the client (one per Locust user) ---------------------------------------------------------------


@dataclass
class LoadConfig:
    url: str  # the MCP endpoint; requests go to its path on the FastHttpSession's pool
    timeout: float = 30.0  # seconds for a whole step (exchange, stream, round trips)
    linger: float = 1.0  # seconds to wait for a stream to end once its response has come
    requested_version: str = core.LATEST_VERSION
    headers: dict[str, str] = field(default_factory=dict)  # sent with every request
    handlers: Mapping[str, core.Handler] | None = None  # None: the core's defaults
    validate: float = 1.0  # fraction of sessions whose messages are schema-validated
    reinitialize: bool = True  # after a 404 to our session id: initialize again and retry the step
    max_sessions: int | None = None  # this process's cap on sessions open at once
    idle_timeout: float | None = None  # the target's: how long an abandoned session counts against the cap
    auth: Auth | None = None
    front: agentcore.Front | None = None
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    limits: policy.Limits = field(default_factory=policy.Limits)  # size caps (the step timeout is its deadline)


class LocustClient:
    """One Locust user's MCP client: its FastHttpSession's connection pool and the sessions opened on it.

    The pool needs at least two connections (FastHttpUser.concurrency >= 2): replies to server requests
    are POSTed while the stream that carried the request is still open."""

    def __init__(self, http: FastHttpSessionLike, config: LoadConfig) -> None:
        self.config = config
        self.fire = http.request_event.fire
        self.url = URL(config.url)
        self.path = self.url.quoted_uri
        self.pool = http.client.clientpool
        self.conversations: set[LoadConversation] = set()
        # FastHttpUser.default_headers and credentials in the URL still apply; the core's headers win.
        base = {k: v for k, v in http.client.default_headers.items() if k.lower() != "user-agent"}
        if http.auth_header:
            base["Authorization"] = http.auth_header
        identity = policy.Identity(config.run_id)
        base["User-Agent"] = identity.user_agent
        self.base_headers = {**base, **config.headers}
        self.client_info = identity.client_info

    def session(self) -> LoadConversation:
        session = core.Session(
            requested_version=self.config.requested_version,
            client_info=self.client_info,
            handlers=self.config.handlers,
            base_headers=policy.session_headers(self.base_headers, self.config.front),
            validate=random.random() < self.config.validate,
        )
        conv = LoadConversation(self, session)
        self.conversations.add(conv)
        return conv

    def open(self, request: core.HttpRequest) -> tuple[HTTPSocketPoolResponse, bytes | None]:
        """Send a request, after the retries below the session (policy.WireRetries: a 401 with a token read
        again, an AgentCore front's -32005, each reported and counted); returns the response and, when the
        policy had to read it to decide, its whole body."""
        auth, front = self.config.auth, self.config.front
        if auth is None and front is None:
            return self._request(request), None
        retries = policy.WireRetries(auth, front)
        while True:
            self._sign(request)
            response = self._request(request)
            body: list[bytes] = []
            retry = retries.after(
                response.status_code, response.get("content-type"), partial(_read_all, response, body), request.headers
            )
            if retry is None:
                return response, (body[0] if body else None)
            if not body:
                _read_all(response, body)  # so that its connection goes back to the pool
            response.release()
            if retry.kind == "token":
                COUNTERS.token_refreshes += 1
            else:
                COUNTERS.front_retries += 1
                self.fire(
                    request_type=request.method,
                    name="-32005 retried",
                    response_time=0,
                    response_length=len(body[0]),
                    exception=None,
                    context={},
                    url=self.config.url,
                )
                gevent.sleep(retry.delay)

    def _sign(self, request: core.HttpRequest) -> None:
        """The current credentials, before each send."""
        if self.config.auth is not None:
            request.headers.update(
                self.config.auth.headers(request.method, self.config.url, request.headers, request.body)
            )

    def _request(self, request: core.HttpRequest) -> HTTPSocketPoolResponse:
        """A pooled connection the server closed (idle keep-alive timeout) just as we reused it yields no response
        byte at all; the request is sent once more on a new connection, as browsers do, since the server closed
        that connection without reading it (geventhttpclient retries only idempotent methods)."""
        client = self.pool.get_client(self.url)
        try:
            return client.request(request.method, self.path, body=request.body, headers=request.headers)
        except HTTPConnectionClosed:
            COUNTERS.connection_retries += 1
            return client.request(request.method, self.path, body=request.body, headers=request.headers)

    def close(self) -> None:
        """DELETE every session still open (a user stopping mid-scenario)."""
        for conv in list(self.conversations):
            conv.close()


# --- one session ------------------------------------------------------------------------------------


class LoadConversation:
    """One MCP session under load, with the session API of driver.Conversation (scenarios run on either)."""

    def __init__(self, client: LocustClient, session: core.Session) -> None:
        self.client = client
        self.core = session
        self.deleted = False
        self.abandoned = False
        self.held = False  # counted in GAUGE.open (from admission to DELETE, 404 or abandonment)
        self._server_method = ""  # method of the latest server request: names the reply step
        self._stream: gevent.Greenlet | None = None
        self._progress_times: list[float] = []

    # -- the session API --

    def initialize(self, version: str | None = None, *, initialized: bool = True, name: str = "initialize") -> Any:
        """initialize (+ notifications/initialized); returns the InitializeResult or raises ScenarioError.
        Waits first, within the step timeout, while the session cap is reached."""
        self._admit(name)
        self.core.prune()
        started = time.perf_counter()
        ex = self._shielded(self.core.initialize(version), name)
        response = self.core.responses.get(ex.request_id)
        if self.core.session_id is None:
            self._hold(False)
        if ex.status != 200 or response is None or "result" not in response:
            raise ScenarioError(f"{name} failed")
        if initialized:
            self.notify("notifications/initialized")
        self._metric("session setup", started)
        return response["result"]

    def request(
        self, method: str, params: Mapping[str, Any] | None = None, *, progress: bool = False, read_on: bool = False
    ) -> Any:
        """Send a request and return its exchange (the response is in `core.responses`). Its stream is read to
        the end (a stream left open past the response, for `linger` seconds), `read_on` or not."""
        name = step_name(method, params)
        self._progress_times = []
        ex = self._retrying(lambda: self.core.request(method, params, progress=progress), name)
        if progress:
            COUNTERS.progress_calls += 1
            for earlier, later in zip(self._progress_times, self._progress_times[1:], strict=False):
                self._metric("progress spacing", earlier, later)
        return ex

    def call(self, method: str, params: Mapping[str, Any] | None = None, *, progress: bool = False) -> Any:
        """Send a request and return its `result`; ScenarioError (already reported) when there is none."""
        ex = self.request(method, params, progress=progress)
        response = self.core.responses.get(ex.request_id)
        if response is None or "result" not in response:
            raise ScenarioError(f"{method} failed")
        return response["result"]

    def notify(self, method: str, params: Mapping[str, Any] | None = None) -> core.Exchange:
        return self._retrying(lambda: self.core.notify(method, params), method)

    def open_stream(self) -> None:
        """Hold a GET stream open for the server's messages until the session ends: its own greenlet and
        pooled connection; reopened when the server ends it or it stays silent past the read timeout."""
        if self._stream is None:
            self._stream = gevent.spawn(self._hold_stream)

    def delete(self) -> core.Exchange:
        ex = self._shielded(self.core.delete(), "DELETE", then=self._deleted)
        self._stop_stream()  # the server ends it on DELETE; whatever is left is closed
        return ex

    def _deleted(self, ex: core.Exchange) -> None:
        """Record a DELETE's outcome (in the shielded step: a kill meanwhile must not make close() repeat it)."""
        if ex.status is not None and (ex.status < 300 or ex.status in (404, 405)):
            self.deleted = True
            self._hold(False)
            COUNTERS.sessions_deleted += 1
            self.client.conversations.discard(self)

    def abandon(self) -> None:
        """Leave the session open on purpose (churn): counted, never DELETEd by this client. It counts
        against the session cap until the target's idle timeout (if known) has passed."""
        self.abandoned = True
        self._hold(False)
        ttl = self.client.config.idle_timeout
        GAUGE.abandoned_until.append(time.monotonic() + (ttl if ttl is not None else float("inf")))
        COUNTERS.sessions_abandoned += 1
        self.client.conversations.discard(self)
        self._stop_stream(wait=0)

    def close(self) -> None:
        """DELETE the session if it may still be open."""
        self.client.conversations.discard(self)
        if policy.needs_delete(self.core, deleted=self.deleted, abandoned=self.abandoned):
            self.delete()
        self._stop_stream(wait=0)
        self._hold(False)

    def messages(self) -> Iterator[tuple[core.Exchange, core.Message]]:
        return self.core.messages()

    # -- session accounting --

    def _hold(self, held: bool) -> None:
        if held != self.held:
            GAUGE.change(1 if held else -1)
            self.held = held

    def _admit(self, name: str) -> None:
        """Reserve a place under the session cap, waiting (bounded by the step timeout) for one."""
        cap = self.client.config.max_sessions
        if cap is not None and GAUGE.held() >= cap:
            COUNTERS.cap_waits += 1
            deadline = time.monotonic() + self.client.config.timeout
            while GAUGE.held() >= cap:
                if time.monotonic() > deadline:
                    self._fire("MCP", name, 0, 0, StepError(f"session cap {cap} reached"))
                    raise ScenarioError("session cap")
                gevent.sleep(CAP_POLL_S)
        self._hold(True)

    def _metric(self, name: str, started: float, ended: float | None = None) -> None:
        """A derived timing (session setup, progress spacing) in Locust's stats, request type MCP."""
        elapsed = ((ended if ended is not None else time.perf_counter()) - started) * 1000
        self._fire("MCP", name, elapsed, 0, None)

    def _fire(self, kind: str, name: str, elapsed_ms: float, length: int, error: Exception | None) -> None:
        self.client.fire(
            request_type=kind,
            name=name,
            response_time=elapsed_ms,
            response_length=length,
            exception=error,
            context={},
            url=self.client.config.url,
        )

    # -- the GET stream --

    def _hold_stream(self) -> None:
        while self.held and self.core.session_id is not None and not self.core.gone:
            ex = self.core.stream()
            COUNTERS.get_streams += 1
            self._send(ex, "GET stream", bounded=False)
            if ex.status != 200:
                return  # 405: the server offers no GET stream; anything else was reported by _send
            gevent.sleep(STREAM_REOPEN_S)

    def _stop_stream(self, wait: float = STREAM_STOP_S) -> None:
        """Let the stream end (the server closes it after DELETE), then close what is left."""
        stream, self._stream = self._stream, None
        if stream is not None and stream is not gevent.getcurrent():
            stream.join(timeout=wait)
            stream.kill(block=True, timeout=1)  # its read's `finally` closes the half-read connection

    # -- steps --

    def _retrying(self, build: Callable[[], core.Exchange], name: str) -> core.Exchange:
        """One step; after a 404 to our session id, a re-initialize and one retry. The records of earlier
        steps are dropped first: a long-lived session must not grow."""
        self.core.prune()
        ex = self._send(build(), name)
        if policy.reopens(self.core, ex, enabled=self.client.config.reinitialize):
            self.core.reset()
            COUNTERS.reinitializations += 1
            self.initialize(name="re-initialize")
            ex = self._send(build(), name)
        return ex

    def _shielded(
        self, ex: core.Exchange, name: str, then: Callable[[core.Exchange], None] | None = None
    ) -> core.Exchange:
        """A step that creates or ends a session, run so that killing the user cannot cut it half-way.

        The server creates a session before we learn its id from the answer, and a DELETE cut short leaves
        it open. Locust kills a user (GreenletExit), sometimes twice (a ramp-down, then the end of the run):
        the step goes on in its own greenlet, waited for through kills up to its deadline, then the kill
        goes on, and close() can still DELETE what the initialize opened. `then` runs in that greenlet too.
        """

        def step() -> core.Exchange:
            self._send(ex, name)
            if then is not None:
                then(ex)
            return ex

        worker = gevent.spawn(step)
        deadline = time.monotonic() + self.client.config.timeout + 1
        killed = False
        while not worker.ready() and time.monotonic() < deadline:
            try:
                worker.join(deadline - time.monotonic())
            except GreenletExit:
                killed = True
        if not worker.ready():  # pragma: no cover - the step's own deadline comes first
            worker.kill(block=False)
        if killed:
            raise GreenletExit
        return worker.get(block=False)

    def _send(self, ex: core.Exchange, name: str, *, bounded: bool = True) -> core.Exchange:
        """One step: send, read everything it brings (bounded by the step timeout; unbounded, only by the
        socket's read timeout, which then just ends the stream), report it to Locust."""
        limit = self.client.config.timeout
        start_time = time.time()
        started = time.perf_counter()
        timer = gevent.Timeout(limit) if bounded else None
        if timer is not None:
            timer.start()
        error: Exception | None = None
        received = 0
        try:
            received = self._exchange(ex)
        except gevent.Timeout as t:
            if t is not timer:
                raise
            error = StepError(f"timeout after {limit:g}s")
        except TimeoutError:
            if timer is not None:
                error = StepError("TimeoutError")
        except CutOff as e:
            error = StepError(f"cut off: {e}")
        except NETWORK_ERRORS as e:
            error = StepError(type(e).__name__)
        finally:
            if timer is not None:
                timer.close()
        elapsed = (time.perf_counter() - started) * 1000
        if ex.purpose == "initialize" and self.core.session_id is not None:
            COUNTERS.sessions_started += 1
        if ex.status == 404 and self.core.gone and ex.purpose != "delete":  # the core saw our session id refused
            COUNTERS.sessions_gone += 1
            self._hold(False)
            name, error = "404 session gone", None
        else:
            error = error or self._outcome(ex)
        self.client.fire(
            request_type=ex.http.method,
            name=name,
            response_time=elapsed,
            response_length=received,
            exception=error,
            context={},
            start_time=start_time,
            url=self.client.config.url,
        )
        return ex

    def _outcome(self, ex: core.Exchange) -> StepError | None:
        status = ex.status
        if status is None:
            return StepError("no HTTP response")
        if ex.purpose == "delete":
            return None if status < 300 or status in (404, 405) else StepError(f"HTTP {status}")
        if status >= 300:
            return StepError(f"HTTP {status}")
        if ex.purpose in ("notification", "response") and status != 202:  # accepted input: "202 Accepted"
            return StepError(f"HTTP {status}, not 202")
        if ex.purpose not in REQUESTS:
            return None
        response = self.core.responses.get(ex.request_id)
        if response is None:
            return StepError("no JSON-RPC response")
        if "error" in response:
            code = response["error"].get("code") if isinstance(response["error"], dict) else None
            return StepError(f"JSON-RPC error {code}")
        return None

    # -- the exchange loop --

    def _exchange(self, ex: core.Exchange) -> int:
        """Send one exchange and feed its response to the core as it arrives; returns the bytes received."""
        self._feed(self.core.sent(ex))
        response, body = self.client.open(ex.http)
        try:
            self._feed(self.core.receive_start(ex, response.status_code, dict(response.items())))
            if body is not None:  # read already, to see whether the front asked for a retry
                self._feed(self.core.receive_data(ex, body))
                received = len(body)
            else:
                received = self._read(ex, response)
        finally:
            response.release()  # a half-read connection is closed, never returned to the pool
        self._feed(self.core.receive_end(ex))
        if ex.resumes is None:
            self._resume(ex)
        return received

    def _read(self, ex: core.Exchange, response: HTTPSocketPoolResponse) -> int:
        """Read to the end of the body. A stream the server keeps open after its response is closed: a POST's
        after `linger` seconds (counted), a resumed one (GET) at once, as servers may keep those open. An answer
        that carries nothing awaited is drained briefly; one past a size cap is cut off (policy.Limits). The
        step's deadline (its gevent.Timeout) bounds the rest, however many bytes keep coming."""
        received = 0
        linger: gevent.Timeout | None = None
        limits = self.client.config.limits
        drain_until = None if policy.awaits_body(ex) else time.monotonic() + policy.DRAIN_S
        try:
            while chunk := read_some(response):
                received += len(chunk)
                self._feed(self.core.receive_data(ex, chunk))
                if reason := limits.oversize(ex):
                    policy.cut_off(ex, reason)
                    self._feed(self.core.receive_end(ex))
                    raise CutOff(reason)
                if drain_until is not None and policy.drained(ex, drain_until):
                    break
                if linger is None and not response.message_complete and self._answered(ex.stream):
                    if ex.resumes is not None:
                        break
                    linger = gevent.Timeout(self.client.config.linger)
                    linger.start()
        except gevent.Timeout as t:
            if t is not linger:
                raise
            COUNTERS.streams_dropped += 1
        finally:
            if linger is not None:
                linger.close()
        return received

    def _answered(self, ex: core.Exchange) -> bool:
        return ex.purpose in REQUESTS and ex.request_id in self.core.responses

    def _resume(self, ex: core.Exchange) -> None:
        """A stream that ended before its response is resumed with GET + Last-Event-ID, as the core decides
        (2025-11-25 servers may close a stream at will); the resumption is part of the step."""
        for delay, get in policy.resumptions(self.core.resumption, ex, self.client.config.timeout):
            gevent.sleep(delay)
            self._exchange(get)

    def _feed(self, events: list[core.Event]) -> None:
        for event in events:
            if isinstance(event, core.MessageReceived):
                if event.kind == "request":
                    self._server_method = str(event.message.get("method"))
                elif event.message.get("method") == "notifications/progress":
                    COUNTERS.progress_notifications += 1
                    self._progress_times.append(time.perf_counter())
            elif isinstance(event, core.Reply):
                self._send(event.outgoing, f"reply {self._server_method}")
            elif isinstance(event, core.Violation):
                self._violation(event)

    def _violation(self, event: core.Violation) -> None:
        COUNTERS.violations += 1
        COUNTERS.sample(f"{event.rule}: {event.detail}")
        self._fire("MCP", f"violation {event.rule}", 0, 0, ProtocolViolation(event.rule))
