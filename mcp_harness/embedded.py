"""Starting and stopping the reference server (the embedded default target) and its mutants.

The server is a script in `fixtures/`; it binds a free loopback port itself and prints
`READY <url>`, so there is no port race. Only the process started here is ever stopped, by its pid.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_IDLE_TIMEOUT = 2.0  # seconds: short, so `make conformance` exercises expiry in a few seconds


def project_path(*parts: str) -> Path:
    """A file of the project: from the source tree, or from the copy bundled into an installed wheel."""
    package = Path(__file__).resolve().parent
    for base in (package.parent, package / "_bundled"):
        candidate = base.joinpath(*parts)
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"cannot find {'/'.join(parts)} beside the mcp_harness package")


@dataclass
class EmbeddedServer:
    url: str
    process: subprocess.Popen[str]
    stderr: list[str] = field(default_factory=list)

    @property
    def sessions_url(self) -> str:
        return self.url.rsplit("/", 1)[0] + "/sessions"

    def open_sessions(self) -> int:
        with urllib.request.urlopen(self.sessions_url, timeout=5) as r:
            return int(json.load(r)["open"])

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)

    def __enter__(self) -> EmbeddedServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(
    idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
    mutant: str | None = None,
    host: str = "127.0.0.1",
    extra_args: tuple[str, ...] = (),
    ready_timeout: float = 30.0,
    script: str = "reference_server.py",
) -> EmbeddedServer:
    """Start the reference server (or one mutant, or another server script of fixtures/ that prints the same
    READY line) and wait until it listens."""
    cmd = [sys.executable, str(project_path("fixtures", script)), "--host", host, "--port", "0"]
    if idle_timeout is not None:
        cmd += ["--idle-timeout", str(idle_timeout)]
    if mutant:
        cmd += ["--mutant", mutant]
    cmd += extra_args
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stderr: list[str] = []
    threading.Thread(target=lambda: stderr.extend(proc.stderr or []), daemon=True).start()
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline() if proc.stdout else ""), daemon=True)
    reader.start()
    reader.join(ready_timeout)
    if not line or not line[0].startswith("READY "):
        proc.kill()
        proc.wait()
        detail = "".join(stderr).strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"the reference server did not start: {detail[0]}")
    return EmbeddedServer(line[0].split()[1], proc, stderr)
