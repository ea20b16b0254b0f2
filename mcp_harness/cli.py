"""The `mcp-harness` command.

    mcp-harness conformance [--url URL] [--profile FILE] [--header 'Name: value'] … [--out DIR]
    mcp-harness serve [--host H] [--port P] [--idle-timeout S]

Exit status of `conformance`: 0 no failure; 1 failures or errors; 2 the harness could not run (bad
option or profile, unreachable URL, authentication refused at initialize) — with one line saying why.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import uuid
from pathlib import Path

from mcp_harness import __version__, embedded
from mcp_harness.plugin import OPTIONS, ProbeError, build_target, client_config, list_checks, probe
from mcp_harness.profile import ProfileError

PYTEST_EXIT = {0: 0, 1: 1}  # anything else (interrupted, internal error, usage error, no tests) → 2


def _conformance_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "conformance",
        help="run the conformance checks against a target",
        description="Run the conformance checks; one verdict per spec requirement. "
        "Without --url (or a profile url) the embedded reference server is started and stopped.",
    )
    for flags, kwargs in OPTIONS:
        p.add_argument(*flags, **kwargs)
    p.add_argument("--pytest-args", default="", metavar="ARGS", help="extra arguments for pytest (quoted)")


def _pytest_args(ns: argparse.Namespace) -> list[str]:
    """The parsed options, handed to the pytest plugin in its own spelling."""
    args: list[str] = []
    for flags, kwargs in OPTIONS:
        dest = flags[0].lstrip("-").replace("-", "_")
        value = getattr(ns, dest)
        if kwargs.get("action") == "store_true":
            args += [flags[0]] if value else []
        elif kwargs.get("action") == "append":
            for v in value:
                args += [f"{flags[0]}={v}"]
        elif value is not None and value != kwargs.get("default"):
            args += [f"{flags[0]}={value}"]
    return args


def fail(message: str) -> int:
    print(f"mcp-harness: {message}", file=sys.stderr)
    return 2


def conformance(ns: argparse.Namespace) -> int:
    if ns.list_checks:
        print(list_checks())
        return 0
    try:
        target = build_target(ns)
    except ProfileError as e:
        return fail(str(e))
    run_id = uuid.uuid4().hex[:12]
    os.environ["MCP_HARNESS_RUN_ID"] = run_id
    if target.url:
        try:
            probe(client_config(target, run_id))
        except ProbeError as e:
            return fail(str(e))
    import pytest  # imported late: `--help` and option errors stay fast

    out = Path(ns.out)
    args = [
        str(embedded.project_path("conformance")),
        "-q",
        "--no-header",
        "--tb=no",
        "-rN",
        "-p",
        "no:anyio",  # not needed here, and already imported by the probe (pytest would warn it cannot rewrite it)
        "-p",
        "no:locust",
        f"--rootdir={embedded.project_path('conformance')}",
        f"--junitxml={out / 'junit.xml'}",
        "-o",
        "junit_suite_name=mcp-harness",
        *_pytest_args(ns),
        *shlex.split(ns.pytest_args),
    ]
    code = pytest.main(args)
    if code == 5:
        return fail("no checks ran (check the --check selection)")
    return PYTEST_EXIT.get(int(code), 2)


def serve(ns: argparse.Namespace) -> int:
    script = embedded.project_path("fixtures", "reference_server.py")
    argv = [sys.executable, str(script), "--host", ns.host, "--port", str(ns.port)]
    if ns.idle_timeout is not None:
        argv += ["--idle-timeout", str(ns.idle_timeout)]
    os.execv(sys.executable, argv)
    return 0  # not reached


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mcp-harness", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"mcp-harness {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _conformance_parser(sub)
    s = sub.add_parser("serve", help="run the reference server in the foreground")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--idle-timeout", type=float, default=None, metavar="SECONDS")
    ns = parser.parse_args(argv)
    try:
        return conformance(ns) if ns.command == "conformance" else serve(ns)
    except BrokenPipeError:  # e.g. piped into `head`: stop quietly, as command-line tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
