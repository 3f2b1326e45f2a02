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
    for col, right in (("group", False), ("priority", True), ("network rules", True), ("app rules", True),
                       ("FQDNs", True), ("addresses", True), ("IP groups", True), ("protocols:ports", False)):
        table.add_column(col, justify="right" if right else "left", no_wrap=col == "group")
    bodies = sorted(((path, body) for path, body in _json_files(files, "azure/") if path != "azure/template.json"),
                    key=lambda item: item[1].get("properties", {}).get("priority", 0))
    for _, body in bodies:
        props = body.get("properties", {})
        rules = [(c, r) for c in props.get("ruleCollections", []) for r in c.get("rules", [])]
        net = [r for _, r in rules if r.get("ruleType") == "NetworkRule"]
        app = [r for _, r in rules if r.get("ruleType") == "ApplicationRule"]
        fqdns = sum(len(r.get("targetFqdns", [])) + len(r.get("destinationFqdns", [])) for _, r in rules)
        addrs = sum(len(r.get("destinationAddresses", [])) for r in net)
        groups = sum(len(r.get("destinationIpGroups", [])) for r in net)
        ports = sorted({f"{p['protocolType']}:{p['port']}" for r in app for p in r.get("protocols", [])}
                       | {f"{'/'.join(r.get('ipProtocols', []))}:{port}" for r in net
                          for port in r.get("destinationPorts", [])})
        table.add_row(body.get("name", "?"), str(props.get("priority", "")), str(len(net)), str(len(app)),
                      str(fqdns), str(addrs), str(groups), " ".join(ports))
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
    """One row per cloud, kind and entry: what a cloud's syntax widens, what it cannot express, what is skipped."""
    rows: dict[tuple[str, str, str], list[dict]] = {}
    for cloud in ("azure", "aws"):
        part = summary.get(cloud) or {}
        for what, key in (("widened", "widened"), ("not expressible", "notExpressible")):
            for item in part.get(key, []) if isinstance(part.get(key), list) else []:
                rows.setdefault((cloud, what, item.get("entry", "")), []).append(item)
    for item in summary.get("skipped", []):
        rows.setdefault(("both", "skipped", item["entry"]), []).append(item)
    if not rows:
        return None
    table = Table(title="Not deployed as written (details in summary.json)", title_justify="left")
    for col in ("cloud", "what", "entry", "destinations", "why"):
        table.add_column(col, overflow="fold", no_wrap=col in ("cloud", "entry"))
    for (cloud, what, entry), items in rows.items():
        dests = sorted({i.get("destination") or "" for i in items} - {""})
        shown = ", ".join(dests[:3]) + (f" (+{len(dests) - 3})" if len(dests) > 3 else "")
        reasons = sorted({i.get("reason", "") for i in items})
        why = reasons[0] + (f" (+{len(reasons) - 1} more)" if len(reasons) > 1 else "")
        table.add_row(cloud, what, entry, shown, why)
    return table


def print_render(files: dict[str, str], console: Console | None = None) -> None:
    console = console or Console(width=max(Console().width, 132))
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
    for cloud in ("azure", "aws"):
        for warning in (summary.get(cloud) or {}).get("warnings", []):
            console.print(f"[yellow]warning[/yellow] ({cloud}): {warning}", markup=True, highlight=False)
