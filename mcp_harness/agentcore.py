"""Amazon Bedrock AgentCore Runtime as the front of an MCP server: its invocation URL, its own session header,
the -32005 answer to retry, and the deviations from the MCP spec it is known for.

A front is not the server under test, so what it changes is reported as `info` with the reason — never hidden,
never failed: an error carried as a JSON-RPC error inside HTTP 200 where the spec asks for an HTTP status.
The drivers ask a `Front` whether an answer means "busy, retry" and how long to wait; they do the retrying.
"""

from __future__ import annotations

import fnmatch
import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

RUNTIME_SESSION_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"
BUSY_CODE = -32005  # "Session operation in progress, please retry"
DEFAULT_IDLE_TIMEOUT = 900.0  # seconds: a runtime session ends after 15 idle minutes by default
MAX_LIFETIME = 8 * 3600.0  # seconds: and after 8 hours in any case
DEFAULT_RETRIES = 5
BACKOFF = 0.2  # seconds before the first retry; doubled each time, at most MAX_BACKOFF
MAX_BACKOFF = 3.0
# Checks that judge an HTTP error status, which this front may carry inside HTTP 200 instead.
STATUS_CHECKS = (
    "transport.session.*",
    "transport.version-header.*",
    "transport.origin.*",
    "transport.post.accept-header",
    "property.session.model",
    "property.malformed.rejected",
    "stateless.version.*",  # 2026-07-28 answers with 400 and 404 as ordinary protocol answers
    "stateless.meta.*",
    "stateless.headers.*",
)
DEVIATION = (
    "known deviation of the AgentCore front: it answers this with a JSON-RPC error inside HTTP 200 where the spec "
    "asks for an HTTP error status"
)


def invocation_url(region: str, runtime_arn: str, qualifier: str = "DEFAULT", endpoint: str | None = None) -> str:
    """POST /runtimes/{url-escaped ARN}/invocations?qualifier=… on the regional data-plane endpoint."""
    base = (endpoint or f"https://bedrock-agentcore.{region}.amazonaws.com").rstrip("/")
    return f"{base}/runtimes/{quote(runtime_arn, safe='')}/invocations?qualifier={quote(qualifier, safe='')}"


def runtime_session_id() -> str:
    """A new runtime session id (the front wants 33–256 characters): one per MCP session, so both route alike."""
    return f"mcp-harness-{uuid.uuid4().hex}"


def error_code(content_type: str | None, status: int | None, body: bytes) -> int | None:
    """The JSON-RPC error code of a JSON answer in HTTP 200, or None."""
    if status != 200 or "json" not in (content_type or ""):
        return None
    try:
        message = json.loads(body)
    except ValueError:
        return None
    error = message.get("error") if isinstance(message, dict) else None
    return error.get("code") if isinstance(error, dict) else None


@dataclass
class Front:
    """The [agentcore] table of a profile, and what happened at the front during the run."""

    region: str
    runtime_arn: str
    qualifier: str = "DEFAULT"
    endpoint: str | None = None
    max_retries: int = DEFAULT_RETRIES
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT
    max_lifetime: float = MAX_LIFETIME
    retries: int = 0  # -32005 answers retried
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def url(self) -> str:
        return invocation_url(self.region, self.runtime_arn, self.qualifier, self.endpoint)

    def retry_delay(self, attempt: int, content_type: str | None, status: int | None, body: bytes) -> float | None:
        """Seconds to wait before sending again when this answer is the front's -32005; None otherwise (or
        when `attempt` retries have been spent)."""
        if error_code(content_type, status, body) != BUSY_CODE or attempt >= self.max_retries:
            return None
        with self.lock:
            self.retries += 1
        return min(MAX_BACKOFF, BACKOFF * 2**attempt)

    def note(self) -> str:
        return (
            f"AgentCore front: runtime {self.runtime_arn} ({self.qualifier}) in {self.region}; idle timeout "
            f"{self.idle_timeout:g}s, lifetime {self.max_lifetime / 3600:g}h; -32005 retried up to "
            f"{self.max_retries} times ({self.retries} retries in this run)"
        )


def carried_error(exchanges: Any) -> bool:
    """Whether any of these exchanges got a JSON-RPC error inside HTTP 200 as a plain JSON body."""
    return any(
        error_code(ex.headers.get("content-type"), ex.status, bytes(ex.body)) not in (None, BUSY_CODE)
        for ex in exchanges
    )


def deviation(check_id: str, exchanges: Any) -> str | None:
    """The reason a failure of `check_id` is this front's known deviation, or None."""
    if any(fnmatch.fnmatch(check_id, pattern) for pattern in STATUS_CHECKS) and carried_error(exchanges):
        return DEVIATION
    return None
