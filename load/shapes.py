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

from locust import LoadTestShape

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


SHAPES: dict[str, type[_Shape]] = {
    "steady": SteadyShape,
    "ramp": RampShape,
    "spike": SpikeShape,
    "churn": ChurnShape,
    "soak": SoakShape,
}
