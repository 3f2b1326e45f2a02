"""Readable tables (rich) of a rendered stack, built from the rendered files alone.

Tables take the console's width (the terminal's, or ``COLUMNS``) and are laid out to fit 80 columns. Names
(groups, rules, entries, destinations) are never wrapped: a name column is as wide as its longest name, and
what describes a name (ports, entries, a resource type) goes on dim lines under it, packed to that width. A
name is folded only when the terminal is narrower than the name itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

MIN_DETAIL_WIDTH = 24


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


def azure_table(files: dict[str, str]) -> Table:
    table = new_table(
        "Azure Firewall Policy: rule collection groups",
        "under each group: the protocol:port pairs of its rules, and the IP groups they use",
    )
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
    return table


def azure_ip_groups_table(files: dict[str, str]) -> Table | None:
    rows = _json_files(files, "azure/ip-groups/")
    if not rows:
        return None
    table = new_table("Azure IP Groups")
    name_column(table, "IP group")
    table.add_column("addresses", justify="right")
    for _, body in rows:
        table.add_row(body["name"], str(len(body["properties"]["ipAddresses"])))
    return table


def aws_table(files: dict[str, str]) -> Table:
    requests = _json_files(files, "aws/")
    orders = sorted({r.get("RuleGroup", {}).get("StatefulRuleOptions", {}).get("RuleOrder", "") for _, r in requests})
    table = new_table(f"AWS Network Firewall: stateful rule groups ({', '.join(o for o in orders if o)})")
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
    return table


def _used_capacity(rules_text: str) -> str:
    for line in rules_text.splitlines():
        if line.startswith("# capacity used:"):
            return line.split(":", 1)[1].strip()
    return ""


def dns_table(summary: dict) -> Table | None:
    """One row per cloud whose DNS layer is rendered: mode, names that resolve, what it widens and leaves out (the
    rows themselves are in summary.json, ``<cloud>.dns.widened`` and ``.notResolved``)."""
    layers: list[tuple[str, dict]] = []
    for cloud in ("aws", "azure"):
        layer = (summary.get(cloud) or {}).get("dns")
        if layer:
            layers.append((cloud, layer))
    if not layers:
        return None
    table = new_table(
        "DNS layer: the names that resolve (docs/dns.md)",
        "widened and not resolved: one row per name in summary.json <cloud>.dns",
    )
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
            str(len(d.get("widened", []))),
            str(len(d.get("notResolved", []))),
        )
    return table


WHOLE_ENTRY = "(whole entry)"
_FINDING_KINDS = (
    ("widened", "widened", "what the cloud's rule syntax allows beyond the catalogue"),
    ("notExpressible", "not expressible", "what the cloud cannot express, left out"),
)


def findings_tables(summary: dict) -> list[Table]:
    """One table per cloud and kind (widened, not expressible, skipped), one row per destination: the entries
    that list it under it, and why. A whole skipped entry is a row of its own, ``(whole entry)``."""
    sections: list[tuple[str, str, list[dict]]] = []
    for cloud in ("azure", "aws"):
        part = summary.get(cloud) or {}
        for key, what, meaning in _FINDING_KINDS:
            items = part.get(key) if isinstance(part.get(key), list) else []
            if items:
                sections.append((f"{cloud.upper() if cloud == 'aws' else 'Azure'}: {what}", meaning, items))
    if summary.get("skipped"):
        sections.append(("Both clouds: skipped", "entries no rule is made for", summary["skipped"]))
    tables = []
    for title, meaning, items in sections:
        rows: dict[str, list[dict]] = {}
        for item in items:  # a whole entry (no destination) is a row of its own
            rows.setdefault(item.get("destination") or f"{WHOLE_ENTRY} {item.get('entry', '')}", []).append(item)
        table = new_table(
            f"Not deployed as written, {title} ({meaning}; details in summary.json)",
            "under each destination: the catalogue entries that list it",
        )
        name_column(table, "destination")
        table.add_column("why", ratio=1, overflow="fold")
        width = max(len(d) for d in rows)
        for key, found in sorted(rows.items()):
            destination = WHOLE_ENTRY if key.startswith(WHOLE_ENTRY + " ") else key
            entries = sorted({i.get("entry", "") for i in found} - {""})
            shown = entries[:3] + ([f"(+{len(entries) - 3} more)"] if len(entries) > 3 else [])
            reasons = "\n".join(sorted({i.get("reason", "") for i in found}))
            table.add_row(name_cell(destination, shown, width), reasons)
        tables.append(table)
    return tables


def print_render(files: dict[str, str], console: Console | None = None) -> None:
    console = console or Console()
    summary = json.loads(files["summary.json"])
    console.print(
        f"[bold]stack {summary['stack']}[/bold]: {summary['entries']} catalogue entries selected, "
        f"sources {', '.join(summary['sourceRanges'])}, digest {summary['catalogueDigest'][:12]}"
    )
    tables: list[Table | None] = []
    if summary.get("azure"):
        tables += [azure_table(files), azure_ip_groups_table(files)]
    if summary.get("aws"):
        tables.append(aws_table(files))
    tables.append(dns_table(summary))
    for table in [*tables, *findings_tables(summary)]:
        if table is not None:
            console.print()
            console.print(table)
    for cloud in ("azure", "aws"):
        for warning in (summary.get(cloud) or {}).get("warnings", []):
            console.print(f"[yellow]warning[/yellow] ({cloud}): {warning}", markup=True, highlight=False)
        for warning in ((summary.get(cloud) or {}).get("dns") or {}).get("warnings", []):
            console.print(f"[yellow]warning[/yellow] ({cloud} dns): {warning}", markup=True, highlight=False)
