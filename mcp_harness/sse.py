"""Sans-IO Server-Sent Events decoder, exact to the WHATWG event-stream interpretation rules.

https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation

Feed it bytes in any chunking, get `SSEEvent`s back. Only CRLF, lone CR and lone LF end a line;
other Unicode line separators (U+2028, U+2029, U+0085, ...) are ordinary text.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

__all__ = ["SSEDecoder", "SSEEvent"]


@dataclass(frozen=True, slots=True)
class SSEEvent:
    data: str  # the data buffer with the final LF removed
    event: str = "message"  # event type ("message" when no/empty event field)
    id: str | None = None  # the last-event-id buffer at dispatch time (persists across events)
    has_id: bool = False  # True when this event's own block carried an (accepted) `id` field


class SSEDecoder:
    """Incremental event-stream parser. `last_event_id`, `retry` and `comments` survive `close()`."""

    def __init__(self) -> None:
        self.last_event_id: str | None = None  # None until an id field is seen
        self.retry: int | None = None  # last valid reconnection time in ms
        self.comments: int = 0  # comment lines seen (keep-alives)
        self._reset_stream()

    @property
    def pending(self) -> int:
        """Characters held for an event not yet dispatched (its data lines and the unterminated line): what a
        caller bounds, since a stream that never ends a line would otherwise grow this without limit."""
        return sum(map(len, self._partial)) + sum(map(len, self._data))

    def _reset_stream(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._at_start = True  # a BOM may still come
        self._after_cr = False  # last text ended in CR: a leading LF completes that CRLF
        self._partial: list[str] = []  # pieces of the current, not yet terminated line
        self._data: list[str] = []  # data lines; "\n".join() == data buffer minus its final LF
        self._event = ""
        self._has_id = False

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        text = self._decoder.decode(chunk)
        if not text:
            return []
        if self._at_start:
            self._at_start = False
            if text[0] == "\ufeff":
                text = text[1:]
        if self._after_cr and text[:1] == "\n":
            text = text[1:]
        if not text:
            self._after_cr = False
            return []
        self._after_cr = text[-1] == "\r"
        if "\n" not in text and "\r" not in text:
            self._partial.append(text)
            return []
        if self._partial:  # holds no CR/LF, so joining cannot create a CRLF
            self._partial.append(text)
            text = "".join(self._partial)
            self._partial.clear()
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        tail = lines.pop()  # unterminated remainder ("" if text ended with a line end)
        if tail:
            self._partial.append(tail)
        events: list[SSEEvent] = []
        for line in lines:
            if not line:
                if self._data:
                    events.append(
                        SSEEvent("\n".join(self._data), self._event or "message", self.last_event_id, self._has_id)
                    )
                self._data, self._event, self._has_id = [], "", False
            elif line[0] == ":":
                self.comments += 1
            else:
                name, _, value = line.partition(":")  # no colon: whole line is the name, value ""
                if value[:1] == " ":
                    value = value[1:]
                self._field(name, value)
        return events

    def _field(self, name: str, value: str) -> None:
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self.last_event_id = value
                self._has_id = True
        elif name == "retry" and value.isascii() and value.isdigit():  # isascii(): reject "²", "١" and friends
            self.retry = int(value)
        # any other field is ignored

    def close(self) -> list[SSEEvent]:
        """End of stream: the pending line and undispatched event are discarded (WHATWG), so this returns [].

        Per-stream state (partial line, buffers, BOM check) is reset, so the decoder can take a new
        connection's stream while keeping `last_event_id`, `retry` and `comments`.
        """
        self._decoder.decode(b"", final=True)
        self._reset_stream()
        return []
