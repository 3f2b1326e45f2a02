"""Print a rule-level diff as a rich table, Markdown (for a pull-request comment) or JSON."""

from __future__ import annotations

import argparse
import json

from rich.console import Console

from ..components.resource_types import (
    AWS_DNS_ASSOCIATION,
    AWS_DNS_CONFIG,
    AWS_DNS_DOMAIN_LIST,
    AWS_DNS_RULE,
    AWS_DNS_RULE_GROUP,
    AWS_FIREWALL_POLICY,
    AWS_RULE_GROUP,
    AZURE_DNS_DOMAIN_LIST,
    AZURE_DNS_LINK,
    AZURE_DNS_POLICY,
    AZURE_DNS_RULE,
    AZURE_FIREWALL,
    AZURE_GROUP,
    AZURE_IP_GROUP,
    AZURE_POLICY,
)
from ..preview.resource_diff import Change
from .tables import name_cell, name_column, new_table

SHORT_TYPES = {
    AZURE_GROUP: "Azure rule collection group",
    AZURE_IP_GROUP: "Azure IP group",
    AZURE_POLICY: "Azure firewall policy",
    AZURE_FIREWALL: "Azure firewall (classic)",
    AWS_RULE_GROUP: "AWS rule group",
    AWS_FIREWALL_POLICY: "AWS firewall policy",
    "endpoint-firewall:azure:FirewallRules": "Azure rules component",  # components/azure_firewall.py TYPE
    "endpoint-firewall:aws:NetworkFirewallRules": "AWS rules component",  # components/aws_network_firewall.py
    AWS_DNS_DOMAIN_LIST: "AWS DNS Firewall domain list",
    AWS_DNS_RULE_GROUP: "AWS DNS Firewall rule group",
    AWS_DNS_RULE: "AWS DNS Firewall rule",
    AWS_DNS_ASSOCIATION: "AWS DNS Firewall VPC association",
    AWS_DNS_CONFIG: "AWS DNS Firewall VPC config",
    AZURE_DNS_POLICY: "Azure DNS security policy",
    AZURE_DNS_DOMAIN_LIST: "Azure DNS domain list",
    AZURE_DNS_RULE: "Azure DNS security rule",
    AZURE_DNS_LINK: "Azure DNS policy VNet link",
    "endpoint-firewall:aws:DnsFirewall": "AWS DNS layer component",  # components/aws_dns_firewall.py
    "endpoint-firewall:azure:DnsSecurityPolicy": "Azure DNS layer component",  # components/azure_dns_policy.py
}


FORMATS = ("table", "markdown", "json")


def add_format_argument(parser: argparse.ArgumentParser) -> None:
    """``--format``, the same on ``diff`` and ``preview`` (the formats :func:`emit` writes)."""
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="output format (default: table; markdown for a pull-request comment)",
    )


def short_type(typ: str) -> str:
    return SHORT_TYPES.get(typ, typ)


def counts(changes: list[Change]) -> dict[str, int]:
    out = {"added": 0, "removed": 0, "updated": 0, "replaced": 0}
    for c in changes:
        out[c.status] += 1
    return out


def _lines(change: Change, limit: int = 50, one_per_line: bool = False) -> list[str]:
    """``+ label: value, value`` lines; with ``one_per_line``, ``+ label: value`` for each value (a diff a reviewer
    reads line by line)."""
    lines = []
    for sign, part in (("+", change.added), ("-", change.removed)):
        for label, values in sorted(part.items()):
            shown = values[:limit]
            more = f"(+{len(values) - limit} more)" if len(values) > limit else ""
            if one_per_line:
                lines += [f"{sign} {label}: {v}" for v in shown] + ([f"{sign} {label}: {more}"] if more else [])
            else:
                lines.append(f"{sign} {label}: {', '.join(shown)}{' ' + more if more else ''}")
    return lines


def as_markdown(changes: list[Change], title: str) -> str:
    c = counts(changes)
    out = [
        f"### {title}",
        "",
        f"{c['added']} to add, {c['updated']} to update in place, {c['replaced']} to replace, "
        f"{c['removed']} to delete.",
        "",
    ]
    if not changes:
        out.append("No rule changes.")
        return "\n".join(out) + "\n"
    out += ["| resource | name | change |", "| --- | --- | --- |"]
    for ch in changes:
        why = f" ({', '.join(ch.replace_reasons)} changed)" if ch.replace_reasons else ""
        out.append(f"| {short_type(ch.type)} | `{ch.name}` | **{ch.status}**{why} |")
    out.append("")
    notes = [(ch, note) for ch in changes for note in ch.notes]
    if notes:
        out += ["**What Pulumi does with what goes** (the resources' lifecycle options):", ""]
        out += [f"- {short_type(ch.type)} `{ch.name}`: {note}" for ch, note in notes]
        out.append("")
    for ch in changes:
        lines = _lines(ch, one_per_line=True)
        if not lines:
            continue
        out += [
            f"<details><summary>{short_type(ch.type)} <code>{ch.name}</code>: {ch.status}</summary>",
            "",
            "```diff",
            *lines,
            "```",
            "</details>",
            "",
        ]
    return "\n".join(out) + "\n"


def as_json(changes: list[Change]) -> str:
    return json.dumps({"counts": counts(changes), "changes": [c.to_json() for c in changes]}, indent=2) + "\n"


def print_table(changes: list[Change], title: str, console: Console | None = None) -> None:
    console = console or Console()
    c = counts(changes)
    console.print(
        f"[bold]{title}[/bold]: {c['added']} to add, {c['updated']} to update in place, "
        f"{c['replaced']} to replace, {c['removed']} to delete"
    )
    if not changes:
        console.print("No rule changes.")
        return
    table = new_table("", "under each name: its resource type")
    name_column(table, "resource")
    table.add_column("change")
    table.add_column("details", overflow="fold", ratio=1)
    width = max(len(ch.name) for ch in changes)
    for ch in changes:
        why = f" ({', '.join(ch.replace_reasons)})" if ch.replace_reasons else ""
        table.add_row(
            name_cell(ch.name, [short_type(ch.type)], width),
            ch.status + why,
            "\n".join([*(f"note: {n}" for n in ch.notes), *_lines(ch, limit=10, one_per_line=True)]),
        )
    console.print(table)


def emit(changes: list[Change], fmt: str, title: str) -> None:
    if fmt == "markdown":
        print(as_markdown(changes, title), end="")
    elif fmt == "json":
        print(as_json(changes), end="")
    else:
        print_table(changes, title)
