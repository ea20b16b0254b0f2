"""How often the property checks catch their mutants within the default budget, and what they add to a run.

    .venv/bin/python benchmarks/property_catch_rate.py [--runs 10] [--mutants a,b] [--generated-only]
                                                        [--conformance-runs 3] [--skip-catch] [--skip-conformance]

Catch rate: for each mutant of fixtures/mutants.py aimed at a property check, that check alone
(`mcp-harness conformance --check ID --seed N`, default budget, --property-malformed) runs against a fresh mutant
server once per seed 1..runs; a `fail` verdict is a catch. Printed per mutant: runs caught, the check's seconds
(mean and max), and whether an explicit example or a generated case caught it. `--generated-only` drops the
checks' explicit examples (a hypothesis profile this script registers when pytest loads it as a plugin), to see
what generation alone finds.

Cost: the whole suite against the embedded reference server, as `make conformance` runs it, with and without the
property checks (`-m "not property"`), alternating; printed: the wall-time difference and the property checks'
own seconds from results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import Phase, settings

from mcp_harness import embedded

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "fixtures"))  # fixtures/ is a folder of scripts, as in the tests

RUN_TIMEOUT = 600  # seconds for one harness run
PROFILE = "mcp-harness-generated-only"
# Imported by pytest as a plugin (`-p property_catch_rate`) for --generated-only: the profile must exist before
# hypothesis's own plugin loads it.
settings.register_profile(PROFILE, phases=(Phase.generate, Phase.shrink))


@dataclass
class Tally:
    mutant: str
    check: str
    caught: int = 0
    runs: int = 0
    seconds: list[float] = field(default_factory=list)
    explicit: int = 0  # catches by an explicit example
    other: list[str] = field(default_factory=list)  # verdicts that were neither pass nor fail

    def line(self) -> str:
        secs = f"{statistics.mean(self.seconds):5.1f}s mean, {max(self.seconds):5.1f}s max" if self.seconds else ""
        how = f"{self.explicit} by an explicit example, {self.caught - self.explicit} by a generated case"
        odd = f"; other verdicts: {', '.join(self.other)}" if self.other else ""
        return f"{self.mutant:<24} {self.check:<30} caught {self.caught:>2}/{self.runs}  {secs}  ({how}){odd}"


def harness(out: Path, *args: str, generated_only: bool = False) -> tuple[dict, float]:
    """One `mcp-harness conformance` run; (results.json, wall seconds)."""
    cmd = [sys.executable, "-m", "mcp_harness.cli", "conformance", "--out", str(out), *args]
    env = dict(os.environ)
    if generated_only:
        env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parent), env.get("PYTHONPATH", "")])
        cmd += ["--pytest-args", f"-p property_catch_rate --hypothesis-profile={PROFILE}"]
    started = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT, env=env, cwd=ROOT)
    wall = time.monotonic() - started
    if p.returncode not in (0, 1):
        raise SystemExit(f"the harness could not run ({p.returncode}): {(p.stderr or p.stdout).strip()[-500:]}")
    return json.loads((out / "results.json").read_text()), wall


def catch_rate(name: str, check: str, runs: int, generated_only: bool, work: Path) -> Tally:
    tally = Tally(name, check)
    for seed in range(1, runs + 1):
        with embedded.start(idle_timeout=2.0, mutant=name) as server:
            args = ("--url", server.url, "--idle-timeout", "2", "--property-malformed", "--check", check)
            doc, _ = harness(work / f"{name}-{seed}", *args, "--seed", str(seed), generated_only=generated_only)
        result = next(c for c in doc["checks"] if c["id"] == check)
        tally.runs += 1
        tally.seconds.append(result["duration_s"])
        if result["verdict"] == "fail":
            tally.caught += 1
            tally.explicit += "explicit example" in (result["reason"] or "")
        elif result["verdict"] != "pass":
            tally.other.append(result["verdict"])
        print(f"  {name} seed {seed}: {result['verdict']} in {result['duration_s']:.1f}s", file=sys.stderr)
    return tally


def conformance_cost(runs: int, work: Path) -> None:
    """The suite against the embedded server with and without the property checks, alternating."""
    walls: dict[str, list[float]] = {"with": [], "without": []}
    own: list[float] = []
    for i in range(runs):
        for variant in ("with", "without"):
            extra = () if variant == "with" else ("--pytest-args", "-m 'not property'")
            doc, wall = harness(work / f"conformance-{variant}-{i}", *extra)
            bad = [c["id"] for c in doc["checks"] if c["verdict"] not in ("pass", "info")]
            if bad:
                print(f"  note: {variant} run {i + 1}: not pass/info: {', '.join(bad)}", file=sys.stderr)
            walls[variant].append(wall)
            if variant == "with":
                own.append(sum(c["duration_s"] for c in doc["checks"] if c["id"].startswith("property.")))
    added = [w - wo for w, wo in zip(walls["with"], walls["without"], strict=True)]
    print(f"\nmcp-harness conformance against the embedded server ({runs} run(s) each, alternating):")
    print(f"  with the property checks     {statistics.mean(walls['with']):5.1f}s wall (max {max(walls['with']):.1f}s)")
    print(f"  without (-m 'not property')  {statistics.mean(walls['without']):5.1f}s wall")
    print(f"  added                        {statistics.mean(added):5.1f}s mean, {max(added):.1f}s max")
    print(f"  the property checks' own     {statistics.mean(own):5.1f}s mean, {max(own):.1f}s max (results.json)")


def property_mutants() -> dict[str, str]:
    from mutants import MUTANTS

    return {name: m.check for name, m in sorted(MUTANTS.items()) if m.check.startswith("property.")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10, help="seeds per mutant (default 10)")
    parser.add_argument("--mutants", default="", help="comma-separated names (default: every property mutant)")
    parser.add_argument("--generated-only", action="store_true", help="without the checks' explicit examples")
    parser.add_argument("--conformance-runs", type=int, default=3, help="suite runs with and without (default 3)")
    parser.add_argument("--skip-catch", action="store_true", help="only measure the cost")
    parser.add_argument("--skip-conformance", action="store_true", help="only measure the catch rate")
    args = parser.parse_args()
    mutants = property_mutants()
    chosen = [m.strip() for m in args.mutants.split(",") if m.strip()] or list(mutants)
    unknown = [m for m in chosen if m not in mutants]
    if unknown:
        parser.error(f"not a property mutant: {', '.join(unknown)} (known: {', '.join(mutants)})")
    with tempfile.TemporaryDirectory(prefix="mcp-catch-") as tmp:
        work = Path(tmp)
        if not args.skip_catch:
            mode = "generated cases only" if args.generated_only else "default budget"
            tallies = [catch_rate(m, mutants[m], args.runs, args.generated_only, work) for m in chosen]
            print(f"catch rate per property mutant ({mode}, seeds 1..{args.runs}, the check alone):")
            for tally in tallies:
                print("  " + tally.line())
        if not args.skip_conformance:
            conformance_cost(args.conformance_runs, work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
