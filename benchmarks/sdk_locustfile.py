"""The official MCP Python SDK client under Locust, for benchmarks/session_cost.py: per task one session with
`streamable_http_client` + `ClientSession` — initialize (+ notifications/initialized), tools/call echo, and
leaving the client context, which DELETEs the session. What people write today; not a load tool. (On the
wire the SDK also opens a GET stream, and `call_tool` first lists the tools to learn their output schemas:
"tools/call echo" times both round trips.)

How the async SDK runs under gevent: Locust users are greenlets sharing one OS thread, and asyncio keeps
one running loop per thread, so `asyncio.run()` in a task breaks as soon as two users overlap. Instead one
real OS thread (started with the *original* `_thread.start_new_thread`: Locust's monkey-patching turns
`threading.Thread` into a greenlet) runs one asyncio loop for all users of the process, on the original
epoll selector (the patched default selector would run a second gevent hub inside that thread). A user
hands its session to the loop with `call_soon_threadsafe` and waits on a gevent `AsyncResult`, which the loop
thread settles through `hub.loop.run_callback_threadsafe` (gevent's events must not be touched from another
thread). Locust events are fired back on the greenlet side: its stats are not thread-safe.

Bounds: each session runs under `asyncio.timeout` in the loop; a user killed mid-session waits for it (up to
that deadline) so the session is closed, then dies; the last user to stop stops the loop and its thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import os
import time
from collections.abc import Coroutine
from typing import Any

import gevent
from gevent import GreenletExit
from gevent.event import AsyncResult, Event
from gevent.monkey import get_original
from locust import User, constant, events, task
from mcp.client import ClientSession
from mcp.client.streamable_http import streamable_http_client

from mcp_harness import load_stats

# httpcore imports trio when it is installed (selenium, a test dependency, brings it), and trio's first import
# runs ldconfig in a subprocess, which gevent cannot watch from the loop's thread: import it here, once.
with contextlib.suppress(ImportError):
    import trio  # noqa: F401

SESSION_TIMEOUT = 30.0  # seconds for a whole session, enforced in the loop
Step = tuple[str, str, float, Exception | None]  # request type, name, ms, failure

# The SDK logs a failed DELETE as a warning and carries on: a filter notes it for the session it belongs to.
_delete_failure: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("delete_failure", default=None)


class _DeleteFailures(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        noted = _delete_failure.get()
        if noted is not None and record.getMessage().startswith("Session termination failed"):
            noted.append(record.getMessage())
        return True


logging.getLogger("mcp.client.streamable_http").addFilter(_DeleteFailures())


class LoopThread:
    """One asyncio loop in one real OS thread; coroutines are handed over and awaited from greenlets."""

    def __init__(self) -> None:
        self.hub = gevent.get_hub()
        self.loop = asyncio.SelectorEventLoop(get_original("selectors", "EpollSelector")())
        self.stopped = Event()
        self.tasks: set[asyncio.Task[list[Step]]] = set()
        get_original("_thread", "start_new_thread")(self._run, ())

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:
            self.loop.close()
            self.hub.loop.run_callback_threadsafe(self.stopped.set)

    def submit(self, coro: Coroutine[Any, Any, list[Step]]) -> AsyncResult:
        done = AsyncResult()

        def start() -> None:  # in the loop thread
            t = self.loop.create_task(coro)
            self.tasks.add(t)  # the loop only holds weak references to its tasks
            t.add_done_callback(self.tasks.discard)
            t.add_done_callback(lambda t: self.hub.loop.run_callback_threadsafe(_settle, done, t))

        self.loop.call_soon_threadsafe(start)
        return done

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.stopped.wait(5)


def _settle(done: AsyncResult, t: asyncio.Task[list[Step]]) -> None:
    if t.cancelled():
        done.set_exception(asyncio.CancelledError())
    elif (exc := t.exception()) is not None:
        done.set_exception(exc)
    else:
        done.set(t.result())


async def sdk_session(url: str) -> list[Step]:
    """One SDK session, as its steps' outcomes (a failed step ends it; the close DELETEs what was opened)."""
    steps: list[Step] = []
    failures: list[str] = []
    _delete_failure.set(failures)
    opened = False
    started = time.perf_counter()

    async def step(name: str, call: Coroutine[Any, Any, object]) -> bool:
        start = time.perf_counter()
        try:
            await call
            exc = None
        except Exception as e:
            exc = e
        steps.append(("POST", name, 1000 * (time.perf_counter() - start), exc))
        return exc is None

    async def echo(session: ClientSession) -> None:
        if (result := await session.call_tool("echo", {"text": "hello"})).is_error:
            raise RuntimeError(f"echo failed: {result.content}")

    try:
        async with asyncio.timeout(SESSION_TIMEOUT):
            async with streamable_http_client(url) as (read, write):
                async with ClientSession(read, write) as session:
                    if opened := await step("initialize", session.initialize()):
                        await step("tools/call echo", echo(session))
                closing = time.perf_counter()
            if opened:
                exc = RuntimeError(failures[0]) if failures else None
                steps.append(("DELETE", "DELETE", 1000 * (time.perf_counter() - closing), exc))
    except Exception as exc:  # the deadline, or the transport's exit: the step under way failed
        if opened:  # whether the session was closed is unknown
            steps.append(("DELETE", "DELETE", 0.0, exc))
        elif not steps:
            steps.append(("POST", "initialize", 1000 * (time.perf_counter() - started), exc))
    return steps


class SdkUser(User):
    wait_time = constant(0)
    loop: LoopThread | None = None
    users = 0

    def on_start(self) -> None:
        if SdkUser.loop is None:
            SdkUser.loop = LoopThread()
        SdkUser.users += 1

    def on_stop(self) -> None:
        SdkUser.users -= 1
        if SdkUser.users == 0 and SdkUser.loop is not None:
            SdkUser.loop, loop = None, SdkUser.loop
            loop.stop()

    @task
    def session(self) -> None:
        assert self.loop is not None and self.host
        done = self.loop.submit(sdk_session(self.host))
        deadline = time.monotonic() + SESSION_TIMEOUT + 5
        killed = False
        while not done.ready() and time.monotonic() < deadline:  # through kills: the session gets closed
            try:
                done.wait(deadline - time.monotonic())
            except GreenletExit:
                killed = True
        if not done.ready():
            steps: list[Step] = [("POST", "session", 0.0, TimeoutError("the event loop did not answer"))]
        else:
            steps = done.get(block=False) if done.successful() else [("POST", "session", 0.0, done.exception)]
        for request_type, name, ms, exc in steps:
            self.environment.events.request.fire(
                request_type=request_type, name=name, response_time=ms, response_length=0, exception=exc, context={}
            )
        if [s[1] for s in steps if s[3] is None] == ["initialize", "tools/call echo", "DELETE"]:
            load_stats.COUNTERS.sessions_completed += 1
        if killed:
            raise GreenletExit


load_stats.install_summary(events, os.environ.get("MCP_SUMMARY"))
