"""Which catalogue entries a name is close to: the entries that list the name on other services, or names under
the same owner's domain (Microsoft, Apple, Google and the CDN domains the catalogue lists), and the line that would
add it to the catalogue.

A vendor's domain is the registrable domain (one label under its public suffix, the Public Suffix List's private
section included) of a name the catalogue lists. Shared-tenant suffixes the list knows (``blob.core.windows.net``,
``azureedge.net``, ``cloudfront.net``...) make every customer's name a domain of its own, so ``evil.blob.core.
windows.net`` is never taken for Microsoft's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from ..checks.azure import fqdn_matches
from ..endpoints.loader import Catalogue
from ..endpoints.models import Entry, EntryKind
from ..endpoints.names import registrable_domain

# An entry's place in its file, as the command line found it: (file, line of its id, the `epfw import` kind that
# writes the file, None for a file edited by hand)
EntryPlace = tuple[str, int, str | None]
# For an import whose fix-ups can add a host the page names in its prose (``add: AREA``): the hosts its page names,
# and its fix-up file
ProsePage = tuple[frozenset[str], str]
LINK_TARGET = re.compile(r"\]\([^)]*\)")  # Markdown: [text](target)
PAGE_HOST = re.compile(r"(?<![\w.*-])(?:[a-z0-9*](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}(?![\w-])")


@dataclass(frozen=True)
class Near:
    """The entries that name a host (on other services) or sit under its owner's domain."""

    domain: str | None
    naming: tuple[tuple[Entry, str], ...]  # (entry, destination) that cover the host itself
    siblings: tuple[tuple[Entry, str], ...]  # (entry, destination) under the same registrable domain, closest first


@dataclass(frozen=True)
class Vendors:
    """The catalogue's names by owner's domain, where each entry lives, and the hosts the imported page names."""

    catalogue: Catalogue
    places: Mapping[str, EntryPlace] = field(default_factory=dict)
    prose_pages: Mapping[str, ProsePage] = field(default_factory=dict)  # by import kind

    @cached_property
    def _by_domain(self) -> dict[str, list[tuple[Entry, str]]]:
        """Every name the catalogue lists, by its registrable domain (a name that covers a host shares its domain)."""
        out: dict[str, list[tuple[Entry, str]]] = {}
        for entry in self.catalogue.entries:
            if entry.kind is EntryKind.REFERENCE:
                continue
            for name in (n for d in entry.destinations if d.is_name for n in d.hosts()):
                domain = registrable_domain(name)
                if domain:
                    out.setdefault(domain, []).append((entry, name))
        return out

    def near(self, host: str, service: str = "https:443") -> Near:
        domain = registrable_domain(host)
        naming: list[tuple[Entry, str]] = []
        siblings: list[tuple[Entry, str]] = []
        for entry, name in self._by_domain.get(domain or "", []):
            (naming if fqdn_matches(name, host) else siblings).append((entry, name))
        siblings.sort(key=lambda pair: (-_shared_labels(pair[1], host), not _offers(pair[0], service), pair[0].id))
        return Near(
            domain, tuple(naming), tuple(siblings[:1] + [s for s in siblings[1:] if s[0] != siblings[0][0]][:2])
        )

    def add_line(self, entry: Entry, host: str, service: str) -> str:
        """The line that would add ``host`` on ``service`` (``https:443``) next to ``entry``: in its vendor file,
        or, for a file an importer writes, as a fix-up of the page (when the page mentions the host) or in a
        catalogue file of one's own."""
        file, line, kind = self.places.get(entry.id, ("<catalogue>", 0, None))
        protocol, _, port = service.partition(":")
        if kind is None:
            extra = "" if _offers(entry, service) else f" and {{protocol: {protocol}, port: {port}}} under services"
            return f'{file}:{line}: entry {entry.id}: add "- {host}" under destinations{extra}'
        hosts, fixups = self.prose_pages.get(kind, (frozenset(), ""))
        if host in hosts:
            return (
                f"the page names {host}; if only in its prose, a reviewed fix-up imports it: {fixups}: "
                f'- {{value: {host}, add: {entry.service_area}, ports: [{port}], reason: "..."}}'
            )
        return (
            f"{file} is written by `epfw import {kind}` and the page does not name {host}: list it in a catalogue "
            f"file of your own (service area {entry.service_area}, destination {host}, {{protocol: {protocol}, "
            f"port: {port}}}) and tell the vendor (the page's feedback)"
        )


def page_hosts(text: str) -> frozenset[str]:
    """Every host name a page's text names (tables, lists and prose alike; not the targets of its links),
    lowercase."""
    text = LINK_TARGET.sub(" ", text.lower().replace("\\*", "*"))
    return frozenset(m.group(0).removeprefix("*.") for m in PAGE_HOST.finditer(text))


def _offers(entry: Entry, service: str) -> bool:
    return service in {f"{s.protocol.value}:{s.port}" for s in entry.services}


def _shared_labels(name: str, host: str) -> int:
    a, b = name.removeprefix("*.").split(".")[::-1], host.split(".")[::-1]
    count = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        count += 1
    return count
