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
    files = len(catalogue.files)
    return (f"ok: {len(catalogue.entries)} entries in {files} file{'s' if files != 1 else ''}: "
            f"{len(fqdns)} FQDNs, {len(wildcards)} wildcards, {len(networks)} addresses/CIDRs, "
            f"{len(services)} protocol/port pairs")
