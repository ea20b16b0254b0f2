"""The `mcp-harness` command.

    mcp-harness conformance [--url URL] [--profile FILE] [--header 'Name: value'] … [--out DIR]
                            [--baseline FILE [--strict-baseline]] [--compare OLD/results.json]
    mcp-harness baseline write RESULTS.json [--out FILE]
    mcp-harness diff OLD/results.json NEW/results.json
    mcp-harness serve [--host H] [--port P] [--idle-timeout S]

Exit status of `conformance`: 0 no failure (with --baseline: no failure outside the baseline, and no stale
entry with --strict-baseline); 1 failures or errors; 2 the harness could not run (bad option, profile or
baseline, unreachable URL, authentication refused at initialize) — with one line saying why. `diff` exits 1
when the new run has failures the old one did not.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

from mcp_harness import __version__, baseline, embedded, report
from mcp_harness.profile import ProfileError
from mcp_harness.runconfig import OPTIONS, Handover, ProbeError, build_target, client_config, list_checks, probe

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
    p.add_argument("--baseline", metavar="FILE", help="expected failures: only failures not listed fail the run")
    p.add_argument("--strict-baseline", action="store_true", help="a listed check that now passes fails the run")
    p.add_argument("--compare", metavar="RESULTS", help="an earlier results.json: summary.md shows what changed")


def _pytest_args(ns: argparse.Namespace) -> list[str]:
    """The parsed options, handed to the pytest plugin in its own spelling."""
    args: list[str] = []
    for flags, kwargs in OPTIONS:
        dest = kwargs.get("dest") or flags[0].lstrip("-").replace("-", "_")
        value = getattr(ns, dest)
        if kwargs.get("action") == "store_true":
            args += [flags[0]] if value is True else []
        elif kwargs.get("action") == "store_false":
            args += [flags[0]] if value is False else []
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
        expected = baseline.load_baseline(ns.baseline) if ns.baseline else None
        old = baseline.read_json(ns.compare, "results") if ns.compare else None
    except (ProfileError, baseline.BaselineError) as e:
        return fail(str(e))
    run_id = uuid.uuid4().hex[:12]
    os.environ["MCP_HARNESS_RUN_ID"] = run_id
    handover = []
    if target.url:
        try:
            handover.append(Handover(probe(client_config(target, run_id), target.era)))
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
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",  # the same warning, raised again when allure-pytest loads
        "-p",
        "no:locust",
        f"--rootdir={embedded.project_path('conformance')}",
        f"--junitxml={out / 'junit.xml'}",
        f"--alluredir={out / 'allure-results'}",
        "--clean-alluredir",
        "-o",
        "junit_suite_name=mcp-harness",
        *_pytest_args(ns),
        *shlex.split(ns.pytest_args),
    ]
    code = pytest.main(args, plugins=handover)  # the plugin uses this probe instead of probing again
    if code == 5:
        return fail("no checks ran (check the --check selection)")
    status = PYTEST_EXIT.get(int(code), 2)
    if status != 2 and (expected is not None or old is not None):
        status = judge_run(out, ns, expected, old, status)
    return status


def judge_run(
    out: Path, ns: argparse.Namespace, expected: dict[str, Any] | None, old: dict[str, Any] | None, status: int
) -> int:
    """Apply the baseline and the comparison to the finished run: results.json and summary.md gain a section
    each, and with a baseline the exit status counts only new failures (and stale entries when strict)."""
    results_path = out / "results.json"
    results = baseline.read_json(results_path, "results")
    extra: list[str] = []
    if old is not None:
        comparison = baseline.compare(old, results)
        results["comparison"] = {"old": ns.compare, **asdict(comparison)}
        extra += baseline.comparison_markdown(comparison, ns.compare)
    if expected is not None:
        outcome = baseline.apply(results, expected)
        results["baseline"] = {"file": ns.baseline, "strict": ns.strict_baseline, **asdict(outcome)}
        extra += baseline.baseline_markdown(outcome, ns.baseline, ns.strict_baseline)
        status = 1 if outcome.failed(ns.strict_baseline) else 0
        print(
            f"baseline: {len(outcome.new)} new failure(s), {len(outcome.expected)} expected, "
            f"{len(outcome.stale)} stale{' (strict)' if ns.strict_baseline else ''}"
        )
    results_path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", "utf-8")
    report.write_html(out, results)
    summary = out / "summary.md"
    if summary.exists():
        summary.write_text(summary.read_text("utf-8") + "\n".join(extra) + "\n", "utf-8")
    return status


def baseline_command(ns: argparse.Namespace) -> int:
    try:
        if ns.command == "diff":
            comparison = baseline.compare(baseline.read_json(ns.old, "results"), baseline.read_json(ns.new, "results"))
            print("\n".join(baseline.comparison_markdown(comparison, ns.old)).strip())
            return 1 if comparison.new_failures else 0
        count = baseline.write_baseline(ns.results, ns.out)
    except baseline.BaselineError as e:
        return fail(str(e))
    print(f"baseline: {count} expected failure(s) written to {ns.out}")
    return 0


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
    b = sub.add_parser("baseline", help="write a baseline of expected failures from a run")
    b.add_argument("action", choices=["write"])
    b.add_argument("results", help="the run's results.json")
    b.add_argument("--out", default="mcp-baseline.json", help="the baseline file (default mcp-baseline.json)")
    d = sub.add_parser("diff", help="compare two runs' results.json (exit 1 on new failures)")
    d.add_argument("old")
    d.add_argument("new")
    ns = parser.parse_args(argv)
    commands = {"conformance": conformance, "serve": serve, "baseline": baseline_command, "diff": baseline_command}
    try:
        return commands[ns.command](ns)
    except BrokenPipeError:  # e.g. piped into `head`: stop quietly, as command-line tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
