"""Shared-tenant wildcards in a plan: what a stack deploys of ``*.webpubsub.azure.com`` and its kin.

Under such a suffix anyone can create an instance (:mod:`~endpoint_firewall.endpoints.shared_tenants`), so the
wildcard reaches every tenant's, a stranger's too. ``selection.sharedTenantWildcards`` decides (see
docs/shared-tenant-wildcards.md):

* ``exact`` (the default): the wildcard is left out, reported as skipped with the vendor page; the exact names the
  entry lists under it and the stack's ``tenantInstances`` under it are deployed, on the entry's services.
* ``allow``: the wildcard is deployed too, and reported as widened: open to any tenant.

Either way an exact name is never folded into such a wildcard (``planner._make_rule``), so it stays a rule target of
its own. Pure functions.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..endpoints.loader import Catalogue
from ..endpoints.models import DestinationKind, Entry
from ..endpoints.names import wildcard_matches
from ..endpoints.shared_tenants import SharedTenantSuffix, is_shared_tenant_wildcard
from .kinds import SHARED_TENANT_LEFT_OUT
from .rules import Plan
from .selection import Selection, select

SETTING = "selection.sharedTenantWildcards"
INSTANCES = "selection.tenantInstances"
LEFT_OUT = "shared-tenant wildcard, left out"  # how a skipped reason of ours begins (its kind: SHARED_TENANT_LEFT_OUT)


def instances_under(wildcard: str, instances: Sequence[str]) -> list[str]:
    """The stack's tenant instances that ``wildcard`` matches."""
    return [name for name in instances if wildcard_matches(wildcard, name)]


def listed_under(entry: Entry, wildcard: str) -> list[str]:
    """The exact names ``entry`` itself lists under ``wildcard`` (``amsua0101-remoteassistservice-pubsub...``)."""
    return sorted(
        {
            host
            for dest in entry.destinations
            if dest.kind in (DestinationKind.FQDN, DestinationKind.NUMBERED)
            for host in dest.hosts()
            if wildcard_matches(wildcard, host)
        }
    )


def left_out_reason(entry: Entry, wildcard: str, suffix: SharedTenantSuffix, instances: Sequence[str]) -> str:
    listed = listed_under(entry, wildcard)
    deployed = [f"{', '.join(listed)} (listed by {entry.id})"] if listed else []
    deployed += [f"{', '.join(instances)} ({INSTANCES})"] if instances else []
    text = (
        f"{LEFT_OUT} ({SETTING}: exact): {suffix.why()}, so {wildcard} would reach every "
        f"tenant's instances. Deployed instead: {'; '.join(deployed) if deployed else 'no name under it'}."
    )
    if not instances:
        text += (
            f" {entry.description} ({entry.id}) reaches only {'those' if listed else 'what is named'}: when your "
            f"tenant's instance is another name under {wildcard[2:]}, name it in {INSTANCES} (or set {SETTING}: "
            "allow, open to any tenant)"
        )
    return text


def open_reason(entry: Entry, wildcard: str, suffix: SharedTenantSuffix) -> str:
    listed = listed_under(entry, wildcard)
    named = f", not only {', '.join(listed)}" if listed else ""
    return f"open to any tenant ({SETTING}: allow): {suffix.why()}; {wildcard} reaches every tenant's instances{named}"


def instance_problems(catalogue: Catalogue, selection: Selection) -> list[tuple[int, str]]:
    """``(index, message)`` for each of ``selection.tenant_instances`` that no shared-tenant wildcard of the
    selected entries matches: such an instance would be deployed for no entry, so it is refused."""
    wildcards = sorted(
        {
            dest.value
            for entry in select(catalogue, selection)
            for dest in entry.destinations
            if dest.kind is DestinationKind.WILDCARD and is_shared_tenant_wildcard(dest.value)
        }
    )
    problems = []
    for index, name in enumerate(selection.tenant_instances):
        if not any(wildcard_matches(w, name) for w in wildcards):
            known = f"the selection lists {', '.join(wildcards)}" if wildcards else "the selection lists none"
            problems.append(
                (
                    index,
                    f"{name!r} is under no shared-tenant wildcard of the selected entries ({known}): a tenant "
                    "instance stands in for such a wildcard, deployed with its services and entries",
                )
            )
    return problems


def check_note(plan: Plan, host: str | None, allowed: bool) -> str:
    """What a verdict on ``host`` owes to a shared-tenant wildcard, for ``epfw check`` (and readers of logs): an
    allow through a wildcard deployed with ``allow`` is open to any tenant, unless ``host`` is a rule's own target;
    a deny of a name under a wildcard left out says how to name the tenant's instance. Empty: nothing to say."""
    if not host:
        return ""
    if allowed:
        if any(host in rule.destinations for rule in plan.rules):
            return ""
        opened = next((w for w in plan.widened if wildcard_matches(w.destination, host)), None)
        return (
            f"open to any tenant: {host} passes as {opened.destination} (entry {opened.entry}), a shared-tenant "
            f"wildcard deployed by {SETTING}: allow"
            if opened
            else ""
        )
    left_out = next(
        (
            s
            for s in plan.skipped
            if s.destination and s.kind == SHARED_TENANT_LEFT_OUT and wildcard_matches(s.destination, host)
        ),
        None,
    )
    return (
        f"the catalogue's {left_out.destination} (entry {left_out.entry}) is a shared-tenant wildcard, left out by "
        f"{SETTING}: exact; if {host} is your tenant's instance, name it in {INSTANCES}"
        if left_out
        else ""
    )
