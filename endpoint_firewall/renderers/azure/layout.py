"""Layout of rule specs on a policy: which address sets go into IP Groups, and groups sharded by size.

IP Groups: an address set (a plan rule's destinations, or the stack's sources) larger than
``ipGroupThreshold`` goes into IP Groups of at most ``ipGroupMaxAddresses`` each. If the policy's network
rules then still exceed ``networkPairsMax`` source-destination combinations (counted as :class:`PairCount` says,
docs/azure-limits.md), further sets move into IP Groups, the one that saves most combinations first (ties by
name), until it fits. Every IP Group carries the stack's location.

Sharding: each area's rules fill rule collection groups in sorted order, ``<prefix>-<area>`` at the area's
priority, then ``<prefix>-<area>-2`` at priority + 1, ... A group's size is its compact JSON with the
subscription placeholder counted at a real id's length; the caller passes the budget (``groupMaxBytes`` less
``groupSizeMargin``, since Microsoft publishes no exact measure of a group's size). An area's shards depend on
that area's rules alone, so growth of one area never moves another's rules.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..sharding import stable_shards
from .model import (
    APPLICATION_COLLECTION,
    APPLICATION_COLLECTION_PRIORITY,
    FILTER_COLLECTION,
    NAME_MAX,
    NETWORK_COLLECTION,
    NETWORK_COLLECTION_PRIORITY,
    AzureGroup,
    AzureIpGroup,
    RenderError,
    azure_name,
    ip_group_id,
    json_size,
)
from .rules import AppSpec, NetSpec

SOURCES_KEY = "sources"


def chunk(values: Sequence[str], size: int) -> list[tuple[str, ...]]:
    """``values`` in parts of at most ``size``; one part when they fit, else parts by a stable hash so that
    one address more or less changes one IP Group."""
    if len(values) <= size:
        return [tuple(values)] if values else []
    return [tuple(part) for _, part in stable_shards(values, size)]


@dataclass(frozen=True)
class PairCount:
    """How Microsoft's limits page counts one network rule's "unique source-destination combinations" (the policy's
    count is the sum over its rules; ``azure.limits.networkPairsFormula``):

    - ``2026-10`` (includes/firewall-limits.md, ms.date 10/14/2026): "(number of IP protocols) x (number of source
      IP addresses) x (number of destination IP addresses) x (number of destination ports / 14, rounded up to the
      nearest whole number)". A port range counts each port it holds: the page does not say how a range counts, and
      this count is never below Microsoft's, whichever way it does.
    - ``2023`` (ms.date 10/10/2023): "sum of (unique source addresses * unique destination addresses for each rule)".

    Both: an IP Group counts as one address (the 2023 page: "An IP group counts as one address, regardless of how
    many IP addresses it contains"; Microsoft's Architecture Center with the 2026 formula: "An IP group counts as one
    unit regardless of size"), an FQDN as one destination."""

    formula: str = "2026-10"
    ports_per_unit: int = 14

    @property
    def description(self) -> str:
        """The count in words, for summary.json."""
        if self.formula == "2023":
            return "per network rule: source addresses x destination addresses, summed; an IP Group or an FQDN counts as one address"
        return (
            "per network rule: IP protocols x source addresses x destination addresses x ceil(destination ports / "
            f"{self.ports_per_unit}), summed; an IP Group or an FQDN counts as one address (the IP Group as the "
            "Architecture Center's hub-spoke Virtual WAN article says; the limits page does not)"
        )

    def rule_factor(self, ip_protocols: Sequence[str], ports: Sequence[str]) -> int:
        """What one rule's sources x destinations is multiplied by."""
        if self.formula == "2023":
            return 1
        return len(set(ip_protocols)) * math.ceil(port_count(ports) / self.ports_per_unit)


def port_count(ports: Sequence[str]) -> int:
    """Ports a rule's ``destinationPorts`` hold (``"443"``, ``"5228-5230"``), each port counted once."""
    held: set[int] = set()
    for entry in ports:
        first, _, last = entry.partition("-")
        held.update(range(int(first), int(last or first) + 1))
    return len(held)


def count_pairs(
    net: Sequence[NetSpec],
    sources: Sequence[str],
    grouped: set[str],
    per_group: int,
    v6_sources: int = 0,
    counting: PairCount = PairCount(),
) -> int:
    """The policy's network-rule source-destination combinations, as ``counting`` says Microsoft counts them
    (sources in IP Groups count one per group, and so do destinations; IPv6 rules count their ``v6_sources``)."""
    n_sources = len(chunk(sources, per_group)) if SOURCES_KEY in grouped else len(set(sources))
    total = 0
    for spec in net:
        factor = counting.rule_factor(spec.ip_protocols, spec.ports)
        if spec.family == 6:
            total += v6_sources * len(set(spec.addresses)) * factor
            continue
        if spec.fqdns:
            destinations = len(set(spec.fqdns))
        elif spec.key in grouped:
            destinations = len(chunk(spec.addresses, per_group))
        else:
            destinations = len(set(spec.addresses))
        total += n_sources * destinations * factor
    return total


def choose_ip_groups(
    net: Sequence[NetSpec],
    sources: Sequence[str],
    threshold: int,
    per_group: int,
    pairs_max: int,
    v6_sources: int = 0,
    counting: PairCount = PairCount(),
) -> tuple[set[str], int]:
    """The keys (plan rule names, or ``sources``) whose addresses go into IP Groups, and the combination count.

    IPv6 sets never do: Azure's dual stack preview does not support "IP Groups based scenarios"."""
    sets = {spec.key: spec.addresses for spec in net if spec.addresses and spec.family == 4}
    sets[SOURCES_KEY] = tuple(sources)
    grouped = {key for key, values in sets.items() if len(values) > threshold}
    pairs = count_pairs(net, sources, grouped, per_group, v6_sources, counting)
    while pairs > pairs_max:
        options = sorted(
            (count_pairs(net, sources, grouped | {key}, per_group, v6_sources, counting), key)
            for key, values in sets.items()
            if key not in grouped and len(values) > 1
        )
        if not options or options[0][0] >= pairs:
            raise RenderError(
                f"network rules need {pairs} unique source-destination combinations (networkPairsFormula "
                f"{counting.formula}), more than networkPairsMax ({pairs_max}), even with every address set in IP "
                "Groups; select fewer entries or name fewer source ranges"
            )
        pairs, key = options[0]
        grouped.add(key)
    return grouped, pairs


def build_ip_groups(
    prefix: str,
    resource_group: str,
    location: str | None,
    net: Sequence[NetSpec],
    sources: Sequence[str],
    grouped: set[str],
    per_group: int,
) -> tuple[list[AzureIpGroup], dict[str, list[str]]]:
    """IP Groups in a fixed order (sources, then rules as planned) and the ids each key references."""
    keys: list[tuple[str, tuple[str, ...]]] = []
    if SOURCES_KEY in grouped:
        keys.append((SOURCES_KEY, tuple(sources)))
    for spec in net:
        if spec.key in grouped and spec.addresses and spec.key not in dict(keys):
            keys.append((spec.key, spec.addresses))
    groups: list[AzureIpGroup] = []
    ids: dict[str, list[str]] = {}
    if keys and not location:
        raise RenderError(
            f"{sum(len(chunk(v, per_group)) for _, v in keys)} IP Groups are rendered and each needs a "
            "location: set azure.location (the existing policy's region is not known here)"
        )
    for key, values in keys:
        ids[key] = []
        for i, part in enumerate(chunk(values, per_group), start=1):
            name = azure_name(f"{prefix}-{key}-{i}")
            gid = ip_group_id(resource_group, name)
            groups.append(
                AzureIpGroup(
                    name=name,
                    id=gid,
                    serves=key,
                    body={"name": name, "location": location, "properties": {"ipAddresses": list(part)}},
                )
            )
            ids[key].append(gid)
    names = [g.name for g in groups]
    if len(set(names)) != len(names):
        raise RenderError(f"IP Group names collide: {sorted(n for n in names if names.count(n) > 1)}")
    return groups, ids


def source_field(sources: Sequence[str], ids: dict[str, list[str]]) -> dict[str, list[str]]:
    if SOURCES_KEY in ids:
        return {"sourceIpGroups": list(ids[SOURCES_KEY])}
    return {"sourceAddresses": list(sources)}


def network_rule(spec: NetSpec, sources: dict[str, list[str]], ids: dict[str, list[str]]) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "ruleType": "NetworkRule",
        "name": spec.name,
        "ipProtocols": list(spec.ip_protocols),
        **sources,
    }
    if spec.fqdns:
        rule["destinationFqdns"] = list(spec.fqdns)
    elif spec.key in ids:
        rule["destinationIpGroups"] = list(ids[spec.key])
    else:
        rule["destinationAddresses"] = list(spec.addresses)
    rule["destinationPorts"] = list(spec.ports)
    return rule


def application_rule(spec: AppSpec, sources: dict[str, list[str]]) -> dict[str, Any]:
    return {
        "ruleType": "ApplicationRule",
        "name": spec.name,
        "protocols": [{"protocolType": kind, "port": port} for kind, port in spec.protocols],
        **sources,
        "targetFqdns": list(spec.fqdns),
    }


DESTINATION_FIELDS = ("targetFqdns", "destinationFqdns", "destinationAddresses", "destinationIpGroups")


def group_body(name: str, priority: int, items: Sequence[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    collections = []
    for kind, coll_priority in (
        (NETWORK_COLLECTION, NETWORK_COLLECTION_PRIORITY),
        (APPLICATION_COLLECTION, APPLICATION_COLLECTION_PRIORITY),
    ):
        rules = [rule for k, rule in items if k == kind]
        if rules:
            collections.append(
                {
                    "ruleCollectionType": FILTER_COLLECTION,
                    "name": kind,
                    "priority": coll_priority,
                    "action": {"type": "Allow"},
                    "rules": rules,
                }
            )
    return {"name": name, "properties": {"priority": priority, "ruleCollections": collections}}


def shard_area(
    prefix: str, area: str, priority: int, items: Sequence[tuple[str, dict[str, Any]]], max_bytes: int
) -> list[AzureGroup]:
    """Fill groups with ``items`` (``(collection, rule)``, in order) so none exceeds ``max_bytes``."""
    skeleton = group_body("x" * NAME_MAX, 65000, [(NETWORK_COLLECTION, {}), (APPLICATION_COLLECTION, {})])
    budget = max_bytes - json_size(skeleton)  # what rules may take, one comma each included
    if budget <= 0:
        raise RenderError(
            f"the group size budget ({max_bytes} bytes: groupMaxBytes less groupSizeMargin) leaves no "
            "room for rules in an empty group"
        )
    fitted: list[tuple[str, dict[str, Any]]] = []
    for kind, rule in items:
        if json_size(rule) + 1 <= budget:
            fitted.append((kind, rule))
        else:
            fitted.extend((kind, part) for part in split_rule(rule, budget, max_bytes))
    shards: list[list[tuple[str, dict[str, Any]]]] = []
    used = budget + 1
    for kind, rule in fitted:
        size = json_size(rule) + 1
        if used + size > budget:
            shards.append([])
            used = 0
        shards[-1].append((kind, rule))
        used += size
    groups = []
    for index, shard in enumerate(shards, start=1):
        name = azure_name(f"{prefix}-{area}" if index == 1 else f"{prefix}-{area}-{index}")
        body = group_body(name, priority + index - 1, shard)
        size = json_size(body)
        if size > max_bytes:  # cannot happen with the budget above; never emit a group Azure refuses
            raise RenderError(
                f"group {name} is {size} bytes, more than the group size budget ({max_bytes}: "
                "groupMaxBytes less groupSizeMargin)"
            )
        groups.append(AzureGroup(name=name, priority=priority + index - 1, area=area, body=body))
    return groups


def split_rule(rule: dict[str, Any], budget: int, max_bytes: int) -> list[dict[str, Any]]:
    """A rule too big for one group, as parts ``<name>-1``, ``<name>-2``, ... (destinations sorted in each)."""
    field = next(f for f in DESTINATION_FIELDS if f in rule)
    empty = {**rule, "name": "x" * NAME_MAX, field: []}
    room = budget - json_size(empty) - 1
    for value in rule[field]:
        if json_size(value) + 1 > room:
            raise RenderError(
                f"rule {rule['name']}: one destination ({value!r}) does not fit in a group of "
                f"{max_bytes} bytes (groupMaxBytes less groupSizeMargin)"
            )
    # Cut by a stable hash, not by position: one destination more or less changes one part.
    parts = [part for _, part in stable_shards(rule[field], room, size=lambda v: json_size(v) + 1)]
    return [{**rule, "name": azure_name(f"{rule['name']}-{i}"), field: part} for i, part in enumerate(parts, 1)]
