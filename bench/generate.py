"""Reproducible synthetic endpoint lists for the benchmark (and the scale tests).

Two formats, from the same seeded generator:

* **native** catalogue YAML (``schema_version: 1``), laid out like ``endpoint_firewall/endpoints/catalogue/intune.yaml``;
* the **Microsoft 365 IP address and URL web service** JSON (records ``id, serviceArea,
  serviceAreaDisplayName, urls, ips, tcpPorts, udpPorts, expressRoute, category, required, notes``; ports as
  comma strings; blank fields omitted), which ``epfw import m365`` turns into a catalogue.

What the data looks like (so that the numbers mean something):

* destinations are realistic: host names of a few hundred made-up organisations under common TLDs
  (``login-eu3.contosoware.com``, ``cdn.fabrikamlabs.co.uk``), left-most wildcards on those organisations'
  zones, IPv4 CIDRs from a handful of cloud /8s (mostly /32 and /24-/31, a few /20-/23) and IPv6 prefixes
  (/40../64 and /128). About 2 % of destinations are repeated in a second entry of the same area (shared
  front ends, as in the real Intune list), and some exact hosts sit under a wildcard of the same services;
* six service areas ``bench-*`` with priorities 3000, 3100, ... (100 apart, because Azure shards take
  priority+1, +2, ...; clear of the shipped Intune areas 1000..1600 and of the M365 importer's 2000..2900);
* services from a small set of profiles per area: ``http:80+https:443``, ``https:443``, ``tls:443+tls:5223``,
  ``tcp:5228-5230`` (a handful of exact hosts only: plain-TCP FQDNs need Azure's DNS proxy and should stay
  well under 1,000), ``tcp``/``udp`` on addresses (``udp:3478-3481``, ``tcp:25``, ``tcp:1433``...).

Same arguments, same bytes (``random.Random(seed)``; nothing depends on the clock or hash seeds).

Usage::

    python bench/generate.py native --destinations 10000 --out /tmp/c10k.yaml
    python bench/generate.py m365 --destinations 100000 --out /tmp/m100k.json
    python bench/generate.py m365 --fqdns 30000 --cidrs 60000 --out /tmp/m30k60k.json
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_SEED = 20240628

# --- vocabulary ---------------------------------------------------------------------------------------------

_SYLLABLES = (
    "con",
    "to",
    "so",
    "fab",
    "ri",
    "kam",
    "nor",
    "th",
    "wind",
    "tail",
    "spin",
    "ware",
    "lab",
    "adv",
    "ven",
    "ture",
    "woodg",
    "rove",
    "lit",
    "ware",
    "tre",
    "y",
    "res",
    "earch",
    "bell",
    "ows",
    "coho",
    "win",
    "ery",
    "alp",
    "ine",
    "ski",
    "hou",
    "se",
    "marg",
    "ie",
    "trav",
    "el",
    "proseware",
    "lucerne",
    "pub",
    "lish",
    "ing",
    "wing",
    "tip",
    "toys",
    "gra",
    "phic",
    "des",
    "ign",
    "inst",
    "itute",
    "fourth",
    "coffee",
    "blue",
    "yonder",
    "air",
    "lines",
    "humon",
    "gous",
    "insur",
    "ance",
    "city",
    "power",
    "light",
    "south",
    "ridge",
    "video",
    "trey",
    "hum",
    "ongous",
    "litware",
    "datum",
    "cpandl",
)
_TLDS = ("com", "com", "com", "com", "net", "net", "io", "org", "cloud", "co.uk", "com.au", "de", "fr", "jp")
_HOST_WORDS = (
    "api",
    "login",
    "auth",
    "sts",
    "portal",
    "cdn",
    "static",
    "edge",
    "dl",
    "download",
    "update",
    "telemetry",
    "events",
    "ingest",
    "config",
    "settings",
    "sync",
    "push",
    "notify",
    "courier",
    "gateway",
    "relay",
    "mail",
    "smtp",
    "files",
    "blob",
    "media",
    "img",
    "assets",
    "graph",
    "admin",
    "enroll",
    "device",
    "mdm",
    "wns",
    "fe",
    "be",
    "svc",
    "app",
    "web",
    "www",
    "m",
    "i",
    "r",
    "a",
)
_REGIONS = ("eu", "na", "ap", "sa", "af", "me", "uk", "de", "fr", "jp", "au", "in", "ca", "us", "asia", "emea")
_V4_POOLS = (13, 20, 23, 40, 51, 52, 104, 131, 137, 138, 150, 157, 168, 191, 204)
_V6_POOLS = ("2603:1000::/24", "2620:1ec::/36", "2a01:111::/32", "2a01:b000::/24", "2404:f800::/32")

# --- areas and service profiles -----------------------------------------------------------------------------

AREAS = (
    ("bench-identity", "Synthetic identity and sign-in", 3000),
    ("bench-content", "Synthetic content delivery", 3100),
    ("bench-push", "Synthetic push notifications", 3200),
    ("bench-telemetry", "Synthetic telemetry and diagnostics", 3300),
    ("bench-collab", "Synthetic collaboration and mail", 3400),
    ("bench-media", "Synthetic real-time media", 3500),
)
# (protocol, port) lists; ports as int or "a-b"
NAME_PROFILES = {
    "web": (("http", 80), ("https", 443)),
    "https": (("https", 443),),
    "push": (("tls", 443), ("tls", 5223)),
}
PLAIN_NAME_PROFILE = ("fcm", (("https", 443), ("tcp", "5228-5230")))  # exact hosts only, kept small
ADDRESS_PROFILES = {
    "web": (("http", 80), ("https", 443)),
    "https": (("https", 443),),
    "media": (("https", 443), ("udp", "3478-3481")),
    "udp": (("udp", "3478-3481"),),
    "smtp": (("tcp", 25), ("tcp", 587)),
    "sql": (("tcp", 1433),),
}
# Which profiles each area draws from (names, addresses).
AREA_PROFILES = {
    "bench-identity": (("web", "https"), ("web", "https")),
    "bench-content": (("web", "https"), ("web",)),
    "bench-push": (("push", "https"), ("https",)),
    "bench-telemetry": (("https", "web"), ("https", "sql")),
    "bench-collab": (("web", "https"), ("web", "smtp", "https")),
    "bench-media": (("https",), ("media", "udp")),
}
PLAIN_FQDN_CAP = 200  # exact hosts on plain TCP in the whole catalogue, whatever its size

# Share of destinations per kind (the "N destinations" of a catalogue).
MIX = {"fqdn": 0.45, "wildcard": 0.10, "v4": 0.35, "v6": 0.10}

# M365 web-service flavour.
M365_AREAS = (
    ("Exchange", "Exchange Online"),
    ("SharePoint", "SharePoint Online and OneDrive for Business"),
    ("Skype", "Skype for Business Online and Microsoft Teams"),
    ("Common", "Microsoft 365 Common and Office Online"),
    ("MEM", "Microsoft Intune"),
)
M365_URL_PORTS = ("80,443", "80,443", "443", "443", "80, 443")
M365_IP_PORTS = (
    ("80,443", None),
    ("443", None),
    ("443", "3478-3481"),
    (None, "3478-3481"),
    ("25,587", None),
    ("443, 1433", None),
)
M365_CATEGORIES = ("Optimize", "Allow", "Default")


@dataclass
class Pools:
    """Unique destination values, drawn lazily from one random stream."""

    rng: random.Random
    nested_wildcards: bool = False
    used: set[str] = field(default_factory=set)
    orgs: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        seen: set[str] = set()
        while len(seen) < 400:
            n = self.rng.choice((2, 2, 3))
            word = "".join(self.rng.choice(_SYLLABLES) for _ in range(n))[:24]
            seen.add(f"{word}.{self.rng.choice(_TLDS)}")
        self.orgs = sorted(seen)

    def _unique(self, make) -> str:
        for _ in range(1000):
            value = make()
            if value not in self.used:
                self.used.add(value)
                return value
        raise RuntimeError("destination pool exhausted")

    def zone(self) -> str:
        org = self.rng.choice(self.orgs)
        return org if self.rng.random() < 0.5 else f"{self.rng.choice(_HOST_WORDS)}.{org}"

    def fqdn(self, zone: str | None = None) -> str:
        def make() -> str:
            base = zone or self.zone()
            word = self.rng.choice(_HOST_WORDS)
            r = self.rng.random()
            if r < 0.35:
                label = f"{word}-{self.rng.choice(_REGIONS)}{self.rng.randint(1, 99)}"
            elif r < 0.6:
                label = f"{word}{self.rng.randint(1, 9999)}"
            elif r < 0.8:
                label = f"{word}.{self.rng.choice(_REGIONS)}{self.rng.randint(1, 40)}"
            else:
                label = f"{word}-{self.rng.choice(_HOST_WORDS)}{self.rng.randint(1, 999)}"
            return f"{label}.{base}"

        return self._unique(make)

    def wildcard(self) -> str:
        """``*.org`` (15 %) or a wildcard on a zone below an organisation. Unless ``nested_wildcards``, the
        organisations with ``*.org`` (a tenth of them) get no other wildcard, so no wildcard sits inside
        another: the two sub-zone forms never nest (``*.cdn12.x.com`` vs ``*.eu3.cdn.x.com``)."""
        apex_orgs = self.orgs[::10]
        other_orgs = [o for i, o in enumerate(self.orgs) if i % 10]

        def make() -> str:
            r = self.rng.random()
            if r < 0.15:
                return f"*.{self.rng.choice(apex_orgs if not self.nested_wildcards else self.orgs)}"
            org = self.rng.choice(other_orgs if not self.nested_wildcards else self.orgs)
            if r < 0.6:
                return f"*.{self.rng.choice(_HOST_WORDS)}{self.rng.randint(1, 999)}.{org}"
            return f"*.{self.rng.choice(_REGIONS)}{self.rng.randint(1, 99)}.{self.rng.choice(_HOST_WORDS)}.{org}"

        return self._unique(make)

    def v4(self) -> str:
        def make() -> str:
            r = self.rng.random()
            prefix = (
                32 if r < 0.5 else self.rng.randint(25, 31) if r < 0.8 else 24 if r < 0.95 else self.rng.randint(20, 23)
            )
            value = (self.rng.choice(_V4_POOLS) << 24) | self.rng.getrandbits(24)
            net = ipaddress.IPv4Network((value, prefix), strict=False)
            return str(net)

        return self._unique(make)

    def v6(self) -> str:
        def make() -> str:
            pool = ipaddress.IPv6Network(self.rng.choice(_V6_POOLS))
            prefix = 128 if self.rng.random() < 0.3 else self.rng.choice((40, 44, 48, 48, 56, 64, 64))
            offset = self.rng.getrandbits(128 - pool.prefixlen)
            net = ipaddress.IPv6Network((int(pool.network_address) | offset, prefix), strict=False)
            return str(net)

        return self._unique(make)


def _kind_counts(total: int, mix: dict[str, float] = MIX) -> dict[str, int]:
    counts = {k: int(total * share) for k, share in mix.items()}
    counts["fqdn"] += total - sum(counts.values())
    return counts


@dataclass
class Group:
    """One entry/record to be: an area, names or addresses, a service profile and its destinations."""

    area: int
    names: bool
    profile: str
    destinations: list[str]


def _groups(
    rng: random.Random,
    pools: Pools,
    counts: dict[str, int],
    *,
    max_size: int = 60,
    shared: float = 0.02,
    plain_cap: int = PLAIN_FQDN_CAP,
) -> list[Group]:
    """Split the destination counts into entries of 1..max_size destinations across the areas."""
    groups: list[Group] = []
    plain_left = min(plain_cap, counts["fqdn"] // 20)
    names_left = {"fqdn": counts["fqdn"] - plain_left, "wildcard": counts["wildcard"]}
    addr_left = {"v4": counts["v4"], "v6": counts["v6"]}

    def size() -> int:
        return min(max_size, max(1, int(rng.paretovariate(1.2) * 6)))

    # Plain-TCP exact hosts (FCM-like): a few small entries.
    while plain_left > 0:
        n = min(plain_left, rng.randint(3, 12))
        zone = pools.zone()
        groups.append(Group(rng.randrange(len(AREAS)), True, "fcm", [pools.fqdn(zone) for _ in range(n)]))
        plain_left -= n
    while names_left["fqdn"] + names_left["wildcard"] > 0:
        n = size()
        area = rng.randrange(len(AREAS))
        profile = rng.choice(AREA_PROFILES[AREAS[area][0]][0])
        dests: list[str] = []
        wild = min(names_left["wildcard"], rng.choice((0, 0, 1, 1, 2, max(1, n // 5))))
        for _ in range(wild):
            dests.append(pools.wildcard())
        names_left["wildcard"] -= wild
        exact = min(names_left["fqdn"], max(0, n - wild))
        for _ in range(exact):
            if dests and dests[0].startswith("*.") and rng.random() < 0.15:
                dests.append(pools.fqdn(dests[0][2:]))  # covered by the entry's own wildcard
            else:
                dests.append(pools.fqdn())
        names_left["fqdn"] -= exact
        if dests:
            groups.append(Group(area, True, profile, dests))
    while addr_left["v4"] + addr_left["v6"] > 0:
        n = size()
        area = rng.randrange(len(AREAS))
        profile = rng.choice(AREA_PROFILES[AREAS[area][0]][1])
        v6 = min(addr_left["v6"], round(n * rng.choice((0.0, 0.2, 0.3))))
        v4 = min(addr_left["v4"], n - v6)
        if v4 + v6 == 0:
            v6 = min(addr_left["v6"], n)
        dests = [pools.v4() for _ in range(v4)] + [pools.v6() for _ in range(v6)]
        addr_left["v4"] -= v4
        addr_left["v6"] -= v6
        groups.append(Group(area, False, profile, dests))
    rng.shuffle(groups)
    # Shared destinations: replace ~2% by a value used in another entry of the same area and kind.
    seen: dict[tuple[int, bool], list[str]] = {}
    for g in groups:
        bucket = seen.setdefault((g.area, g.names), [])
        for i in range(len(g.destinations)):
            if bucket and rng.random() < shared and not g.destinations[i].startswith("*."):
                candidate = rng.choice(bucket)
                if candidate not in g.destinations and not candidate.startswith("*."):
                    g.destinations[i] = candidate
        bucket.extend(g.destinations[:3])
    return groups


# --- native catalogue ---------------------------------------------------------------------------------------


def _q(value: str) -> str:
    """A destination as YAML: plain for names and IPv4, double-quoted for wildcards and IPv6."""
    return f'"{value}"' if value.startswith("*") or ":" in value else value


def _services_yaml(profile: tuple) -> str:
    return (
        "["
        + ", ".join(f"{{protocol: {p}, port: {port if isinstance(port, int) else repr(port)}}}" for p, port in profile)
        + "]"
    )


def native_catalogue(
    destinations: int,
    seed: int = DEFAULT_SEED,
    *,
    counts: dict[str, int] | None = None,
    title: str | None = None,
    nested_wildcards: bool = False,
) -> str:
    """Catalogue YAML with ``destinations`` destinations (or exactly ``counts`` per kind).

    ``nested_wildcards``: let a wildcard sit inside another (``*.x.com`` and ``*.cdn1.x.com``).
    """
    rng = random.Random(seed)
    pools = Pools(rng, nested_wildcards)
    counts = counts or _kind_counts(destinations)
    groups = _groups(rng, pools, counts)
    total = sum(len(g.destinations) for g in groups)
    out = [
        f"# Synthetic catalogue for the benchmark: {total} destinations in {len(groups)} entries "
        f"(bench/generate.py, seed {seed}).",
        "schema_version: 1",
        "",
        "sources:",
        "  - id: bench-synthetic",
        f'    title: "{title or "Synthetic endpoint list"}"',
        "    url: https://example.com/bench/synthetic-endpoints",
        "    date: 2024-06-28",
        "",
        "service_areas:",
    ]
    out += [f"  - {{id: {a}, title: {t}, priority: {p}}}" for a, t, p in AREAS]
    out += ["", "entries:"]
    per_area: dict[int, int] = {}
    for g in groups:
        k = per_area[g.area] = per_area.get(g.area, 0) + 1
        area = AREAS[g.area][0]
        profile = (
            PLAIN_NAME_PROFILE[1] if g.profile == "fcm" else (NAME_PROFILES if g.names else ADDRESS_PROFILES)[g.profile]
        )
        kind = "hosts" if g.names else "addresses"
        out += [
            f"  - id: {area}-{kind[0]}{k:06d}",
            f"    service_area: {area}",
            f"    description: Synthetic {g.profile} {kind} {k}",
            "    destinations:",
            *(f"      - {_q(d)}" for d in g.destinations),
            f"    services: {_services_yaml(profile)}",
            f"    provenance: {{source: bench-synthetic, section: {area}-{k}}}",
            "",
        ]
    return "\n".join(out)


# --- Microsoft 365 web service JSON -------------------------------------------------------------------------


def m365_records(
    destinations: int = 0,
    seed: int = DEFAULT_SEED,
    *,
    counts: dict[str, int] | None = None,
    odd_urls: bool = True,
    nested_wildcards: bool = False,
) -> list[dict]:
    """Web-service records with ``destinations`` urls+ips in total (or exactly ``counts`` per kind).

    With ``odd_urls``, about one record in 400 also lists a URL the catalogue cannot express exactly
    (``autodiscover.*.<org>``): the importer must name it and leave it out.
    """
    rng = random.Random(seed)
    pools = Pools(rng, nested_wildcards)
    counts = counts or _kind_counts(destinations)
    groups = _groups(rng, pools, counts, plain_cap=0)
    records = []
    for i, g in enumerate(groups):
        area, display = M365_AREAS[g.area % len(M365_AREAS)]
        record: dict = {"id": i + 1, "serviceArea": area, "serviceAreaDisplayName": display}
        if g.names:
            urls = list(g.destinations)
            if odd_urls and rng.random() < 1 / 400:
                urls.append(f"autodiscover.*.{rng.choice(pools.orgs)}")
            record["urls"] = urls
            record["tcpPorts"] = rng.choice(M365_URL_PORTS)
        else:
            record["ips"] = list(g.destinations)
            tcp, udp = rng.choice(M365_IP_PORTS)
            if tcp:
                record["tcpPorts"] = tcp
            if udp:
                record["udpPorts"] = udp
        record["expressRoute"] = rng.random() < 0.3
        record["category"] = rng.choice(M365_CATEGORIES)
        record["required"] = rng.random() < 0.8
        if rng.random() < 0.1:
            record["notes"] = f"Synthetic record {i + 1} for the benchmark."
        records.append(record)
    return records


def m365_json(destinations: int = 0, seed: int = DEFAULT_SEED, **kwargs) -> str:
    return json.dumps(m365_records(destinations, seed, **kwargs), indent=2) + "\n"


def fqdn_cidr_counts(fqdns: int, cidrs: int, wildcard_share: float = 0.08, v6_share: float = 0.15) -> dict[str, int]:
    """Per-kind counts for "F FQDNs + C CIDRs" (names include a share of wildcards; CIDRs of IPv6)."""
    wild = int(fqdns * wildcard_share)
    v6 = int(cidrs * v6_share)
    return {"fqdn": fqdns - wild, "wildcard": wild, "v4": cidrs - v6, "v6": v6}


def parse_size(text: str) -> int:
    text = text.strip().lower()
    mult = 1_000 if text.endswith("k") else 1
    return int(float(text.rstrip("k")) * mult)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("format", choices=("native", "m365"))
    parser.add_argument("--destinations", type=parse_size, help="total destinations, e.g. 1k, 10k, 100k")
    parser.add_argument("--fqdns", type=parse_size, help="with --cidrs: exactly this many names ...")
    parser.add_argument("--cidrs", type=parse_size, help="... and this many addresses/CIDRs")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--nested-wildcards",
        action="store_true",
        help="let wildcards sit inside other wildcards (*.x.com and *.cdn1.x.com)",
    )
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if (args.fqdns is None) != (args.cidrs is None) or (args.destinations is None) == (args.fqdns is None):
        parser.error("give --destinations, or --fqdns and --cidrs")
    counts = fqdn_cidr_counts(args.fqdns, args.cidrs) if args.fqdns is not None else None
    n = args.destinations or 0
    nested = args.nested_wildcards
    text = (
        native_catalogue(n, args.seed, counts=counts, nested_wildcards=nested)
        if args.format == "native"
        else m365_json(n, args.seed, counts=counts, nested_wildcards=nested)
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} ({len(text.encode()):,} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
