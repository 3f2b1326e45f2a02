"""What a cloud renders wider than the catalogue says, cannot render, or what the plan skipped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..planning.rules import Plan


@dataclass(frozen=True, order=True)
class Finding:
    """One catalogue entry's destination (or the whole entry, destination None) and the reason."""

    entry: str
    destination: str | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"entry": self.entry, "destination": self.destination, "reason": self.reason}


def skipped_findings(plan: Plan) -> tuple[Finding, ...]:
    """The plan's skipped entries (references, peer-to-peer without peers, wildcards on plain TCP/UDP)."""
    return tuple(Finding(s.entry, s.destination, s.reason) for s in plan.skipped)


def plan_widened_findings(plan: Plan) -> tuple[Finding, ...]:
    """What the plan deploys wider than its entries mean on every cloud (a shared-tenant wildcard under
    ``sharedTenantWildcards: allow``: open to any tenant)."""
    return tuple(Finding(w.entry, w.destination, w.reason) for w in plan.widened)
