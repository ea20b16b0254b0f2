"""Every violation the session core records reaches a verdict, whichever check's conversation it was seen in.

The core names each violation by the catalogue id of the check whose rule it breaks. A check judges the violations
of its own rules (its id, and the `rule` of its rows) itself, as it always has. Any other violation its sessions
recorded is a *sighting* for the check it names:
- that check is selected and applies to the target: its verdict carries the sighting — a check that passed (or
  could not test, or holds an info record) fails at its row's level (warn for a SHOULD unless --strict), one that
  failed keeps its verdict with the sighting added to the reason, whether it ran before or after the check that
  saw it;
- otherwise the sighting is listed in the run's notes, with the wire log of the check that saw it.

What the harness provoked is not the server's to answer for elsewhere: a violation on an exchange whose body a
check made by hand (malformed input: unreadable JSON, no id to echo) stays with the check that sent it, which
judges that answer by its own rule (an error response with a null id is what the spec allows there).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mcp_harness import core, report
from mcp_harness.catalogue import Requirement

SHOWN = 3  # sightings quoted in one reason or note


@dataclass(frozen=True)
class Sighting:
    check: str  # the check whose rule the violation breaks
    detail: str
    seen_during: str  # the check whose session recorded it
    session: str  # that session's wire-log label
    wire_log: str | None  # the wire log of the check that saw it, relative to the output folder

    def text(self) -> str:
        log = f", wire log {self.wire_log}" if self.wire_log else ""
        return f"{self.detail} (seen during {self.seen_during}, session {self.session}{log})"


def own_rules(req: Requirement) -> set[str]:
    """The rules a check judges itself: its id and the rules its rows quote."""
    return {req.id, *(row.rule for row in req.rows if row.rule)}


def handmade(exchange: core.Exchange) -> bool:
    """A request whose body the check wrote by hand (malformed input), not a message the core built."""
    return exchange.purpose == "raw" and exchange.message is None and exchange.http.body is not None


def foreign(req: Requirement, recorded: Iterable[tuple[str, core.Violation]]) -> list[tuple[str, core.Violation]]:
    """The (session label, violation) pairs of `req`'s sessions that are another check's to judge."""
    own = own_rules(req)
    return [(label, v) for label, v in recorded if v.rule not in own and not handmade(v.exchange)]


def failing(level: str, strict: bool) -> str:
    """The verdict of a broken rule at `level` (as a check's own failure gets it)."""
    return "warn" if level == "SHOULD" and not strict else "fail"


def _quoted(sightings: list[Sighting]) -> str:
    more = f" (and {len(sightings) - SHOWN} more)" if len(sightings) > SHOWN else ""
    return "; ".join(s.text() for s in sightings[:SHOWN]) + more


def amend(result: report.CheckResult, sightings: list[Sighting], strict: bool) -> bool:
    """Put `sightings` of `result`'s rule on its verdict; True when the verdict changed."""
    if not sightings:
        return False
    evidence = f"{len(sightings)} violation(s) seen during other checks: {_quoted(sightings)}"
    before = result.verdict
    if before in report.FAILING or before == "warn":
        result.reason = f"{result.reason}; also {evidence}" if result.reason else evidence
    else:
        if before != "pass":
            evidence += f" [the check itself: {before}: {result.reason or result.message}]"
        result.verdict, result.reason = failing(result.level, strict), evidence
    if result.wire_log is None:
        result.wire_log = next((s.wire_log for s in sightings if s.wire_log), None)
    return result.verdict != before


def note(check_id: str, sightings: list[Sighting], why: str) -> str:
    """The run's note for sightings of a check whose verdict they cannot reach."""
    return f"{len(sightings)} violation(s) of {check_id} ({why}): {_quoted(sightings)}"
