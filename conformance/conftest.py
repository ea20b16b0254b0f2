"""The conformance suite's pytest setup: everything lives in the mcp_harness plugin."""

from mcp_harness.plugin import *  # noqa: F403 — registers the plugin's options, hooks and the `h` fixture
