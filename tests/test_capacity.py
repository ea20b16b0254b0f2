"""Capacity planning: the knee search as pure functions, the calibrated server found within ±10 % of K/S, and the
report rendered in a real headless Chromium (Debian's chromium + chromium-driver, installed by .ci/run)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import severe_console_entries

from mcp_harness import capacity

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT = ROOT / "reports" / "capacity-screenshot.png"


def step(offered: float, achieved: float, p95: float, failures: int = 0) -> capacity.Step:
    window = 10.0
    calls = round(achieved * window)
    latency = {"tools/call echo": {"p50": p95 / 2, "p95": p95, "p99": p95, "mean": p95 / 2}}
    s = capacity.Step(offered, 10, window, calls, calls, 4 * calls + failures, failures, latency)
    return capacity.judge(s, capacity.Config(slo_p95_ms=500))


def test_judge_orders_errors_slo_then_saturation() -> None:
    assert step(10, 10, 100).verdict == "ok"
    assert step(10, 10, 100, failures=10).verdict == "errors"
    assert step(10, 10, 900).verdict == "slo"
    assert step(10, 9, 100).verdict == "saturated"  # fell behind the offered rate
    assert step(10, 0, 100).verdict == "errors"  # nothing succeeded


def test_search_grows_then_bisects_and_stops() -> None:
    config = capacity.Config(slo_p95_ms=500, start_rate=10, growth=2, resolution=0.1, step_s=5, time_limit_s=1000)
    assert capacity.next_rate([], config, 0) == 10
    steps = [step(10, 10, 100), step(20, 20, 100)]
    assert capacity.next_rate(steps, config, 10) == 40
    steps.append(step(40, 30, 100))  # saturated
    assert capacity.next_rate(steps, config, 15) == 30
    steps.append(step(30, 30, 100))
    assert capacity.next_rate(steps, config, 20) == 35
    steps.append(step(35, 30, 100))
    assert capacity.next_rate(steps, config, 25) == 32.5
    steps.append(step(32.5, 30, 100))  # saturated: bracket 30..32.5 is within 10 %
    assert capacity.next_rate(steps, config, 30) is None
    assert capacity.next_rate(steps[:2], config, 998) is None  # out of time
    result = capacity.analyse(steps, config)
    assert result["sustainable_calls_per_s"] == 30 and result["knee_offered"] == 32.5 and result["found"]


def test_planning_estimate_by_littles_law() -> None:
    p = capacity.plan(arrival_rate=10, session_s=120, idle_timeout_s=900, lifetime_s=8 * 3600, quota=5000)
    assert p["concurrent_if_deleted"] == 1200 and p["concurrent_if_abandoned"] == 10200
    assert p["fits_if_deleted"] and not p["fits_if_abandoned"]
    capped = capacity.plan(arrival_rate=1, session_s=30_000, idle_timeout_s=900, lifetime_s=28_800, quota=5000)
    assert capped["concurrent_if_abandoned"] == 28_800  # the maximum lifetime caps a session's stay


def run_capacity(url: str, out: Path) -> tuple[dict, float]:
    cmd = [sys.executable, str(ROOT / "load" / "capacity.py"), "--url", url, "--out", str(out)]
    cmd += ["--start-rate", "10", "--step-time", "5"]
    started = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=400)
    assert p.returncode == 0, (p.stdout + p.stderr)[-3000:]
    return json.loads((out / "capacity.json").read_text()), time.monotonic() - started


@pytest.mark.parametrize(("slots", "service_time"), [(4, 0.1), (8, 0.1)])
def test_calibrated_capacity_is_found_within_ten_percent(server_factory, tmp_path: Path, slots, service_time) -> None:
    server = server_factory(
        idle_timeout=None,
        script="calibrated_server.py",
        extra_args=("--slots", str(slots), "--service-time", str(service_time)),
    )
    data, took = run_capacity(server.url, tmp_path)
    expected = slots / service_time
    assert abs(data["sustainable_calls_per_s"] - expected) <= 0.1 * expected, data["conclusion"]
    # tool_call: a call per session (the counts differ only by the calls in flight at the window's edges)
    assert data["sustainable_sessions_per_s"] == pytest.approx(data["sustainable_calls_per_s"], rel=0.05)
    assert data["found"] and took < 180
    assert data["little"]["concurrent_sessions"] > 0
    assert (tmp_path / "capacity.html").stat().st_size > 10_000  # the plots are inside
    assert server.open_sessions() == 0


def synthetic_report(path: Path) -> Path:
    steps = [step(10, 10, 100), step(20, 20, 120), step(40, 30, 800), step(30, 29.8, 300), step(35, 31, 700)]
    config = capacity.Config(slo_p95_ms=500)
    planning = capacity.plan(20, 300, 900, 28_800, 5000)
    data = capacity.report_data(steps, config, "http://127.0.0.1:1/mcp", planning, "tool_call")
    path.write_text(capacity.render_html(data))
    return path


def test_report_renders_in_headless_chromium(tmp_path: Path, headless_chromium: Any) -> None:
    from selenium.webdriver.common.by import By

    page = synthetic_report(tmp_path / "capacity.html")
    driver = headless_chromium
    driver.get(page.as_uri())
    images = driver.find_elements(By.CSS_SELECTOR, "#plots img")
    assert len(images) == 4
    for image in images:  # decoded, with a real size: the plots rendered
        assert driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) > 300
    assert "sustained" in driver.find_element(By.ID, "conclusion").text
    assert len(driver.find_elements(By.CSS_SELECTOR, "#steps tr")) == 6  # header + 5 steps
    assert not severe_console_entries(driver)
    SCREENSHOT.parent.mkdir(exist_ok=True)
    assert driver.save_screenshot(str(SCREENSHOT))
    shutil.copy(SCREENSHOT, tmp_path / SCREENSHOT.name)
