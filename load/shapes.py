"""Load shapes for load/locustfile.py: `SHAPE=steady|ramp|spike|churn|soak` picks one.

Every shape is parameterised by environment variables (times in seconds or Locust's format: 30s, 5m, 1h).
Each run ends by itself (the shape returns None after SHAPE_DURATION).

    SHAPE_USERS     peak concurrent users (default: Locust's -u, else 20; headless Locust's own default is 1)
    SHAPE_RATE      users started (or stopped) per second (default: SHAPE_USERS, i.e. all within a second;
                    Locust's -r is not used: headless Locust sets it to 1 when it is not given)
    SHAPE_DURATION  length of the run (default: Locust's -t, else 60s; soak: 1h)

Shape-specific variables are listed in each class.
"""

from __future__ import annotations

import os

from locust import LoadTestShape
from locust.util.timespan import parse_timespan

Tick = tuple[int, float] | None


def _seconds(name: str, default: str) -> float:
    value = os.environ.get(name, default)
    return float(value) if value.replace(".", "", 1).isdigit() else float(parse_timespan(value))


class _Shape(LoadTestShape):
    abstract = True
    use_common_options = True  # -u and -t are defaults for SHAPE_USERS and SHAPE_DURATION, not ignored
    default_duration = "60s"

    def __init__(self) -> None:
        super().__init__()
        self._resolved = False

    def _resolve(self) -> None:
        """Read the parameters once the runner (and Locust's options) exist."""
        options = getattr(getattr(self.runner, "environment", None), "parsed_options", None)
        users = os.environ.get("SHAPE_USERS") or getattr(options, "num_users", None) or 20
        self.users = int(users)
        self.rate = float(os.environ.get("SHAPE_RATE") or self.users)
        run_time = getattr(options, "run_time", None)
        self.duration = _seconds("SHAPE_DURATION", str(run_time) if run_time else self.default_duration)
        self.configure()
        self._resolved = True

    def configure(self) -> None:
        """Read shape-specific variables."""

    def tick(self) -> Tick:
        if not self._resolved:
            self._resolve()
        t = self.get_run_time()
        return None if t >= self.duration else self.at(t)

    def at(self, t: float) -> tuple[int, float]:
        raise NotImplementedError


class SteadyShape(_Shape):
    """SHAPE_USERS users for SHAPE_DURATION."""

    def at(self, t: float) -> tuple[int, float]:
        return self.users, self.rate


class RampShape(_Shape):
    """Steps up to SHAPE_USERS: SHAPE_STEPS equal steps (default 5), each held SHAPE_STEP_TIME (default 30s);
    then SHAPE_USERS until SHAPE_DURATION (default: the steps, plus one more step's time at the top)."""

    def configure(self) -> None:
        self.steps = max(1, int(os.environ.get("SHAPE_STEPS", "5")))
        self.step_time = _seconds("SHAPE_STEP_TIME", "30s")
        if "SHAPE_DURATION" not in os.environ:
            self.duration = max(self.duration, self.step_time * (self.steps + 1))

    def at(self, t: float) -> tuple[int, float]:
        step = min(int(t // self.step_time) + 1, self.steps)
        return max(1, round(self.users * step / self.steps)), self.rate


class SpikeShape(_Shape):
    """SHAPE_BASE_USERS (default: a fifth of SHAPE_USERS) with one spike to SHAPE_USERS starting at
    SHAPE_SPIKE_AT (default 20s) for SHAPE_SPIKE_FOR (default 10s); users come and go at SHAPE_RATE."""

    def configure(self) -> None:
        self.base = int(os.environ.get("SHAPE_BASE_USERS", max(1, self.users // 5)))
        self.spike_at = _seconds("SHAPE_SPIKE_AT", "20s")
        self.spike_for = _seconds("SHAPE_SPIKE_FOR", "10s")

    def at(self, t: float) -> tuple[int, float]:
        spiking = self.spike_at <= t < self.spike_at + self.spike_for
        return (self.users if spiking else self.base), self.rate


class ChurnShape(_Shape):
    """Users keep arriving and leaving: the count swings between SHAPE_MIN_USERS (default 0) and SHAPE_USERS
    every SHAPE_PERIOD (default 10s). A stopping user DELETEs its open session, so this exercises session
    teardown under load; pair it with SCENARIO=churn to also abandon sessions."""

    def configure(self) -> None:
        self.low = int(os.environ.get("SHAPE_MIN_USERS", "0"))
        self.period = _seconds("SHAPE_PERIOD", "10s")

    def at(self, t: float) -> tuple[int, float]:
        high = int(t // (self.period / 2)) % 2 == 0
        return (self.users if high else self.low), self.rate


class SoakShape(_Shape):
    """SHAPE_USERS for a long SHAPE_DURATION (default 1h), with an optional quiet gap every SHAPE_GAP_EVERY
    (default: none) lasting SHAPE_GAP (default 60s) at SHAPE_GAP_USERS (default 0). Sessions idle past the
    target's idle timeout come from the scenario: use SCENARIO=idle_call (MCP_IDLE longer than the timeout)
    to see each 404 followed by a re-initialisation."""

    default_duration = "1h"

    def configure(self) -> None:
        every = os.environ.get("SHAPE_GAP_EVERY")
        self.gap_every = _seconds("SHAPE_GAP_EVERY", every) if every else None
        self.gap = _seconds("SHAPE_GAP", "60s")
        self.gap_users = int(os.environ.get("SHAPE_GAP_USERS", "0"))

    def at(self, t: float) -> tuple[int, float]:
        if self.gap_every and t % (self.gap_every + self.gap) >= self.gap_every:
            return self.gap_users, self.rate
        return self.users, self.rate


SHAPES: dict[str, type[_Shape]] = {
    "steady": SteadyShape,
    "ramp": RampShape,
    "spike": SpikeShape,
    "churn": ChurnShape,
    "soak": SoakShape,
}
