"""Reviewed corrections to a vendor page, kept in a small YAML file beside the catalogue.

A fix-up names a value exactly as the page writes it (``value``; a Markdown escape ``\\*`` is written ``*``),
optionally only inside one section (``section``: the section's anchor), and either replaces it (``replace``),
leaves it out there (``drop: true``) or, for a host the page names only in its prose (a sentence, not a table or
list), imports it into a service area (``add: AREA``, on the TCP ``ports`` given, default 443), always with a
``reason``. A prose host with no fix-up is reported and not imported. The importer reports every fix-up it applies, with the page's
line, and every fix-up that no longer matches anything on the page, so a corrected page retires its fix-up
in review. The file is not a catalogue file: it lives in ``endpoints/catalogue/fixups/``, which the
catalogue loader does not read.

    schema_version: 1
    fixups:
      - value: "swdc02-mscdn.manage.microsoft<.com"
        replace: swdc02-mscdn.manage.microsoft.com
        reason: stray '<' in the host name
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ...endpoints import yaml_lines
from ...endpoints.errors import CatalogueError, Problem
from ...endpoints.loader import read_text


class Fixup(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: str = Field(min_length=1, description="the value exactly as the page writes it")
    section: str | None = Field(default=None, description="anchor of the only section it applies in")
    replace: str | None = Field(default=None, min_length=1)
    drop: bool = False
    add: str | None = Field(default=None, min_length=1, description="service area a prose-only host is imported into")
    ports: tuple[int, ...] = Field(default=(443,), description="TCP ports of an added host (80: http, 443: https)")
    reason: str = Field(min_length=10)

    @model_validator(mode="after")
    def _one_action(self) -> Fixup:
        if (self.replace is not None) + self.drop + (self.add is not None) != 1:
            raise ValueError(
                "a fix-up either replaces the value (replace: ...), leaves it out (drop: true) or adds a "
                "host of the prose to a service area (add: AREA)"
            )
        if self.add is None and "ports" in self.model_fields_set:
            raise ValueError("ports are those of a host a fix-up adds (add: AREA)")
        return self


class FixupFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1]
    fixups: tuple[Fixup, ...] = ()


@dataclass(frozen=True)
class Fixups:
    file: str
    items: tuple[Fixup, ...]
    lines: tuple[int, ...]  # line of each fix-up in its file

    def find(self, value: str, section: str, prose: bool = False) -> int | None:
        """Index of the fix-up for ``value`` as written in ``section``, if any (a section-scoped one first);
        ``prose``: also the ``add`` fix-ups, which only hosts of the prose take."""
        candidates = [
            i
            for i, f in enumerate(self.items)
            if f.value == value and f.section in (section, None) and (prose or f.add is None)
        ]
        candidates.sort(key=lambda i: self.items[i].section is None)
        return candidates[0] if candidates else None


NO_FIXUPS = Fixups("<none>", (), ())


def shipped_fixups_path(page: str = "intune-page") -> Path:
    """The reviewed fix-ups shipped for ``page`` (the ``epfw import`` kind: ``intune-page``, ``autopilot-page``)."""
    return Path(str(resources.files("endpoint_firewall.endpoints") / "catalogue" / "fixups" / f"{page}.yaml"))


def load_fixups(path: Path) -> Fixups:
    name = str(path)
    text = read_text(path)
    try:
        data, lines = yaml_lines.load(text, name)
    except yaml_lines.YamlProblem as err:
        raise CatalogueError([err.problem]) from None
    try:
        doc = FixupFile.model_validate(data)
    except ValidationError as err:
        raise CatalogueError(
            [
                Problem(
                    name,
                    yaml_lines.line_of(lines, tuple(e["loc"])),
                    yaml_lines.dotted(tuple(e["loc"])) or "file",
                    e["msg"].removeprefix("Value error, "),
                )
                for e in err.errors(include_url=False)
            ]
        ) from None
    return Fixups(name, doc.fixups, tuple(yaml_lines.line_of(lines, ("fixups", i)) for i in range(len(doc.fixups))))
