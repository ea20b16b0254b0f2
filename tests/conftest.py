"""Helpers for the project's own tests: run the harness's command, start reference and mutant servers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mcp_harness import embedded

RUN_TIMEOUT = 300  # seconds: a whole suite run must finish well within this


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    out: Path

    @property
    def results(self) -> dict[str, Any]:
        return json.loads((self.out / "results.json").read_text())

    @property
    def verdicts(self) -> dict[str, str]:
        return {c["id"]: c["verdict"] for c in self.results["checks"]}

    def with_verdict(self, *verdicts: str) -> set[str]:
        return {i for i, v in self.verdicts.items() if v in verdicts}


def harness_command(out: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "mcp_harness.cli", "conformance", "--out", str(out), *args]


def run_harness(out: Path, *args: str, env: dict[str, str] | None = None) -> Run:
    """`mcp-harness conformance …` in a subprocess, as a user runs it."""
    cmd = harness_command(out, *args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT, env=env)
    return Run(p.returncode, p.stdout, p.stderr, out)


@pytest.fixture
def server_factory():
    """Start reference or mutant servers; each is stopped (by its pid) at teardown."""
    started: list[embedded.EmbeddedServer] = []

    def start(
        mutant: str | None = None,
        idle_timeout: float | None = 2.0,
        extra_args: tuple[str, ...] = (),
        script: str = "reference_server.py",
    ) -> embedded.EmbeddedServer:
        server = embedded.start(idle_timeout=idle_timeout, mutant=mutant, extra_args=extra_args, script=script)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


@pytest.fixture
def headless_chromium(tmp_path: Path) -> Iterator[Any]:
    """A selenium driver for Debian's headless chromium, with the browser console log kept. Skipped where
    chromium is not installed, except in CI, which must have it (.ci/run installs it)."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's chromium and chromium-driver (.ci/run does)")
        pytest.skip(
            "Debian's chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1280,2400",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def severe_console_entries(driver: Any) -> list[dict[str, Any]]:
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
