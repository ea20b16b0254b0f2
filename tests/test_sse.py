"""Tests for the WHATWG-exact SSE decoder in mcp_harness.sse."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_harness.sse import SSEDecoder, SSEEvent


def decode(*chunks: bytes) -> tuple[list[SSEEvent], SSEDecoder]:
    dec = SSEDecoder()
    events: list[SSEEvent] = []
    for chunk in chunks:
        events += dec.feed(chunk)
    events += dec.close()
    return events, dec


def one_byte_at_a_time(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


# --- line endings ---------------------------------------------------------------------------------


@pytest.mark.parametrize("eol", [b"\r\n", b"\r", b"\n"])
def test_each_line_ending(eol: bytes) -> None:
    stream = eol.join([b"event: a", b"data: 1", b"data: 2", b"", b"data: 3", b"", b""])
    events, _ = decode(stream)
    assert events == [SSEEvent("1\n2", "a"), SSEEvent("3")]


@pytest.mark.parametrize("eol", [b"\r\n", b"\r", b"\n"])
def test_each_line_ending_byte_by_byte(eol: bytes) -> None:
    stream = eol.join([b"data: x", b"data: y", b"", b""])
    events, _ = decode(*one_byte_at_a_time(stream))
    assert events == [SSEEvent("x\ny")]


def test_mixed_line_endings() -> None:
    events, _ = decode(b"data: a\rdata: b\ndata: c\r\n\r\ndata: d\n\r")
    assert events == [SSEEvent("a\nb\nc"), SSEEvent("d")]


def test_crlf_split_across_chunks_is_one_line_end() -> None:
    dec = SSEDecoder()
    assert dec.feed(b"data: a\r") == []
    assert dec.feed(b"\n") == []  # completes the CRLF; must not be taken as an empty (dispatching) line
    assert dec.feed(b"data: b\r") == []
    assert dec.feed(b"\n\r") == [SSEEvent("a\nb")]
    assert dec.feed(b"\n") == []  # LF after that CR is again part of a CRLF


def test_lone_cr_at_chunk_end_is_acted_on_immediately() -> None:
    dec = SSEDecoder()
    assert dec.feed(b"data: a\r\r") == [SSEEvent("a")]
    assert dec.feed(b"data: b\r") == []
    assert dec.feed(b"\r") == [SSEEvent("b")]


def test_lf_after_cr_only_skipped_directly_after_it() -> None:
    dec = SSEDecoder()
    assert dec.feed(b"data: a\r") == []
    assert dec.feed(b"\n") == []
    assert dec.feed(b"\n") == [SSEEvent("a")]  # second LF is a real empty line


@pytest.mark.parametrize("sep", ["\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e"])
def test_unicode_line_separators_are_data(sep: str) -> None:
    events, _ = decode(f"data: a{sep}b\nevent: t{sep}\n\n".encode())
    assert events == [SSEEvent(f"a{sep}b", f"t{sep}")]


# --- fields ---------------------------------------------------------------------------------------


def test_multiline_data() -> None:
    events, _ = decode(b"data: first\ndata: second\ndata:\ndata: fourth\n\n")
    assert events == [SSEEvent("first\nsecond\n\nfourth")]


def test_only_one_leading_space_removed_and_no_space_needed() -> None:
    events, _ = decode(b"data:x\n\ndata:  y \n\ndata:\tz\n\n")
    assert [e.data for e in events] == ["x", " y ", "\tz"]


def test_value_split_on_first_colon_only() -> None:
    events, _ = decode(b"data: a: b:c\nevent:x:y\n\n")
    assert events == [SSEEvent("a: b:c", "x:y")]


def test_field_without_colon_has_empty_value() -> None:
    events, dec = decode(b"data\n\nevent\ndata\ndata\n\nid\ndata: x\n\n")
    assert events == [SSEEvent(""), SSEEvent("\n"), SSEEvent("x", id="", has_id=True)]
    assert dec.last_event_id == ""


def test_field_names_are_case_sensitive_and_unknown_ignored() -> None:
    events, dec = decode(b"Data: no\nDATA: no\nfoo: bar\ndata : no\ndata: yes\nID: 1\nretry : 5\n\n")
    assert events == [SSEEvent("yes")]
    assert dec.last_event_id is None
    assert dec.retry is None


def test_priming_event_with_empty_data() -> None:
    events, dec = decode(b"id: X\ndata:\n\n")
    assert events == [SSEEvent("", "message", "X", True)]
    assert dec.last_event_id == "X"


def test_event_type_resets_after_dispatch() -> None:
    events, _ = decode(b"event: ping\ndata: 1\n\ndata: 2\n\nevent:\ndata: 3\n\n")
    assert [(e.event, e.data) for e in events] == [("ping", "1"), ("message", "2"), ("message", "3")]


def test_block_without_data_dispatches_nothing_and_resets_event_type() -> None:
    events, _ = decode(b"event: foo\n\ndata: x\n\n")
    assert events == [SSEEvent("x", "message")]


# --- id -------------------------------------------------------------------------------------------


def test_id_persists_across_events_but_has_id_is_per_block() -> None:
    events, dec = decode(b"id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\nid\ndata: d\n\n")
    assert events == [
        SSEEvent("a", id="1", has_id=True),
        SSEEvent("b", id="1", has_id=False),
        SSEEvent("c", id="2", has_id=True),
        SSEEvent("d", id="", has_id=True),
    ]
    assert dec.last_event_id == ""


def test_id_only_block_updates_last_event_id_without_event() -> None:
    dec = SSEDecoder()
    assert dec.feed(b"id: 7\n\n") == []
    assert dec.last_event_id == "7"
    assert dec.feed(b"data: x\n\n") == [SSEEvent("x", id="7", has_id=False)]


def test_id_with_nul_is_ignored() -> None:
    events, dec = decode(b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n")
    assert events == [SSEEvent("a", id="1", has_id=True), SSEEvent("b", id="1", has_id=False)]
    assert dec.last_event_id == "1"


def test_id_before_any_id_is_none() -> None:
    events, dec = decode(b"data: a\n\n")
    assert events[0].id is None and not events[0].has_id
    assert dec.last_event_id is None


def test_last_id_field_in_block_wins() -> None:
    events, _ = decode(b"id: 1\nid: 2\ndata: a\n\n")
    assert events == [SSEEvent("a", id="2", has_id=True)]


# --- retry ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1500", 1500),
        ("0", 0),
        ("007", 7),
        ("15a", None),
        ("-1", None),
        ("+1", None),
        ("1.5", None),
        ("1 ", None),
        ("", None),
        ("²", None),
        ("١٢", None),  # Arabic-Indic digits are not ASCII digits
    ],
)
def test_retry_digits_only(value: str, expected: int | None) -> None:
    _, dec = decode(f"retry: {value}\n\n".encode())
    assert dec.retry == expected


def test_invalid_retry_keeps_previous_value() -> None:
    _, dec = decode(b"retry: 3000\n\nretry: soon\n\n")
    assert dec.retry == 3000


# --- comments -------------------------------------------------------------------------------------


def test_comments_counted_and_not_dispatched() -> None:
    events, dec = decode(b": ping\n\n:\n\n:keep-alive\r\ndata: x\r:inside\n\n")
    assert events == [SSEEvent("x")]
    assert dec.comments == 4


# --- encoding -------------------------------------------------------------------------------------


def test_bom_skipped_once() -> None:
    events, _ = decode(b"\xef\xbb\xbfdata: a\n\n\xef\xbb\xbfdata: b\n\n")
    assert events == [SSEEvent("a")]  # the second BOM makes the field name "\ufeffdata": ignored


def test_bom_at_start_of_later_chunk_not_skipped() -> None:
    dec = SSEDecoder()
    assert dec.feed(b"\xef\xbb\xbfdata: a\n\n") == [SSEEvent("a")]
    assert dec.feed(b"\xef\xbb\xbfdata: b\n\n") == []
    assert dec.feed(b"data: \xef\xbb\xbf\n\n") == [SSEEvent("\ufeff")]


def test_bom_split_across_chunks() -> None:
    events, _ = decode(b"\xef", b"", b"\xbb", b"\xbfdata: a\n\n")
    assert events == [SSEEvent("a")]


def test_bom_only_at_stream_start() -> None:
    events, _ = decode(b"data: \xef\xbb\xbfa\n\n")
    assert events == [SSEEvent("\ufeffa")]


def test_utf8_multibyte_split_across_chunks() -> None:
    text = "é€😀\u2028"
    events, _ = decode(*one_byte_at_a_time(f"data: {text}\n\n".encode()))
    assert events == [SSEEvent(text)]


def test_invalid_utf8_replaced() -> None:
    events, _ = decode(b"data: a\xffb\xc3\n\n")
    assert events == [SSEEvent("a\ufffdb\ufffd")]


# --- end of stream --------------------------------------------------------------------------------


def test_incomplete_event_at_close_discarded() -> None:
    dec = SSEDecoder()
    assert dec.feed(b"data: a\n\ndata: b\n") == [SSEEvent("a")]
    assert dec.close() == []


def test_close_flushes_state() -> None:
    dec = SSEDecoder()
    assert dec.feed(b"id: 5\nevent: t\ndata: stale\ndata: par") == []
    assert dec.close() == []
    # nothing of the old event survives; the id field had already been processed and persists
    assert dec.feed(b"\n\n") == []
    assert dec.feed(b"tial\n\n") == []  # "tial" is an unknown field, not the rest of "data: par"
    assert dec.feed(b"data: new\n\n") == [SSEEvent("new", "message", "5", False)]


def test_close_flushes_partial_utf8_and_cr() -> None:
    dec = SSEDecoder()
    dec.feed(b"data: x\r")
    dec.feed(b"data: \xe2\x82")
    dec.close()
    assert dec.feed(b"\ndata: y\n\n") == [SSEEvent("y")]  # leading LF is a fresh empty line, no U+FFFD


# --- properties -----------------------------------------------------------------------------------

EOLS = ["\r\n", "\r", "\n"]
line_text = st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=12)
field_line = st.one_of(
    st.tuples(
        st.sampled_from(["data", "event", "id", "retry", "x", ""]), st.sampled_from([":", ": ", ""]), line_text
    ).map("".join),
    st.builds(lambda t: ":" + t, line_text),
    st.just(""),
    st.sampled_from(["retry: 250", "id: \x00", "data:\u2028"]),
)


@st.composite
def raw_streams(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(st.tuples(field_line, st.sampled_from(EOLS)), max_size=25))
    bom = "\ufeff" if draw(st.booleans()) else ""
    return (bom + "".join(line + eol for line, eol in lines)).encode()


@st.composite
def chunked(draw: st.DrawFn, data: bytes) -> list[bytes]:
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=12)))
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in pairwise(bounds)]


def state(dec: SSEDecoder) -> tuple[str | None, int | None, int]:
    return dec.last_event_id, dec.retry, dec.comments


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_chunking_equals_whole(data: st.DataObject) -> None:
    stream = data.draw(raw_streams())
    chunks = data.draw(chunked(stream))
    whole_events, whole = decode(stream)
    split_events, split = decode(*chunks)
    assert split_events == whole_events
    assert state(split) == state(whole)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=60), st.data())
def test_any_chunking_equals_whole_for_arbitrary_bytes(stream: bytes, data: st.DataObject) -> None:
    chunks = data.draw(chunked(stream))
    whole_events, whole = decode(stream)
    split_events, split = decode(*chunks)
    assert split_events == whole_events
    assert state(split) == state(whole)


event_specs = st.tuples(
    st.text(st.characters(codec="utf-8", exclude_characters="\r"), max_size=20),  # data; "\n" splits lines
    st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=8),  # event type
    st.none() | st.text(st.characters(codec="utf-8", exclude_characters="\r\n\x00"), max_size=8),  # id
    st.integers(0, 2),  # comment lines to put in the block
)


@settings(max_examples=200, deadline=None)
@given(st.lists(event_specs, max_size=8), st.data())
def test_round_trip(specs: list[tuple[str, str, str | None, int]], data: st.DataObject) -> None:
    lines: list[str] = []
    expected: list[SSEEvent] = []
    last_id: str | None = None
    for payload, event, id_, n_comments in specs:
        if event:
            lines.append(f"event: {event}")
        if id_ is not None:
            lines.append(f"id: {id_}")
            last_id = id_
        lines += [": keep-alive"] * n_comments
        lines += [f"data: {part}" for part in payload.split("\n")]
        lines.append("")
        expected.append(SSEEvent(payload, event or "message", last_id, id_ is not None))

    text, prev_eol = "", ""
    for line in lines:
        # after a lone CR an LF would merge with it into one CRLF, so an empty line there must not be a bare LF
        eol = data.draw(st.sampled_from(EOLS[:2] if prev_eol == "\r" and not line else EOLS))
        text += line + eol
        prev_eol = eol
    stream = text.encode()

    events, dec = decode(*data.draw(chunked(stream)))
    assert events == expected
    assert dec.last_event_id == last_id
    assert dec.comments == sum(spec[3] for spec in specs)
