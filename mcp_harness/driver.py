"""The httpx driver: a thin synchronous loop that runs the session core over real HTTP.

A `Client` is one connection pool — "the same client" of the spec's re-initialize rule — and makes
`Conversation`s, each wrapping one core `Session`. Every read has a timeout; every session a client
opened is DELETEd when the client closes. Server requests that arrive on a stream are answered by the
core's handlers and POSTed at once, while the stream is still being read.
"""

from __future__ import annotations

import contextlib
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from mcp_harness import agentcore, core, policy
from mcp_harness.auth import Auth
from mcp_harness.wire import Redactor, WireLog

STREAM_READ_FACTOR = 6  # a GET stream's read timeout, in multiples of --timeout
MRTR_ROUNDS = 4  # retries of one MRTR call at most: a server asking again and again ends it (stateless.mrtr.*)


class HarnessError(Exception):
    """The harness could not complete an exchange (timeout, connection refused, …)."""


class Overdue(HarnessError):
    """The exchange's response did not come within the caller's deadline; the harness stopped reading."""


@dataclass
class ClientConfig:
    url: str
    headers: dict[str, str] = field(default_factory=dict)  # given by the user: values are secrets
    timeout: float = 10.0
    ca_bundle: str | None = None
    insecure: bool = False
    requested_version: str = core.LATEST_VERSION
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    # Called with each exchange just before its HTTP request goes out (the property checks' rate cap and journal).
    before_send: Callable[[core.Exchange], None] | None = None
    auth: Auth | None = None  # tokens re-read after a 401, SigV4 signatures
    front: agentcore.Front | None = None  # an AgentCore front: its session header, its -32005 retries
    client_name: str = "mcp-harness"  # clientInfo.name at initialize ("mcp-harness-probe" for the probe)
    # After a 404 to our session id: initialize again and send the request once more (policy.reopens). Off for
    # conformance, whose checks judge the 404; the scenarios' wire comparison turns it on, as load runs have it.
    reinitialize: bool = False
    limits: policy.Limits = field(default_factory=policy.Limits)  # each exchange's deadline and size caps
    health: policy.Health = field(default_factory=policy.Health)  # shared by copies of this config: one per run

    @property
    def identity(self) -> policy.Identity:
        return policy.Identity(self.run_id, self.client_name)

    @property
    def user_agent(self) -> str:
        return self.identity.user_agent

    def redactor(self) -> Redactor:
        names = [*self.headers.keys(), *(self.auth.header_names if self.auth else [])]
        return Redactor(names, self.headers.values(), live=self.auth.secrets if self.auth else ())


def _verify(config: ClientConfig) -> ssl.SSLContext | bool:
    if config.insecure:
        return False
    if config.ca_bundle:
        return ssl.create_default_context(cafile=config.ca_bundle)
    return True


class Client:
    """An httpx connection pool and the sessions opened through it."""

    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        self.redactor = config.redactor()
        self.http = httpx.Client(
            timeout=httpx.Timeout(config.timeout),
            verify=_verify(config),
            trust_env=True,  # HTTP(S)_PROXY / NO_PROXY as users expect
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=8),
        )
        self.conversations: list[Conversation] = []

    def session(
        self,
        *,
        handlers: Mapping[str, core.Handler] | None = None,
        label: str = "",
        request_ids: Iterator[int] | None = None,
    ) -> Conversation:
        base = policy.session_headers({"User-Agent": self.config.user_agent, **self.config.headers}, self.config.front)
        session = core.Session(
            requested_version=self.config.requested_version,
            client_info=self.config.identity.client_info,
            handlers=handlers,
            base_headers=base,
            request_ids=request_ids,
        )
        conv = Conversation(self, session, WireLog(self.redactor, label or session.tag))
        self.conversations.append(conv)
        return conv

    def close(self) -> None:
        """DELETE every session still open, then close the pool."""
        for conv in self.conversations:
            with contextlib.suppress(HarnessError):
                conv.close()
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def before_send(self, exchange: core.Exchange) -> None:
        if self.config.before_send is not None:
            self.config.before_send(exchange)
        self.sign(exchange)

    def sign(self, exchange: core.Exchange) -> None:
        """Put the current credentials on the request (the wire log shows them redacted)."""
        if self.config.auth is not None:
            http = exchange.http
            http.headers.update(self.config.auth.headers(http.method, self.config.url, http.headers, http.body))


class Conversation:
    """One MCP session driven synchronously; safe to use from a reader thread and the main thread."""

    def __init__(self, client: Client, session: core.Session, wire: WireLog) -> None:
        self.client = client
        self.core = session
        self.wire = wire
        self.lock = threading.RLock()
        self.streams: list[Stream] = []
        self.deleted = False
        self.abandoned = False

    # -- plumbing --

    def _feed(self, events: list[core.Event]) -> None:
        with self.lock:
            self.wire.record(events)
        for event in events:
            if isinstance(event, core.Reply):
                self.send(event.outgoing)

    def _call_core(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            return fn(*args, **kwargs)

    def send(
        self,
        exchange: core.Exchange,
        *,
        stop_at_response: bool = True,
        stop_when: Callable[[core.Exchange], bool] | None = None,
        quiet: float | None = None,
        deadline: float | None = None,
    ) -> core.Exchange:
        """Send one exchange and read its response.

        Reading stops at the JSON-RPC response (`stop_at_response`; a read timeout before it is an error), or
        goes on to the end of the stream, or stops, dropping the connection, as soon as `stop_when(exchange)`
        holds; in those two modes a stream quiet for one read timeout (or `quiet` seconds) has said all it will
        (not an error: the caller judges what came). A stream that ends before any response is resumed with
        GET + Last-Event-ID, as 2025-11-25 servers may require.

        Every exchange is bounded (policy.Limits): by `deadline` seconds, else the exchange timeout, however many
        bytes keep coming — past it a response still awaited raises Overdue (the caller decides whether to
        cancel the request), a stream read on just ends; and by the size caps, past which it is cut off
        (HarnessError). An answer that carries nothing awaited (to a notification, a reply, a DELETE) is only
        drained briefly.
        """
        limits = self.client.config.limits
        if refused := self.client.config.health.admit():
            raise self._error(exchange, refused, unanswered=False)
        self.client.before_send(exchange)
        self._feed(self._call_core(self.core.sent, exchange))
        dropped = False
        budget = limits.exchange_timeout if deadline is None else deadline
        wait = min(self.client.config.timeout if quiet is None else quiet, self.client.config.timeout, budget)
        ends = time.monotonic() + budget
        awaiting = stop_at_response and stop_when is None and exchange.request_id is not None
        try:
            with self._response(exchange, timeout=httpx.Timeout(self.client.config.timeout, read=wait)) as response:
                self._feed(self._call_core(self.core.receive_start, exchange, response.status_code, response.headers))
                if not policy.awaits_body(exchange):
                    ends = min(ends, time.monotonic() + policy.DRAIN_S)
                for chunk in _chunks(response):
                    self._feed(self._call_core(self.core.receive_data, exchange, chunk))
                    if reason := limits.oversize(exchange):
                        raise self._cut(exchange, reason)
                    if stop_when is not None and stop_when(exchange):
                        dropped = True
                        self.wire.note(f"the harness drops the connection of #{exchange.number}")
                        break
                    if stop_at_response and exchange.request_id is not None and self._answered(exchange):
                        break
                    if time.monotonic() >= ends:
                        if awaiting:
                            raise self._overdue(exchange, budget)
                        dropped = self._ended(exchange, budget)
                        break
            self._feed(self._call_core(self.core.receive_end, exchange))
        except httpx.TimeoutException as e:
            if time.monotonic() >= ends - 0.05:
                if awaiting:
                    raise self._overdue(exchange, budget) from None
                dropped = self._ended(exchange, budget)
            elif stop_at_response and stop_when is None:
                what = f"timed out after {self.client.config.timeout:g}s ({type(e).__name__})"
                raise self._error(exchange, what) from None
            else:  # reading on past the response, or until a condition: a stream gone quiet has said all it will
                self.wire.note(f"#{exchange.number} quiet for {wait:g}s; the harness stops reading")
            self._feed(self._call_core(self.core.receive_end, exchange))
        except httpx.HTTPError as e:
            raise self._error(exchange, f"{type(e).__name__}: {e}") from None
        if not dropped and exchange.resumes is None:
            self._resume(exchange)
        return exchange

    def _ended(self, exchange: core.Exchange, budget: float) -> bool:
        """A stream read on (or an answer drained) reached its time: it ends here, not as an error."""
        if policy.awaits_body(exchange):
            self.wire.note(f"#{exchange.number} still open after its {budget:g}s deadline; the harness stops reading")
        else:
            exchange.cut = policy.DRAINED
            self.wire.note(f"#{exchange.number}: its body carries nothing awaited; the harness stops reading it")
        return True

    def _cut(self, exchange: core.Exchange, reason: str) -> HarnessError:
        """Cut the exchange off at a size cap: keep an excerpt, say why (the caller's check reports it)."""
        policy.cut_off(exchange, reason)
        self._feed(self._call_core(self.core.receive_end, exchange))
        return self._error(exchange, f"cut off: {reason}")

    @contextlib.contextmanager
    def _response(self, exchange: core.Exchange, **kwargs: Any) -> Iterator[httpx.Response]:
        """The HTTP response to `exchange`, after the retries below the session (policy.WireRetries: a 401 with a
        token read again, an AgentCore front's -32005). The session core never sees the answers retried; the wire
        log notes them."""
        client, http = self.client, exchange.http
        retries = policy.WireRetries(client.config.auth, client.config.front)
        while True:
            with client.http.stream(
                http.method, client.config.url, headers=http.headers, content=http.body, **kwargs
            ) as response:
                retry = retries.after(
                    response.status_code, response.headers.get("content-type"), response.read, http.headers
                )
                if retry is None:
                    client.config.health.answered()
                    yield response
                    return
            self.wire.note(retries.note(exchange.number, retry))
            time.sleep(retry.delay)
            client.sign(exchange)

    def _answered(self, exchange: core.Exchange) -> bool:
        return exchange.request_id in self.core.responses

    def _error(self, exchange: core.Exchange, what: str, *, unanswered: bool = True) -> HarnessError:
        """The exchange failed (`unanswered`: it was sent; with no HTTP answer, the run's Health counts it)."""
        if unanswered and exchange.status is None:
            self.client.config.health.unanswered(what)
        method = (exchange.message or {}).get("method", exchange.purpose)
        text = f"{exchange.http.method} {method}: {what}"
        self.wire.note(text)
        return HarnessError(self.client.redactor.scrub(text))

    def _overdue(self, exchange: core.Exchange, deadline: float) -> Overdue:
        self.wire.note(f"#{exchange.number} not answered within its {deadline:g}s deadline; the harness stops reading")
        self._feed(self._call_core(self.core.receive_end, exchange))
        method = (exchange.message or {}).get("method", exchange.purpose)
        comments = exchange.sse.comments if exchange.sse is not None else 0
        came = f"{exchange.received} bytes" + (f", {comments} SSE comments" if comments else "")
        return Overdue(f"{method}: no response within the {deadline:g}s deadline ({came} came meanwhile)")

    def _resume(self, exchange: core.Exchange) -> None:
        """The stream ended before its response: come back with GET + Last-Event-ID, as the core decides."""
        resumption = lambda ex: self._call_core(self.core.resumption, ex)  # noqa: E731
        for delay, get in policy.resumptions(resumption, exchange, self.client.config.timeout):
            self.wire.note(f"stream #{exchange.number} ended before its response; resuming in {delay:g}s")
            time.sleep(delay)
            self.send(get, stop_when=lambda _: self._answered(exchange))

    # -- the session API used by checks and scenarios --

    def initialize(self, version: str | None = None, *, initialized: bool = True) -> Any:
        """initialize (+ notifications/initialized); returns the InitializeResult or raises."""
        ex = self.send(self._call_core(self.core.initialize, version))
        response = self.core.responses.get(ex.request_id)
        if ex.status != 200 or response is None:
            raise HarnessError(f"initialize was answered HTTP {ex.status} without an InitializeResult")
        if "error" in response:
            raise HarnessError(f"initialize was refused: {response['error']}")
        if initialized:
            self.notify("notifications/initialized")
        return response["result"]

    def request(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        progress: bool = False,
        deadline: float | None = None,
        read_on: bool = False,
    ) -> Any:
        """Send a request and return its exchange (the response is in `core.responses`); `read_on`: read its
        stream to the end, past the response."""

        def send() -> core.Exchange:
            ex = self._call_core(self.core.request, method, params, progress=progress)
            return self.send(ex, deadline=deadline, stop_at_response=not read_on)

        ex = send()
        if policy.reopens(self.core, ex, enabled=self.client.config.reinitialize):
            self._call_core(self.core.reset)
            self.initialize()
            ex = send()
        return ex

    def call(self, method: str, params: Mapping[str, Any] | None = None, *, progress: bool = False) -> Any:
        """Send a request and return its `result`; raise HarnessError on an error or no response."""
        ex = self.request(method, params, progress=progress)
        response = self.core.responses.get(ex.request_id)
        if response is None:
            raise HarnessError(f"{method}: HTTP {ex.status} and no JSON-RPC response")
        if "error" in response:
            raise HarnessError(f"{method}: JSON-RPC error {response['error']}")
        return response["result"]

    def notify(self, method: str, params: Mapping[str, Any] | None = None) -> core.Exchange:
        return self.send(self._call_core(self.core.notify, method, params))

    def mrtr(
        self, method: str, params: Mapping[str, Any] | None = None, *, rounds: int = MRTR_ROUNDS, **kwargs: Any
    ) -> list[core.Exchange]:
        """A modern request and its MRTR retries: while the answer is `input_required`, the inputs are answered by
        the session's handlers and the request retried (a new id, the requestState echoed), at most `rounds`
        times. Every exchange, first to last; the last one's answer is the call's."""
        sent = [self.modern(method, params, **kwargs)]
        while len(sent) <= rounds and _input_required(self.core, sent[-1]):
            sent.append(self.send(self._call_core(self.core.retry, sent[-1])))
        return sent

    def modern(self, method: str, params: Mapping[str, Any] | None = None, **kwargs: Any) -> core.Exchange:
        """Send a 2026-07-28 request (core.Session.modern: `progress`, `meta`, `headers`) and read it to its
        response; the answer is the exchange's (an error answer is a response here: 400 and 404 are ordinary)."""
        return self.send(self._call_core(self.core.modern, method, params, **kwargs))

    def raw(
        self,
        method: str,
        headers: Mapping[str, str],
        message: core.Message | None = None,
        *,
        body: bytes | None = None,
    ) -> core.Exchange:
        """Send exactly these headers (and message, or body bytes): checks use it for deliberately wrong requests."""
        headers = {"User-Agent": self.client.config.user_agent, **headers}
        exchange = self._call_core(self.core.custom, method, headers, message, body)
        return self._send_peek(exchange) if method == "GET" else self.send(exchange, stop_at_response=False)

    def _send_peek(self, exchange: core.Exchange) -> core.Exchange:
        """A GET: read the status and headers, then close (the stream would stay open)."""
        self.client.before_send(exchange)
        self._feed(self._call_core(self.core.sent, exchange))
        try:
            with self._response(exchange) as response:
                self._feed(self._call_core(self.core.receive_start, exchange, response.status_code, response.headers))
                if core.media_type(response.headers.get("content-type")) != core.SSE:
                    self._drain(exchange, response)
        except httpx.HTTPError as e:
            raise self._error(exchange, f"{type(e).__name__}: {e}") from None
        self._feed(self._call_core(self.core.receive_end, exchange))
        return exchange

    def _drain(self, exchange: core.Exchange, response: httpx.Response) -> None:
        """Read a body that carries nothing awaited, within policy.DRAIN_S and policy.DRAIN_BYTES."""
        ends = time.monotonic() + policy.DRAIN_S
        for chunk in _chunks(response):
            self._feed(self._call_core(self.core.receive_data, exchange, chunk))
            if policy.drained(exchange, ends):
                break

    def listen(self, notifications: Mapping[str, Any]) -> Stream:
        """A 2026-07-28 `subscriptions/listen` for these notification kinds, its stream read by a background
        thread until closed (stop())."""
        stream = Stream(
            self, self._call_core(self.core.modern, "subscriptions/listen", {"notifications": notifications})
        )
        self.streams.append(stream)
        stream.start()
        return stream

    def open_stream(self) -> Stream:
        """Open the session's GET stream, read by a background thread until closed."""
        stream = Stream(self, self._call_core(self.core.stream, None))
        self.streams.append(stream)
        stream.start()
        return stream

    def delete(self) -> core.Exchange:
        ex = self.send(self._call_core(self.core.delete))
        if ex.status is not None and ex.status < 300:
            self.deleted = True
        return ex

    def abandon(self) -> None:
        """Leave the session open on purpose (the churn scenario): close() will not DELETE it."""
        self.abandoned = True
        for stream in self.streams:
            stream.stop()

    def close(self) -> None:
        """DELETE the session if it may still be open, and stop its streams."""
        try:
            if policy.needs_delete(self.core, deleted=self.deleted, abandoned=self.abandoned):
                self.delete()
        finally:
            for stream in self.streams:
                stream.stop()

    def messages(self) -> Iterator[tuple[core.Exchange, core.Message]]:
        return self.core.messages()


def _input_required(session: core.Session, exchange: core.Exchange) -> bool:
    result = core.as_object(session.responses.get(exchange.request_id, {}).get("result"))
    return result.get("resultType") == core.INPUT_REQUIRED


def _chunks(response: httpx.Response) -> Iterator[bytes]:
    """The body as it arrives, or at once if it was read already (a JSON answer looked at for -32005)."""
    return iter([response.content]) if response.is_stream_consumed else response.iter_raw()


class Stream(threading.Thread):
    """An SSE stream read in the background (a session's GET, a 2026-07-28 listen); `stop()` closes it."""

    def __init__(self, conv: Conversation, exchange: core.Exchange) -> None:
        super().__init__(daemon=True, name=f"sse-{conv.core.tag}-{exchange.number}")
        self.conv = conv
        self.exchange = exchange
        self.opened = threading.Event()
        self.error: str | None = None
        self._response: httpx.Response | None = None
        self._stopping = False

    def run(self) -> None:
        conv, ex = self.conv, self.exchange
        conv.client.before_send(ex)
        conv._feed(conv._call_core(conv.core.sent, ex))
        try:
            # A GET stream may rightly stay silent for long (servers send keep-alive comments at their own
            # pace), so it gets a longer read timeout than a POST; stop() closes it before that.
            timeout = httpx.Timeout(conv.client.config.timeout, read=STREAM_READ_FACTOR * conv.client.config.timeout)
            with conv._response(ex, timeout=timeout) as r:
                self._response = r
                conv._feed(conv._call_core(conv.core.receive_start, ex, r.status_code, r.headers))
                self.opened.set()
                for chunk in _chunks(r):
                    conv._feed(conv._call_core(conv.core.receive_data, ex, chunk))
                    if reason := conv.client.config.limits.oversize(ex):
                        policy.cut_off(ex, reason)
                        self.error = f"cut off: {reason}"
                        conv.wire.note(f"GET stream #{ex.number} cut off: {reason}")
                        break
        except (httpx.HTTPError, RuntimeError) as e:
            if not self._stopping:
                self.error = f"{type(e).__name__}: {e}"
        finally:
            self.opened.set()
            conv._feed(conv._call_core(conv.core.receive_end, ex))

    def wait_open(self, timeout: float) -> bool:
        return self.opened.wait(timeout)

    @property
    def live(self) -> bool:
        """Whether the GET was answered with an SSE stream (not 405, not an error page)."""
        ex = self.exchange
        return ex.status == 200 and core.media_type(ex.headers.get("content-type")) == core.SSE

    def state(self) -> str:
        """What the GET got, in words: for observations that must not assume a stream exists."""
        if self.live:
            return "GET stream open"
        ex = self.exchange
        if ex.status is None:
            return f"GET not answered ({self.error or 'no response yet'})"
        return f"GET answered HTTP {ex.status} {ex.headers.get('content-type') or ''}".rstrip() + ": no GET stream"

    def stop(self, timeout: float = 2.0) -> None:
        self._stopping = True
        if self._response is not None:
            # Closing from another thread may race the reader; the stream ends either way.
            with contextlib.suppress(Exception):
                self._response.close()
        self.join(timeout)
