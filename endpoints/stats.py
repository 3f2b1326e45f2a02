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
    return (f"ok: {_n(len(catalogue.entries), 'entry', 'entries')} in {_n(len(catalogue.files), 'file')}: "
            f"{_n(len(fqdns), 'FQDN')}, {_n(len(wildcards), 'wildcard')}, {len(networks)} addresses/CIDRs, "
            f"{_n(len(services), 'protocol/port pair')}")


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"


counted = _n  # public: '1 entry', '2 entries' for other summaries
