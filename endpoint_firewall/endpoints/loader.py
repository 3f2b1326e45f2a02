"""Load catalogue files into one validated :class:`Catalogue`, or fail with located problems.

Every command of the product loads through :func:`load_catalogue`, so every command refuses the same bad
input the same way: all problems at once, each as ``FILE:LINE: field: message``, nothing half-loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from importlib import resources
from pathlib import Path

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from . import yaml_lines
from .errors import CatalogueError, Problem
from .located import located_problems
from .models import ID_PATTERN, URL_PATTERN, CatalogueFile, Entry, ServiceArea, Source


@dataclass(frozen=True)
class Catalogue:
    """Entries of one or more files, merged and sorted by id."""

    entries: tuple[Entry, ...]
    service_areas: dict[str, ServiceArea]
    sources: dict[str, Source]
    files: tuple[str, ...] = field(default=())

    def entry(self, entry_id: str) -> Entry:
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        raise KeyError(entry_id)


def shipped_catalogue_files(folder: str = "catalogue") -> list[Path]:
    """The catalogue files shipped with the package (``endpoints/catalogue/*.yaml``), sorted. Sub-folders
    (``archive/``, ``fixups/``) are not part of the catalogue stacks deploy."""
    found = resources.files("endpoint_firewall.endpoints") / folder
    return sorted(Path(str(p)) for p in found.iterdir() if p.name.endswith((".yaml", ".yml")) and p.is_file())


def archived_catalogue_files() -> list[Path]:
    """Catalogues the shipped one replaced (``endpoints/catalogue/archive/*.yaml``): each a catalogue of its own,
    validated and diffed, never deployed."""
    return shipped_catalogue_files("catalogue/archive")


def read_text(path: Path) -> str:
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise CatalogueError([Problem(name, 1, "file", f"cannot read: {err.strerror or err}")]) from None
    if not raw.strip():
        raise CatalogueError([Problem(name, 1, "file", "empty file")])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise CatalogueError(
            [
                Problem(
                    name,
                    line,
                    "file",
                    f"not UTF-8: byte 0x{raw[err.start]:02x} cannot be decoded; save the file as UTF-8",
                )
            ]
        ) from None


def parse_file(text: str, filename: str) -> CatalogueFile:
    """Validate one file's text; raise :class:`CatalogueError` with every problem found."""
    try:
        data, lines = yaml_lines.load(text, filename)
    except yaml_lines.YamlProblem as err:
        raise CatalogueError([err.problem]) from None
    if not isinstance(data, dict):
        raise CatalogueError(
            [
                Problem(
                    filename,
                    1,
                    "file",
                    "a catalogue file is a mapping with schema_version, sources, service_areas and entries",
                )
            ]
        )
    if "fixups" in data and "entries" not in data:  # endpoints/catalogue/fixups/*.yaml, passed here by mistake
        raise CatalogueError(
            [
                Problem(
                    filename,
                    yaml_lines.line_of(lines, ("fixups",)),
                    "fixups",
                    "this is a fix-up file of a page import (`epfw import intune-page`, `epfw import "
                    "autopilot-page`), not a catalogue: the import checks it when it reads it (--fixups FILE)",
                )
            ]
        )
    try:
        return CatalogueFile.model_validate(data)
    except ValidationError as err:
        raise CatalogueError(_located(err, lines, filename)) from None


def _located(err: ValidationError, lines: dict, filename: str) -> list[Problem]:
    return located_problems(
        err,
        filename,
        line=partial(yaml_lines.line_of, lines),
        field=lambda loc: yaml_lines.dotted(loc) or "file",
        message=_message,
        first_per_place=True,
    )


def _message(item: ErrorDetails, loc: tuple) -> str:
    """Pydantic's message, reworded where it would puzzle a person editing YAML."""
    kind, ctx, key = item["type"], item.get("ctx", {}), loc[-1] if loc else "file"
    if kind == "extra_forbidden":
        return f"unknown key {key!r}"
    if kind == "missing":
        return f"missing required key {key!r}"
    if kind == "enum":
        return f"unknown {key} {item['input']!r}; expected {ctx['expected']}"
    if kind == "string_pattern_mismatch":
        return f"{item['input']!r} {PATTERN_HELP.get(ctx['pattern'], 'has the wrong form')}"
    if kind in ("tuple_type", "list_type"):
        return "expected a list" + (", found nothing" if item["input"] is None else f", found {item['input']!r}")
    return item["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")


PATTERN_HELP = {
    ID_PATTERN: "is not an id: lowercase letters, digits and '-', starting with a letter or digit, "
    "at most 63 characters",
    URL_PATTERN: "is not an https:// URL",
}


def load_catalogue(paths: Iterable[Path | str] | None = None) -> Catalogue:
    """Load and cross-check files (default: the shipped catalogue). All problems are raised together."""
    files = [Path(p) for p in paths] if paths is not None else shipped_catalogue_files()
    if not files:
        raise CatalogueError([Problem("<catalogue>", 1, "file", "no catalogue files given")])
    return load_sources([(str(path), partial(read_text, path)) for path in files])


def load_sources(sources: Iterable[tuple[str, Callable[[], str]]]) -> Catalogue:
    """Read, parse and cross-check catalogue texts, each given as (name in problems, reader of its text).
    Every file is read and parsed before any problem is raised; all problems are raised together."""
    problems: list[Problem] = []
    parsed: list[tuple[str, str, CatalogueFile]] = []
    for name, text_of in sources:
        try:
            text = text_of()
            parsed.append((name, text, parse_file(text, name)))
        except CatalogueError as err:
            problems.extend(err.problems)
    if problems:
        raise CatalogueError(problems)
    return merge(parsed)


def merge(parsed: Sequence[tuple[str, str, CatalogueFile]]) -> Catalogue:
    """Cross-file checks: unique ids, known areas and sources, unique area priorities."""
    problems: list[Problem] = []
    entries: dict[str, tuple[str, Entry]] = {}
    first_at: dict[str, tuple[str, int]] = {}  # entry id -> (file, index) of its first definition
    areas: dict[str, tuple[str, ServiceArea]] = {}
    sources: dict[str, tuple[str, Source]] = {}
    by_priority: dict[int, str] = {}
    texts = {name: text for name, text, _ in parsed}
    line_maps: dict[str, dict] = {}  # parsed again only to locate a problem, never on the happy path

    def where(name: str, path: tuple) -> int:
        if name not in line_maps:
            line_maps[name] = yaml_lines.load(texts[name], name)[1]
        return yaml_lines.line_of(line_maps[name], path)

    for name, _, doc in parsed:
        for i, source in enumerate(doc.sources):
            if source.id in sources and sources[source.id][1] != source:
                problems.append(
                    Problem(
                        name,
                        where(name, ("sources", i, "id")),
                        f"sources[{i}].id",
                        f"source {source.id!r} is defined differently in {sources[source.id][0]}",
                    )
                )
            sources.setdefault(source.id, (name, source))
        for i, area in enumerate(doc.service_areas):
            if area.id in areas:
                if areas[area.id][1] != area:
                    problems.append(
                        Problem(
                            name,
                            where(name, ("service_areas", i, "id")),
                            f"service_areas[{i}].id",
                            f"service area {area.id!r} is defined differently in {areas[area.id][0]}",
                        )
                    )
                continue
            areas[area.id] = (name, area)
            if area.priority in by_priority:
                problems.append(
                    Problem(
                        name,
                        where(name, ("service_areas", i, "priority")),
                        f"service_areas[{i}].priority",
                        f"priority {area.priority} of {area.id!r} is also the priority of "
                        f"{by_priority[area.priority]!r}",
                    )
                )
            by_priority.setdefault(area.priority, area.id)
    for name, _, doc in parsed:
        for i, entry in enumerate(doc.entries):
            here = ("entries", i)
            if entry.id in entries:
                problems.append(
                    Problem(
                        name,
                        where(name, here + ("id",)),
                        f"entries[{i}].id",
                        f"duplicate id {entry.id!r} (first at {first_at[entry.id][0]}:"
                        f"{where(first_at[entry.id][0], ('entries', first_at[entry.id][1], 'id'))})",
                    )
                )
                continue
            entries[entry.id] = (name, entry)
            first_at[entry.id] = (name, i)
            if entry.service_area not in areas:
                problems.append(
                    Problem(
                        name,
                        where(name, here + ("service_area",)),
                        f"entries[{i}].service_area",
                        f"unknown service area {entry.service_area!r}; define it under service_areas",
                    )
                )
            if entry.provenance.source not in sources:
                problems.append(
                    Problem(
                        name,
                        where(name, here + ("provenance", "source")),
                        f"entries[{i}].provenance.source",
                        f"unknown source {entry.provenance.source!r}; define it under sources",
                    )
                )
    if problems:
        raise CatalogueError(problems)
    return Catalogue(
        entries=tuple(e for _, (_, e) in sorted(entries.items())),
        service_areas={k: v for k, (_, v) in sorted(areas.items())},
        sources={k: v for k, (_, v) in sorted(sources.items())},
        files=tuple(name for name, _, _ in parsed),
    )
