"""What "every address" looks like: one value, a list whose union covers a whole family, a Suricata address spec.

A single value is every address when it is ``*``, ``any``, the ``Internet`` service tag, a prefix-0 network or a
range over a whole family. A list is every address too when its values *together* cover a family
(``0.0.0.0/1`` + ``128.0.0.0/1``, ``::/1`` + ``8000::/1``): the union is taken with
``ipaddress.collapse_addresses``, per family.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence

from ..renderers.suricata_text import _split_list

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_ANY_WORDS = {"*", "any", "internet", "0/0"}
_FAMILIES = ((4, "IPv4"), (6, "IPv6"))


def is_any_address(value: str) -> bool:
    """``*``, ``any``, the ``Internet`` service tag, a prefix-0 network, or a range covering a whole family."""
    text = value.strip().lower()
    if text in _ANY_WORDS:
        return True
    if "-" in text and "/" not in text:
        first, _, last = text.partition("-")
        try:
            a, b = ipaddress.ip_address(first.strip()), ipaddress.ip_address(last.strip())
        except ValueError:
            return False
        full = ipaddress.ip_network("0.0.0.0/0" if a.version == 4 else "::/0")
        return a == full.network_address and b == full.broadcast_address
    try:
        return ipaddress.ip_network(text, strict=False).prefixlen == 0
    except ValueError:
        return False


def address_networks(value: str) -> list[Network]:
    """The networks one value stands for: an address, a CIDR (host bits ignored), a range ``a-b``; else ``[]``."""
    text = value.strip().lower()
    if "-" in text and "/" not in text:
        first, _, last = text.partition("-")
        try:
            a, b = ipaddress.ip_address(first.strip()), ipaddress.ip_address(last.strip())
        except ValueError:
            return []
        if a.version != b.version or a > b:  # type: ignore[operator]  # same version: `or` stops before
            return []
        return list(ipaddress.summarize_address_range(a, b))
    try:
        return [ipaddress.ip_network(text, strict=False)]
    except ValueError:
        return []


def covered_families(networks: Iterable[Network]) -> list[str]:
    """``"IPv4"``/``"IPv6"`` for each family whose every address the union of ``networks`` covers."""
    networks = list(networks)
    out: list[str] = []
    for version, label in _FAMILIES:
        family = [n for n in networks if n.version == version]
        if family and any(n.prefixlen == 0 for n in ipaddress.collapse_addresses(family)):  # type: ignore[type-var]  # one version
            out.append(label)
    return out


def union_only_families(values: Iterable[str]) -> list[str]:
    """Families that ``values`` cover only together: no single value (already reported alone) covers them."""
    networks: list[Network] = []
    alone: set[str] = set()
    for value in values:
        if value.strip().lower() in _ANY_WORDS:
            return []  # every family, reported on its own
        nets = address_networks(value)
        networks += nets
        alone.update(covered_families(nets))
    return [f for f in covered_families(networks) if f not in alone]


def show_values(values: Sequence[str], limit: int = 6) -> str:
    """A list for a message: in full when short, else its size."""
    return repr(list(values)) if len(values) <= limit else f"({len(values)} values)"


# --- Suricata address specs: literals, [lists], !negations, $VARIABLES ---------------------------------------


def _suricata_cover(
    spec: str, ip_sets: Mapping[str, Sequence[str]], seen: frozenset[str]
) -> tuple[bool, list[Network]]:
    """(every address on its own, networks) of a Suricata address spec."""
    text = spec.strip()
    if text.startswith("[") and text.endswith("]"):
        wide, networks = False, []
        for part in _split_list(text[1:-1]):
            part_wide, part_networks = _suricata_cover(part, ip_sets, seen)
            wide = wide or part_wide
            networks += part_networks
        return wide, networks
    if text.startswith("!"):
        return True, []  # everything except some ranges: as wide as any for an allow rule
    if text.startswith("$"):
        var = text[1:]
        if var in seen:
            return False, []
        if var in ip_sets:
            wide, networks = False, []
            for definition in ip_sets[var]:
                def_wide, def_networks = _suricata_cover(definition, ip_sets, seen | {var})
                wide = wide or def_wide
                networks += def_networks
            return wide, networks
        return var.upper() == "EXTERNAL_NET", []  # AWS default: every address outside HOME_NET
    return is_any_address(text), address_networks(text)


def _address_is_any(spec: str, ip_sets: Mapping[str, Sequence[str]], seen: frozenset[str] = frozenset()) -> bool:
    """A Suricata address spec that stands for every address (or everything but some ranges), lists by their union."""
    wide, networks = _suricata_cover(spec, ip_sets, seen)
    return wide or bool(covered_families(networks))
