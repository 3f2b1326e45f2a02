"""The cloud-neutral plan: what traffic to allow, grouped into rules, before any cloud syntax.

A rule allows a set of destinations on a set of services. Destinations of one service area that share
exactly the same services are one rule, so a one-line catalogue change touches one rule. Every
destination keeps the ids of the catalogue entries that asked for it (``origins``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

from ..endpoints.errors import EpfwError
from ..endpoints.models import Service
from .kinds import UNCLASSIFIED, Kind


class PlanError(EpfwError, ValueError):
    """The selection cannot be planned as written (the message names the entries and what to change)."""


class RuleKind(StrEnum):
    HOSTNAME = "fqdn"  # hosts matched by HTTP Host / TLS SNI (inspectable protocols)
    ADDRESS = "ip"  # addresses and CIDRs, any protocol
    HOST_NETWORK = "dnsfqdn"  # exact hosts on plain TCP/UDP: resolved by the firewall (Azure DNS proxy)
    PEER = "p2p"  # peer-to-peer to the stack's peer ranges


@dataclass(frozen=True)
class AddressPart:
    """Addresses of an address rule (``RuleKind.ADDRESS``) that share the services their entries list, as listed
    (``http:80``, ``https:443``; the rule itself has only their transports, ``tcp:80``): what a cloud renders when it
    holds an address to its entry's protocols, or leaves it to the entry's names (``planning.address_rules``).

    ``by_name``: the plan deploys names of the entries that list these addresses on these services (http, https,
    tls), so a name-aware rule passes a listed name to them; False for an entry without deployed names (none listed,
    or only a shared-tenant wildcard left out) and for plain TCP/UDP services.
    """

    services: tuple[Service, ...]
    by_name: bool
    destinations: tuple[str, ...]  # merged CIDRs, numeric order
    origins: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class Rule:
    name: str
    area: str
    kind: RuleKind
    services: tuple[Service, ...]
    destinations: tuple[str, ...]
    origins: tuple[tuple[str, tuple[str, ...]], ...] = field(compare=False, default=())
    covered: tuple[tuple[str, str], ...] = field(compare=False, default=())  # (host, covering wildcard)
    parts: tuple[AddressPart, ...] = field(compare=False, default=())  # ADDRESS: by listed services (AddressPart)

    @property
    def entries(self) -> tuple[str, ...]:
        return tuple(sorted({e for _, ids in self.origins for e in ids}))

    @cached_property
    def _origin_map(self) -> dict[str, tuple[str, ...]]:
        return dict(self.origins)

    def origin_of(self, destination: str) -> tuple[str, ...]:
        return self._origin_map.get(destination, ())


@dataclass(frozen=True)
class Skipped:
    """An entry (or one destination of it) that the plan cannot turn into a rule, with the reason."""

    entry: str
    destination: str | None
    reason: str
    kind: Kind = UNCLASSIFIED


@dataclass(frozen=True)
class Widened:
    """A destination the plan deploys wider than its entry means, on every cloud, with the reason: a shared-tenant
    wildcard deployed with ``sharedTenantWildcards: allow`` (:mod:`.tenant_wildcards`)."""

    entry: str
    destination: str
    reason: str
    kind: Kind = UNCLASSIFIED


@dataclass(frozen=True)
class AreaPlan:
    area: str
    title: str
    priority: int
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Plan:
    areas: tuple[AreaPlan, ...]
    source_ranges: tuple[str, ...]
    skipped: tuple[Skipped, ...]
    selected_entries: tuple[str, ...]
    digest: str  # sha256 of the selected entries' canonical JSON
    widened: tuple[Widened, ...] = ()  # deployed wider than the entries mean, whatever the cloud

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(rule for area in self.areas for rule in area.rules)


MAX_NAME = 80


def services_signature(services: tuple[Service, ...]) -> str:
    """``http80-https443``: a readable, stable key for a set of services."""
    return "-".join(f"{s.protocol.value}{s.port}" for s in services)


def rule_name(area: str, kind: RuleKind, services: tuple[Service, ...]) -> str:
    """Deterministic rule name, at most 80 characters (Azure's limit), shortened with a hash if needed."""
    name = f"{area}-{kind.value}-{services_signature(services)}"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:10]
    return f"{name[: MAX_NAME - 11]}-{digest}"
