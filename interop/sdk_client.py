"""Interop with the official Python SDK client (mcp 2.3.0) in its legacy, stateful mode.

The SDK's `Client` defaults to `mode="auto"`, which probes `server/discover` (2026-07-28, stateless) first;
`mode="legacy"` forces the 2025-11-25 `initialize` handshake, after which the server issues an `Mcp-Session-Id`
that the SDK sends on every request and DELETEs on exit. This is the path a stateful server must serve.

`run_sdk_polling` also drives SSE polling (SEP-1699) with the SDK client: the `test_reconnection` fixture closes
its POST stream mid-call and the client must resume with GET + Last-Event-ID to get the result. (The official
suite 0.1.16 cannot reach that path: it sends `MCP-Protocol-Version: 2025-03-26` there, for which the SDK server
neither primes nor closes streams.)

    python interop/sdk_client.py --url http://127.0.0.1:8000/mcp [--polling]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import TextContent

EXPECTED_VERSION = "2025-11-25"  # what the SDK's legacy handshake asks for (LATEST_HANDSHAKE_VERSION)
SESSION_HEADER = "mcp-session-id"
ECHO, ECHO_ARGUMENTS = "echo", {"text": "interop"}
RECONNECTION = "test_reconnection"  # the official fixture that closes its stream mid-call


class InteropError(RuntimeError):
    """The SDK client could not complete the exchange; the message says which step and why."""


def root_cause(exc: BaseException) -> BaseException:
    """The first leaf of nested exception groups: the SDK's task groups wrap the real error."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def describe(exc: BaseException) -> str:
    cause = root_cause(exc)
    return f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__


@dataclass
class Wire:
    """What the HTTP exchange showed, beyond what the SDK client reports."""

    session_ids: set[str] = field(default_factory=set)
    resumed_after: list[str] = field(default_factory=list)  # Last-Event-ID of each resuming GET

    async def on_request(self, request: httpx2.Request) -> None:
        if request.method == "GET" and (last := request.headers.get("last-event-id")):
            self.resumed_after.append(last)

    async def on_response(self, response: httpx2.Response) -> None:
        if sid := response.headers.get(SESSION_HEADER):
            self.session_ids.add(sid)


def result_text(tool: str, result: Any) -> str:
    texts = [c.text for c in result.content if isinstance(c, TextContent)]
    if result.is_error:
        raise InteropError(f"tools/call {tool} returned isError: {' '.join(texts) or 'no text'}")
    if not texts:
        raise InteropError(f"tools/call {tool} returned no text content: {result.content!r}")
    return texts[0]


async def call_tool(url: str, tool: str, arguments: dict[str, Any], timeout: float) -> tuple[str, Wire]:
    """Initialize in legacy mode, check the session, call `tool`; the text of its result and what the wire showed."""
    wire, step = Wire(), "initialize"
    hooks = {"request": [wire.on_request], "response": [wire.on_response]}
    try:
        # Our own httpx2 client: a bounded timeout (the SDK's default read timeout is 300 s) and a view of headers.
        async with httpx2.AsyncClient(timeout=httpx2.Timeout(timeout), event_hooks=hooks) as http:
            transport = streamable_http_client(url, http_client=http)  # DELETEs the session on exit
            async with Client(transport, mode="legacy", read_timeout_seconds=timeout) as client:
                if client.protocol_version != EXPECTED_VERSION:
                    raise InteropError(f"negotiated {client.protocol_version}, expected {EXPECTED_VERSION}")
                if not wire.session_ids:
                    raise InteropError("the server issued no Mcp-Session-Id at initialize: it is not stateful")
                step = f"tools/call {tool}"
                return result_text(tool, await client.call_tool(tool, arguments)), wire
    except Exception as exc:  # the SDK raises from several layers (httpx2, JSON-RPC, task groups)
        if isinstance(cause := root_cause(exc), InteropError):  # ours, wrapped by the transport's task group
            raise cause from None
        raise InteropError(f"{step} failed: {describe(exc)}") from exc


def run(url: str, tool: str, arguments: dict[str, Any], timeout: float) -> tuple[str, Wire]:
    """`call_tool` with the whole exchange bounded by `timeout`; every failure becomes one InteropError."""

    async def bounded() -> tuple[str, Wire]:
        with anyio.fail_after(timeout):
            return await call_tool(url, tool, arguments, timeout)

    try:
        return anyio.run(bounded)
    except TimeoutError as exc:
        raise InteropError(f"SDK client against {url}: no answer within {timeout:g} s") from exc
    except InteropError as exc:
        raise InteropError(f"SDK client against {url}: {exc}") from exc


def run_sdk_client(url: str, timeout: float = 10) -> str:
    """Initialize (2025-11-25, with a session) with the official SDK client and call `echo`; return its text.

    `timeout` bounds the whole exchange in seconds. Raises InteropError with the failing step on any failure.
    """
    return run(url, ECHO, ECHO_ARGUMENTS, timeout)[0]


def run_sdk_polling(url: str, timeout: float = 10) -> str:
    """Call `test_reconnection` with the SDK client, which must resume the closed stream to get the result.

    Returns the result's text; raises InteropError if the call fails or the result came without a resumption.
    """
    text, wire = run(url, RECONNECTION, {}, timeout)
    if not wire.resumed_after:
        raise InteropError(f"{RECONNECTION} answered on its POST stream: the server did not close it mid-call")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the MCP endpoint, e.g. http://127.0.0.1:8000/mcp")
    parser.add_argument("--timeout", type=float, default=10, help="seconds for the whole exchange (default 10)")
    parser.add_argument("--polling", action="store_true", help=f"call {RECONNECTION} (SSE polling) instead of echo")
    args = parser.parse_args(argv)
    try:
        text = (run_sdk_polling if args.polling else run_sdk_client)(args.url, args.timeout)
    except InteropError as exc:
        print(f"FAIL {exc}", file=sys.stderr)
        return 1
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
