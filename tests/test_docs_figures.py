"""The manual's table of the shipped catalogue (docs/catalogue.md, "The shipped catalogue") states what the
catalogue holds (distinct values, as ``epfw validate`` counts them), so a catalogue refresh that changes a figure
fails here until the page says so."""

from __future__ import annotations

import re

from conftest import ROOT

from endpoint_firewall.endpoints.loader import load_catalogue
from endpoint_firewall.endpoints.stats import destinations

ROW = re.compile(r"^\| `(?P<area>[a-z0-9-]+)`[^|]*\| (?P<cells>.*)\|$")


PAGE = ROOT / "docs" / "catalogue.md"


def page_area_rows() -> dict[str, list[str]]:
    text = PAGE.read_text(encoding="utf-8")
    section = text.split("\n## The shipped catalogue\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = ROW.match(line)
        if match:
            rows[match["area"]] = [c.strip() for c in match["cells"].split("|")]
    return rows


def catalogue_figures() -> dict[str, list[str]]:
    catalogue = load_catalogue()
    out = {}
    for area in catalogue.service_areas.values():
        entries = [e for e in catalogue.entries if e.service_area == area.id]
        found = destinations(entries)
        regions = sorted({r for e in entries for r in e.regions})
        out[area.id] = [
            str(area.priority),
            str(len(entries)),
            str(len(found.fqdns)),
            str(len(found.wildcards)),
            str(len(found.networks)),
            ", ".join(regions),
        ]
    return out


def test_the_table_has_a_row_per_service_area_with_its_figures():
    rows, figures = page_area_rows(), catalogue_figures()
    assert set(rows) == set(figures)
    for area, (priority, entries, fqdns, wildcards, networks, regions) in figures.items():
        cells = rows[area]
        assert cells[:5] == [priority, entries, fqdns, wildcards, networks], area
        written = set() if cells[5].startswith("-") else {r.strip() for r in cells[5].split(",")}
        assert written == (set(regions.split(", ")) if regions else set()), area


def test_the_summary_line_above_the_table_is_epfw_validate_s():
    from endpoint_firewall.endpoints.stats import summarise

    text = PAGE.read_text(encoding="utf-8")
    line = summarise(load_catalogue())  # "ok: 75 entries in 3 files: 271 FQDNs, 31 wildcards, 91 addresses/CIDRs, ..."
    counts = re.match(r"ok: (\d+) entries in (\d+) files: (\d+) FQDNs, (\d+) wildcards, (\d+) addresses", line)
    assert counts, line
    entries, files, fqdns, wildcards, networks = counts.groups()
    assert (
        f"`epfw validate`: {entries} entries in {files} files ({fqdns} FQDNs, {wildcards} wildcards, "
        f"{networks} addresses/CIDRs)"
    ) in text
