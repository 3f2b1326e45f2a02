"""Readable tables (rich) of a rendered stack, built from the rendered files alone."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table


def _json_files(files: dict[str, str], prefix: str) -> list[tuple[str, dict]]:
    return [(path, json.loads(text)) for path, text in sorted(files.items())
            if path.startswith(prefix) and path.endswith(".json") and path.count("/") == prefix.count("/")]


def azure_table(files: dict[str, str]) -> Table:
    table = Table(title="Azure Firewall Policy: rule collection groups", title_justify="left")
    for col in ("group", "priority", "collection", "rules", "FQDNs", "addresses", "IP groups", "ports"):
        table.add_column(col, justify="right" if col not in ("group", "collection", "ports") else "left")
    for _, body in _json_files(files, "azure/"):
        props = body.get("properties", {})
        for collection in sorted(props.get("ruleCollections", []), key=lambda c: c.get("priority", 0)):
            rules = collection.get("rules", [])
            fqdns = sum(len(r.get("targetFqdns", [])) + len(r.get("destinationFqdns", [])) for r in rules)
            addrs = sum(len(r.get("destinationAddresses", [])) for r in rules)
            groups = sum(len(r.get("destinationIpGroups", [])) for r in rules)
            ports = sorted({f"{p['protocolType']}:{p['port']}" for r in rules for p in r.get("protocols", [])}
                           | {f"{'/'.join(r.get('ipProtocols', []))}:{port}" for r in rules
                              for port in r.get("destinationPorts", [])})
            table.add_row(body.get("name", "?"), str(props.get("priority", "")), collection.get("name", "?"),
                          str(len(rules)), str(fqdns), str(addrs), str(groups), ", ".join(ports))
    return table


def azure_ip_groups_table(files: dict[str, str]) -> Table | None:
    rows = _json_files(files, "azure/ip-groups/")
    if not rows:
        return None
    table = Table(title="Azure IP Groups", title_justify="left")
    table.add_column("IP group")
    table.add_column("addresses", justify="right")
    for _, body in rows:
        table.add_row(body["name"], str(len(body["properties"]["ipAddresses"])))
    return table


def aws_table(files: dict[str, str]) -> Table:
    table = Table(title="AWS Network Firewall: stateful rule groups", title_justify="left")
    for col in ("rule group", "source", "rule order", "rules", "domains", "capacity used", "capacity"):
        table.add_column(col, justify="left" if col in ("rule group", "source", "rule order") else "right")
    for path, request in _json_files(files, "aws/"):
        group = request.get("RuleGroup", {})
        source = group.get("RulesSource", {})
        domains = source.get("RulesSourceList", {}).get("Targets", [])
        rules_text = files.get(path[: -len(".json")] + ".rules", "")
        rules = [line for line in rules_text.splitlines() if line.strip() and not line.startswith("#")]
        kind = "domain list" if "RulesSourceList" in source else "Suricata rules"
        used = _used_capacity(rules_text)
        table.add_row(request.get("RuleGroupName", "?"), kind,
                      group.get("StatefulRuleOptions", {}).get("RuleOrder", ""), str(len(rules)),
                      str(len(domains)), used, str(request.get("Capacity", "")))
    return table


def _used_capacity(rules_text: str) -> str:
    for line in rules_text.splitlines():
        if line.startswith("# capacity used:"):
            return line.split(":", 1)[1].strip()
    return ""


def findings_table(summary: dict) -> Table | None:
    table = Table(title="Not rendered as written (widened, not expressible, skipped)", title_justify="left")
    for col in ("cloud", "what", "entry", "destination", "reason"):
        table.add_column(col, overflow="fold")
    for cloud in ("azure", "aws"):
        part = summary.get(cloud) or {}
        for what, key in (("widened", "widened"), ("not expressible", "notExpressible")):
            for item in part.get(key, []):
                table.add_row(cloud, what, item.get("entry", ""), item.get("destination") or "", item.get("reason", ""))
    for item in summary.get("skipped", []):
        table.add_row("both", "skipped", item["entry"], item.get("destination") or "", item["reason"])
    return table if table.row_count else None


def print_render(files: dict[str, str], console: Console | None = None) -> None:
    console = console or Console()
    summary = json.loads(files["summary.json"])
    console.print(f"[bold]stack {summary['stack']}[/bold]: {summary['entries']} catalogue entries selected, "
                  f"sources {', '.join(summary['sourceRanges'])}, digest {summary['catalogueDigest'][:12]}")
    if summary.get("azure"):
        console.print(azure_table(files))
        ip_table = azure_ip_groups_table(files)
        if ip_table:
            console.print(ip_table)
    if summary.get("aws"):
        console.print(aws_table(files))
    findings = findings_table(summary)
    if findings:
        console.print(findings)
