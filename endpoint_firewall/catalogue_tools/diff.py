"""What changed between two loaded catalogues: entries, service areas and sources added, removed, changed.

Both sides are :class:`~endpoint_firewall.endpoints.loader.Catalogue` objects, so values are compared after
normalisation (``LOGIN.example.com`` equals ``login.example.com``, ``10.0.0.1`` equals ``10.0.0.1/32``).
List fields whose order means nothing to a firewall (destinations, services, regions, scale units,
references) are compared as sets and reported as added and removed values; every other field as old -> new,
nested mappings (provenance, added_from, allow_any) per key, e.g. ``provenance.note``.

A wildcard value new to the catalogue on a shared-tenant suffix (``*.webpubsub.azure.com``: anyone can create an
instance under it, :mod:`.shared_tenants`) is flagged loudly: the first lines of the text report, and
``shared_tenant_wildcards_added`` in JSON, so that a reviewer of a catalogue refresh cannot miss it.

An entry removed and an entry added in the same service area whose destinations mostly match (Jaccard index
of the two sets, shared / all, at least :data:`RENAME_JACCARD`) are paired as one renamed entry ("changed", with
``id: old -> new``) instead of one removal and one addition; the best-matching pairs are taken first.
"""

from __future__ import annotations

import ipaddress
import json
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from ..endpoints import names
from ..endpoints.loader import Catalogue
from ..endpoints.models import Destination, DestinationKind, Entry, Reference, Service
from ..endpoints.shared_tenants import SharedTenantSuffix, shared_tenant_suffix

SET_FIELDS = ("destinations", "services", "regions", "scale_units", "references")
RENAME_JACCARD = 0.5
WIDTH = 110  # text lines are wrapped at this width (a single longer value stays whole)


@dataclass(frozen=True)
class FieldChange:
    """One changed field: ``added``/``removed`` for set-like lists, else ``old``/``new`` (JSON data)."""

    field: str
    old: Any = None
    new: Any = None
    added: tuple[Any, ...] = ()
    removed: tuple[Any, ...] = ()
    is_set: bool = False

    def to_json(self) -> dict[str, Any]:
        if self.is_set:
            return {"added": [_item_json(v) for v in self.added], "removed": [_item_json(v) for v in self.removed]}
        return {"old": self.old, "new": self.new}


@dataclass(frozen=True)
class Changed:
    id: str
    changes: tuple[FieldChange, ...]
    renamed_from: str | None = None  # an entry paired as renamed: its old id
    shared: float = 1.0  # ... and the Jaccard index of the two destination sets


@dataclass(frozen=True)
class SectionDiff:
    """Added, removed and changed items of one kind (entries, service areas or sources), by id."""

    added: tuple[Any, ...]
    removed: tuple[Any, ...]
    changed: tuple[Changed, ...]
    unchanged: int

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def summary(self, name: str) -> str:
        renamed = sum(c.renamed_from is not None for c in self.changed)
        paired = f" ({renamed} of them renamed)" if renamed else ""
        return (
            f"{name}: {len(self.added)} added, {len(self.removed)} removed, {len(self.changed)} changed{paired}, "
            f"{self.unchanged} unchanged"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "added": [_model_json(m) for m in self.added],
            "removed": [_model_json(m) for m in self.removed],
            "changed": [
                {
                    "id": c.id,
                    **(
                        {"renamed_from": c.renamed_from, "destinations_shared": round(c.shared, 3)}
                        if c.renamed_from
                        else {}
                    ),
                    "changes": {f.field: f.to_json() for f in c.changes},
                }
                for c in self.changed
            ],
            "unchanged": self.unchanged,
        }


@dataclass(frozen=True)
class ValueDiff:
    """Destinations by value over all entries, whichever entry holds them: what a firewall opens or closes."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: int
    covered: tuple[tuple[str, str], ...] = ()  # (removed value, the wildcard or range of NEW that still covers it)
    # (value, ((source, (entry, ...)), ...)): values entries of more than one source of NEW hold, whose sources
    # changed (a second document now names a host the catalogue had, or a new host two documents name)
    several_sources: tuple[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]], ...] = ()

    def summary(self) -> str:
        return (
            f"destinations (by value, over all entries): {len(self.added)} added, {len(self.removed)} removed, "
            f"{self.unchanged} unchanged"
        )

    @property
    def closed(self) -> tuple[str, ...]:
        still = {value for value, _ in self.covered}
        return tuple(v for v in self.removed if v not in still)

    def to_json(self) -> dict[str, Any]:
        return {
            "added": list(self.added),
            "removed": list(self.removed),
            "unchanged": self.unchanged,
            "still_covered": {value: by for value, by in self.covered},
            "several_sources": {
                value: {source: list(entries) for source, entries in by} for value, by in self.several_sources
            },
        }


@dataclass(frozen=True)
class NewSharedTenantWildcard:
    """A wildcard value the new catalogue has and the old one had not, on a shared-tenant suffix."""

    value: str
    entries: tuple[str, ...]
    suffix: SharedTenantSuffix

    def line(self) -> str:
        return (
            f"!! NEW SHARED-TENANT WILDCARD {self.value} (entries {', '.join(self.entries)}): {self.suffix.why()}. "
            "Stacks leave it out (deploying the exact names the entry lists) unless selection.sharedTenantWildcards: "
            "allow, which opens it to any tenant: docs/shared-tenant-wildcards.md"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "entries": list(self.entries),
            "suffix": self.suffix.suffix,
            "service": self.suffix.service,
            "source": self.suffix.source,
        }


@dataclass(frozen=True)
class CatalogueDiff:
    entries: SectionDiff
    service_areas: SectionDiff
    sources: SectionDiff
    destinations: ValueDiff = ValueDiff((), (), 0)
    shared_tenant_wildcards: tuple[NewSharedTenantWildcard, ...] = ()  # new ones: flagged first

    @property
    def empty(self) -> bool:
        return self.entries.empty and self.service_areas.empty and self.sources.empty

    def to_json(self) -> dict[str, Any]:
        return {
            "shared_tenant_wildcards_added": [w.to_json() for w in self.shared_tenant_wildcards],
            "entries": self.entries.to_json(),
            "service_areas": self.service_areas.to_json(),
            "sources": self.sources.to_json(),
            "destinations": self.destinations.to_json(),
        }

    def to_text(self) -> str:
        return format_text(self)


def diff_catalogues(old: Catalogue, new: Catalogue) -> CatalogueDiff:
    destinations = _values(old, new)
    return CatalogueDiff(
        entries=_renamed(_section({e.id: e for e in old.entries}, {e.id: e for e in new.entries})),
        service_areas=_section(old.service_areas, new.service_areas),
        sources=_section(old.sources, new.sources),
        destinations=destinations,
        shared_tenant_wildcards=_new_shared_tenant_wildcards(new, destinations.added),
    )


def _new_shared_tenant_wildcards(new: Catalogue, added: Sequence[str]) -> tuple[NewSharedTenantWildcard, ...]:
    out = []
    for value in added:
        suffix = shared_tenant_suffix(value) if value.startswith("*.") else None
        if suffix is not None:
            holders = tuple(sorted(e.id for e in new.entries if any(d.value == value for d in e.destinations)))
            out.append(NewSharedTenantWildcard(value, holders, suffix))
    return tuple(out)


def _values(old: Catalogue, new: Catalogue) -> ValueDiff:
    before = _unique([item_text(d) for e in old.entries for d in e.destinations])
    after = _unique([item_text(d) for e in new.entries for d in e.destinations])
    kept = set(before) & set(after)
    removed = tuple(sorted(set(before) - kept))
    wildcards = [d.value for e in new.entries for d in e.destinations if d.kind is DestinationKind.WILDCARD]
    networks = [
        ipaddress.ip_network(d.value) for e in new.entries for d in e.destinations if d.kind is DestinationKind.NETWORK
    ]
    covered = []
    for value in removed:
        by = _covering(value, wildcards, networks)
        if by:
            covered.append((value, by))
    return ValueDiff(tuple(sorted(set(after) - kept)), removed, len(kept), tuple(covered), _several_sources(old, new))


def _sources_of(catalogue: Catalogue) -> dict[str, dict[str, list[str]]]:
    """value -> source id -> ids of that source's entries holding it."""
    out: dict[str, dict[str, list[str]]] = {}
    for entry in catalogue.entries:
        for dest in entry.destinations:
            held = out.setdefault(item_text(dest), {}).setdefault(entry.provenance.source, [])
            if entry.id not in held:
                held.append(entry.id)
    return out


def _several_sources(old: Catalogue, new: Catalogue) -> tuple[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]], ...]:
    before, after = _sources_of(old), _sources_of(new)
    return tuple(
        (value, tuple((source, tuple(sorted(ids))) for source, ids in sorted(by.items())))
        for value, by in sorted(after.items())
        if len(by) > 1 and set(by) != set(before.get(value, {}))
    )


def _covering(value: str, wildcards: list[str], networks: list[Any]) -> str | None:
    """The wildcard (subdomains only) or network of the new side that still allows ``value``, if any."""
    if names.looks_like_address(value):
        net = ipaddress.ip_network(value)
        return next((str(n) for n in networks if n.version == net.version and net.subnet_of(n)), None)
    host = value[2:] if value.startswith("*.") else value
    return next((w for w in wildcards if names.wildcard_matches(w, host)), None)


def _section(old: Mapping[str, BaseModel], new: Mapping[str, BaseModel]) -> SectionDiff:
    added = tuple(new[k] for k in sorted(new.keys() - old.keys()))
    removed = tuple(old[k] for k in sorted(old.keys() - new.keys()))
    changed, unchanged = [], 0
    for key in sorted(old.keys() & new.keys()):
        changes = model_changes(old[key], new[key])
        if changes:
            changed.append(Changed(key, tuple(changes)))
        else:
            unchanged += 1
    return SectionDiff(added, removed, tuple(changed), unchanged)


def _renamed(section: SectionDiff) -> SectionDiff:
    """Pair removed and added entries of one service area whose destinations mostly match (see the module doc)."""

    def values(entry: Entry) -> set[str]:
        return {item_text(d) for d in entry.destinations}

    candidates = []
    for old in section.removed:
        for new in section.added:
            a, b = values(old), values(new)
            if old.service_area == new.service_area and a and b:
                shared = len(a & b) / len(a | b)
                if shared >= RENAME_JACCARD:
                    candidates.append((-shared, old.id, new.id, old, new))
    paired: list[Changed] = []
    taken: set[str] = set()
    for shared, old_id, new_id, old, new in sorted(candidates, key=lambda c: c[:3]):
        if old_id in taken or new_id in taken:
            continue
        taken |= {old_id, new_id}
        paired.append(Changed(new_id, tuple(model_changes(old, new)), renamed_from=old_id, shared=-shared))
    if not paired:
        return section
    return SectionDiff(
        tuple(e for e in section.added if e.id not in taken),
        tuple(e for e in section.removed if e.id not in taken),
        section.changed + tuple(sorted(paired, key=lambda c: c.id)),
        section.unchanged,
    )


def model_changes(old: BaseModel, new: BaseModel) -> list[FieldChange]:
    """Field-by-field differences of two models of the same type, in field order."""
    changes: list[FieldChange] = []
    old_data, new_data = old.model_dump(mode="json"), new.model_dump(mode="json")
    for name in type(old).model_fields:
        if name in SET_FIELDS:
            before, after = getattr(old, name), getattr(new, name)
            before_set, after_set = set(before), set(after)
            added = tuple(v for v in _unique(after) if v not in before_set)
            removed = tuple(v for v in _unique(before) if v not in after_set)
            if added or removed:
                changes.append(FieldChange(name, added=added, removed=removed, is_set=True))
            continue
        a, b = old_data.get(name), new_data.get(name)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            for key in list(a) + [k for k in b if k not in a]:
                if a.get(key) != b.get(key):
                    changes.append(FieldChange(f"{name}.{key}", old=a.get(key), new=b.get(key)))
        else:
            changes.append(FieldChange(name, old=a, new=b))
    return changes


def _unique(values: Sequence[Any]) -> list[Any]:
    seen: set[Any] = set()
    out = []
    for v in values:
        if v not in seen:
            seen.add(v)
            out.append(v)
    return out


# --- presentation ---------------------------------------------------------------------------------------------


def _item_json(value: Any) -> Any:
    if isinstance(value, Destination):
        return value.to_data()
    if isinstance(value, Service):
        port = value.port.first if value.port.first == value.port.last else str(value.port)
        return {"protocol": value.protocol.value, "port": port}
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    return value


def _model_json(model: BaseModel) -> Any:
    if isinstance(model, Entry):
        return model.to_data()
    return model.model_dump(mode="json", exclude_none=True)


def item_text(value: Any) -> str:
    """A destination, service, reference or plain value as one short line."""
    if isinstance(value, Destination):
        if value.kind is DestinationKind.NUMBERED:
            return f"{value.value} (# = {value.first}..{value.last})"
        return value.value
    if isinstance(value, Service):
        return str(value)
    if isinstance(value, Reference):
        return f"{value.title} <{value.url}>"
    return str(value)


def _value_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _wrap(text: str, first: str, rest: str) -> list[str]:
    return textwrap.wrap(
        text, width=WIDTH, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False, break_long_words=False
    ) or [first.rstrip()]


def _entry_lines(sign: str, entry: Entry) -> list[str]:
    lines = _wrap(f"{entry.id} [{entry.service_area}] {entry.description}", f"{sign} ", "    ")
    if entry.kind.value != "endpoints":
        lines.append(f"    kind: {entry.kind.value}")
    if entry.destinations:
        lines += _wrap(", ".join(item_text(d) for d in entry.destinations), "    destinations: ", "      ")
    if entry.services:
        lines += _wrap(", ".join(item_text(s) for s in entry.services), "    services: ", "      ")
    return lines


def _changed_lines(changed: Changed) -> list[str]:
    lines = [f"~ {changed.id}"]
    if changed.renamed_from:
        lines.append(f"    renamed from {changed.renamed_from} ({changed.shared:.0%} of destinations shared)")
    for change in changed.changes:
        if change.is_set:
            lines.append(f"    {change.field}:")
            lines.extend(f"      + {item_text(v)}" for v in change.added)
            lines.extend(f"      - {item_text(v)}" for v in change.removed)
        else:
            lines += _wrap(f"{_value_text(change.old)} -> {_value_text(change.new)}", f"    {change.field}: ", "      ")
    return lines


def _other_lines(sign: str, model: BaseModel) -> list[str]:
    data = model.model_dump(mode="json", exclude_none=True)
    ident = data.pop("id", "?")
    return _wrap(f"{ident}: " + ", ".join(f"{k} {_value_text(v)}" for k, v in data.items()), f"{sign} ", "    ")


def _wrapped(values: Sequence[str]) -> list[str]:
    return _wrap(", ".join(values), "  ", "  ")


def format_text(diff: CatalogueDiff) -> str:
    """Readable report: new shared-tenant wildcards first (a line each), a summary line per section, then the
    added, removed and changed items."""
    lines = [w.line() for w in diff.shared_tenant_wildcards]
    lines += [
        diff.entries.summary("entries"),
        diff.service_areas.summary("service areas"),
        diff.sources.summary("sources"),
        diff.destinations.summary(),
    ]
    if diff.empty:
        lines.append("no differences")
        return "\n".join(lines) + "\n"
    for title, section, added, removed in (
        ("entries", diff.entries, _entry_lines, _entry_lines),
        ("service areas", diff.service_areas, _other_lines, _other_lines),
        ("sources", diff.sources, _other_lines, _other_lines),
    ):
        if section.empty:
            continue
        lines.append("")
        lines.append(f"{title}:")
        for model in section.added:
            lines.extend(added("+", model))
        for model in section.removed:
            lines.extend(removed("-", model))
        for changed in section.changed:
            lines.extend(_changed_lines(changed))
    if diff.destinations.closed:
        lines += ["", "destinations no entry holds any more and nothing new covers (the firewall closes them):"]
        lines += _wrapped(diff.destinations.closed)
    if diff.destinations.covered:
        lines += ["", "destinations no entry lists any more, still covered by a wildcard or range:"]
        lines += _wrapped([f"{value} (by {by})" for value, by in diff.destinations.covered])
    if diff.destinations.several_sources:
        lines += [
            "",
            "destinations now named by more than one source (one rule where service area and services agree):",
        ]
        for value, by in diff.destinations.several_sources:
            named = "; ".join(f"{source} ({', '.join(entries)})" for source, entries in by)
            lines += _wrap(f"{value}: {named}", "  ", "    ")
    return "\n".join(lines) + "\n"
