"""The worked example of docs/logs.md: a week of Azure Firewall records of the prod stack, as a diagnostic setting
writes them to a storage account (one resource log per line), generated from a seed so the page's output can be
checked against the command's (tests/test_logs_docs.py)."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

RESOURCE = (
    "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/RG-NETWORK-PROD/PROVIDERS/"
    "MICROSOFT.NETWORK/AZUREFIREWALLS/FW-EGRESS-PROD"
)
START = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
DEVICES = [f"10.20.{i // 200}.{i % 200 + 10}" for i in range(400)]

# (table, destination, port, protocol, count, devices, rule that decided: (policy, group, collection, rule) or None)
DENIES = [
    ("AZFWApplicationRule", "remoteassistance.support.services.microsoft.com", 443, "HTTPS", 131, 14, None),
    ("AZFWApplicationRule", "remotehelp.microsoft.com", 443, "HTTPS", 57, 14, None),
    ("AZFWApplicationRule", "amsua0101-remoteassistservice-pubsub.webpubsub.azure.com", 443, "HTTPS", 44, 12, None),
    ("AZFWApplicationRule", "remoteassistanceprodacs.communication.azure.com", 443, "HTTPS", 38, 12, None),
    ("AZFWApplicationRule", "provisioning.microsoftonline.com", 443, "HTTPS", 61, 37, None),
    (
        "AZFWApplicationRule",
        "portal.manage.microsoft.com",
        443,
        "HTTPS",
        9,
        3,
        ("fwpol-baseline", "netsec-web", "deny-admin-portals", "deny-portals"),
    ),
    ("AZFWNetworkRule", "2620:1ec:40::17", 443, "TCP", 42, 12, None),
    ("AZFWApplicationRule", "www.example.org", 443, "HTTPS", 5, 2, None),
]
ALLOWS = [
    (
        "AZFWApplicationRule",
        "manage.microsoft.com",
        443,
        "HTTPS",
        5200,
        ("fwpol-egress-prod", "epfw-prod-intune-core", "application", "intune-core-fqdn-http80-https443"),
    ),
    (
        "AZFWApplicationRule",
        "courier.push.apple.com",
        5223,
        "HTTPS",
        3100,
        ("fwpol-egress-prod", "epfw-prod-apple", "application", "apple-fqdn-tls443-tls5223"),
    ),
    (
        "AZFWApplicationRule",
        "login.microsoftonline.com",
        443,
        "HTTPS",
        4100,
        ("fwpol-egress-prod", "epfw-prod-authentication", "application", "authentication-fqdn-http80-https443"),
    ),
]


def _line(
    rng: random.Random, table: str, destination: str, port: int, protocol: str, devices: int, rule, action: str
) -> str:
    when = START + dt.timedelta(seconds=rng.randrange(7 * 86400))
    policy, group, collection, name = rule or ("", "", "", "")
    properties = {
        "Protocol": protocol,
        "SourceIp": DEVICES[rng.randrange(devices)],
        "SourcePort": rng.randrange(49152, 65535),
        "DestinationPort": port,
        "Action": action,
        "ActionReason": "" if rule else "Default Action",
        "Policy": policy,
        "RuleCollectionGroup": group,
        "RuleCollection": collection,
        "Rule": name,
    }
    if table == "AZFWApplicationRule":
        properties |= {"Fqdn": destination, "TargetUrl": "", "IsTlsInspected": False, "WebCategory": ""}
    else:
        properties["DestinationIp"] = destination
    record = {
        "time": when.strftime("%Y-%m-%dT%H:%M:%S.%f0Z"),
        "resourceId": RESOURCE,
        "category": table,
        "operationName": f"AzureFirewall{'Application' if table == 'AZFWApplicationRule' else 'Network'}RuleLog",
        "properties": properties,
    }
    return json.dumps(record) + "\n"


def write_week(path: Path) -> Path:
    rng = random.Random(21)
    lines = []
    for table, destination, port, protocol, count, devices, rule in DENIES:
        lines += [_line(rng, table, destination, port, protocol, devices, rule, "Deny") for _ in range(count)]
    for table, destination, port, protocol, count, rule in ALLOWS:
        lines += [_line(rng, table, destination, port, protocol, len(DEVICES), rule, "Allow") for _ in range(count)]
    rng.shuffle(lines)
    path.write_text("".join(lines), encoding="utf-8")
    return path
