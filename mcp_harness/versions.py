"""The protocol revisions: one record each, the one place that knows what a revision does.

Other modules ask a record by feature (`revision(v).sends_version_header`, `.has_sessions`, …), never by comparing
version strings. Adding a revision is one record here, its catalogue rows and its checks (and its schema.json under
`schemas/` when it has one). Each feature cites where the pinned spec says so (`../shared/spec/`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Revision:
    name: str  # the protocol version string, e.g. "2025-11-25"
    sessions: bool  # Streamable HTTP sessions (`Mcp-Session-Id`) and the `initialize` handshake
    session_header: str | None  # the header's spelling in that revision's text (HTTP ignores case)
    sends_version_header: bool  # requests after initialize carry `MCP-Protocol-Version` (basic/transports)
    modern_schema: bool  # embedded schemas default to JSON Schema 2020-12 (else draft-07)
    batching: bool  # JSON-RPC batches (arrays) are part of the transport
    elicitation_modes: tuple[str, ...]  # "form", "url"; () where elicitation does not exist
    elicitation_enum_arrays: bool  # form fields may be arrays of enumerated items (multi-select)
    origin_refusal: int | None  # the status a foreign Origin MUST get (None: any 4xx refusal)
    ids_unique_within: str  # where request ids must not repeat: "session" or "in-flight requests"
    closed_stream_cancels: bool  # closing a request's stream is its cancellation (else only a disconnect)
    not_found_means_session_gone: bool  # HTTP 404 means the session ended (else: read the JSON-RPC body)
    has_schema: bool = True  # a pinned schema.json ships in schemas/<name>/
    tested: bool = False  # the harness drives it end to end

    @property
    def initialize(self) -> bool:
        """Whether a connection starts with the `initialize` handshake (only revisions with sessions have it)."""
        return self.sessions


REVISIONS: list[Revision] = [  # oldest first
    Revision(
        "2024-11-05",  # HTTP+SSE, not Streamable HTTP: schemas and version lists only
        sessions=False,
        session_header=None,
        sends_version_header=False,
        modern_schema=False,
        batching=True,
        elicitation_modes=(),
        elicitation_enum_arrays=False,
        origin_refusal=None,
        ids_unique_within="session",
        closed_stream_cancels=False,
        not_found_means_session_gone=False,
    ),
    Revision(
        "2025-03-26",
        sessions=True,
        session_header="Mcp-Session-Id",
        sends_version_header=False,
        modern_schema=False,
        batching=True,
        elicitation_modes=(),
        elicitation_enum_arrays=False,
        origin_refusal=None,
        ids_unique_within="session",
        closed_stream_cancels=False,
        not_found_means_session_gone=True,
        tested=True,
    ),
    Revision(
        "2025-06-18",
        sessions=True,
        session_header="Mcp-Session-Id",
        sends_version_header=True,
        modern_schema=False,
        batching=False,
        elicitation_modes=("form",),
        elicitation_enum_arrays=False,
        origin_refusal=None,
        ids_unique_within="session",
        closed_stream_cancels=False,
        not_found_means_session_gone=True,
        tested=True,
    ),
    Revision(
        "2025-11-25",
        sessions=True,
        session_header="MCP-Session-Id",
        sends_version_header=True,
        modern_schema=True,
        batching=False,
        elicitation_modes=("form", "url"),
        elicitation_enum_arrays=True,
        origin_refusal=403,
        ids_unique_within="session",
        closed_stream_cancels=False,
        not_found_means_session_gone=True,
        tested=True,
    ),
    Revision(
        "2026-07-28",  # stateless: per-request `_meta`, server/discover (basic/versioning, basic/index)
        sessions=False,
        session_header=None,
        sends_version_header=True,
        modern_schema=True,
        batching=False,
        elicitation_modes=("form", "url"),
        elicitation_enum_arrays=True,
        origin_refusal=403,
        ids_unique_within="in-flight requests",
        closed_stream_cancels=True,
        not_found_means_session_gone=False,
        tested=True,
    ),
]


def names() -> tuple[str, ...]:
    """Every released revision, oldest first."""
    return tuple(r.name for r in REVISIONS)


def stateful() -> tuple[str, ...]:
    """The revisions the harness tests (sessions and initialize), oldest first."""
    return tuple(r.name for r in REVISIONS if r.tested and r.sessions)


def latest() -> str:
    """The newest tested revision: what the harness asks for at initialize by default."""
    return stateful()[-1]


def stateless() -> str:
    """The newest revision without sessions: what `server/discover` is asked for and modern requests carry."""
    return next(r.name for r in reversed(REVISIONS) if not r.sessions)


def modern() -> tuple[str, ...]:
    """The tested revisions without sessions (each request self-contained: the "modern" era), oldest first."""
    return tuple(r.name for r in REVISIONS if r.tested and not r.sessions)


def since(name: str) -> tuple[str, ...]:
    """The tested revisions from `name` on (a catalogue row that holds from a revision holds in later ones)."""
    known = stateful()
    return known[known.index(name) :]


def revision(name: str | None) -> Revision:
    """The record of `name`. A version the harness has no record of only comes up inside a session (a server may
    negotiate a date we do not know): it is read as the newest tested revision released on or before it, and
    anything that is no date as the latest."""
    for r in REVISIONS:
        if r.name == name:
            return r
    tested = [r for r in REVISIONS if r.name in stateful()]
    if not isinstance(name, str) or not DATE.fullmatch(name):
        return revision(latest())
    earlier = [r for r in tested if r.name <= name]
    return earlier[-1] if earlier else tested[0]
