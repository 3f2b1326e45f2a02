"""Every host name, wildcard, address and range of the seed document is in the 2020 catalogue it was made into
(now archived: ``endpoints/catalogue/archive/``, a catalogue of its own that stacks never load).

The seed markdown is parsed here, independently of the catalogue and of the loader: table rows are
split on ``|``, cells on ``<br>``, bullets are taken whole; ``\\*`` is unescaped, links are reduced to
their text, and ``#-courier.push.apple.com`` expands to the range the page gives ("0 から 50").
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from functools import cache

import pytest
from shared_sources import SEED, require_shared

from endpoint_firewall.endpoints.loader import archived_catalogue_files, load_catalogue
from endpoint_firewall.endpoints.models import DestinationKind, EntryKind, Protocol

LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")  # [text](url) -> text
BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
ADDRESS = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?(?![\w.])", re.ASCII)
NAME = re.compile(r"(?<![a-z0-9.*#-])(?:\*\.|#-)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?![a-z0-9-])")
RANGE = re.compile(r"(\d+)\s*から\s*(\d+)")  # "0 から 50": from 0 to 50


@cache
def archive():
    return load_catalogue(archived_catalogue_files())


@pytest.fixture(autouse=True)
def _seed_present():
    """Skip (fail in CI) where ../shared is absent: the seed is Microsoft's page, not ours to ship."""
    require_shared(SEED)


@dataclass
class Seed:
    fqdns: set[str] = field(default_factory=set)
    wildcards: set[str] = field(default_factory=set)
    numbered: dict[str, tuple[int, int]] = field(default_factory=dict)
    networks: set[str] = field(default_factory=set)
    tables: list[list[list[list[str]]]] = field(default_factory=list)  # table -> row -> cell -> items

    @property
    def numbered_hosts(self) -> set[str]:
        return {p.replace("#", str(n)) for p, (a, b) in self.numbered.items() for n in range(a, b + 1)}


def _items(cell: str) -> list[str]:
    return [item.strip() for item in BR.split(cell) if item.strip()]


def _collect(text: str, seed: Seed, context: str = "") -> None:
    """Names and addresses of one cell item or bullet; ``context`` (the whole cell) may give a range."""
    text = LINK.sub(r"\1", text).replace("\\*", "*").lower()
    for match in ADDRESS.finditer(text):
        seed.networks.add(str(ipaddress.ip_network(match.group(), strict=True)))
    for match in NAME.finditer(ADDRESS.sub(" ", text)):
        name = match.group()
        if name.startswith("*."):
            seed.wildcards.add(name)
        elif name.startswith("#-"):
            found = RANGE.search(context or text)
            assert found, f"no range given for {name}"
            seed.numbered[name] = (int(found.group(1)), int(found.group(2)))
        else:
            seed.fqdns.add(name)


@cache
def parse_seed() -> Seed:
    seed = Seed()
    body = SEED.read_text(encoding="utf-8").split("\n---\n", 1)[1]  # skip the front matter
    table: list[list[list[str]]] | None = None
    for raw in body.splitlines():
        line = raw.strip()
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if all(re.fullmatch(r":?-+:?", c) for c in cells):
                continue  # the |---|---| under the header
            if table is None:
                table = []
                seed.tables.append(table)
                continue  # the header row
            table.append([_items(c) for c in cells])
            for cell in table[-1]:
                for item in cell:
                    _collect(item, seed, " ".join(cell))
            continue
        table = None
        if line.startswith(("- ", "* ")):
            _collect(line[2:], seed)
    return seed


@cache
def catalogue_destinations() -> tuple[set[str], set[str], set[str]]:
    names, wildcards, networks = set(), set(), set()
    for entry in archive().entries:
        for dest in entry.destinations:
            if dest.kind is DestinationKind.WILDCARD:
                wildcards.add(dest.value)
            elif dest.kind is DestinationKind.NETWORK:
                networks.add(dest.value)
            elif dest.is_name:
                names.update(dest.hosts())
    return names, wildcards, networks


def win32_table() -> list[list[list[str]]]:
    (table,) = [
        t
        for t in parse_seed().tables
        if any(item.lower().endswith(".azureedge.net") for row in t for cell in row for item in cell)
    ]
    return table


# --- the parser found what the page holds -----------------------------------------------------------


def test_parser_is_not_vacuous():
    seed = parse_seed()
    # Exact names, counted by hand: 77 in the managed-devices table, 9 CDN hosts, 5 Apple hosts.
    assert len(seed.fqdns) == 91
    assert len(seed.fqdns | seed.numbered_hosts) > 100
    assert len(seed.networks) > 60
    cidrs = {n for n in seed.networks if not n.endswith("/32")}
    assert len(cidrs) == 15  # the ranges of *.manage.microsoft.com
    assert "40.82.248.224/28" in cidrs and "52.150.137.0/25" in cidrs
    assert seed.wildcards >= {
        "*.manage.microsoft.com",
        "*.officeconfig.msocdn.com",
        "*.do.dsp.mp.microsoft.com",
        "*.phobos.itunes-apple.com.akadns.net",
    }
    assert len(seed.wildcards) == 9
    assert seed.numbered == {"#-courier.push.apple.com": (0, 50)}
    assert len(seed.numbered_hosts) == 51
    assert {
        "manage.microsoft.com",
        "enterpriseenrollment-s.manage.microsoft.com",  # lowercased
        "ax.itunes.apple.com.edgesuite.net",
        "approdimedatahotfix.azureedge.net",
    } <= seed.fqdns


def test_links_and_storage_names_are_not_destinations():
    seed = parse_seed()
    everything = seed.fqdns | seed.wildcards
    assert not any(n.startswith("support.") or "googleusercontent" in n or "firebase" in n for n in everything)
    storage = {item for row in win32_table() for item in row[1]}
    assert len(storage) == 9 and not any("." in s for s in storage)
    assert not storage & everything


# --- every one of them is in the catalogue ------------------------------------------------------------


def test_every_seed_fqdn_is_in_the_catalogue():
    names, _, _ = catalogue_destinations()
    assert sorted(parse_seed().fqdns - names) == []


def test_every_seed_wildcard_is_in_the_catalogue():
    _, wildcards, _ = catalogue_destinations()
    assert sorted(parse_seed().wildcards - wildcards) == []


def test_numbered_apns_hosts_are_exactly_the_seed_range():
    names, wildcards, _ = catalogue_destinations()
    hosts = parse_seed().numbered_hosts
    assert hosts <= names
    assert {"51-courier.push.apple.com", "*.push.apple.com"}.isdisjoint(names | wildcards)


def test_every_seed_address_and_range_is_in_the_catalogue():
    _, _, networks = catalogue_destinations()
    assert sorted(parse_seed().networks - networks) == []


def test_catalogue_adds_only_documented_destinations():
    """An entry without ``added_from`` holds only destinations the seed names."""
    seed = parse_seed()
    known = seed.fqdns | seed.wildcards | seed.networks | seed.numbered_hosts
    extra = sorted(
        (e.id, host)
        for e in archive().entries
        if e.added_from is None
        for d in e.destinations
        for host in d.hosts()
        if host not in known
    )
    assert extra == []


# --- the Win32 CDN table and the P2P ports ---------------------------------------------------------------

REGION_OF_PREFIX = {"na": "north-america", "eu": "europe", "ap": "asia-pacific"}


@pytest.mark.parametrize("row", range(3))
def test_win32_cdn_entries_carry_region_and_scale_units(row):
    scale_units, _storage, cdn = win32_table()[row]
    region = REGION_OF_PREFIX[cdn[0][:2]]
    (entry,) = [e for e in archive().entries if {d.value for d in e.destinations} & set(cdn)]
    assert entry.service_area == "win32-cdn"
    assert {d.value for d in entry.destinations} == set(cdn)
    assert entry.regions == (region,)
    assert list(entry.scale_units) == scale_units
    assert all(re.fullmatch(r"AMSU[ABCD]\d{4}", s) for s in scale_units)


def test_win32_scale_unit_families_by_region():
    families = {REGION_OF_PREFIX[cdn[0][:2]]: {s[:5] for s in units} for units, _, cdn in win32_table()}
    assert families == {"north-america": {"AMSUA"}, "europe": {"AMSUB"}, "asia-pacific": {"AMSUC", "AMSUD"}}


@pytest.mark.parametrize("protocol, port", [(Protocol.TCP, 7680), (Protocol.UDP, 3544)])
def test_peer_to_peer_ports(protocol, port):
    assert re.search(rf"\b{port}\b", SEED.read_text(encoding="utf-8"))
    entries = [
        e
        for e in archive().entries
        if any(s.protocol is protocol and s.port.first == s.port.last == port for s in e.services)
    ]
    assert len(entries) == 1
    assert entries[0].kind is EntryKind.PEER_TO_PEER
    assert entries[0].destinations == ()
