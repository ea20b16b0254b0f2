"""The MCP session core: sans-IO, one place for every protocol rule the harness applies as a client.

Fed HTTP response starts, body bytes and ends; returns events. It builds JSON-RPC messages and the HTTP
requests that carry them, correlates responses to request ids, decodes SSE, answers server→client
requests through pluggable handlers, tracks progress tokens and the session state (id, negotiated
version, server capabilities), and validates every server message against the negotiated version's
schema. It never touches a socket: the httpx driver (conformance) and the Locust driver (load) are thin
loops around it, and the wire log and every reporter consume the events it returns.
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from mcp_harness import instances, schema, versions
from mcp_harness.sse import SSEDecoder, SSEEvent

LATEST_VERSION = versions.latest()
STATELESS_VERSION = versions.stateless()  # no sessions, no initialize: every request carries its own `_meta`
META = "io.modelcontextprotocol/"  # the prefix of the 2026-07-28 `_meta` keys (basic/index § _meta)
# The methods whose `Mcp-Name` header mirrors a parameter (basic/transports/streamable-http § Standard Request Headers).
NAMED_BY = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}
INPUT_REQUIRED = "input_required"  # the resultType of an InputRequiredResult: ask, then retry (MRTR)
SENTINEL = ("=?base64?", "?=")  # § Value Encoding: how a header carries a value that is not plain ASCII
# The versions whose Streamable HTTP transport has sessions and `initialize`, oldest first.
STATEFUL_VERSIONS = versions.stateful()
ACCEPT_POST = "application/json, text/event-stream"
JSON = "application/json"
SSE = "text/event-stream"
MAX_DETAIL = 2000  # characters of a violation's detail kept (the server's text quoted in it is cut)

Message = dict[str, Any]
Handler = Callable[[Mapping[str, Any]], Message]


class ServerError(Exception):
    """A JSON-RPC error a handler raises to answer a server request with an error response."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _is_id(value: Any) -> bool:
    """Whether `value` can be a JSON-RPC id or progress token (a string or an integer; a number is tolerated)."""
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def as_object(value: Any) -> dict[str, Any]:
    """A JSON object read from a message, or {} when the server sent another type there."""
    return value if isinstance(value, dict) else {}


def _typed(value: Any, kind: type) -> Any:
    """`value` if it is of the JSON type `kind`, else None."""
    return value if isinstance(value, kind) and not isinstance(value, bool) else None


def session_header(version: str | None) -> str:
    """The spelling of the session header in the version's text (HTTP matches it case-insensitively)."""
    return versions.revision(version).session_header or "MCP-Session-Id"


def header_value(value: str) -> str:
    """`value` as a 2026-07-28 header carries it (§ Value Encoding): as it is when it is visible ASCII, spaces and tabs
    without whitespace at either end, else — and when it looks like the sentinel itself — Base64 of its UTF-8."""
    plain = all(" " <= c <= "~" or c == "\t" for c in value) and value == value.strip(" \t")
    if plain and not (value.startswith(SENTINEL[0]) and value.endswith(SENTINEL[1])):
        return value
    return SENTINEL[0] + base64.b64encode(value.encode()).decode() + SENTINEL[1]


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


# --- HTTP request descriptions and exchanges ------------------------------------------------------


@dataclass
class HttpRequest:
    """What a driver must send: the core decides method, headers and body; the driver adds the URL."""

    method: str
    headers: dict[str, str]
    body: bytes | None = None


@dataclass(eq=False)
class Exchange:
    """One HTTP request and its response, including the SSE stream it may carry."""

    number: int
    http: HttpRequest
    message: Message | None = None  # the JSON-RPC message sent, if any
    purpose: str = ""  # "initialize", "request", "notification", "response", "stream", "delete", "raw"
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names
    body: bytearray = field(default_factory=bytearray)  # non-SSE body bytes
    sse: SSEDecoder | None = None
    events: list[SSEEvent] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)  # JSON-RPC messages received on this exchange
    ended: bool = False
    received: int = 0  # body bytes received (SSE included)
    cut: str | None = None  # why the driver cut the answer off (a size cap): then it is not decoded
    resumes: Exchange | None = None  # the stream this GET resumes (Last-Event-ID), if any
    version: str | None = None  # the revision this exchange speaks when not the session's (a 2026-07-28 request)

    @property
    def stream(self) -> Exchange:
        """The exchange whose stream this one carries on (itself, unless it resumes another)."""
        return self.resumes.stream if self.resumes is not None else self

    @property
    def content_type(self) -> str:
        return media_type(self.headers.get("content-type"))

    @property
    def request_id(self) -> Any:
        """The id of the request this exchange carried (None for notifications and for our replies)."""
        return self.message.get("id") if self.message is not None and "method" in self.message else None


# --- events -----------------------------------------------------------------------------------------


@dataclass
class Event:
    exchange: Exchange


@dataclass
class Sent(Event):
    pass


@dataclass
class ResponseStarted(Event):
    pass


@dataclass
class SSEReceived(Event):
    event: SSEEvent


@dataclass
class MessageReceived(Event):
    message: Message
    kind: str  # "response", "request", "notification"


@dataclass
class Violation(Event):
    """Something the server sent that breaks a rule; `rule` is the id of the catalogue check that judges it (a test
    holds every rule named here to the catalogue), so that whichever check's session saw it, it reaches a verdict."""

    rule: str
    detail: str


@dataclass
class Reply(Event):
    """A handler answered a server request: the driver must POST `outgoing` (while reading on)."""

    outgoing: Exchange


@dataclass
class ResponseEnded(Event):
    pass


@dataclass
class SessionGone(Event):
    """HTTP 404 to a request that carried the session id: the session was terminated."""


@dataclass
class Progress:
    progress: float
    total: float | None
    message: str | None
    exchange: Exchange


@dataclass
class Pending:
    method: str
    exchange: Exchange
    progress_token: str | int | None = None


# --- default handlers for server→client requests ----------------------------------------------------


def elicitation_answer(action: str = "accept") -> Handler:
    """A handler answering elicitation/create with `action`: accept (content filling the requested schema),
    decline or cancel. URL mode (2025-11-25) is recognised: accepting it means consenting to open the URL."""
    if action not in ("accept", "decline", "cancel"):
        raise ValueError(f"elicitation action must be accept, decline or cancel, not {action!r}")

    def answer(params: Mapping[str, Any]) -> Message:
        if action != "accept" or params.get("mode") == "url":
            return {"action": action}
        return {"action": "accept", "content": instances.form_content(params.get("requestedSchema"))}

    return answer


accept_elicitation = elicitation_answer("accept")


def sampling_answer(
    text: str = "mcp-harness sampled text",
    model: str = "mcp-harness-model",
    role: str = "assistant",
    stop_reason: str = "endTurn",
) -> Handler:
    """A handler answering sampling/createMessage with one configurable text message."""

    def answer(params: Mapping[str, Any]) -> Message:
        return {"role": role, "content": {"type": "text", "text": text}, "model": model, "stopReason": stop_reason}

    return answer


sample_text = sampling_answer()


DEFAULT_HANDLERS: dict[str, Handler] = {
    "ping": lambda params: {},
    "elicitation/create": accept_elicitation,
    "sampling/createMessage": sample_text,
    "roots/list": lambda params: {"roots": []},
}
# Which client capability each handler stands for (ping needs none).
HANDLER_CAPABILITY = {"elicitation/create": "elicitation", "sampling/createMessage": "sampling", "roots/list": "roots"}


# --- the session ------------------------------------------------------------------------------------


def _readable(body: bytes | None) -> Any:
    """The JSON a raw body holds, or None if it is not JSON."""
    try:
        return json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        return None


class Session:
    """One MCP session as a client sees it. Not thread-safe: a driver serialises calls into it."""

    _tags = itertools.count(1)
    # Request ids are unique across all sessions of the process, so that a response routed to the wrong
    # session can never pass for one of that session's own.
    _ids = itertools.count(1)

    def __init__(
        self,
        *,
        requested_version: str = LATEST_VERSION,
        client_info: Mapping[str, str] | None = None,
        handlers: Mapping[str, Handler] | None = None,
        base_headers: Mapping[str, str] | None = None,
        validate: bool = True,
        request_ids: Iterator[int] | None = None,
    ) -> None:
        self.requested_version = requested_version
        self.client_info = dict(client_info or {"name": "mcp-harness", "version": "0"})
        self.handlers: dict[str, Handler] = dict(DEFAULT_HANDLERS if handlers is None else handlers)
        self.base_headers = dict(base_headers or {})
        self.validate = validate
        # Ids need only be unique within a session; a caller may give each session its own count (as many clients
        # do) to see that the server keeps sessions apart. By default they are unique across the process.
        self.request_ids = request_ids if request_ids is not None else self._ids
        self.tag = f"s{next(self._tags)}"  # makes ids and progress tokens distinct across sessions
        self.session_id: str | None = None
        self.protocol_version: str | None = None
        self.server_capabilities: dict[str, Any] = {}
        self.server_info: dict[str, Any] = {}
        self.initialize_result: Message | None = None
        self.gone = False  # a request with our session id got 404
        self.pending: dict[Any, Pending] = {}
        self.responses: dict[Any, Message] = {}
        self.answered_on: dict[Any, Exchange] = {}  # request id → the exchange its response came on
        self.progress: dict[str | int, list[Progress]] = {}
        self.violations: list[Violation] = []
        self.exchanges: list[Exchange] = []
        # Everything sent and received, in order: ("sent", exchange, message) / ("received", exchange, message).
        self.timeline: list[tuple[str, Exchange, Message | None]] = []
        self._exchange_numbers = itertools.count(1)
        self._requests_seen: set[Any] = set()

    # -- state --

    @property
    def capabilities(self) -> dict[str, Any]:
        """Client capabilities advertised at initialize: one per handler present."""
        return {cap: {} for method, cap in HANDLER_CAPABILITY.items() if method in self.handlers}

    @property
    def version(self) -> str:
        return self.protocol_version or self.requested_version

    def messages(self) -> Iterator[tuple[Exchange, Message]]:
        """Every message received so far, with the exchange it came on, in exchange order."""
        for ex in list(self.exchanges):
            for m in list(ex.messages):
                yield ex, m

    def answer(self, exchange: Exchange) -> Message:
        """The JSON-RPC answer to `exchange`'s request: its correlated response, else the error an HTTP error's body
        carried without our id (a legacy server's `"id": null`); {} when there is neither."""
        found = self.responses.get(exchange.request_id)
        if found is None:
            found = next((m for m in exchange.messages if isinstance(m, dict) and "error" in m), None)
        return found or {}

    def reset(self) -> None:
        """Forget the session (after a 404) so the next initialize starts a new one, same client."""
        self.session_id = None
        self.protocol_version = None
        self.gone = False
        self.initialize_result = None

    def prune(self) -> None:
        """Drop the records of finished exchanges (exchanges, timeline, responses, progress values), for
        long-lived sessions under load. Correlation state stays: requests in flight, the ids the server
        used, the progress tokens sent (a late notification for one is still recognised as this session's)."""
        self.exchanges.clear()
        self.timeline.clear()
        self.responses.clear()
        self.answered_on.clear()
        for values in self.progress.values():
            values.clear()

    # -- building what to send --

    def headers(self, *, accept: str = ACCEPT_POST, content_type: str | None = JSON) -> dict[str, str]:
        h = dict(self.base_headers)
        h["Accept"] = accept
        if content_type:
            h["Content-Type"] = content_type
        if self.session_id is not None:
            h[session_header(self.protocol_version)] = self.session_id
        if self.protocol_version and versions.revision(self.protocol_version).sends_version_header:
            h["MCP-Protocol-Version"] = self.protocol_version
        return h

    def _exchange(self, http: HttpRequest, message: Message | None, purpose: str) -> Exchange:
        ex = Exchange(next(self._exchange_numbers), http, message, purpose)
        self.exchanges.append(ex)
        return ex

    def next_id(self) -> str | int:
        return next(self.request_ids)

    def post(self, message: Message, purpose: str, headers: Mapping[str, str] | None = None) -> Exchange:
        """An exchange POSTing `message` as it is (checks use this to send deliberately odd messages)."""
        body = json.dumps(message, separators=(",", ":")).encode()
        h = self.headers() if headers is None else dict(headers)
        return self._exchange(HttpRequest("POST", h, body), message, purpose)

    def initialize(self, version: str | None = None) -> Exchange:
        params = {
            "protocolVersion": version or self.requested_version,
            "capabilities": self.capabilities,
            "clientInfo": self.client_info,
        }
        message = {"jsonrpc": "2.0", "id": self.next_id(), "method": "initialize", "params": params}
        ex = self.post(message, "initialize")
        self.pending[message["id"]] = Pending("initialize", ex)
        return ex

    def discover(self) -> Exchange:
        """`server/discover` as 2026-07-28 defines it: how a stateless server is recognised."""
        return self.modern("server/discover")

    def envelope(self) -> Message:
        """The `_meta` fields every 2026-07-28 request carries (basic/index § _meta)."""
        return {
            META + "protocolVersion": STATELESS_VERSION,
            META + "clientInfo": self.client_info,
            META + "clientCapabilities": self.capabilities,
        }

    def modern_headers(self, method: str, params: Mapping[str, Any]) -> dict[str, str]:
        """The headers of a 2026-07-28 POST: the version and the mirrored method and name; never a session id."""
        h = {**self.base_headers, "Accept": ACCEPT_POST, "Content-Type": JSON}
        h.update({"MCP-Protocol-Version": STATELESS_VERSION, "Mcp-Method": method})
        named = params.get(NAMED_BY.get(method, ""))
        if isinstance(named, str):
            h["Mcp-Name"] = header_value(named)
        return h

    def modern(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        progress: bool = False,
        meta: Mapping[str, Any] | None = None,
        headers: Mapping[str, str | None] | None = None,
    ) -> Exchange:
        """A 2026-07-28 request (no session: each carries its own `_meta` envelope and mirrored headers). A check
        sends a deliberately wrong one through `meta` and `headers`: their entries replace the built ones, and an
        entry that is None leaves that field or header out."""
        rid = self.next_id()
        body_params = dict(params or {})
        fields = {**self.envelope(), **as_object(body_params.get("_meta"))}
        token = None
        if progress:
            token = fields["progressToken"] = f"{self.tag}-p{rid}"
            self.progress[token] = []
        for key, value in (meta or {}).items():
            fields.pop(key, None) if value is None else fields.__setitem__(key, value)
        body_params["_meta"] = fields
        message: Message = {"jsonrpc": "2.0", "id": rid, "method": method, "params": body_params}
        h = self.modern_headers(method, body_params)
        for name, value in (headers or {}).items():
            h = {k: v for k, v in h.items() if k.lower() != name.lower()}
            if value is not None:
                h[name] = value
        ex = self.post(message, "request", h)
        ex.version = STATELESS_VERSION
        self.pending[rid] = Pending(method, ex, token)
        return ex

    def input_responses(self, requests: Any) -> dict[str, Any]:
        """The answers to an InputRequiredResult's `inputRequests` (basic/patterns/mrtr), from the handlers that answer
        a session's server requests: key → that request's result. A request no handler takes (a capability this
        client did not declare) is left unanswered, as is one whose handler fails on its params."""
        answers: dict[str, Any] = {}
        for key, request in as_object(requests).items():
            handler = self.handlers.get(as_object(request).get("method"))
            if handler is None:
                continue
            try:
                answers[key] = handler(as_object(as_object(request).get("params")))
            except Exception:  # params of the wrong shape: unanswered (the schema check judges them)
                continue
        return answers

    def retry(self, exchange: Exchange, responses: Mapping[str, Any] | None = None) -> Exchange:
        """The MRTR retry of `exchange`'s request, which was answered `input_required`: the same method, params and
        `_meta`, a new id, `inputResponses` (the handlers' answers unless given) and the `requestState` echoed
        byte for byte — none when the server sent none (client obligations of basic/patterns/mrtr)."""
        result = as_object(self.responses.get(exchange.request_id, {}).get("result"))
        sent = as_object(as_object(exchange.message).get("params"))
        params = {k: v for k, v in sent.items() if k not in ("inputResponses", "requestState")}
        params["_meta"] = {k: v for k, v in as_object(sent.get("_meta")).items() if k != "progressToken"}
        params["inputResponses"] = self.input_responses(result.get("inputRequests")) if responses is None else responses
        if "requestState" in result:
            params["requestState"] = result["requestState"]
        method = str(as_object(exchange.message).get("method"))
        return self.modern(method, params, progress="progressToken" in as_object(sent.get("_meta")))

    def request(
        self, method: str, params: Mapping[str, Any] | None = None, *, progress: bool = False, id: Any = None
    ) -> Exchange:
        rid = self.next_id() if id is None else id
        body: Message = {"jsonrpc": "2.0", "id": rid, "method": method}
        token = None
        if params is not None or progress:
            body["params"] = dict(params or {})
        if progress:
            token = f"{self.tag}-p{rid}"
            body["params"]["_meta"] = {**body["params"].get("_meta", {}), "progressToken": token}
            self.progress[token] = []
        ex = self.post(body, "request")
        self.pending[rid] = Pending(method, ex, token)
        return ex

    def notify(self, method: str, params: Mapping[str, Any] | None = None) -> Exchange:
        body: Message = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            body["params"] = dict(params)
        return self.post(body, "notification")

    def respond(self, request_id: Any, result: Message | None = None, error: ServerError | None = None) -> Exchange:
        body: Message = {"jsonrpc": "2.0", "id": request_id}
        if error is not None:
            body["error"] = {"code": error.code, "message": error.message}
        else:
            body["result"] = result or {}
        return self.post(body, "response")

    def stream(self, last_event_id: str | None = None) -> Exchange:
        """A GET that opens (or, with `last_event_id`, resumes) an SSE stream."""
        h = self.headers(accept=SSE, content_type=None)
        if last_event_id is not None:
            h["Last-Event-ID"] = last_event_id
        return self._exchange(HttpRequest("GET", h), None, "stream")

    def resumption(self, exchange: Exchange) -> tuple[float, Exchange] | None:
        """What to do about a request's stream (or a resumption of it) that has ended: None when it is done,
        else (seconds to wait, the GET + Last-Event-ID to send). A 2025-11-25 server may close a stream at
        will once it has sent an event id; the client then comes back after `retry`. A stream that closed
        with a response bearing another id is over (that violation is recorded), not resumed."""
        root = exchange.stream
        sse = exchange.sse
        if root.purpose not in ("initialize", "request", "raw") or root.request_id is None:
            return None
        if root.request_id in self.responses or any("method" not in m for m in root.messages):
            return None
        if sse is None or sse.last_event_id is None or (exchange is not root and not exchange.events):
            return None  # nothing to resume from, or the last resumption brought nothing new
        get = self.stream(sse.last_event_id)
        get.resumes = root
        return (sse.retry or 0) / 1000, get

    def delete(self) -> Exchange:
        return self._exchange(HttpRequest("DELETE", self.headers(accept=JSON, content_type=None)), None, "delete")

    def custom(
        self, method: str, headers: Mapping[str, str], message: Message | None = None, body: bytes | None = None
    ) -> Exchange:
        """An exchange with exactly these headers (checks send deliberately wrong requests with it); `body`, when
        given, goes out as it is (malformed input) and nothing is expected back."""
        if body is None and message is not None:
            body = json.dumps(message, separators=(",", ":")).encode()
        ex = self._exchange(HttpRequest(method, dict(headers), body), message, "raw")
        sent = message if message is not None else _readable(body)
        if isinstance(sent, dict) and isinstance(sent.get("id"), (str, int)) and not isinstance(sent["id"], bool):
            # A malformed body whose id is readable may be answered with that id (an error): that answer is ours.
            self.pending[sent["id"]] = Pending(str(sent.get("method", "(malformed request)")), ex)
        return ex

    def sent(self, exchange: Exchange) -> list[Event]:
        self.timeline.append(("sent", exchange, exchange.message))
        return [Sent(exchange)]

    # -- receiving --

    def receive_start(self, exchange: Exchange, status: int, headers: Mapping[str, str]) -> list[Event]:
        exchange.status = status
        exchange.headers = {k.lower(): v for k, v in headers.items()}
        events: list[Event] = [ResponseStarted(exchange)]
        carried = {k.lower(): v for k, v in exchange.http.headers.items()}.get("mcp-session-id")
        if status == 404 and carried is not None and carried == self.session_id:
            self.gone = True
            events.append(SessionGone(exchange))
        if exchange.purpose == "initialize" and status < 300:
            sid = next((v for k, v in exchange.headers.items() if k == "mcp-session-id"), None)
            self.session_id = sid
        if exchange.content_type == SSE and status < 300:
            exchange.sse = SSEDecoder()
        elif exchange.purpose in ("initialize", "request") and status == 200 and exchange.content_type != JSON:
            events.append(
                self._violation(
                    exchange,
                    "transport.post.request-content-type",
                    f"a request was answered 200 with Content-Type {exchange.headers.get('content-type')!r}",
                )
            )
        return events

    def receive_data(self, exchange: Exchange, data: bytes) -> list[Event]:
        exchange.received += len(data)
        if exchange.sse is None:
            exchange.body += data
            return []
        events: list[Event] = []
        for sse_event in exchange.sse.feed(data):
            events.extend(self._on_sse(exchange, sse_event))
        return events

    def receive_end(self, exchange: Exchange) -> list[Event]:
        events: list[Event] = []
        if exchange.sse is not None:
            for sse_event in exchange.sse.close():
                events.extend(self._on_sse(exchange, sse_event))
        elif self._decodes(exchange):
            events.extend(self._on_json_body(exchange))
        exchange.ended = True
        events.append(ResponseEnded(exchange))
        return events

    @staticmethod
    def _decodes(exchange: Exchange) -> bool:
        """Whether a plain body is read as JSON-RPC: a JSON answer, not cut off, and not to a DELETE (whose body
        the spec does not define: `{}` there is no malformed message)."""
        return (
            exchange.cut is None
            and bool(exchange.body)
            and exchange.content_type == JSON
            and exchange.status is not None
            and exchange.http.method != "DELETE"
        )

    def _on_json_body(self, exchange: Exchange) -> list[Event]:
        try:
            decoded = json.loads(exchange.body)
        except (ValueError, UnicodeDecodeError) as e:
            return [self._violation(exchange, "schema.server-messages", f"body is not JSON: {e}")]
        answered = isinstance(decoded, dict) and "error" in decoded and decoded.get("id") == exchange.request_id
        if exchange.version is not None and answered:
            # 2026-07-28 answers a request with 400 or 404 and a JSON-RPC error bearing its id: its response.
            return self._on_message(exchange, decoded)
        if exchange.status is not None and exchange.status >= 400:
            # An HTTP error may carry a JSON-RPC error without an id; keep it, do not correlate it.
            exchange.messages.append(decoded if isinstance(decoded, dict) else {"body": decoded})
            return []
        batch = decoded if isinstance(decoded, list) else [decoded]
        events: list[Event] = []
        for item in batch:
            events.extend(self._on_message(exchange, item))
        return events

    def _on_sse(self, exchange: Exchange, sse_event: SSEEvent) -> list[Event]:
        exchange.events.append(sse_event)
        events: list[Event] = [SSEReceived(exchange, sse_event)]
        if sse_event.data == "":
            return events  # a priming event (id + empty data): nothing to decode
        try:
            decoded = json.loads(sse_event.data)
        except ValueError as e:
            events.append(self._violation(exchange, "schema.server-messages", f"SSE data is not JSON: {e}"))
            return events
        for item in decoded if isinstance(decoded, list) else [decoded]:
            events.extend(self._on_message(exchange, item))
        return events

    def _on_message(self, exchange: Exchange, message: Any) -> list[Event]:
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            return [self._violation(exchange, "schema.server-messages", f"not a JSON-RPC 2.0 message: {message!r}")]
        exchange.messages.append(message)
        self.timeline.append(("received", exchange, message))
        kind = "response" if "method" not in message else "request" if "id" in message else "notification"
        events: list[Event] = [MessageReceived(exchange, message, kind)]
        if kind == "response":
            events.extend(self._on_response(exchange, message))
        elif kind == "request":
            events.extend(self._on_server_request(exchange, message))
        else:
            events.extend(self._on_notification(exchange, message))
        return events

    def _second_response(self, exchange: Exchange, rid: Any, message: Message) -> Violation | None:
        """A response for a request already answered, judged by the rule it breaks. On a resumption it was replayed
        from a stream it did not belong to: the answer first seen on another stream, or a different answer to the
        same id (another session's, from a store keyed by request id) — unless it is the resumed stream's own
        answer again, which is no violation (which events follow the Last-Event-ID is the server's to say). The
        same message on another stream that resumes nothing is a broadcast. Otherwise one request was answered
        twice."""
        first = self.answered_on.get(rid)
        detail = f"a second response for request id {rid!r}"
        same = message == self.responses[rid]
        if first is not None and exchange.resumes is not None:
            if first is not exchange and first.stream is exchange.stream:
                return None
            if first is not exchange or not same:
                replayed = f"{detail}, replayed from another stream"
                return self._violation(exchange, "transport.resume.no-cross-stream-replay", replayed)
        elif first is not None and first is not exchange and same:
            again = f"{detail}, sent again on another stream"
            return self._violation(exchange, "transport.session.isolation", again)
        return self._violation(exchange, "jsonrpc.response.same-id", detail)

    def _version(self, exchange: Exchange) -> str:
        """The revision a message on `exchange` is judged by: the exchange's own (a 2026-07-28 request), else the
        session's."""
        return exchange.stream.version or self.version

    def _check_schema(self, exchange: Exchange, problems: list[str]) -> list[Event]:
        return [self._violation(exchange, "schema.server-messages", p) for p in problems]

    def _on_response(self, exchange: Exchange, message: Message) -> list[Event]:
        rid = message.get("id")
        pending = self.pending.pop(rid, None) if isinstance(rid, (str, int)) else None
        if pending is None:
            if _is_id(rid) and rid in self.responses:
                second = self._second_response(exchange, rid, message)
                return [second] if second else []
            detail = f"response id {rid!r} matches no request in flight on this session"
            return [self._violation(exchange, "jsonrpc.response.same-id", detail)]
        self.responses[rid] = message
        self.answered_on[rid] = exchange
        events: list[Event] = []
        if self.validate:
            version = self._version(exchange)
            events += self._check_schema(exchange, schema.validate_response(version, message, pending.method))
        interim = as_object(message.get("result")).get("resultType") == INPUT_REQUIRED
        if exchange.stream.version is not None and interim and pending.method not in NAMED_BY:
            detail = f"an InputRequiredResult answered {pending.method}, which may not get one"
            events.append(self._violation(exchange, "stateless.mrtr.allowed-methods", detail))
        if pending.method == "initialize" and isinstance(message.get("result"), dict):
            # Each field is kept only with the type the schema gives it (a wrong one is the schema check's
            # failure, and must not become an exception here or in every header built later).
            result = message["result"]
            self.initialize_result = result
            self.protocol_version = _typed(result.get("protocolVersion"), str)
            self.server_capabilities = _typed(result.get("capabilities"), dict) or {}
            self.server_info = _typed(result.get("serverInfo"), dict) or {}
        return events

    def _on_server_request(self, exchange: Exchange, message: Message) -> list[Event]:
        events: list[Event] = []
        if self.validate:
            events += self._check_schema(exchange, schema.validate_server_message(self._version(exchange), message))
        rid, method = message.get("id"), message["method"]
        method = method if isinstance(method, str) else repr(method)  # a wrong type is the schema check's
        seen = rid if _is_id(rid) else json.dumps(rid, sort_keys=True)
        if seen in self._requests_seen:
            events.append(self._violation(exchange, "jsonrpc.request.id-unique", f"server reused request id {rid!r}"))
        self._requests_seen.add(seen)
        handler = self.handlers.get(method)
        if handler is None:
            cap = HANDLER_CAPABILITY.get(method)
            if cap is not None:
                events.append(
                    self._violation(
                        exchange,
                        "lifecycle.operation.negotiated-only",
                        f"server sent {method} although the client did not declare {cap!r}",
                    )
                )
            reply = self.respond(rid, error=ServerError(-32601, f"Method not found: {method}"))
        else:
            try:
                reply = self.respond(rid, handler(as_object(message.get("params"))))
            except ServerError as e:
                reply = self.respond(rid, error=e)
            except Exception as e:  # params of the wrong shape: the client answers them as such, never crashes
                reply = self.respond(rid, error=ServerError(-32602, f"Invalid params ({type(e).__name__})"))
        events.append(Reply(exchange, reply))
        return events

    def _on_notification(self, exchange: Exchange, message: Message) -> list[Event]:
        events: list[Event] = []
        if self.validate:
            events += self._check_schema(exchange, schema.validate_server_message(self._version(exchange), message))
        if message["method"] == "notifications/progress":
            params = as_object(message.get("params"))
            token = params.get("progressToken")
            if not _is_id(token) or token not in self.progress:
                # On a resumption it was replayed from another stream (the more precise of the two rules it breaks).
                stray = f"progress for token {token!r} this session never sent"
                if exchange.stream.version is not None:  # a modern call's own stream: not this request's progress
                    events.append(self._violation(exchange, "stateless.http.sse-notifications-related", stray))
                elif exchange.resumes is not None:
                    events.append(self._violation(exchange, "transport.resume.no-cross-stream-replay", stray))
                else:
                    events.append(self._violation(exchange, "transport.session.isolation", stray))
            else:
                self.progress[token].append(
                    Progress(params.get("progress"), params.get("total"), params.get("message"), exchange)
                )
        return events

    def _violation(self, exchange: Exchange, rule: str, detail: str) -> Violation:
        if len(detail) > MAX_DETAIL:  # a report quotes the server, never its whole payload
            detail = detail[:MAX_DETAIL] + f"… ({len(detail)} characters)"
        v = Violation(exchange, rule, detail)
        self.violations.append(v)
        return v
