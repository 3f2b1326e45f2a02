"""Readable tables (rich) of a rendered stack, built from the rendered files alone.

Tables take the console's width (the terminal's, or ``COLUMNS``) and are laid out to fit 80 columns. Names
(groups, rules, entries, destinations) are never wrapped: a name column is as wide as its longest name, and
what describes a name (ports, entries, a resource type) goes on dim lines under it, packed to that width. A
name is folded only when the terminal is narrower than the name itself. Titles, captions and warnings are
wrapped here (:func:`prose`), never leaving one word alone on a line.

What is not deployed as written (widened, not expressible, addresses left to names, skipped) is printed by kind
(one line per kind of finding, its count and a few examples, :func:`print_findings_by_kind`); ``--details`` prints
every item (:func:`findings_tables`).
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

MIN_DETAIL_WIDTH = 24


GLUE = "\u00a0"  # joins words that must stay on one line (textwrap does not break at it)


def new_table(title: str, caption: str | None = None) -> Table:
    return Table(
        title=title,
        title_justify="left",
        caption=caption,
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        title_style="bold",
        min_width=len(title),
    )


def bare_table() -> Table:
    """A table without title or caption: :func:`print_table` prints those as :func:`prose`."""
    return Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)


def prose(text: str, width: int, indent: str = "  ", first: str = "") -> list[str]:
    """``text`` in lines of at most ``width`` (the first indented by ``first``, later ones by ``indent``), broken only
    between words and never leaving one word alone on the last line; words joined by :data:`GLUE` stay together."""
    lines = textwrap.wrap(
        text, width, initial_indent=first, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False
    ) or [first]
    if len(lines) > 1 and _words(lines[-1]) == 1 and _words(lines[-2]) > 2:
        head, moved = lines[-2].rsplit(" ", 1)
        last = f"{indent}{moved} {lines[-1].strip()}"
        if len(last) <= width:
            lines[-2:] = [head, last]
    return [line.replace(GLUE, " ") for line in lines]


def _words(line: str) -> int:
    return len(line.replace(GLUE, " ").split())


def glued(words: str) -> str:
    """``words`` as one unit for :func:`prose`."""
    return words.replace(" ", GLUE)


def print_prose(console: Console, text: str, style: str = "", indent: str = "  ", first: str = "") -> None:
    for line in prose(text, console.width, indent, first):
        console.print(line, style=style or None, markup=False, highlight=False, soft_wrap=True)


def print_table(console: Console, title: str, table: Table, caption: str | None = None) -> None:
    console.print()
    print_prose(console, title, "bold")
    console.print(table)
    if caption:
        print_prose(console, caption, "dim")


def name_column(table: Table, header: str, **kwargs) -> None:
    """A column of names: kept whole on one line, folded only when even that does not fit."""
    table.add_column(header, no_wrap=True, overflow="fold", **kwargs)


def packed(words: Iterable[str], width: int, indent: str = "  ") -> list[str]:
    """``words`` in lines of at most ``width`` characters (a longer word gets a line of its own), never split."""
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(indent + word)
    return lines


def name_cell(name: str, details: Iterable[str], width: int) -> Text:
    """``name`` on its line, ``details`` packed under it, dim."""
    text = Text(name)
    for line in packed(details, max(width, MIN_DETAIL_WIDTH)):
        text.append("\n" + line, style="dim")
    return text


def _json_files(files: dict[str, str], prefix: str) -> list[tuple[str, dict]]:
    return [
        (path, json.loads(text))
        for path, text in sorted(files.items())
        if path.startswith(prefix) and path.endswith(".json") and path.count("/") == prefix.count("/")
    ]


@dataclass(frozen=True)
class Titled:
    """A table with the title above it and the caption under it (printed by :func:`print_table`)."""

    title: str
    table: Table
    caption: str | None = None


def azure_table(files: dict[str, str]) -> Titled:
    table = bare_table()
    name_column(table, "group")
    for col in ("priority", "network\nrules", "app\nrules", "FQDNs", "addresses"):
        table.add_column(col, justify="right")
    bodies = sorted(
        ((path, body) for path, body in _json_files(files, "azure/") if path != "azure/template.json"),
        key=lambda item: item[1].get("properties", {}).get("priority", 0),
    )
    width = max((len(body.get("name", "?")) for _, body in bodies), default=0)
    for _, body in bodies:
        props = body.get("properties", {})
        rules = [(c, r) for c in props.get("ruleCollections", []) for r in c.get("rules", [])]
        net = [r for _, r in rules if r.get("ruleType") == "NetworkRule"]
        app = [r for _, r in rules if r.get("ruleType") == "ApplicationRule"]
        fqdns = sum(len(r.get("targetFqdns", [])) + len(r.get("destinationFqdns", [])) for _, r in rules)
        addrs = sum(len(r.get("destinationAddresses", [])) for r in net)
        groups = len({g for r in net for g in r.get("destinationIpGroups", [])})
        ports = sorted(
            {f"{p['protocolType']}:{p['port']}" for r in app for p in r.get("protocols", [])}
            | {f"{'/'.join(r.get('ipProtocols', []))}:{port}" for r in net for port in r.get("destinationPorts", [])}
        )
        details = ports + ([f"+{groups} IP group{'s' if groups > 1 else ''}"] if groups else [])
        table.add_row(
            name_cell(body.get("name", "?"), details, width),
            str(props.get("priority", "")),
            str(len(net)),
            str(len(app)),
            str(fqdns),
            str(addrs),
        )
    return Titled(
        "Azure Firewall Policy: rule collection groups",
        table,
        "under each group: its rules' protocol:port pairs and the IP groups they use",
    )


def azure_ip_groups_table(files: dict[str, str]) -> Titled | None:
    rows = _json_files(files, "azure/ip-groups/")
    if not rows:
        return None
    table = bare_table()
    name_column(table, "IP group")
    table.add_column("addresses", justify="right")
    for _, body in rows:
        table.add_row(body["name"], str(len(body["properties"]["ipAddresses"])))
    return Titled("Azure IP Groups", table)


def aws_table(files: dict[str, str]) -> Titled:
    requests = _json_files(files, "aws/")
    orders = sorted({r.get("RuleGroup", {}).get("StatefulRuleOptions", {}).get("RuleOrder", "") for _, r in requests})
    table = bare_table()
    name_column(table, "rule group")
    table.add_column("source")
    for col in ("rules", "domains", "capacity\nused"):
        table.add_column(col, justify="right")
    for path, request in requests:
        group = request.get("RuleGroup", {})
        source = group.get("RulesSource", {})
        domains = source.get("RulesSourceList", {}).get("Targets", [])
        rules_text = files.get(path[: -len(".json")] + ".rules", "")
        rules = [line for line in rules_text.splitlines() if line.strip() and not line.startswith("#")]
        kind = "domain list" if "RulesSourceList" in source else "Suricata rules"
        used = _used_capacity(rules_text) or f"? of {request.get('Capacity', '?')}"
        table.add_row(request.get("RuleGroupName", "?"), kind, str(len(rules)), str(len(domains)), used)
    return Titled(f"AWS Network Firewall: stateful rule groups ({', '.join(o for o in orders if o)})", table)


def _used_capacity(rules_text: str) -> str:
    for line in rules_text.splitlines():
        if line.startswith("# capacity used:"):
            return line.split(":", 1)[1].strip()
    return ""


def dns_table(summary: dict) -> Titled | None:
    """One row per cloud whose DNS layer is rendered: mode, names that resolve, how many names it widens and leaves
    out (the findings themselves, one per entry and name, are in summary.json, ``<cloud>.dns.widened`` and
    ``.notResolved``)."""
    layers: list[tuple[str, dict]] = []
    for cloud in ("aws", "azure"):
        layer = (summary.get(cloud) or {}).get("dns")
        if layer:
            layers.append((cloud, layer))
    if not layers:
        return None
    table = bare_table()
    name_column(table, "filter")
    for col in ("mode", "names", "widened", "not\nresolved"):
        table.add_column(col, justify="right")
    cells = []
    for cloud, d in layers:
        name = f"{cloud} {d.get('ruleGroup') or d.get('policy')}"
        lists = len(d.get("domainLists", [])) - 1
        where = d.get("vpcs") or d.get("virtualNetworks") or []
        kind = "VPC" if cloud == "aws" else "VNet"
        plural = lambda n: "s" if n != 1 else ""  # noqa: E731
        details = [f"{lists} list{plural(lists)} + catch-all, {len(where)} {kind}{plural(len(where))}"]
        cells.append((name, details, d))
    width = max(len(n) for n, _, _ in cells)
    for name, details, d in cells:
        table.add_row(
            name_cell(name, details, width),
            d.get("mode", ""),
            str(d.get("names", "")),
            str(_names_of(d.get("widened", []))),
            str(_names_of(d.get("notResolved", []))),
        )
    return Titled(
        "DNS layer: the names that resolve (docs/dns.md)",
        table,
        "widened and not resolved, name by name: summary.json <cloud>.dns",
    )


def _names_of(findings: list[dict]) -> int:
    """How many names ``findings`` are about: a name two entries list (``time.windows.com``) is one finding per
    entry in summary.json, and one name here."""
    return len({f.get("destination") for f in findings})


WHOLE_ENTRY = "(whole entry)"
UNCLASSIFIED = "unclassified"  # the kind of an item without one (a render of an older epfw)
EXAMPLES = 3


@dataclass(frozen=True)
class FindingSection:
    """One cloud's widened, not-expressible or left-to-names items, or the plan's skipped ones (``summary.json``)."""

    title: str  # "Azure, widened"
    meaning: str
    items: list[dict]


def finding_sections(summary: dict) -> list[FindingSection]:
    sections = []
    for cloud, name in (("azure", "Azure"), ("aws", "AWS")):
        part = summary.get(cloud) or {}
        for key, what, meaning in (
            ("widened", "widened", "what the cloud's rule syntax allows beyond the catalogue"),
            ("notExpressible", "not expressible", "what the cloud cannot express, left out"),
        ):
            items = part.get(key) if isinstance(part.get(key), list) else []
            if items:
                sections.append(FindingSection(f"{name}, {what}", meaning, items))
        left = left_to_names(summary, cloud)
        if left:
            sections.append(FindingSection(f"{name}, left to names", "addresses the entries' names stand in for", left))
    if summary.get("skipped"):
        sections.append(FindingSection("Both clouds, skipped", "entries no rule is made for", summary["skipped"]))
    return sections


def left_to_names(summary: dict, cloud: str) -> list[dict]:
    """The addresses ``cloud``'s render leaves to their entries' names (``addressRules`` names-only; summary.json
    ``addressRules.leftToNames``, one item per entry and services), one item per address as findings are."""
    part = (summary.get(cloud) or {}).get("addressRules") or {}
    return [
        {
            "entry": left["entry"],
            "destination": address,
            "reason": f"addressRules {part.get('mode')} leaves this address of {left['entry']} ({left['services']}) "
            "to its names, which pass at any address",
            "kind": left.get("kind") or UNCLASSIFIED,
        }
        for left in part.get("leftToNames", [])
        for address in left["addresses"]
    ]


def _subject(item: dict) -> str:
    """What an item is about: its destination, or the entry when the whole entry is meant."""
    return item.get("destination") or f"{WHOLE_ENTRY} {item.get('entry', '')}"


def by_kind(items: list[dict]) -> list[tuple[str, list[str]]]:
    """``(kind id, the distinct destinations of that kind, sorted)``, the largest kind first; a whole entry counts
    as ``(whole entry) <entry>``."""
    kinds: dict[str, set[str]] = {}
    for item in items:
        kinds.setdefault(item.get("kind") or UNCLASSIFIED, set()).add(_subject(item))
    return sorted(((kind, sorted(subjects)) for kind, subjects in kinds.items()), key=lambda k: (-len(k[1]), k[0]))


def examples_text(kind: str, subjects: list[str], width: int, indent: str) -> str:
    """``<kind>: a, b, c, +N more`` for :func:`prose`: at most :data:`EXAMPLES` examples, as many as fit one line of
    ``width`` after ``indent`` (one at least), each kept whole."""
    names = [s.removeprefix(WHOLE_ENTRY + " ") for s in subjects]
    shown = 1
    used = len(indent) + len(kind) + 2 + len(names[0])
    for name in names[1:EXAMPLES]:
        rest = len(names) - shown - 1
        if used + 2 + len(name) + (len(f", +{rest} more") if rest else 0) > width:
            break
        used += 2 + len(name)
        shown += 1
    tail = [glued(f"+{len(names) - shown} more")] if len(names) > shown else []
    return f"{kind}: " + ", ".join([glued(n) for n in names[:shown]] + tail)


def details_pointer(folder: str | None) -> str:
    where = folder or "DIR"
    return (
        f"Every item and its reason: {glued(where.rstrip('/') + '/summary.json')}, "
        f"{glued(f'epfw show {where} --details')}"
    )


def print_findings_by_kind(console: Console, summary: dict, folder: str | None) -> None:
    """What is not deployed as written, one line per kind of finding (count, title), its id and examples under
    it; the pointer to every item last."""
    sections = finding_sections(summary)
    if not sections:
        return
    titles = summary.get("findingKinds") or {}
    console.print()
    print_prose(console, "Not deployed as written, by kind (how many destinations, what they share)", "bold")
    counts = [len(subjects) for section in sections for _, subjects in by_kind(section.items)]
    digits = len(str(max(counts)))
    indent = " " * (digits + 4)
    for section in sections:
        console.print()
        print_prose(console, f"{section.title}: {section.meaning}", "bold", indent="    ")
        for kind, subjects in by_kind(section.items):
            title = titles.get(kind) or ("findings without a kind: render again" if kind == UNCLASSIFIED else kind)
            print_prose(console, f"{len(subjects):>{digits}}  {title}", indent=indent, first="  ")
            examples = examples_text(kind, subjects, console.width, indent)
            print_prose(console, examples, "dim", indent=indent + "  ", first=indent)
    console.print()
    print_prose(console, details_pointer(folder))


def findings_tables(summary: dict) -> list[Titled]:
    """One table per cloud and section (widened, not expressible, left to names, skipped), one row per destination: the entries
    that list it under it, and why. A whole skipped entry is a row of its own, ``(whole entry)``."""
    tables = []
    for section in finding_sections(summary):
        rows: dict[str, list[dict]] = {}
        for item in section.items:  # a whole entry (no destination) is a row of its own
            rows.setdefault(_subject(item), []).append(item)
        table = bare_table()
        name_column(table, "destination")
        table.add_column("why", ratio=1, overflow="fold")
        width = max(len(d) for d in rows)
        for key, found in sorted(rows.items()):
            destination = WHOLE_ENTRY if key.startswith(WHOLE_ENTRY + " ") else key
            entries = sorted({i.get("entry", "") for i in found} - {""})
            shown = entries[:3] + ([f"(+{len(entries) - 3} more)"] if len(entries) > 3 else [])
            reasons = "\n".join(sorted({i.get("reason", "") for i in found}))
            table.add_row(name_cell(destination, shown, width), reasons)
        tables.append(
            Titled(
                f"Not deployed as written, {section.title} ({section.meaning}; details in summary.json)",
                table,
                "under each destination: the catalogue entries that list it",
            )
        )
    return tables


def print_render(
    files: dict[str, str], console: Console | None = None, folder: str | None = None, details: bool = False
) -> None:
    """The tables of a render; what is not deployed as written by kind, or with ``details`` item by item.
    ``folder``: where the render is (named in the pointer to the details)."""
    console = console or Console()
    summary = json.loads(files["summary.json"])
    ranges = summary["sourceRanges"] or ["none"]  # "sources" stays with the first range, "digest" with its value
    sources = glued(f"sources {ranges[0]}") + "".join(f", {r}" for r in ranges[1:])
    digest = glued(f"digest {summary['catalogueDigest'][:12]}")
    header = f"stack {summary['stack']}: {summary['entries']} entries selected, {sources}, {digest}"
    print_prose(console, header, "bold")
    tables: list[Titled | None] = []
    if summary.get("azure"):
        tables += [azure_table(files), azure_ip_groups_table(files)]
    if summary.get("aws"):
        tables.append(aws_table(files))
    tables.append(dns_table(summary))
    for titled in [*tables, *(findings_tables(summary) if details else [])]:
        if titled is not None:
            print_table(console, titled.title, titled.table, titled.caption)
    if not details:
        print_findings_by_kind(console, summary, folder)
    warnings = [(cloud, w) for cloud in ("azure", "aws") for w in (summary.get(cloud) or {}).get("warnings", [])]
    warnings += [
        (f"{cloud} dns", w)
        for cloud in ("azure", "aws")
        for w in ((summary.get(cloud) or {}).get("dns") or {}).get("warnings", [])
    ]
    if warnings:
        console.print()
    for cloud, warning in warnings:
        print_prose(console, f"{glued(f'warning ({cloud}):')} {warning}", "yellow")
