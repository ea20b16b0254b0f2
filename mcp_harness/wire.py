"""The wire log: a readable record of every exchange of a session, with secrets redacted.

It is a consumer of the session core's events. Redaction happens when an entry is recorded, so no
secret ever sits in a log, a report or an exception message built from one.
"""

from __future__ import annotations

import hashlib
import html
import json
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from mcp_harness import core

# Header values that are credentials wherever they appear.
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"})
SESSION_HEADERS = frozenset({"mcp-session-id", "x-amzn-bedrock-agentcore-runtime-session-id"})
MAX_BODY = 4000  # characters of a body kept per entry


def fingerprint(value: str) -> str:
    """A short stable name for a session id: tells sessions apart without revealing them."""
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()[:10]


def _spellings(secrets: Iterable[str]) -> list[str]:
    values = {s for s in secrets if s and len(s) >= 4}
    # "Bearer <token>": the token alone is a secret too (a server may echo it without the scheme).
    values |= {s.split()[-1] for s in values if " " in s.strip() and len(s.split()[-1]) >= 8}
    return sorted(values, key=len, reverse=True)


class Redactor:
    """Knows which header names and values are secret, and scrubs them from headers and free text."""

    def __init__(self, user_headers: Iterable[str] = (), secrets: Iterable[str] = (), live: Sequence[str] = ()) -> None:
        self.names = SENSITIVE_HEADERS | {n.lower() for n in user_headers}
        self._fixed = _spellings(secrets)
        self._live = live  # grows during the run (tokens read again after a 401): looked at on each use
        self._seen = 0

    @property
    def secrets(self) -> list[str]:
        if len(self._live) != self._seen:
            self._fixed = sorted(set(self._fixed) | set(_spellings(self._live)), key=len, reverse=True)
            self._seen = len(self._live)
        return self._fixed

    def header(self, name: str, value: str) -> str:
        lower = name.lower()
        if lower in SESSION_HEADERS:
            return f"<session {fingerprint(value)}>"
        if lower in self.names:
            return "<redacted>"
        return self.scrub(value)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, "<redacted>")
        return text


def scrub_files(folder: Path, redactor: Redactor) -> int:
    """Redact every text file under `folder` in place, secrets also in their JSON- and XML-escaped spellings;
    returns how many files changed."""
    spellings = {v for s in redactor.secrets for v in (s, json.dumps(s)[1:-1], html.escape(s)) if len(v) >= 4}
    escaped = Redactor(secrets=spellings)
    changed = 0
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        try:
            text = path.read_text("utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary (e.g. a screenshot): no header value ends up in one
        clean = escaped.scrub(text)
        if clean != text:
            path.write_text(clean, "utf-8")
            changed += 1
    return changed


class WireLog:
    """Timestamped, redacted lines describing the exchanges of one session (or one check)."""

    def __init__(self, redactor: Redactor, label: str = "") -> None:
        self.redactor = redactor
        self.label = label
        self.lines: list[str] = []
        self._t0 = time.monotonic()

    def _stamp(self) -> str:
        return f"[{time.monotonic() - self._t0:8.3f}s]"

    def _body(self, raw: bytes | bytearray | str) -> str:
        text = raw if isinstance(raw, str) else bytes(raw).decode("utf-8", "replace")
        text = self.redactor.scrub(text)
        return text if len(text) <= MAX_BODY else text[:MAX_BODY] + f"… ({len(text)} chars)"

    def _headers(self, headers: Iterable[tuple[str, str]]) -> list[str]:
        return [f"    {k}: {self.redactor.header(k, v)}" for k, v in headers]

    def note(self, text: str) -> None:
        self.lines.append(f"{self._stamp()} -- {self.redactor.scrub(text)}")

    def record(self, events: Iterable[core.Event]) -> None:
        for event in events:
            ex = event.exchange
            tag = f"#{ex.number}"
            if isinstance(event, core.Sent):
                self.lines.append(f"{self._stamp()} → {tag} {ex.http.method} ({ex.purpose})")
                self.lines += self._headers(ex.http.headers.items())
                if ex.http.body:
                    self.lines.append("    " + self._body(ex.http.body))
            elif isinstance(event, core.ResponseStarted):
                self.lines.append(f"{self._stamp()} ← {tag} HTTP {ex.status}")
                self.lines += self._headers(ex.headers.items())
            elif isinstance(event, core.SSEReceived):
                e = event.event
                fields = [f"event={e.event}"] + ([f"id={e.id}"] if e.has_id else [])
                self.lines.append(f"{self._stamp()} ← {tag} SSE {' '.join(fields)} data: {self._body(e.data)}")
            elif isinstance(event, core.Violation):
                self.lines.append(f"{self._stamp()} !! {tag} {event.rule}: {self.redactor.scrub(event.detail)}")
            elif isinstance(event, core.ResponseEnded):
                if ex.body:
                    self.lines.append("    " + self._body(ex.body))
                self.lines.append(f"{self._stamp()} ← {tag} end of response")

    def render(self) -> str:
        head = f"== wire log {self.label} ==" if self.label else "== wire log =="
        return "\n".join([head, *self.lines])
