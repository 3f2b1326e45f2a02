"""``epfw logs explain --cloud azure`` on records generated from Microsoft's documented schema for flows that
``checks/azure.py`` (what ``epfw check --cloud azure`` runs: Azure's documented rule order) judges on the prod
stack's render: a denied flow becomes a ``Deny`` record with ``ActionReason: Default Action``, an allowed one an
``Allow`` record naming its rule; a deny by a parent policy's rule (processed before the child's) is the case where
a selected destination is denied. Each format Azure delivers them in gives the same verdicts.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace

import pytest
from conftest import ROOT
from logs_cases import PROD_CASES, Case, check_verdicts

from endpoint_firewall.checks.azure import evaluate
from endpoint_firewall.checks.flow import Flow
from endpoint_firewall.cli.main import main
from endpoint_firewall.config.stack_config import load_stack_file
from endpoint_firewall.program.stack_plan import load_selected
from endpoint_firewall.renderers.azure.render import render_azure

DEVICE = "10.20.3.4"
RESOURCE = "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/RG-NETWORK-PROD/PROVIDERS/MICROSOFT.NETWORK/AZUREFIREWALLS/FW-PROD"
PARENT_DENY = ("fwpol-baseline", "netsec-deny", "block-list", "block-portal")  # policy, group, collection, rule


CASES = [
    Case(
        Flow("portal.manage.microsoft.com", 443, "https"),
        "selected",
        "intune-163",
        "netsec-deny/block-list/block-portal",
        parent_deny=True,
    ),
    *PROD_CASES,
    Case(Flow(None, 443, "tcp", ip="2620:1ec:40::5"), "not-expressible", "intune-163", "IPv6"),
    # ID 163's IPv4 ranges are left to Intune's names (azure.addressRules: names-only): an address alone is denied
    Case(
        Flow(None, 443, "tcp", ip="13.107.219.10"),
        "not-selected",
        "intune-163",
        "azure.addressRules: names-only leaves this address to those names",
    ),
]
ALLOWED = [Flow("manage.microsoft.com", 443, "https"), Flow("courier.push.apple.com", 5223, "tls")]


@pytest.fixture(scope="module")
def render():
    config = load_stack_file(ROOT / "stacks" / "Pulumi.prod.yaml")
    _, plan = load_selected(config, ROOT, "prod")
    assert config.azure is not None
    return render_azure(plan, config.azure)


def _columns(flow: Flow, action: str, rule: tuple[str, str, str, str] | None, reason: str) -> tuple[str, dict]:
    """The table and columns Microsoft documents for the record of ``flow`` (application rules: HTTP/HTTPS by
    name; network rules: everything else, by address)."""
    policy, group, collection, name = rule or ("", "", "", "")
    common = {
        "SourceIp": DEVICE,
        "SourcePort": 50123,
        "DestinationPort": flow.port,
        "Action": action,
        "ActionReason": reason,
        "Policy": policy,
        "RuleCollectionGroup": group,
        "RuleCollection": collection,
        "Rule": name,
    }
    if flow.host and flow.proto in ("http", "https", "tls"):
        protocol = "HTTP" if flow.proto == "http" else "HTTPS"
        return "AZFWApplicationRule", {
            **common,
            "Protocol": protocol,
            "Fqdn": flow.host,
            "TargetUrl": "",
            "IsTlsInspected": False,
            "WebCategory": "",
            "IsExplicitProxyRequest": False,
        }
    return "AZFWNetworkRule", {**common, "Protocol": flow.proto.upper(), "DestinationIp": flow.ip}


def judged_records(render) -> list[tuple[str, str, dict]]:
    """(time, table, columns) for every case and allowed flow, as checks/azure.py judges it."""
    out = []
    for i, case in enumerate(CASES):
        verdict = evaluate(render, replace(case.flow, source=DEVICE))
        assert verdict.allowed == case.parent_deny, (case.flow, verdict)
        rule = PARENT_DENY if case.parent_deny else None
        table, columns = _columns(case.flow, "Deny", rule, "" if rule else "Default Action")
        out += [(f"2026-11-{21 + day}T0{day}:1{i % 10}:00.1234567Z", table, columns) for day in range(1 + i % 3)]
    for flow in ALLOWED:
        verdict = evaluate(render, replace(flow, source=DEVICE))
        assert verdict.allowed and verdict.rule
        group, collection, name = verdict.rule.split("/")
        table, columns = _columns(flow, "Allow", ("fwpol-egress-prod", group, collection, name), "")
        out.append(("2026-11-25T12:00:00.0000000Z", table, columns))
    return out


def storage_lines(records) -> str:
    """A diagnostic setting's blob: one resource log per line (time, resourceId, category, operationName, properties)."""
    ops = {"AZFWApplicationRule": "AzureFirewallApplicationRuleLog", "AZFWNetworkRule": "AzureFirewallNetworkRuleLog"}
    return "".join(
        json.dumps(
            {"time": t, "resourceId": RESOURCE, "category": table, "operationName": ops[table], "properties": cols}
        )
        + "\n"
        for t, table, cols in records
    )


def event_hub_document(records) -> str:
    return json.dumps({"records": [json.loads(line) for line in storage_lines(records).splitlines()]}, indent=2)


def _rows(records) -> list[dict]:
    return [{"TimeGenerated": t, **cols, "Type": table} for t, table, cols in records]


def analytics_json(records) -> str:
    """``az monitor log-analytics query``: a list of row objects."""
    return json.dumps(_rows(records), indent=2)


def analytics_api(records, indent: int | None = None) -> str:
    """The Log Analytics REST API: tables[].columns and rows (compact, as the API answers, or indented)."""
    rows = _rows(records)
    names = sorted({k for row in rows for k in row})
    return json.dumps(
        {
            "tables": [
                {
                    "name": "PrimaryResult",
                    "columns": [{"name": n, "type": "string"} for n in names],
                    "rows": [[row.get(n, "") for n in names] for row in rows],
                }
            ]
        },
        indent=indent,
    )


def analytics_csv(records) -> str:
    """The portal's CSV export: headers such as ``TimeGenerated [UTC]``, times as the portal writes them."""
    rows = _rows(records)
    names = ["TimeGenerated"] + sorted({k for row in rows for k in row} - {"TimeGenerated"})
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([n + " [UTC]" if n == "TimeGenerated" else n for n in names])
    for row in rows:
        when = row["TimeGenerated"]  # 2026-11-21T00:10:00.1234567Z -> 11/21/2026, 12:10:00.123 AM
        hour = int(when[11:13])
        portal = f"{when[5:7]}/{when[8:10]}/{when[:4]}, {hour % 12 or 12}:{when[14:19]}.{when[20:23]} {'AM' if hour < 12 else 'PM'}"
        writer.writerow([portal if n == "TimeGenerated" else row.get(n, "") for n in names])
    return out.getvalue()


FORMATS = {
    "storage.json": storage_lines,
    "eventhub.json": event_hub_document,
    "analytics.json": analytics_json,
    "analytics-api.json": analytics_api,
    "analytics-api-indented.json": lambda records: analytics_api(records, indent=2),
    "analytics.csv": analytics_csv,
}


def explain(capsys, *args: str) -> tuple[int, dict]:
    capsys.readouterr()
    code = main(
        ["logs", "explain", "--project", str(ROOT), "--stack", "prod", "--cloud", "azure", *args, "--format", "json"]
    )
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("name", list(FORMATS))
def test_every_format_gives_the_documented_verdicts(capsys, tmp_path, render, name):
    log = tmp_path / name
    log.write_text(FORMATS[name](judged_records(render)), encoding="utf-8")
    code, report = explain(capsys, str(log))
    assert code == 1  # portal.manage.microsoft.com is selected and was denied
    assert set(report) == {"stack", "cloud", "records", "denied", "unused_rules"}
    assert report["records"] == len(judged_records(render))
    found = check_verdicts(report, CASES)
    assert set(found) == {c.key for c in CASES}
    for i, case in enumerate(CASES):
        item = found[case.key]
        assert item["count"] == 1 + i % 3 and item["sources"] == 1
        assert item["first"] == "2026-11-21T00:1" + str(i % 10) + ":00Z"
    selected = found[("portal.manage.microsoft.com", 443)]
    assert "epfw-prod-intune-core/application/intune-core-fqdn-http80-https443" in selected["why"]
    assert "fwpol-baseline" in selected["why"]


def test_unused_rules_are_those_no_allowed_record_names(capsys, tmp_path, render):
    log = tmp_path / "storage.json"
    log.write_text(storage_lines(judged_records(render)), encoding="utf-8")
    _, report = explain(capsys, str(log))
    unused = {u["rule"]: u["entries"] for u in report["unused_rules"]}
    used = {evaluate(render, replace(f, source=DEVICE)).rule for f in ALLOWED}
    assert used and not used & set(unused)
    assert unused["epfw-prod-wns/application/wns-fqdn-https443"] == ["intune-171"]
    assert len(unused) == sum(
        len(c["rules"]) for g in render.groups for c in g.body["properties"]["ruleCollections"]
    ) - len(used)


def test_without_allowed_records_no_rule_is_called_unused(capsys, tmp_path, render):
    denies = [r for r in judged_records(render) if r[2]["Action"] == "Deny"]
    log = tmp_path / "denies.json"
    log.write_text(storage_lines(denies), encoding="utf-8")
    _, report = explain(capsys, str(log))
    assert report["unused_rules"] == []


def test_the_since_option_leaves_out_older_records(capsys, tmp_path, render):
    log = tmp_path / "storage.json"
    log.write_text(storage_lines(judged_records(render)), encoding="utf-8")
    _, report = explain(capsys, str(log), "--since", "2026-11-22T00:00")
    counts = {(d["destination"], d["port"]): d["count"] for d in report["denied"]}
    assert ("ekop.intel.com", 443) in counts and (
        "portal.manage.microsoft.com",
        443,
    ) not in counts  # one record, day 21
    assert all(d["first"] >= "2026-11-22" for d in report["denied"])


def test_dns_and_resolution_failures_join_the_explanation(capsys, tmp_path):
    resolve = {
        "time": "2026-11-28T10:00:00Z",
        "resourceId": RESOURCE,
        "category": "AZFWFqdnResolveFailure",
        "properties": {
            "Fqdn": "mtalk.google.com",
            "Error": "no such host",
            "Policy": "fwpol-egress-prod",
            "RuleCollectionGroup": "epfw-prod-android",
            "RuleCollection": "network",
            "Rule": "android-dnsfqdn",
            "ServerIp": "168.63.129.16",
            "ServerPort": 53,
        },
    }
    dns = {
        "time": "2026-11-28T10:00:00Z",
        "resourceId": RESOURCE,
        "category": "AZFWDnsQuery",
        "properties": {
            "SourceIp": DEVICE,
            "SourcePort": 5353,
            "QueryId": 1,
            "QueryType": "A",
            "QueryClass": "IN",
            "QueryName": "example.org.",
            "Protocol": "udp",
            "ResponseCode": "NXDOMAIN",
        },
    }
    deny = {
        "time": "2026-11-28T10:00:01Z",
        "resourceId": RESOURCE,
        "category": "AZFWApplicationRule",
        "properties": _columns(Flow("example.org", 443, "https"), "Deny", None, "Default Action")[1],
    }
    log = tmp_path / "storage.json"
    log.write_text("".join(json.dumps(r) + "\n" for r in (resolve, dns, deny)), encoding="utf-8")
    _, report = explain(capsys, str(log))
    [item] = report["denied"]
    assert "The DNS proxy answered NXDOMAIN (1)" in item["why"]
    assert report["records"] == 3


def test_records_of_the_other_cloud_name_the_option(capsys, tmp_path):
    log = tmp_path / "aws.log"
    log.write_text(
        json.dumps({"firewall_name": "fw", "availability_zone": "a", "event_timestamp": "1", "event": {}}) + "\n"
    )
    capsys.readouterr()
    code = main(["logs", "explain", "--project", str(ROOT), "--stack", "prod", "--cloud", "azure", str(log)])
    err = capsys.readouterr().err
    assert code == 1 and f"{log}:1: these are AWS Network Firewall records: use --cloud aws" in err
    assert "Traceback" not in err
