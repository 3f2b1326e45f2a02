"""Counts over a catalogue, for the one-line summary of ``epfw validate``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .loader import Catalogue
from .models import DestinationKind, Entry


@dataclass
class Destinations:
    """The distinct values of some entries: exact host names (numbered ranges expanded), wildcards, networks."""

    fqdns: set[str] = field(default_factory=set)
    wildcards: set[str] = field(default_factory=set)
    networks: set[str] = field(default_factory=set)


def destinations(entries: Iterable[Entry]) -> Destinations:
    out = Destinations()
    for entry in entries:
        for dest in entry.destinations:
            if dest.kind is DestinationKind.NETWORK:
                out.networks.add(dest.value)
            elif dest.kind is DestinationKind.WILDCARD:
                out.wildcards.add(dest.value)
            elif dest.is_name:
                out.fqdns.update(dest.hosts())
    return out


def summarise(catalogue: Catalogue) -> str:
    found = destinations(catalogue.entries)
    fqdns, wildcards, networks = found.fqdns, found.wildcards, found.networks
    services = {str(s) for entry in catalogue.entries for s in entry.services}
    return (
        f"ok: {counted(len(catalogue.entries), 'entry', 'entries')} in {counted(len(catalogue.files), 'file')}: "
        f"{counted(len(fqdns), 'FQDN')}, {counted(len(wildcards), 'wildcard')}, {len(networks)} addresses/CIDRs, "
        f"{counted(len(services), 'protocol/port pair')}"
    )


def counted(count: int, one: str, many: str | None = None) -> str:
    """'1 entry', '2 entries': a count with its noun, singular or plural."""
    return f"{count} {one if count == 1 else many or one + 's'}"
