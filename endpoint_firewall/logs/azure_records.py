"""Azure Firewall structured (resource-specific) log records to :class:`~.records.Record`.

Columns, from Microsoft's Azure Monitor Logs table reference (MicrosoftDocs/azure-reference-other,
``azure-monitor-ref/tables/includes/azfwapplicationrule-include.md`` and ``azfwnetworkrule-include.md``, ms.date
02/18/2024; learn.microsoft.com/azure/azure-monitor/reference/tables/azfwapplicationrule, ``.../azfwnetworkrule``,
``.../azfwdnsquery``, ``.../azfwinternalfqdnresolutionfailure``; read 2026-12-04):

* ``AZFWApplicationRule``: Action, ActionReason ("When no rule is triggered for a request, this field contains the
  reason ... a packet dropped because no rule matched will show ``Default Action``"), DestinationPort, Fqdn,
  Policy, Protocol ("HTTP, HTTPS"), Rule, RuleCollection, RuleCollectionGroup, SourceIp, SourcePort, TargetUrl,
  IsTlsInspected, WebCategory, TimeGenerated;
* ``AZFWNetworkRule``: Action, ActionReason, DestinationIp, DestinationPort, Policy, Protocol ("UDP, TCP"), Rule,
  RuleCollection, RuleCollectionGroup, SourceIp, SourcePort, TimeGenerated;
* ``AZFWDnsQuery`` (the DNS proxy): QueryName, QueryType, ResponseCode, SourceIp, ...;
* ``AZFWInternalFqdnResolutionFailure`` (diagnostic category ``AZFWFqdnResolveFailure``): Fqdn, Error, Policy,
  RuleCollectionGroup, RuleCollection, Rule, ServerIp, ServerPort: the firewall could not resolve a rule's FQDN.

Where they come from: a diagnostic setting that sends them to a storage account writes one JSON record per line
(blobs ``insights-logs-<category>/.../PT1H.json``), each in Azure Monitor's common resource log schema: ``time``,
``resourceId``, ``category`` (the category above), ``operationName``, ``properties`` (the columns, without
``TimeGenerated``) (learn.microsoft.com/azure/azure-monitor/essentials/resource-logs-schema, "Top-level common
schema", and .../resource-logs#send-to-azure-storage; an Event Hubs capture wraps them as ``{"records": [...]}``).
A Log Analytics query result has the columns themselves (``TimeGenerated``, ``SourceIp``, ...), as JSON (``az
monitor log-analytics query``: a list of row objects; the REST API: ``tables[].columns`` and ``rows``) or as the
portal's CSV (headers such as ``TimeGenerated [UTC]``).
"""

from __future__ import annotations

from typing import Any

from .records import APPLICATION, DNS, NETWORK, RESOLVE_FAILURE, Record, address, host_name, port_number, utc_time

# Diagnostic setting categories (storage, Event Hubs) and Log Analytics table names (the ``Type`` column)
KINDS = {
    "AZFWApplicationRule": APPLICATION,
    "AZFWNetworkRule": NETWORK,
    "AZFWDnsQuery": DNS,
    "AZFWFqdnResolveFailure": RESOLVE_FAILURE,
    "AZFWInternalFqdnResolutionFailure": RESOLVE_FAILURE,
}
# Categories of the legacy "Azure diagnostics" mode: free text in properties.msg, which this command does not parse
LEGACY = ("AzureFirewallApplicationRule", "AzureFirewallNetworkRule", "AzureFirewallDnsProxy")
_ACTIONS = {"allow": "allow", "deny": "deny"}
_PROTOCOLS = {"http": "http", "https": "https", "tcp": "tcp", "udp": "udp", "icmp": "icmp"}


def is_resource_log(data: Any) -> bool:
    return isinstance(data, dict) and "category" in data and isinstance(data.get("properties"), dict)


def kind_of_row(row: dict[str, Any]) -> str | None:
    """The table of a Log Analytics row: its ``Type`` column, else the columns only that table has."""
    table = row.get("Type")
    if isinstance(table, str) and table:
        return KINDS.get(table)
    if "QueryName" in row:
        return DNS
    if "ServerIp" in row and "Error" in row:
        return RESOLVE_FAILURE
    if "Fqdn" in row or "TargetUrl" in row:
        return APPLICATION
    if "DestinationIp" in row:
        return NETWORK
    return None


def record(kind: str, columns: dict[str, Any], time: Any) -> Record:
    """One record from its table's columns (``properties`` of a resource log, or a Log Analytics row).
    Raises ValueError for a time that is not one."""
    when = utc_time(time)
    source = address(columns.get("SourceIp"))
    if kind == DNS:
        return Record(
            DNS,
            None,
            when,
            source,
            host_name(columns.get("QueryName")),
            None,
            None,
            "dns",
            note=_text(columns, "ResponseCode"),
        )
    rule = _rule_path(columns)
    if kind == RESOLVE_FAILURE:
        return Record(
            RESOLVE_FAILURE,
            None,
            when,
            None,
            host_name(columns.get("Fqdn")),
            None,
            None,
            "dns",
            rule=rule,
            policy=_text(columns, "Policy"),
            note=_text(columns, "Error"),
        )
    protocol = str(columns.get("Protocol") or "").lower()
    return Record(
        kind,
        _ACTIONS.get(str(columns.get("Action") or "").lower()),  # type: ignore[arg-type]  # the mapping's values
        when,
        source,
        host_name(columns.get("Fqdn")) if kind == APPLICATION else None,
        address(columns.get("DestinationIp")),
        port_number(columns.get("DestinationPort")),
        _PROTOCOLS.get(protocol, protocol or "unknown"),
        rule=rule,
        policy=_text(columns, "Policy"),
        note=_text(columns, "ActionReason"),
    )


def _text(columns: dict[str, Any], key: str) -> str | None:
    value = columns.get(key)
    return str(value) if value not in (None, "") else None


def _rule_path(columns: dict[str, Any]) -> str | None:
    """``group/collection/rule``, the path ``checks/azure.py`` names rules by; None when no rule decided."""
    parts = [columns.get(k) or "" for k in ("RuleCollectionGroup", "RuleCollection", "Rule")]
    return "/".join(str(p) for p in parts) if parts[2] else None
