"""Load-run statistics beside Locust's request stats: the process-wide counters, the gauge of open sessions,
the run summary (console line and summary.json, workers' counters merged into the master's) and the error-rate
guard. The Locust driver counts into COUNTERS and GAUGE; the locustfile installs the summary and the guard.

Importing this module imports gevent but not locust (whose import monkey-patches the process); the installers
import it when called.
"""

from __future__ import annotations

import json
import resource
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gevent

MAX_SAMPLES = 20  # distinct violation details kept for the summary (the stats table keys on the rule only)

# --- counters ---------------------------------------------------------------------------------------


@dataclass
class Counters:
    """Process-wide load counters beside Locust's request stats (a locustfile merges workers' into the master's)."""

    sessions_started: int = 0  # initialize answered with a session id
    sessions_completed: int = 0  # scenarios run to their end (counted by the locustfile)
    sessions_deleted: int = 0  # DELETE answered (2xx; 404/405: already gone / not allowed)
    sessions_abandoned: int = 0  # left open on purpose (churn); the server expires them
    sessions_gone: int = 0  # 404 to our session id
    reinitializations: int = 0
    violations: int = 0
    progress_notifications: int = 0
    progress_calls: int = 0  # calls made with a progressToken
    streams_dropped: int = 0  # streams still open `linger` s after their response, closed by us
    get_streams: int = 0  # GET streams opened (hold scenario), reopenings included
    cap_waits: int = 0  # sessions that waited for the session cap
    connection_retries: int = 0  # requests sent again: their pooled connection was closed by the server
    front_retries: int = 0  # steps sent again after an AgentCore front's -32005
    token_refreshes: int = 0  # requests sent again with a token read again after a 401
    violation_samples: list[str] = field(default_factory=list)

    def sample(self, text: str) -> None:
        text = text[:300]
        if len(self.violation_samples) < MAX_SAMPLES and text not in self.violation_samples:
            self.violation_samples.append(text)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def merge(self, other: Mapping[str, Any]) -> None:
        for name, value in other.items():
            if name == "violation_samples":
                for text in value:
                    self.sample(text)
            elif isinstance(getattr(self, name, None), int):
                setattr(self, name, getattr(self, name) + int(value))

    def reset(self) -> None:
        for name, value in asdict(Counters()).items():
            setattr(self, name, value)


COUNTERS = Counters()


@dataclass
class Gauge:
    """Sessions this process holds open now (never reset during a run; reported beside the counters)."""

    open: int = 0  # initialized, and neither DELETEd, gone (404) nor abandoned
    peak: int = 0
    abandoned_until: list[float] = field(default_factory=list)  # abandoned sessions the server may still hold

    def change(self, delta: int) -> None:
        self.open += delta
        self.peak = max(self.peak, self.open)

    def held(self) -> int:
        """Sessions counted against the cap: ours, and abandoned ones not yet past the idle timeout."""
        now = time.monotonic()
        self.abandoned_until[:] = [t for t in self.abandoned_until if t > now]
        return self.open + len(self.abandoned_until)

    def as_dict(self) -> dict[str, int]:
        return {"open_sessions": self.open, "open_sessions_peak": self.peak}


GAUGE = Gauge()


def cpu_seconds() -> float:
    """CPU time (user + system) of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- run summary and guards ----------------------------------------------------------------------------

STOPPED: list[str] = []  # why a guard stopped the run, for the summary
ERROR_WINDOW_S = 10  # the error-rate guard looks at this many seconds of traffic …
ERROR_MIN_REQUESTS = 20  # … once they hold at least this many requests


def install_summary(events: Any, path: str | None) -> None:
    """Count per run: workers send their counters to the master with each stats report, and the master (or
    a single process) prints them at the end of the run and, with `path`, writes them there as JSON with
    the CPU time this process spent during the run and per-step percentiles. A master writes at quit, once
    the workers' final reports are in; a single process at the end of each test."""
    from locust.runners import MasterRunner, WorkerRunner  # here: importing locust monkey-patches

    run: dict[str, Any] = {}
    gauges: dict[str, dict[str, int]] = {}  # worker id → its latest gauge

    def write(environment: Any) -> None:
        distributed = isinstance(environment.runner, MasterRunner)
        gauge = _sum_gauges(gauges.values()) if distributed else GAUGE.as_dict()
        summary = run_summary(environment, run, gauge, workers=len(gauges) if distributed else 0)
        counts = {k: v for k, v in summary["counters"].items() if k != "violation_samples"}
        print("mcp-harness load: " + json.dumps(counts | gauge), flush=True)
        if STOPPED:
            print(f"mcp-harness load: stopped early: {STOPPED[0]}", flush=True)
        if path:
            Path(path).write_text(json.dumps(summary, indent=2) + "\n")

    @events.test_start.add_listener
    def _start(environment: Any, **_: Any) -> None:
        COUNTERS.reset()
        GAUGE.peak = GAUGE.open
        run.update(environment=environment, wall=time.perf_counter(), cpu=cpu_seconds())

    @events.report_to_master.add_listener
    def _report(client_id: str, data: dict[str, Any]) -> None:
        data["mcp_counters"] = COUNTERS.as_dict()
        data["mcp_gauge"] = GAUGE.as_dict()
        COUNTERS.reset()

    @events.worker_report.add_listener
    def _merge(client_id: str, data: dict[str, Any]) -> None:
        COUNTERS.merge(data.get("mcp_counters", {}))
        if "mcp_gauge" in data:
            gauges[client_id] = data["mcp_gauge"]

    @events.test_stop.add_listener
    def _stop(environment: Any, **_: Any) -> None:
        if run and not isinstance(environment.runner, (WorkerRunner, MasterRunner)):
            write(environment)

    @events.quit.add_listener
    def _quit(**_: Any) -> None:
        environment = run.get("environment")
        if environment is not None and isinstance(environment.runner, MasterRunner):
            write(environment)


def _sum_gauges(gauges: Any) -> dict[str, int]:
    """Open sessions over all workers; the peak is the sum of each worker's peak (an upper bound)."""
    total = {"open_sessions": 0, "open_sessions_peak": 0}
    for gauge in gauges:
        for key in total:
            total[key] += int(gauge.get(key, 0))
    return total


def install_error_guard(events: Any, limit: float | None) -> None:
    """Stop the run (on the master, or a single process) when more than `limit` of the requests of the last
    ERROR_WINDOW_S seconds failed, once that window holds ERROR_MIN_REQUESTS: a staging run must not go on
    hammering a target that is failing. Violations count as failures."""
    if limit is None:
        return
    from locust.runners import WorkerRunner

    def watch(environment: Any) -> None:
        window: list[tuple[int, int]] = []
        while environment.runner is not None and environment.runner.state not in ("stopped", "quitting"):
            gevent.sleep(1)
            total = environment.stats.total
            window = [*window[-ERROR_WINDOW_S:], (total.num_requests, total.num_failures)]
            requests = window[-1][0] - window[0][0]
            failures = window[-1][1] - window[0][1]
            if requests >= ERROR_MIN_REQUESTS and failures / requests > limit:
                STOPPED.append(
                    f"error rate {failures / requests:.1%} over the last {len(window) - 1} s "
                    f"({failures} of {requests}) crossed the limit {limit:.1%}"
                )
                print(f"mcp-harness load: {STOPPED[-1]}: stopping the run", flush=True)
                environment.runner.quit()
                return

    @events.test_start.add_listener
    def _start(environment: Any, **_: Any) -> None:
        if not isinstance(environment.runner, WorkerRunner):
            STOPPED.clear()
            gevent.spawn(watch, environment)


def run_summary(environment: Any, run: Mapping[str, Any], gauge: Mapping[str, int], *, workers: int) -> dict[str, Any]:
    stats = environment.stats
    steps = {
        f"{e.method} {e.name}": {
            "requests": e.num_requests,
            "failures": e.num_failures,
            **{f"p{q}": e.get_response_time_percentile(q / 100) for q in (50, 95, 99)},
        }
        for e in stats.entries.values()
    }
    http = [e for e in stats.entries.values() if e.method != "MCP"]
    counters = COUNTERS.as_dict()
    headline = ("sessions_started", "sessions_completed", "reinitializations", "violations")
    return {
        **{key: counters[key] for key in headline},  # the figures a reader looks for first, at the top level
        **gauge,
        "counters": counters,
        "requests": sum(e.num_requests for e in http),  # HTTP exchanges (MCP entries are derived timings)
        "failures": stats.total.num_failures,  # failed exchanges and protocol violations
        "stopped": STOPPED[0] if STOPPED else None,  # a guard's reason for ending the run early
        "duration_s": time.perf_counter() - run["wall"],
        # This process only: in a distributed run that is the master, not the load generators.
        "cpu_s": cpu_seconds() - run["cpu"],
        "distributed": workers > 0,
        "workers": workers,
        "steps": steps,
        # Why steps failed, most frequent first (Locust's error report).
        "errors": [
            {"step": f"{e.method} {e.name}", "error": str(e.error), "occurrences": e.occurrences}
            for e in sorted(stats.errors.values(), key=lambda e: -e.occurrences)[:MAX_SAMPLES]
        ],
    }
