"""Catalogue selection -> cloud-neutral :class:`Plan`. Pure: same input, same plan, whatever the order."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence

from ..endpoints.loader import Catalogue
from ..endpoints.models import Destination, DestinationKind, Entry, EntryKind, Protocol, Service
from ..endpoints.names import ANY_NETWORKS
from ..endpoints.shared_tenants import is_shared_tenant_wildcard, shared_tenant_suffix
from . import addresses, tenant_wildcards
from .kinds import PEERS_NOT_NAMED, REFERENCE_ONLY, SHARED_TENANT_LEFT_OUT, SHARED_TENANT_OPEN, WILDCARD_ON_PLAIN
from .rules import AddressPart, AreaPlan, Plan, PlanError, Rule, RuleKind, Skipped, Widened, rule_name
from .selection import Selection, SharedTenantMode, select

GroupKey = tuple[str, RuleKind, tuple[Service, ...]]
PartKey = tuple[tuple[Service, ...], bool]  # an address rule's part: (services as listed, by_name)
_NAME_KINDS = (DestinationKind.FQDN, DestinationKind.WILDCARD, DestinationKind.NUMBERED)


def build_plan(
    catalogue: Catalogue, selection: Selection, source_ranges: Sequence[str], peer_ranges: Sequence[str] = ()
) -> Plan:
    entries = select(catalogue, selection)
    origins: dict[GroupKey, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    parts: dict[GroupKey, dict[PartKey, dict[str, set[str]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(set))
    )
    skipped: list[Skipped] = []
    widened: list[Widened] = []
    for entry in entries:
        for key, destination, part in _flows(entry, peer_ranges, skipped, selection, widened):
            origins[key][destination].add(entry.id)
            if part is not None:
                parts[key][part][destination].add(entry.id)
    may_reach_any = {e.id for e in entries if e.allow_any}
    rules_by_area: dict[str, list[Rule]] = defaultdict(list)
    for key in sorted(origins, key=lambda k: (k[0], k[1].value, [s.sort_key() for s in k[2]])):
        rule = _make_rule(key, origins[key], parts.get(key, {}))
        _refuse_merged_any(rule, may_reach_any)
        rules_by_area[key[0]].append(rule)
    areas = tuple(
        AreaPlan(
            area=area,
            title=catalogue.service_areas[area].title,
            priority=catalogue.service_areas[area].priority,
            rules=tuple(sorted(rules, key=lambda r: r.name)),
        )
        for area, rules in sorted(rules_by_area.items(), key=lambda kv: catalogue.service_areas[kv[0]].priority)
    )
    return Plan(
        areas=areas,
        source_ranges=tuple(addresses.merge(source_ranges)),
        skipped=tuple(sorted(skipped, key=lambda s: (s.entry, s.destination or ""))),
        selected_entries=tuple(e.id for e in entries),
        digest=selection_digest(entries),
        widened=tuple(sorted(set(widened), key=lambda w: (w.entry, w.destination))),
    )


def _refuse_merged_any(rule: Rule, may_reach_any: set[str]) -> None:
    """Merging never widens, but the union of several entries can be every address: that needs allow_any."""
    for destination, entry_ids in rule.origins:
        if destination in ANY_NETWORKS and not may_reach_any & set(entry_ids):
            raise PlanError(
                f"rule {rule.name}: the addresses of {', '.join(entry_ids)} together cover every "
                f"address ({destination}); give one of these entries allow_any with a justification, "
                "or list narrower ranges"
            )


def selection_digest(entries: Iterable[Entry]) -> str:
    """sha256 of the selected entries as data, with every list sorted: changes exactly when what is
    deployed (or its provenance) changes, not when lines are reordered."""

    def canonical(value):
        if isinstance(value, dict):
            return {k: canonical(v) for k, v in value.items()}
        if isinstance(value, list):
            return sorted((canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
        return value

    data = [canonical(e.to_data()) for e in sorted(entries, key=lambda e: e.id)]
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _transport(service: Service) -> Service:
    return Service(protocol=Protocol(service.protocol.transport), port=service.port)


def _services(services: Iterable[Service]) -> tuple[Service, ...]:
    return tuple(sorted(set(services), key=Service.sort_key))


def _flows(
    entry: Entry, peer_ranges: Sequence[str], skipped: list[Skipped], selection: Selection, widened: list[Widened]
):
    """Yield ((area, kind, services), destination, part) for every flow the entry asks for; ``part`` (addresses
    only, else None) is :data:`PartKey`: the services as listed, and whether the names the plan deploys for the entry
    carry them; a shared-tenant wildcard as the selection says (:mod:`.tenant_wildcards`)."""
    area = entry.service_area
    if entry.kind is EntryKind.REFERENCE:
        references = ", ".join(r.url for r in entry.references)
        skipped.append(Skipped(entry.id, None, "reference only: " + references, REFERENCE_ONLY))
        return
    if entry.kind is EntryKind.PEER_TO_PEER:
        if not peer_ranges:
            skipped.append(
                Skipped(entry.id, None, "peer-to-peer entry: the stack names no peer ranges", PEERS_NOT_NAMED)
            )
            return
        key = (area, RuleKind.PEER, _services(_transport(s) for s in entry.services))
        for peer in addresses.merge(peer_ranges):
            yield key, peer, None
        return
    named = _services(s for s in entry.services if s.protocol.inspectable)
    plain = _services(s for s in entry.services if not s.protocol.inspectable)
    by_transport = _services(_transport(s) for s in entry.services)
    names = [
        (dest, list(_name_flows(entry, dest, named, plain, skipped, selection, widened)))
        for dest in entry.destinations
        if not _is_address(dest)
    ]
    # by name: only when the plan deploys a name of the entry on its http/https/tls services (a shared-tenant
    # wildcard left out, or a wildcard on plain TCP/UDP, deploys none), else the addresses keep address rules
    deploys_names = any(
        key[1] is RuleKind.HOSTNAME for dest, flows in names if dest.kind in _NAME_KINDS for key, _, _ in flows
    )
    address_parts = [(named, True), (plain, False)] if deploys_names else [(_services(entry.services), False)]
    for dest in entry.destinations:
        if _is_address(dest):
            for part in address_parts:
                if part[0]:
                    yield (area, RuleKind.ADDRESS, by_transport), dest.value, part
    for _, flows in names:
        yield from flows


def _is_address(dest: Destination) -> bool:
    return dest.kind in (DestinationKind.NETWORK, DestinationKind.ANY) and dest.value != "*"


def _name_flows(
    entry: Entry,
    dest: Destination,
    named: tuple[Service, ...],
    plain: tuple[Service, ...],
    skipped: list[Skipped],
    selection: Selection,
    widened: list[Widened],
):
    """The flows of one name destination (``*`` too): its hosts on the entry's services, a shared-tenant wildcard as
    the selection says; what is left out goes to ``skipped``, what is opened to any tenant to ``widened``."""
    area = entry.service_area
    hosts = dest.hosts()
    suffix = shared_tenant_suffix(dest.value) if dest.kind is DestinationKind.WILDCARD else None
    if suffix is not None:
        instances = tenant_wildcards.instances_under(dest.value, selection.tenant_instances)
        for instance in instances:  # exact names: on every service of the entry, as listed names are
            if named:
                yield (area, RuleKind.HOSTNAME, named), instance, None
            if plain:
                yield (area, RuleKind.HOST_NETWORK, plain), instance, None
        if selection.shared_tenant_wildcards is SharedTenantMode.EXACT:
            reason = tenant_wildcards.left_out_reason(entry, dest.value, suffix, instances)
            skipped.append(Skipped(entry.id, dest.value, reason, SHARED_TENANT_LEFT_OUT))
            return
        if named:
            widened.append(
                Widened(
                    entry.id, dest.value, tenant_wildcards.open_reason(entry, dest.value, suffix), SHARED_TENANT_OPEN
                )
            )
    if named:
        for host in hosts:
            yield (area, RuleKind.HOSTNAME, named), host, None
    if plain:
        if dest.kind in (DestinationKind.WILDCARD, DestinationKind.ANY):
            skipped.append(
                Skipped(
                    entry.id,
                    dest.value,
                    f"wildcard on {', '.join(str(s) for s in plain)}: plain TCP/UDP carries no "
                    "host name to match, and no firewall resolves a wildcard",
                    WILDCARD_ON_PLAIN,
                )
            )
            return
        for host in hosts:
            yield (area, RuleKind.HOST_NETWORK, plain), host, None


def _make_rule(key: GroupKey, origins: dict[str, set[str]], parts: dict[PartKey, dict[str, set[str]]]) -> Rule:
    area, kind, services = key
    covered: list[tuple[str, str]] = []
    if kind is RuleKind.ADDRESS or kind is RuleKind.PEER:
        final = addresses.merge_origins(origins)
    else:
        final = {}
        # never into a shared-tenant wildcard: a listed instance stays a target of its own
        wildcards = {h[2:] for h in origins if h.startswith("*.") and not is_shared_tenant_wildcard(h)}
        for host in origins:
            cover = _covering_wildcard(host, wildcards)
            if cover:
                covered.append((host, "*." + cover))
            else:
                final[host] = set(origins[host])
        for host, wildcard in covered:  # the wildcard now also serves the covered host's entries
            final[wildcard] |= origins[host]
    # Addresses come in numeric order from the merge; names sort as text.
    destinations = tuple(final) if kind in (RuleKind.ADDRESS, RuleKind.PEER) else tuple(sorted(final))
    return Rule(
        name=rule_name(area, kind, services),
        area=area,
        kind=kind,
        services=services,
        destinations=destinations,
        origins=tuple((d, tuple(sorted(final[d]))) for d in destinations),
        covered=tuple(sorted(covered)),
        parts=tuple(
            _part(part, dests, final if dests == origins else None)
            for part, dests in sorted(parts.items(), key=_part_order)
        ),
    )


def _part(key: PartKey, origins: dict[str, set[str]], merged: dict[str, set[str]] | None = None) -> AddressPart:
    """The part's addresses merged (``merged``: already merged, when the part is the whole rule)."""
    if merged is None:
        merged = addresses.merge_origins(origins)
    return AddressPart(key[0], key[1], tuple(merged), tuple((d, tuple(sorted(ids))) for d, ids in merged.items()))


def _part_order(item: tuple[PartKey, dict[str, set[str]]]) -> tuple:
    (services, by_name), _ = item
    return ([s.sort_key() for s in services], by_name)


def _covering_wildcard(host: str, wildcard_bases: set[str]) -> str | None:
    """The base of the outermost wildcard that strictly covers ``host`` (``*.x.com`` covers ``a.x.com`` and
    ``*.a.x.com``, never ``x.com``). Outermost, so that the covering wildcard is never itself covered."""
    labels = host.removeprefix("*.").split(".")
    for i in range(len(labels) - 1, 0, -1):
        base = ".".join(labels[i:])
        if base in wildcard_bases:
            return base
    return None
