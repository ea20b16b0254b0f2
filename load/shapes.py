"""Load shapes for load/locustfile.py: `SHAPE=steady|ramp|spike|churn|soak` (or `shape` in the profile's
[load] table) picks one.

Each shape reads its parameters from the profile's [load] table, or from the environment variable beside
each key, which wins (mcp_harness.profile.LOAD_KEYS documents them all; times are seconds or Locust's
30s / 5m / 1h). Every run ends by itself: the shape returns None after `duration`.

    users       (SHAPE_USERS)     peak concurrent users (default: Locust's -u, else 20)
    rate        (SHAPE_RATE)      users started or stopped per second (default: all within a second;
                                  Locust's -r is not used, since headless Locust sets it to 1 when not given)
    duration    (SHAPE_DURATION)  length of the run (default: Locust's -t, else 60s; soak: 1h)
    drain       (SHAPE_DRAIN)     the run's last seconds, in which every user stops and DELETEs its session
                                  while the run is still live (default 0; `make load` uses 5 with PROCESSES > 1:
                                  a master interrupts its workers ~3 s after the end, cutting DELETEs short)

Shape-specific keys are listed in each class.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import gevent
from locust import LoadTestShape

from mcp_harness import capacity
from mcp_harness.load_stats import GAUGE
from mcp_harness.profile import LoadSettings

Tick = tuple[int, float] | None
SETTINGS = LoadSettings()  # the locustfile replaces this with its profile's [load] table


class _Shape(LoadTestShape):
    abstract = True
    use_common_options = True  # -u and -t are defaults for users and duration, not ignored
    default_duration = 60.0

    def __init__(self) -> None:
        super().__init__()
        self._resolved = False

    def _resolve(self) -> None:
        """Read the parameters once the runner (and Locust's options) exist."""
        options = getattr(getattr(self.runner, "environment", None), "parsed_options", None)
        self.users = int(SETTINGS.given("users") or getattr(options, "num_users", None) or 20)
        self.rate = float(SETTINGS.given("rate") or self.users)
        self.duration = float(SETTINGS.given("duration") or getattr(options, "run_time", None) or self.default_duration)
        self.drain = min(float(SETTINGS.get("drain")), self.duration)
        self.configure()
        self._resolved = True

    def configure(self) -> None:
        """Read shape-specific settings."""

    def tick(self) -> Tick:
        if not self._resolved:
            self._resolve()
        t = self.get_run_time()
        if t >= self.duration:
            return None
        if t >= self.duration - self.drain:
            return 0, max(self.rate, float(self.users))
        return self.at(t)

    def at(self, t: float) -> tuple[int, float]:
        raise NotImplementedError


class SteadyShape(_Shape):
    """`users` users for `duration`."""

    def at(self, t: float) -> tuple[int, float]:
        return self.users, self.rate


class RampShape(_Shape):
    """Steps up to `users`: `steps` equal steps (default 5), each held `step_time` (default 30s); then
    `users` until `duration` (default: the steps, plus one more step's time at the top)."""

    def configure(self) -> None:
        self.steps = int(SETTINGS.get("steps"))
        self.step_time = float(SETTINGS.get("step_time"))
        if SETTINGS.given("duration") is None:
            self.duration = max(self.duration, self.step_time * (self.steps + 1))

    def at(self, t: float) -> tuple[int, float]:
        step = min(int(t // self.step_time) + 1, self.steps)
        return max(1, round(self.users * step / self.steps)), self.rate


class SpikeShape(_Shape):
    """`base_users` (default: a fifth of `users`) with one spike to `users` starting at `spike_at`
    (default 20s) for `spike_for` (default 10s); users come and go at `rate`."""

    def configure(self) -> None:
        base = SETTINGS.get("base_users")
        self.base = int(base if base is not None else max(1, self.users // 5))
        self.spike_at = float(SETTINGS.get("spike_at"))
        self.spike_for = float(SETTINGS.get("spike_for"))

    def at(self, t: float) -> tuple[int, float]:
        spiking = self.spike_at <= t < self.spike_at + self.spike_for
        return (self.users if spiking else self.base), self.rate


class ChurnShape(_Shape):
    """Users keep arriving and leaving: the count swings between `min_users` (default 0) and `users`
    every `period` (default 10s). A stopping user DELETEs its open session, so this exercises session
    teardown under load; pair it with SCENARIO=churn to also abandon sessions."""

    def configure(self) -> None:
        self.low = int(SETTINGS.get("min_users"))
        self.period = float(SETTINGS.get("period"))

    def at(self, t: float) -> tuple[int, float]:
        high = int(t // (self.period / 2)) % 2 == 0
        return (self.users if high else self.low), self.rate


class SoakShape(_Shape):
    """`users` for a long `duration` (default 1h). With `gap_every`, every `gap_every` seconds of traffic
    are followed by an idle gap of `gap` seconds (default 60s): users keep their sessions and send nothing
    (the soak scenario asks `quiet_for`), so with a gap longer than the target's idle timeout every session
    meets a 404 after the gap and re-initializes. Pair it with SCENARIO=soak."""

    default_duration = 3600.0

    def at(self, t: float) -> tuple[int, float]:
        return self.users, self.rate


def quiet_for(t: float) -> float:
    """Seconds left of the soak's idle gap at run time `t` (0 outside a gap, or without gaps)."""
    every = SETTINGS.get("gap_every")
    if not every:
        return 0.0
    gap = float(SETTINGS.get("gap"))
    phase = t % (every + gap)
    return every + gap - phase if phase >= every else 0.0


class Pacer:
    """Paced arrivals for the capacity search: one new session every 1/rate seconds across the process's
    users. A slot nobody was free to take is dropped, not saved up, so a server past capacity shows as an
    achieved rate below the offered one rather than as a burst later; a slot handed out before the rate
    changed is void (a user sleeping towards it takes a new one), so steps do not overlap."""

    def __init__(self) -> None:
        self.rate = 0.0  # new sessions per second; 0: not pacing
        self.next = 0.0
        self.paused = False  # no new sessions (a cool-down between steps)
        self.generation = 0

    def start(self, rate: float) -> None:
        self.rate, self.next, self.paused = rate, time.monotonic(), False
        self.generation += 1

    def admit(self) -> None:
        """Wait for this user's arrival slot; returns at once when not pacing. Bounded: each round sleeps at
        most a cool-down tick or one slot ahead of the others, and the shape ends pausing and pacing."""
        while self.rate or self.paused:
            if self.paused:
                gevent.sleep(0.1)
                continue
            now = time.monotonic()
            slot = max(now, self.next)
            self.next = slot + 1 / self.rate
            generation = self.generation
            gevent.sleep(slot - now)
            if generation == self.generation:
                return


PACER = Pacer()


class CapacityShape(LoadTestShape):
    """SHAPE=capacity: the knee search of mcp_harness.capacity (paced arrivals, a step per offered rate).
    Settings: MCP_CAPACITY, a JSON object of capacity.Config fields; the measured steps are written as JSON
    to MCP_CAPACITY_STEPS when the search ends. One process only: the pacer and the measurements are local."""

    def __init__(self) -> None:
        super().__init__()
        self.config = capacity.Config.from_json(os.environ.get("MCP_CAPACITY"))
        self.steps: list[capacity.Step] = []
        self.rate = 0.0
        self.users = 0
        self.step_end = 0.0
        self.window_start = 0.0  # monotonic; requests before it (the warm-up) are not measured
        self.measure: dict[str, Any] = {}
        self.listening = False
        self.cooldown_end: float | None = None

    def tick(self) -> Tick:
        if not self.listening:
            self.runner.environment.events.request.add_listener(self._on_request)
            self.listening = True
        t = self.get_run_time()
        if self.rate and t < self.step_end:
            if time.monotonic() >= self.window_start:
                self.measure["open"].append(GAUGE.open)
            return self.users, float(max(self.users, 50))
        if self.rate and self.cooldown_end is None:
            self._finish()
            if not self.steps[-1].ok:  # let the backlog of a failed step drain before the next is measured
                PACER.paused = True
                self.cooldown_end = min(t + COOLDOWN_MAX_S, self.config.time_limit_s - self.config.step_s)
        if self.cooldown_end is not None:
            if GAUGE.open > 0 and t < self.cooldown_end:
                return self.users, float(max(self.users, 50))
            self.cooldown_end = None
        rate = capacity.next_rate(self.steps, self.config, t)
        if rate is None:
            PACER.rate = 0.0
            self._write()
            return None
        self.rate, self.users = rate, capacity.users_for(rate, self.config, self.steps)
        self.step_end = t + self.config.step_s
        self.window_start = time.monotonic() + self.config.warmup_s
        self.measure = {"requests": 0, "failures": 0, "calls": 0, "sessions": 0, "latency": {}, "open": []}
        PACER.start(rate)
        return self.users, float(max(self.users, 50))

    def _on_request(self, request_type: str, name: str, response_time: float, exception: Any, **_: Any) -> None:
        m = self.measure
        if not self.rate or time.monotonic() < self.window_start:
            return
        if request_type != "MCP":
            m["requests"] += 1
        m["failures"] += exception is not None
        if exception is None:
            m["calls"] += name == self.config.slo_step
            m["sessions"] += request_type == "DELETE"
        times = m["latency"].setdefault(name if request_type != "MCP" else f"MCP {name}", [])
        if len(times) < MAX_SAMPLES:
            times.append(response_time)

    def _finish(self) -> None:
        m = self.measure
        window = max(1e-9, time.monotonic() - self.window_start)
        step = capacity.Step(
            offered=round(self.rate, 3),
            users=self.users,
            window_s=round(window, 3),
            calls=m["calls"],
            sessions=m["sessions"],
            requests=m["requests"],
            failures=m["failures"],
            latency={name: capacity.percentiles(v) for name, v in m["latency"].items()},
            open_sessions_mean=sum(m["open"]) / len(m["open"]) if m["open"] else 0.0,
            open_sessions_max=max(m["open"], default=0),
        )
        self.steps.append(capacity.judge(step, self.config))
        print(f"capacity: {step.offered:.1f} sessions/s offered: {step.verdict} ({step.reason})", flush=True)

    def _write(self) -> None:
        path = os.environ.get("MCP_CAPACITY_STEPS")
        if path:
            Path(path).write_text(json.dumps([asdict(s) for s in self.steps], indent=1) + "\n")


MAX_SAMPLES = 50_000  # response times kept per request name and step
COOLDOWN_MAX_S = 15.0  # the longest wait for a failed step's sessions to finish

SHAPES: dict[str, type[LoadTestShape]] = {
    "steady": SteadyShape,
    "ramp": RampShape,
    "spike": SpikeShape,
    "churn": ChurnShape,
    "soak": SoakShape,
    "capacity": CapacityShape,
}
