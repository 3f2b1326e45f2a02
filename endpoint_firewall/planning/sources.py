"""Which sources name a destination of the plan: a host two documents list stays one target of one rule.

The planner merges the destinations of one service area and set of services into one rule, keeping the entries
that ask for each (``Rule.origins``). When those entries come from more than one source (the Intune page and the
Autopilot page both list ``ekop.intel.com``), :func:`several_sources` names them, so the summary of a render says
why the target is there, once.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..endpoints.loader import Catalogue
from .rules import Plan


@dataclass(frozen=True)
class SharedDestination:
    rule: str
    destination: str
    sources: tuple[str, ...]  # source ids, sorted
    entries: tuple[str, ...]  # the entries of every source that ask for it, sorted

    def to_json(self) -> dict:
        return {
            "rule": self.rule,
            "destination": self.destination,
            "sources": list(self.sources),
            "entries": list(self.entries),
        }


def several_sources(plan: Plan, catalogue: Catalogue) -> tuple[SharedDestination, ...]:
    """Every destination of a rule that entries of more than one source ask for, by rule and destination."""
    source_of = {e.id: e.provenance.source for e in catalogue.entries}
    out = []
    for rule in plan.rules:
        for destination, entries in rule.origins:
            sources = sorted({source_of[e] for e in entries if e in source_of})
            if len(sources) > 1:
                out.append(SharedDestination(rule.name, destination, tuple(sources), tuple(sorted(entries))))
    return tuple(sorted(out, key=lambda s: (s.rule, s.destination)))
