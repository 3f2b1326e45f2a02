"""Counts over a catalogue, for the one-line summary of ``epfw validate``."""

from __future__ import annotations

from .loader import Catalogue
from .models import DestinationKind


def summarise(catalogue: Catalogue) -> str:
    fqdns: set[str] = set()
    wildcards: set[str] = set()
    networks: set[str] = set()
    services: set[str] = set()
    for entry in catalogue.entries:
        for dest in entry.destinations:
            if dest.kind is DestinationKind.NETWORK:
                networks.add(dest.value)
            elif dest.kind is DestinationKind.WILDCARD:
                wildcards.add(dest.value)
            elif dest.is_name:
                fqdns.update(dest.hosts())
        services.update(str(s) for s in entry.services)
    return (
        f"ok: {counted(len(catalogue.entries), 'entry', 'entries')} in {counted(len(catalogue.files), 'file')}: "
        f"{counted(len(fqdns), 'FQDN')}, {counted(len(wildcards), 'wildcard')}, {len(networks)} addresses/CIDRs, "
        f"{counted(len(services), 'protocol/port pair')}"
    )


def counted(count: int, one: str, many: str | None = None) -> str:
    """'1 entry', '2 entries': a count with its noun, singular or plural."""
    return f"{count} {one if count == 1 else many or one + 's'}"
