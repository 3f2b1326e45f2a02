"""Address sets: merge adjacent and overlapping CIDRs without ever widening what they cover."""

from __future__ import annotations

import bisect
import ipaddress
from collections.abc import Iterable, Mapping

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _span(net: Network) -> tuple[int, int]:
    """First and last address of ``net`` as integers (``num_addresses`` would build a broadcast address object)."""
    start = int(net.network_address)
    return start, start + (1 << (net.max_prefixlen - net.prefixlen)) - 1


def merge(values: Iterable[str]) -> list[str]:
    """The smallest list of CIDRs that covers exactly the union of ``values``, in numeric order."""
    return [net for net, _ in merge_assigned(values)]


def merge_assigned(values: Iterable[str]) -> list[tuple[str, list[str]]]:
    """The merged CIDRs in numeric order, each with the original values it covers; parses each value once."""
    parsed = {v: ipaddress.ip_network(v) for v in values}
    merged: list[Network] = []
    for version in (4, 6):
        merged.extend(collapse([n for n in parsed.values() if n.version == version]))
    spans = [(n.version, *_span(n)) for n in merged]  # disjoint, in numeric order within each version
    firsts = [(version, first) for version, first, _ in spans]
    members: list[list[str]] = [[] for _ in merged]
    for value, net in parsed.items():
        start, end = _span(net)
        i = bisect.bisect_right(firsts, (net.version, start)) - 1
        version, first, last = spans[i]
        assert version == net.version and first <= start and end <= last, (value, str(merged[i]))  # never widens
        members[i].append(value)
    return [(str(net), m) for net, m in zip(merged, members, strict=True)]


def merge_origins(origins: Mapping[str, Iterable[str]]) -> dict[str, set[str]]:
    """``origins`` (an address or CIDR -> the entries that list it) merged: each merged CIDR, in numeric order, with
    the entries of the values it covers."""
    return {net: set().union(*(origins[v] for v in members)) for net, members in merge_assigned(origins)}


def collapse(nets: list[Network]) -> list[Network]:
    """The union of ``nets`` (one IP version) as the fewest CIDRs, in numeric order: what
    ``ipaddress.collapse_addresses`` returns, by merging integer spans (linear after the sort)."""
    if not nets:
        return []
    by_span = {_span(n): n for n in nets}
    spans = sorted(by_span)
    joined: list[list[int]] = [list(spans[0])]
    for start, end in spans[1:]:
        if start <= joined[-1][1] + 1:
            joined[-1][1] = max(joined[-1][1], end)
        else:
            joined.append([start, end])
    address = type(nets[0].network_address)
    out: list[Network] = []
    for start, end in joined:
        same = by_span.get((start, end))
        out.extend([same] if same is not None else ipaddress.summarize_address_range(address(start), address(end)))
    return out
