"""Hostile servers (fixtures/hostile_server.py): every run ends by itself, in bounded time and memory, with no
traceback and a complete, parseable report of bounded size, and says what the server did."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import harness_command

ROOT = Path(__file__).resolve().parent.parent
MAX_RSS_MIB = 512
MAX_REPORT_BYTES = 10 * 1024 * 1024
QUICK = ("--timeout", "2", "--exchange-timeout", "5")  # the bounds, made short so that the suite stays fast


@dataclass
class Finished:
    code: int
    output: str
    seconds: float
    rss_mib: float


# Runs a command and prints the peak RSS of it and its descendants (RUSAGE_CHILDREN of this wrapper alone).
WRAPPER = (
    "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
    "print('MAXRSS_KIB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)"
)


def measured(cmd: list[str], limit: float) -> Finished:
    """Run `cmd` (failing the test past `limit` seconds); its output, exit status and peak RSS."""
    started = time.monotonic()
    try:
        p = subprocess.run([sys.executable, "-c", WRAPPER, *cmd], capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"still running after {limit:g}s:\n{(e.stdout or b'')[-3000:]!r}")
    lines = p.stdout.rstrip().splitlines()
    rss = int(lines.pop().split()[1]) / 1024
    return Finished(p.returncode, "\n".join(lines) + p.stderr, time.monotonic() - started, rss)


def reports_hold(out: Path) -> dict:
    """results.json and junit.xml parse, no report file passes the size bound; the verdicts by check id."""
    big = [p for p in out.rglob("*") if p.is_file() and p.stat().st_size > MAX_REPORT_BYTES]
    assert not big, big
    ET.parse(out / "junit.xml")
    results = json.loads((out / "results.json").read_text())
    return {c["id"]: c for c in results["checks"]}


CASES = [
    # mutant, --after, what the report must say
    ("keepalive-stream", 0, "transport.post.notification-202"),
    ("trickle", 0, None),
    ("giant-event", 0, "cut off"),
    ("killed", 4, "stopped answering"),
    ("silent", 4, "stopped answering"),
    ("invalid-utf8", 4, None),
    ("redirect", 4, None),
    ("reset", 4, "Connection reset"),
    ("503-storm", 4, None),
    ("wrong-result-types", 2, "schema.server-messages"),
]
PYTHON_ERRORS = ("TypeError", "AttributeError", "KeyError", "IndexError", "ValueError")


@pytest.mark.parametrize(("mutant", "after", "said"), CASES, ids=[c[0] for c in CASES])
def test_conformance_against_a_hostile_server_is_bounded(
    mutant: str, after: int, said: str | None, server_factory, tmp_path: Path
) -> None:
    server = server_factory(
        mutant=mutant, idle_timeout=None, script="hostile_server.py", extra_args=("--after", str(after))
    )
    run = measured(harness_command(tmp_path, "--url", server.url, *QUICK), limit=120)
    assert "Traceback" not in run.output and "INTERNALERROR" not in run.output, run.output[-3000:]
    assert run.code == 1, run.output[-3000:]
    assert run.rss_mib < MAX_RSS_MIB
    checks = reports_hold(tmp_path)
    if said in ("transport.post.notification-202", "schema.server-messages"):
        assert checks[said]["verdict"] == "fail"
    elif said is not None:
        assert any(said in (c.get("reason") or "") for c in checks.values()), [c.get("reason") for c in checks.values()]
    # A field of the wrong type is a failing check (the schema names it), never an exception inside one.
    errors = [c["reason"] for c in checks.values() if c["verdict"] == "error"]
    assert not [r for r in errors if any(e in (r or "") for e in PYTHON_ERRORS)], errors


def test_wrong_json_types_end_the_probe_with_one_line(server_factory, tmp_path: Path) -> None:
    server = server_factory(mutant="wrong-types", idle_timeout=None, script="hostile_server.py")
    run = measured(harness_command(tmp_path, "--url", server.url, *QUICK), limit=60)
    assert run.code == 2 and "Traceback" not in run.output
    assert run.output.strip().splitlines()[-1] == (
        "mcp-harness: the server negotiated protocol version 20251125 (a number, not a string), "
        "which this harness does not speak"
    )


def test_a_refused_initialize_is_one_short_line(server_factory, tmp_path: Path) -> None:
    """However long the server's error, the one line quotes at most a few hundred characters of it."""
    server = server_factory(mutant="refuse-init", idle_timeout=None, script="hostile_server.py")
    run = measured(harness_command(tmp_path, "--url", server.url, *QUICK), limit=60)
    assert run.code == 2 and "Traceback" not in run.output
    line = run.output.strip().splitlines()[-1]
    assert line.startswith('mcp-harness: initialize was refused: {"code": -32600, "message": "no no')
    assert line.endswith("characters) (try --spec-version)") and len(line) < 400, line


def test_the_default_bounds_hold_against_an_endless_keepalive_stream(server_factory, tmp_path: Path) -> None:
    """The issue's first case with the default options: a notification answered by an endless stream."""
    server = server_factory(mutant="keepalive-stream", idle_timeout=None, script="hostile_server.py")
    run = measured(harness_command(tmp_path, "--url", server.url), limit=120)
    assert run.code == 1 and "Traceback" not in run.output
    assert reports_hold(tmp_path)["transport.post.notification-202"]["verdict"] == "fail"


@pytest.mark.parametrize("mutant", ["keepalive-stream", "giant-event"])
def test_load_against_a_hostile_server_is_bounded(mutant: str, server_factory, tmp_path: Path) -> None:
    server = server_factory(mutant=mutant, idle_timeout=None, script="hostile_server.py")
    cmd = [sys.executable, str(ROOT / "load" / "run.py"), "--url", server.url, "--users", "4", "--rate", "4"]
    run = measured([*cmd, "--duration", "5s", "--out", str(tmp_path)], limit=5 + 30)
    assert "Traceback" not in run.output, run.output[-3000:]
    assert run.rss_mib < MAX_RSS_MIB
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["requests"] > 0
    assert run.code == 1 and summary["failures"] > 0
    said = "cut off" if mutant == "giant-event" else "HTTP 200, not 202"  # the endless stream answers a notification
    assert any(said in e["error"] for e in summary["errors"]), summary["errors"]
