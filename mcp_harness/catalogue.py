"""The requirement catalogue: every check's id, level, versions, spec reference and quoted requirement.

One place. Checks refer to entries by id; reports take the level, reference and quote from here. When
a rule's wording (or its level) changed between revisions, the entry has one row per wording and the
negotiated version picks the row. Quotes are copied from the pinned specification (see
`../shared/spec/REQUIREMENTS.md`); nothing here paraphrases the spec.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcp_harness import versions

V0326, V0618, V1125 = "2025-03-26", "2025-06-18", "2025-11-25"  # the revisions whose wording the rows quote
V0728 = versions.stateless()  # the first modern (stateless) revision
MODERN = versions.modern()
# A row "from" a revision holds in every later tested one too, including a revision added after it was written.
FROM_0326 = versions.since(V0326)
FROM_0618 = versions.since(V0618)
LIFECYCLE = "basic/lifecycle"
TRANSPORTS = "basic/transports"
PROGRESS = "basic/utilities/progress"
ELICITATION = "client/elicitation"
SCHEMA_QUOTE = (
    "The full specification of the protocol is defined as a TypeScript schema. This is the source of truth for all "
    "protocol messages and structures."
)
SESSIONS = "session-management"
SENDING = "sending-messages-to-the-server"
REQUEST_ANSWERED_0326 = (
    "If the input contains any number of JSON-RPC _requests_, the server **MUST** either return "
    "`Content-Type: text/event-stream`, to initiate an SSE stream, or `Content-Type: application/json`, "
    "to return one JSON object."
)
REQUEST_ANSWERED_0618 = (
    "If the input is a JSON-RPC _request_, the server **MUST** either return "
    "`Content-Type: text/event-stream`, to initiate an SSE stream, or `Content-Type: application/json`, "
    "to return one JSON object."
)
INPUT_REJECTED = (
    "If the server cannot accept the input, it **MUST** return an HTTP error status code (e.g., 400 Bad Request). "
    "The HTTP response body **MAY** comprise a JSON-RPC _error response_ that has no `id`."
)
JSONRPC_2 = "All messages between MCP clients and servers **MUST** follow the JSON-RPC 2.0 specification."
IDS_PER_SESSION = "The request ID **MUST NOT** have been previously used by the requestor within the same session."


SPEC_SITE = "https://modelcontextprotocol.io/specification"


@dataclass(frozen=True)
class Row:
    versions: tuple[str, ...]
    level: str  # MUST / SHOULD / MAY (MUST NOT counts as MUST, SHOULD NOT as SHOULD)
    page: str  # e.g. "basic/transports"
    section: str  # anchor on that page
    quote: str
    rule: str = ""  # the REQUIREMENTS.md id, when it differs from the check id


@dataclass(frozen=True)
class Requirement:
    id: str
    area: str  # lifecycle / session / transport / expiry / jsonrpc
    title: str
    rows: tuple[Row, ...]
    kind: str = "check"  # "check" (can fail; has a mutant) or "info" (records what the spec leaves open)
    binds: str = "any"  # which servers the rule binds: "any", "modern-only" (no session revision) or "dual-era"

    @property
    def modern(self) -> bool:
        """Whether this is a check of the modern (stateless, 2026-07-28) era, judged on modern requests."""
        return set(self.versions) <= set(MODERN)

    @property
    def versions(self) -> tuple[str, ...]:
        return tuple(v for row in self.rows for v in row.versions)

    def row(self, version: str) -> Row | None:
        return next((r for r in self.rows if version in r.versions), None)

    def spec_ref(self, version: str) -> str:
        row = self.row(version) or self.rows[-1]
        v = version if version in row.versions else row.versions[-1]
        return f"{v}/{row.page}#{row.section}"

    def spec_url(self, version: str) -> str:
        """The clause on the published specification site (Allure links, the HTML report)."""
        return f"{SPEC_SITE}/{self.spec_ref(version)}"


def _session_rows(quote_0326: str, quote_1125: str, level: str, section: str = SESSIONS) -> tuple[Row, ...]:
    """Rows for the session-management sentences, which changed only the header's spelling in 2025-11-25."""
    return (
        Row((V0326, V0618), level, TRANSPORTS, section, quote_0326),
        Row((V1125,), level, TRANSPORTS, section, quote_1125),
    )


EXPIRED_404 = (
    Row(
        FROM_0326,
        "MUST",
        TRANSPORTS,
        SESSIONS,
        "The server **MAY** terminate the session at any time, after which it **MUST** respond to requests "
        "containing that session ID with HTTP 404 Not Found.",
        rule="transport.session.expired-404",
    ),
)

# --- property-based checks: generated sequences and input (conformance/test_properties.py) ---
PROPERTIES: tuple[Requirement, ...] = (
    Requirement(
        "property.session.model",
        "session",
        "generated sequences over several sessions keep to a model: deleted and expired sessions get 404, live ones "
        "are served, notifications get 202, answers stay with their session and request id",
        (
            Row(
                (V0326, V0618),
                "MUST",
                TRANSPORTS,
                SESSIONS,
                EXPIRED_404[0].quote
                + " … "
                + IDS_PER_SESSION
                + " … Responses **MUST** include the same ID as the request they correspond to.",
            ),
            Row(
                (V1125,),
                "MUST",
                TRANSPORTS,
                SESSIONS,
                EXPIRED_404[0].quote
                + " … "
                + IDS_PER_SESSION
                + " … Result responses **MUST** include the same ID as the request they correspond to.",
            ),
        ),
    ),
    Requirement(
        "property.tools.arguments",
        "property",
        "tool calls with arguments generated from each tool's inputSchema get a result (isError for a tool failure) "
        "or a JSON-RPC error, never a 5xx or a broken connection, and the server stays healthy",
        (
            Row(
                (V0326,),
                "MUST",
                TRANSPORTS,
                SENDING,
                REQUEST_ANSWERED_0326 + " … Servers **MUST**: … Validate all tool inputs",
            ),
            Row(
                FROM_0618,
                "MUST",
                TRANSPORTS,
                SENDING,
                REQUEST_ANSWERED_0618 + " … Servers **MUST**: … Validate all tool inputs",
            ),
        ),
    ),
    Requirement(
        "property.malformed.rejected",
        "property",
        "malformed, oversized or wrongly labelled requests get an HTTP error status (400 for a bad "
        "MCP-Protocol-Version), never a result or a 5xx, and the next valid request still succeeds",
        (
            Row((V0326,), "MUST", TRANSPORTS, SENDING, INPUT_REJECTED),
            Row(
                FROM_0618,
                "MUST",
                TRANSPORTS,
                SENDING,
                INPUT_REJECTED
                + " … If the server receives a request with an invalid or unsupported `MCP-Protocol-Version`, it "
                "**MUST** respond with `400 Bad Request`.",
            ),
        ),
    ),
    Requirement(
        "property.jsonrpc.error-codes",
        "property",
        "a request for an unknown method gets JSON-RPC error -32601, one whose params break the method's schema "
        "-32602, with the request's id",
        (
            Row(
                (V0326, V0618),
                "MUST",
                "basic/index",
                "messages",
                JSONRPC_2 + " … Responses **MUST** include the same ID as the request they correspond to.",
            ),
            Row(
                (V1125,),
                "MUST",
                "basic/index",
                "messages",
                JSONRPC_2 + " … Error responses **MUST** include the same ID as the request they correspond to "
                "(except in error cases where the ID could not be read due a malformed request).",
            ),
        ),
    ),
)
# --- 2026-07-28, the modern era: stateless requests, each carrying its own `_meta` (conformance/test_stateless.py) ---
STREAMABLE = "basic/transports/streamable-http"
VERSIONING = "basic/versioning"
MRTR = "basic/patterns/mrtr"
SUBSCRIPTIONS = "basic/patterns/subscriptions"
EARLIER_TRAFFIC = (
    "A server that supports only this revision and receives such traffic from an older client **SHOULD** respond as "
    "follows: … "
)
STATELESS: tuple[Requirement, ...] = (
    Requirement(
        "stateless.discover.required",
        "stateless",
        "server/discover is answered with a DiscoverResult valid against the schema, listing 2026-07-28",
        (
            Row(
                (V0728,),
                "MUST",
                VERSIONING,
                "protocol-version-negotiation",
                "Servers **MUST** implement `server/discover`.",
            ),
        ),
    ),
    Requirement(
        "stateless.version.unsupported-400",
        "stateless",
        "a request for a protocol version the server does not implement gets 400 and an "
        "UnsupportedProtocolVersionError (-32022) listing the supported versions",
        (
            Row(
                (V0728,),
                "MUST",
                STREAMABLE,
                "protocol-version-header",
                "If the server does not implement the requested protocol version (whether the version is unknown to "
                "the server, or is a known version the server has chosen not to support), it **MUST** respond with "
                "`400 Bad Request` and an `UnsupportedProtocolVersionError` listing its supported versions.",
            ),
        ),
    ),
    Requirement(
        "stateless.meta.missing-required-400",
        "stateless",
        "a request whose _meta lacks a required field (clientCapabilities) gets 400 and -32602",
        (
            Row(
                (V0728,),
                "MUST",
                "basic/index",
                "general-fields",
                "A request missing any required field is malformed; the server **MUST** reject it with JSON-RPC "
                "error code `-32602` (Invalid params). On HTTP, the response status **MUST** be `400 Bad Request`.",
            ),
        ),
    ),
    Requirement(
        "stateless.version.method-not-found-404",
        "stateless",
        "methods removed in 2026-07-28 (ping, logging/setLevel, resources/subscribe) and unknown ones get 404 and "
        "-32601 when sent as modern requests",
        (
            Row(
                (V0728,),
                "MUST",
                STREAMABLE,
                "protocol-version-header",
                "If the server does not implement the requested RPC method, it **MUST** respond with `404 Not Found` "
                "and a JSON-RPC error with code `-32601` (`Method not found`).",
            ),
        ),
    ),
    Requirement(
        "stateless.result.result-type",
        "stateless",
        "every result to a modern request carries resultType",
        (
            Row(
                (V0728,),
                "MUST",
                "basic/index",
                "result-responses",
                "The `result` **MUST** include a `resultType` field to indicate the type of the result.",
            ),
        ),
    ),
    Requirement(
        "stateless.headers.mismatch-400",
        "stateless",
        "an Mcp-Method, Mcp-Name or MCP-Protocol-Version header that does not match the body (or is missing) gets "
        "400 and HeaderMismatch (-32020)",
        (
            Row(
                (V0728,),
                "MUST",
                STREAMABLE,
                "server-validation",
                "Servers that process the request body **MUST** reject requests where the values specified in the "
                "headers do not match the corresponding values in the request body. … When rejecting a request due "
                "to header validation failure, servers **MUST** return HTTP status `400 Bad Request` and **MUST** "
                "include a JSON-RPC error response using the following error code: … `-32020`",
                rule="stateless.headers.body-mismatch-reject",
            ),
        ),
    ),
    Requirement(
        "stateless.headers.server-decode",
        "stateless",
        "an Mcp-Name sent Base64-encoded (=?base64?…?=) is decoded before it is compared with the body: the request "
        "is served",
        (
            Row(
                (V0728,),
                "MUST",
                STREAMABLE,
                "value-encoding",
                "Servers and intermediaries that need to inspect these values **MUST** decode them accordingly. In "
                "particular, servers **MUST** decode an encoded `Mcp-Name` or `Mcp-Param-{Name}` value before "
                "comparing it to the corresponding request body value during Server Validation.",
            ),
        ),
    ),
    Requirement(
        "stateless.legacy.initialize-error-lists-versions",
        "stateless",
        "a modern-only server names the versions it supports in its error to a legacy initialize",
        (
            Row(
                (V0728,),
                "SHOULD",
                VERSIONING,
                "backward-compatibility-with-initialization-based-versions",
                "A server that supports only modern versions **SHOULD** name the protocol versions it supports in any "
                "error it returns to an `initialize` request, on any transport: legacy clients have no fall-forward "
                "mechanism, and this message may be the only diagnostic they can surface to users.",
            ),
        ),
        binds="modern-only",
    ),
    Requirement(
        "stateless.legacy.get-delete-405",
        "stateless",
        "a modern-only server answers GET and DELETE to its endpoint with 405",
        (
            Row(
                (V0728,),
                "SHOULD",
                STREAMABLE,
                "earlier-streamable-http-revisions",
                EARLIER_TRAFFIC + "HTTP GET or DELETE to the MCP endpoint: respond with `405 Method Not Allowed`.",
            ),
        ),
        binds="modern-only",
    ),
    Requirement(
        "stateless.legacy.ignore-session-id",
        "stateless",
        "a modern-only server serves a request carrying an Mcp-Session-Id as if it had none, and mints or echoes no "
        "session id",
        (
            Row(
                (V0728,),
                "SHOULD",
                STREAMABLE,
                "earlier-streamable-http-revisions",
                EARLIER_TRAFFIC
                + "An `Mcp-Session-Id` header on a request: ignore it, and do not mint or echo session IDs.",
            ),
        ),
        binds="modern-only",
    ),
    Requirement(
        "stateless.legacy.ignore-last-event-id",
        "stateless",
        "a modern-only server serves a request carrying a Last-Event-ID as if it had none",
        (
            Row(
                (V0728,),
                "SHOULD",
                STREAMABLE,
                "earlier-streamable-http-revisions",
                EARLIER_TRAFFIC + "A `Last-Event-ID` header: ignore it; streams are not resumable.",
            ),
        ),
        binds="modern-only",
    ),
    Requirement(
        "stateless.errors.retired-codes",
        "stateless",
        "a resources/read of an unknown URI is not answered with the retired -32002 (nor is anything with -32042)",
        (
            Row(
                (V0728,),
                "MUST",
                "basic/index",
                "error-codes",
                "Implementations of this protocol version **MUST NOT** emit these codes:",
            ),
        ),
    ),
    Requirement(
        "stateless.mrtr.required-pattern",
        "mrtr",
        "a tool that needs input asks for it with an InputRequiredResult, and the retry carrying the answers completes "
        "it; no server request is sent on any stream",
        (
            Row(
                (V0728,),
                "MUST",
                MRTR,
                "multi-round-trip-requests",
                "Servers **MUST** send server-to-client requests (such as `roots/list`, `sampling/createMessage`, or "
                "`elicitation/create`) using the MRTR pattern.",
            ),
        ),
    ),
    Requirement(
        "stateless.mrtr.allowed-methods",
        "mrtr",
        "no InputRequiredResult on any request but tools/call, prompts/get and resources/read",
        (
            Row(
                (V0728,),
                "MUST",
                MRTR,
                "supported-requests",
                "Servers **MAY** send `InputRequiredResult` responses on the following client requests: … Servers "
                "**MUST NOT** send `InputRequiredResult` responses on any other client requests.",
            ),
        ),
    ),
    Requirement(
        "stateless.mrtr.value-types",
        "mrtr",
        "every inputRequests value is an ElicitRequest, CreateMessageRequest or ListRootsRequest",
        (
            Row(
                (V0728,),
                "MUST",
                MRTR,
                "server-requirements-basic-workflow",
                "`inputRequests` values are request objects that **MUST** be one of `ElicitRequest`, "
                "`CreateMessageRequest`, or `ListRootsRequest`",
            ),
        ),
    ),
    Requirement(
        "stateless.mrtr.non-empty",
        "mrtr",
        "every InputRequiredResult carries inputRequests or requestState",
        (
            Row(
                (V0728,),
                "MUST",
                MRTR,
                "server-requirements-basic-workflow",
                "Servers **MUST** include at least one of `inputRequests` or `requestState` in every "
                "`InputRequiredResult` response.",
            ),
        ),
    ),
    Requirement(
        "stateless.mrtr.declared-capabilities",
        "mrtr",
        "a client that declares no capabilities is asked for no input it did not declare (-32021 or a complete "
        "result instead)",
        (
            Row(
                (V0728,),
                "MUST",
                MRTR,
                "server-requirements-basic-workflow",
                "Servers **MUST NOT** send an `inputRequests` that the client has not declared support for in its "
                "capabilities.",
            ),
        ),
    ),
    Requirement(
        "stateless.mrtr.re-ask-missing",
        "mrtr",
        "a retry that leaves the asked input out (requestState echoed) is asked again, not refused",
        (
            Row(
                (V0728,),
                "SHOULD",
                MRTR,
                "error-handling",
                "If the client fails to send all the information requested in a previous `InputRequests`, and the "
                "missing information is necessary for the server to process the request, the server **SHOULD** "
                "respond with a new `InputRequiredResult` requesting the missing information again, rather than "
                "returning an error.",
            ),
        ),
    ),
    Requirement(
        "stateless.legacy.dual-era",
        "stateless",
        "how a dual-era server selects the era: modern _meta served statelessly, initialize opening a legacy session "
        "(also when it asks for 2026-07-28), the versions each era advertises, and how mixed requests are routed",
        (
            Row(
                (V0728,),
                "MAY",
                VERSIONING,
                "compatibility-matrix",
                "A dual-era server **MAY** serve both eras concurrently on the same endpoint or process.",
            ),
        ),
        kind="info",
        binds="dual-era",
    ),
    Requirement(
        "stateless.http.sse-notifications-related",
        "stateless",
        "the notifications on a modern call's stream relate to that call: progress only for its own progressToken",
        (
            Row(
                (V0728,),
                "MUST",
                STREAMABLE,
                "receiving-messages",
                "The server **MAY** send JSON-RPC _notifications_ — for example, `notifications/progress` or "
                "`notifications/message` — before the final response. These notifications **MUST** relate to the "
                "originating client request.",
            ),
        ),
    ),
    Requirement(
        "stateless.http.x-accel-buffering",
        "stateless",
        "an SSE answer to a modern request carries X-Accel-Buffering: no",
        (
            Row(
                (V0728,),
                "SHOULD",
                STREAMABLE,
                "receiving-messages",
                "When initiating an SSE stream, servers **SHOULD** include the `X-Accel-Buffering: no` header in the "
                "HTTP response.",
            ),
        ),
    ),
    Requirement(
        "stateless.http.disconnect-cancels",
        "stateless",
        "closing a modern call's SSE stream mid-call cancels the call (seen through the side channel's count)",
        (
            Row(
                (V0728,),
                "MUST",
                STREAMABLE,
                "cancellation",
                "Closing the SSE response stream **MUST** be treated by the server as cancellation of that request.",
            ),
        ),
    ),
    Requirement(
        "stateless.subs.ack-first",
        "listen",
        "a subscriptions/listen stream opens with notifications/subscriptions/acknowledged carrying its id",
        (
            Row(
                (V0728,),
                "MUST",
                SUBSCRIPTIONS,
                "acknowledgment",
                "The server **MUST** send `notifications/subscriptions/acknowledged` as the first message carrying the "
                "subscription's ID in `_meta` under `io.modelcontextprotocol/subscriptionId`, and **MUST NOT** send "
                "any notification on the subscription before it.",
            ),
        ),
    ),
    Requirement(
        "stateless.meta.subscription-id",
        "listen",
        "every notification on a listen stream carries io.modelcontextprotocol/subscriptionId, the listen's id",
        (
            Row(
                (V0728,),
                "MUST",
                "basic/index",
                "general-fields",
                "On notifications delivered via a `subscriptions/listen` stream, the server **MUST** include "
                "`io.modelcontextprotocol/subscriptionId` in `_meta` so the client can correlate the notification "
                "with the originating subscription request.",
            ),
        ),
    ),
    Requirement(
        "stateless.subs.only-requested",
        "listen",
        "a listen stream that asked only for prompt list changes gets no tools/list_changed (while one that asked "
        "for it does)",
        (
            Row(
                (V0728,),
                "MUST",
                SUBSCRIPTIONS,
                "opening-a-stream",
                "The server **MUST NOT** send notification types the client has not explicitly requested.",
            ),
        ),
    ),
    Requirement(
        "stateless.logging.opt-in",
        "stateless",
        "a modern call without _meta logLevel gets no notifications/message (the same call with logLevel does)",
        (
            Row(
                (V0728,),
                "MUST",
                "server/utilities/logging",
                "per-request-log-level",
                "The server **MUST NOT** emit `notifications/message` for a request that does not include this field.",
            ),
        ),
    ),
    Requirement(
        "stateless.caching.hints",
        "stateless",
        "complete results of server/discover and the lists the server advertises carry ttlMs (an integer >= 0) and "
        "cacheScope",
        (
            Row(
                (V0728,),
                "MUST",
                "server/utilities/caching",
                "cacheable-results",
                'Servers MUST include caching hints on results with `resultType: "complete"` returned by the '
                "following operations: … Servers **MUST** provide a `ttlMs` value that is `>= 0`.",
                rule="stateless.caching.ttl-non-negative",
            ),
        ),
    ),
)


CATALOGUE: tuple[Requirement, ...] = (
    Requirement(
        "lifecycle.init.server-responds",
        "lifecycle",
        "initialize is answered with the server's capabilities and information",
        (
            Row(
                FROM_0326,
                "MUST",
                LIFECYCLE,
                "initialization",
                "The server **MUST** respond with its own capabilities and information:",
            ),
        ),
    ),
    Requirement(
        "lifecycle.version.server-echo",
        "lifecycle",
        "a supported requested version is answered with the same version",
        (
            Row(
                FROM_0326,
                "MUST",
                LIFECYCLE,
                "version-negotiation",
                "If the server supports the requested protocol version, it **MUST** respond with the same version.",
            ),
        ),
    ),
    Requirement(
        "lifecycle.version.server-counter-offer",
        "lifecycle",
        "an unsupported requested version is answered with a version the server supports",
        (
            Row(
                FROM_0326,
                "MUST",
                LIFECYCLE,
                "version-negotiation",
                "Otherwise, the server **MUST** respond with another protocol version it supports.",
            ),
        ),
    ),
    Requirement(
        "lifecycle.init.first-interaction",
        "lifecycle",
        "a request sent before initialize is not served",
        (
            Row(
                FROM_0326,
                "MUST",
                LIFECYCLE,
                "initialization",
                "The initialization phase **MUST** be the first interaction between client and server.",
            ),
        ),
    ),
    Requirement(
        "transport.post.notification-202",
        "transport",
        "a POSTed notification or response is answered 202 with no body",
        (
            Row(
                (V0326,),
                "MUST",
                TRANSPORTS,
                "sending-messages-to-the-server",
                "If the input consists solely of (any number of) JSON-RPC _responses_ or _notifications_: … If the "
                "server accepts the input, the server **MUST** return HTTP status code 202 Accepted with no body.",
            ),
            Row(
                FROM_0618,
                "MUST",
                TRANSPORTS,
                "sending-messages-to-the-server",
                "If the input is a JSON-RPC _response_ or _notification_: … If the server accepts the input, the "
                "server **MUST** return HTTP status code 202 Accepted with no body.",
            ),
        ),
    ),
    Requirement(
        "transport.post.request-content-type",
        "transport",
        "a request is answered as application/json or text/event-stream",
        (
            Row(
                (V0326,),
                "MUST",
                TRANSPORTS,
                "sending-messages-to-the-server",
                "If the input contains any number of JSON-RPC _requests_, the server **MUST** either return "
                "`Content-Type: text/event-stream`, to initiate an SSE stream, or `Content-Type: application/json`, "
                "to return one JSON object. The client **MUST** support both these cases.",
            ),
            Row(
                FROM_0618,
                "MUST",
                TRANSPORTS,
                "sending-messages-to-the-server",
                "If the input is a JSON-RPC _request_, the server **MUST** either return "
                "`Content-Type: text/event-stream`, to initiate an SSE stream, or `Content-Type: application/json`, "
                "to return one JSON object. The client **MUST** support both these cases.",
            ),
        ),
    ),
    Requirement(
        "transport.post.accept-header",
        "transport",
        "how the server treats a POST whose Accept lists only application/json",
        (
            Row(
                FROM_0326,
                "MAY",
                TRANSPORTS,
                "sending-messages-to-the-server",
                "The client **MUST** include an `Accept` header, listing both `application/json` and "
                "`text/event-stream` as supported content types.",
            ),
        ),
        kind="info",
    ),
    Requirement(
        "transport.get.sse-or-405",
        "transport",
        "GET is answered with an SSE stream or 405",
        (
            Row(
                FROM_0326,
                "MUST",
                TRANSPORTS,
                "listening-for-messages-from-the-server",
                "The server **MUST** either return `Content-Type: text/event-stream` in response to this HTTP GET, "
                "or else return HTTP 405 Method Not Allowed, indicating that the server does not offer an SSE "
                "stream at this endpoint.",
            ),
        ),
    ),
    Requirement(
        "transport.version-header.invalid-400",
        "transport",
        "an invalid MCP-Protocol-Version header is answered 400",
        (
            Row(
                FROM_0618,
                "MUST",
                TRANSPORTS,
                "protocol-version-header",
                "If the server receives a request with an invalid or unsupported `MCP-Protocol-Version`, it "
                "**MUST** respond with `400 Bad Request`.",
            ),
        ),
    ),
    Requirement(
        "transport.origin.invalid-403",
        "transport",
        "a request with a foreign Origin is refused (403 from 2025-11-25)",
        (
            Row(
                (V0326, V0618),
                "MUST",
                TRANSPORTS,
                "security-warning",
                "Servers **MUST** validate the `Origin` header on all incoming connections to prevent DNS "
                "rebinding attacks",
                rule="transport.origin.validate",
            ),
            Row(
                (V1125,),
                "MUST",
                TRANSPORTS,
                "security-warning",
                "If the `Origin` header is present and invalid, servers **MUST** respond with HTTP 403 Forbidden. "
                "The HTTP response body **MAY** comprise a JSON-RPC _error response_ that has no `id`",
            ),
        ),
    ),
    Requirement(
        "jsonrpc.response.same-id",
        "jsonrpc",
        "a response carries the id of the request it answers",
        (
            Row(
                (V0326, V0618),
                "MUST",
                "basic/index",
                "responses",
                "Responses **MUST** include the same ID as the request they correspond to.",
            ),
            Row(
                (V1125,),
                "MUST",
                "basic/index",
                "result-responses",
                "Result responses **MUST** include the same ID as the request they correspond to.",
            ),
        ),
    ),
    Requirement(
        "jsonrpc.request.id-unique",
        "jsonrpc",
        "the server's requests to the client (elicitation, sampling, ping) never reuse an id within the session",
        (Row(FROM_0326, "MUST", "basic/index", "requests", IDS_PER_SESSION),),
    ),
    Requirement(
        "schema.server-messages",
        "jsonrpc",
        "every server message is valid against the version's schema.json",
        (
            Row(
                FROM_0326,
                "MUST",
                "basic/index",
                "schema",
                "All messages between MCP clients and servers **MUST** follow the JSON-RPC 2.0 specification. … "
                "The full specification of the protocol is defined as a TypeScript schema. This is the source of "
                "truth for all protocol messages and structures.",
                rule="jsonrpc.message.jsonrpc-2",
            ),
        ),
    ),
    Requirement(
        "transport.session.assign-at-init",
        "session",
        "a session id is issued at initialize (required when the target is declared stateful)",
        _session_rows(
            "A server using the Streamable HTTP transport **MAY** assign a session ID at initialization time, by "
            "including it in an `Mcp-Session-Id` header on the HTTP response containing the `InitializeResult`.",
            "A server using the Streamable HTTP transport **MAY** assign a session ID at initialization time, by "
            "including it in an `MCP-Session-Id` header on the HTTP response containing the `InitializeResult`.",
            "MAY",
        ),
    ),
    Requirement(
        "transport.session.id-visible-ascii",
        "session",
        "the session id holds only visible ASCII (0x21–0x7E)",
        (
            Row(
                FROM_0326,
                "MUST",
                TRANSPORTS,
                SESSIONS,
                "The session ID **MUST** only contain visible ASCII characters (ranging from 0x21 to 0x7E).",
            ),
        ),
    ),
    Requirement(
        "transport.session.id-secure",
        "session",
        "session ids are unique across sessions",
        (
            Row(
                FROM_0326,
                "SHOULD",
                TRANSPORTS,
                SESSIONS,
                "The session ID **SHOULD** be globally unique and cryptographically secure (e.g., a securely "
                "generated UUID, a JWT, or a cryptographic hash).",
            ),
        ),
    ),
    Requirement(
        "transport.session.id-format",
        "session",
        "what the session ids look like (length, characters)",
        (
            Row(
                FROM_0326,
                "MAY",
                TRANSPORTS,
                SESSIONS,
                "The session ID **SHOULD** be globally unique and cryptographically secure (e.g., a securely "
                "generated UUID, a JWT, or a cryptographic hash).",
                rule="transport.session.id-secure",
            ),
        ),
        kind="info",
    ),
    Requirement(
        "transport.session.missing-id-400",
        "session",
        "a request without the session id is answered 400",
        _session_rows(
            "Servers that require a session ID **SHOULD** respond to requests without an `Mcp-Session-Id` header "
            "(other than initialization) with HTTP 400 Bad Request.",
            "Servers that require a session ID **SHOULD** respond to requests without an `MCP-Session-Id` header "
            "(other than initialization) with HTTP 400 Bad Request.",
            "SHOULD",
        ),
    ),
    Requirement(
        "transport.session.expired-404",
        "session",
        "after DELETE, requests with that session id get 404 (or DELETE is refused with 405)",
        (
            *EXPIRED_404,
            Row(
                FROM_0326,
                "MAY",
                TRANSPORTS,
                SESSIONS,
                "The server **MAY** respond to this request with HTTP 405 Method Not Allowed, indicating that the "
                "server does not allow clients to terminate sessions.",
                rule="transport.session.delete-405",
            ),
        ),
    ),
    Requirement(
        "transport.session.unknown-id",
        "session",
        "the answer to a session id the server never issued",
        (Row(FROM_0326, "MAY", TRANSPORTS, SESSIONS, EXPIRED_404[0].quote, rule="transport.session.expired-404"),),
        kind="info",
    ),
    Requirement(
        "transport.session.isolation",
        "session",
        "concurrent sessions are isolated: nothing of one appears on another's streams",
        (
            Row(
                FROM_0326,
                "MUST",
                TRANSPORTS,
                "multiple-connections",
                "The server **MUST** send each of its JSON-RPC messages on only one of the connected streams; that "
                "is, it **MUST NOT** broadcast the same message across multiple streams.",
                rule="transport.multi.no-broadcast",
            ),
        ),
    ),
    Requirement(
        "transport.session.expired-404.idle",
        "expiry",
        "a session idle past the timeout gets 404, and the same client can initialize anew",
        EXPIRED_404,
    ),
    # --- round trips inside a session: elicitation, sampling, progress, cancellation, ping, resumability ---
    Requirement(
        "elicitation.form.params",
        "elicitation",
        "an elicitation/create request is valid: a message and a flat requestedSchema of primitive properties",
        (
            Row(
                (V0618,),
                "MUST",
                ELICITATION,
                "request-schema",
                "The `requestedSchema` field allows servers to define the structure of the expected response using a "
                "restricted subset of JSON Schema. To simplify implementation for clients, elicitation schemas are "
                "limited to flat objects with primitive properties only:",
                rule="schema.server-messages",
            ),
            Row(
                (V1125,),
                "MUST",
                ELICITATION,
                "form-mode-elicitation-requests",
                'Form mode elicitation requests **MUST** either specify `mode: "form"` or omit the `mode` field, and '
                "include these additional parameters: … To simplify client user experience, form mode elicitation "
                "schemas are limited to flat objects with primitive properties only.",
            ),
        ),
    ),
    Requirement(
        "transport.sse.related-messages",
        "elicitation",
        "a server request a tool call triggers arrives, with an id, on that call's POST stream, before its result",
        (
            Row(
                FROM_0618,
                "SHOULD",
                TRANSPORTS,
                "sending-messages-to-the-server",
                "The server **MAY** send JSON-RPC _requests_ and _notifications_ before sending the JSON-RPC "
                "_response_. These messages **SHOULD** relate to the originating client _request_.",
            ),
        ),
    ),
    Requirement(
        "elicitation.response.actions",
        "elicitation",
        "what the tool reports for each answer: accept, decline, cancel",
        (
            Row(
                (V0618,),
                "MAY",
                ELICITATION,
                "response-actions",
                "Elicitation responses use a three-action model to clearly distinguish between different user actions:",
            ),
            Row(
                (V1125,),
                "MAY",
                ELICITATION,
                "response-actions",
                "Elicitation responses use a three-action model to clearly distinguish between different user actions. "
                "These actions apply to both form and URL elicitation modes.",
            ),
        ),
        kind="info",
    ),
    Requirement(
        "sampling.request.shape",
        "sampling",
        "a sampling/createMessage request carries messages and maxTokens (and tools only if the client allows them)",
        (
            Row((V0326, V0618), "MUST", "basic/index", "schema", SCHEMA_QUOTE, rule="schema.server-messages"),
            Row(
                (V1125,),
                "MUST",
                "client/sampling",
                "tools-in-sampling",
                "Servers **MUST NOT** send tool-enabled sampling requests to Clients that have not declared support "
                "for tool use via the `sampling.tools` capability. … " + SCHEMA_QUOTE,
                rule="sampling.tools.capability-gated",
            ),
        ),
    ),
    Requirement(
        "lifecycle.operation.negotiated-only",
        "lifecycle",
        "the server sends no request for a capability the client did not declare",
        (
            Row(
                (V0326,),
                "SHOULD",
                LIFECYCLE,
                "operation",
                "Both parties **SHOULD**: … Respect the negotiated protocol version … Only use capabilities that were "
                "successfully negotiated",
            ),
            Row(
                FROM_0618,
                "MUST",
                LIFECYCLE,
                "operation",
                "Both parties **MUST**: … Respect the negotiated protocol version … Only use capabilities that were "
                "successfully negotiated",
            ),
        ),
    ),
    Requirement(
        "progress.token.active-only",
        "progress",
        "progress notifications only for a request that sent a progressToken, and only with that token",
        (
            Row(
                FROM_0326,
                "MUST",
                PROGRESS,
                "behavior-requirements",
                "Progress notifications **MUST** only reference tokens that: … Were provided in an active request … "
                "Are associated with an in-progress operation",
            ),
        ),
    ),
    Requirement(
        "progress.value.increasing",
        "progress",
        "progress strictly increases from one notification to the next",
        (
            Row(
                FROM_0326,
                "MUST",
                PROGRESS,
                "progress-flow",
                "The `progress` value **MUST** increase with each notification, even if the total is unknown.",
            ),
        ),
    ),
    Requirement(
        "progress.stop-after-completion",
        "progress",
        "no progress notification after the request's result",
        (
            Row(
                FROM_0326,
                "MUST",
                PROGRESS,
                "implementation-notes",
                "Progress notifications **MUST** stop after completion",
            ),
        ),
    ),
    Requirement(
        "cancellation.receiver.stop",
        "cancellation",
        "after notifications/cancelled (answered 202) the server does not send the cancelled request's result",
        (
            Row(
                FROM_0326,
                "SHOULD",
                "basic/utilities/cancellation",
                "behavior-requirements",
                "Receivers of cancellation notifications **SHOULD**: … Stop processing the cancelled request … Free "
                "associated resources … Not send a response for the cancelled request",
            ),
        ),
    ),
    Requirement(
        "ping.respond.prompt-empty",
        "ping",
        "ping is answered promptly with an empty result",
        (
            Row(
                FROM_0326,
                "MUST",
                "basic/utilities/ping",
                "behavior-requirements",
                "The receiver **MUST** respond promptly with an empty response:",
            ),
        ),
    ),
    Requirement(
        "ping.periodic",
        "ping",
        "whether the server pings the client (its pings are answered with an empty result)",
        (
            Row(
                FROM_0326,
                "SHOULD",
                "basic/utilities/ping",
                "implementation-considerations",
                "Implementations **SHOULD** periodically issue pings to detect connection health",
            ),
        ),
        kind="info",
    ),
    Requirement(
        "transport.resume.no-cross-stream-replay",
        "resumability",
        "a stream resumed with Last-Event-ID replays none of another stream's messages",
        (
            Row(
                FROM_0326,
                "MUST",
                TRANSPORTS,
                "resumability-and-redelivery",
                "The server **MUST NOT** replay messages that would have been delivered on a different stream.",
            ),
        ),
    ),
    Requirement(
        "transport.resume.replay",
        "resumability",
        "whether a dropped stream resumed with Last-Event-ID redelivers the messages it missed",
        (
            Row(
                FROM_0326,
                "MAY",
                TRANSPORTS,
                "resumability-and-redelivery",
                "The server **MAY** use this header to replay messages that would have been sent after the last event "
                "ID, _on the stream that was disconnected_, and to resume the stream from that point.",
            ),
        ),
        kind="info",
    ),
    *PROPERTIES,
    *STATELESS,
)


BY_ID: dict[str, Requirement] = {r.id: r for r in CATALOGUE}


def get(check_id: str) -> Requirement:
    try:
        return BY_ID[check_id]
    except KeyError:
        raise KeyError(f"unknown check id {check_id!r}") from None
