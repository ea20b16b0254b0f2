"""The verdicts a dual-era server on the SDK's plain defaults gets (fixtures/sdk_default_server.py), pinned: what
`../shared/spec/NOTES-2026-07-28.md` records of such a server is either a pass, or not judged (not-testable, info)
where the spec binds it to nothing — no false failure."""

from __future__ import annotations

from pathlib import Path

from conftest import run_harness

from mcp_harness import catalogue

# greet is not annotated readOnlyHint: named, it may be called.
ROLES = {"elicitation": "greet", "progress": "slow", "slow": "slow", "listen": "poke", "logging": "chatty"}
PROFILE = "".join(f'[tools.{role}]\nname = "{name}"\n' for role, name in ROLES.items())


def test_a_plain_sdk_server_gets_the_pinned_verdicts(tmp_path: Path, server_factory) -> None:
    server = server_factory(script="sdk_default_server.py", idle_timeout=None)
    profile = tmp_path / "profile.toml"
    profile.write_text(f'side_channel = "{server.url.removesuffix("/mcp")}/stats#cancelled"\n' + PROFILE)
    run = run_harness(tmp_path / "out", "--url", server.url, "--profile", str(profile), "--check", "stateless.*")
    assert run.code == 0, run.stdout + run.stderr
    modern = {r.id for r in catalogue.CATALOGUE if r.modern}
    modern_only = {r.id for r in catalogue.CATALOGUE if r.binds == "modern-only"}
    assert run.results["eras"] == "dual-era"
    # GET/DELETE without the header, a session id on a modern request, a legacy initialize: answered by the legacy
    # era, which a dual-era server legitimately serves (the rules bind modern-only servers).
    assert run.with_verdict("not-testable") == modern_only, run.stdout
    assert run.with_verdict("info") == {"stateless.legacy.dual-era"}
    assert run.with_verdict("pass") == modern - modern_only - {"stateless.legacy.dual-era"}, run.stdout
    routing = next(c["message"] for c in run.results["checks"] if c["id"] == "stateless.legacy.dual-era")
    # The note's X1, discover's version list, E13 (a minted session id on the legacy answer) and E5/X6 (the header
    # alone decides the era): recorded, not judged.
    assert "initialize asking for 2026-07-28 → counter-offer '2025-11-25' (legacy), a session" in routing
    assert "server/discover lists ['2026-07-28']; initialize negotiates 2025-11-25 (not listed" in routing
    assert 'modern body without MCP-Protocol-Version → HTTP 400 {"code": -32600' in routing
    assert "a session id minted" in routing
    assert "initialize with MCP-Protocol-Version 2026-07-28 → HTTP 400" in routing
