"""Which catalogue entries a stack deploys."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..endpoints.loader import Catalogue
from ..endpoints.models import Entry

# Region tags a stack deploys only when it names them: US government (GCC) endpoints, which a commercial
# tenant never reaches, stay out of "every region" (regions omitted) and of any list that does not name them.
OPT_IN_REGIONS = frozenset({"us-gov"})


class SharedTenantMode(StrEnum):
    """What a stack deploys of a wildcard under which anyone can create an instance (``*.webpubsub.azure.com``:
    :mod:`~endpoint_firewall.endpoints.shared_tenants`)."""

    EXACT = "exact"  # the exact names the entry lists (and the stack's tenant instances); the wildcard is left out
    ALLOW = "allow"  # the wildcard too, reported as open to any tenant


@dataclass(frozen=True)
class Selection:
    """``service_areas``/``regions`` of None mean all (but :data:`OPT_IN_REGIONS`, kept only when named).
    Entries without regions are global and always kept."""

    service_areas: frozenset[str] | None = None
    regions: frozenset[str] | None = None
    include_optional: bool = True
    entry_ids: frozenset[str] | None = None  # an explicit allow-list of ids, when given
    shared_tenant_wildcards: SharedTenantMode = SharedTenantMode.EXACT
    tenant_instances: tuple[str, ...] = ()  # the tenant's own instances under shared-tenant wildcards, as named

    def keeps(self, entry: Entry) -> bool:
        if self.entry_ids is not None and entry.id not in self.entry_ids:
            return False
        if self.service_areas is not None and entry.service_area not in self.service_areas:
            return False
        if self.regions is not None and entry.regions and not set(entry.regions) & self.regions:
            return False
        if entry.regions and set(entry.regions) <= OPT_IN_REGIONS and not set(entry.regions) & (self.regions or set()):
            return False
        return self.include_optional or entry.required


def unknown_names(catalogue: Catalogue, selection: Selection) -> list[str]:
    """What the selection names that the catalogue does not have (likely typos), and entries named
    explicitly that another filter leaves out (a contradiction, never a silent drop)."""
    problems = []
    if selection.service_areas is not None:
        problems += [
            f"unknown service area {a!r}" for a in sorted(selection.service_areas - set(catalogue.service_areas))
        ]
    if selection.regions is not None:
        known = {r for e in catalogue.entries for r in e.regions}
        problems += [f"unknown region {r!r}" for r in sorted(selection.regions - known)]
    if selection.entry_ids is not None:
        known_ids = {e.id for e in catalogue.entries}
        problems += [f"unknown entry id {i!r}" for i in sorted(selection.entry_ids - known_ids)]
        problems += [
            f"entry {e.id!r} is named in entries but left out by {_excluded_by(e, selection)}"
            for e in catalogue.entries
            if e.id in selection.entry_ids and not selection.keeps(e)
        ]
    return problems


def _excluded_by(entry: Entry, selection: Selection) -> str:
    if selection.service_areas is not None and entry.service_area not in selection.service_areas:
        return f"serviceAreas (its area is {entry.service_area})"
    if selection.regions is not None and entry.regions and not set(entry.regions) & selection.regions:
        return f"regions (its regions are {', '.join(entry.regions)})"
    if entry.regions and set(entry.regions) <= OPT_IN_REGIONS and not set(entry.regions) & (selection.regions or set()):
        return f"regions (its regions are {', '.join(entry.regions)}, deployed only where a stack names them)"
    return "includeOptional: false (it is marked required: false)"


def select(catalogue: Catalogue, selection: Selection) -> list[Entry]:
    return [entry for entry in catalogue.entries if selection.keeps(entry)]
