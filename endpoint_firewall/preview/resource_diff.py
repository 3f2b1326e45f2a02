"""Rule-level diff of two sets of resources, for pull-request review.

Both sides are lists of ``{"type", "name", "inputs"}`` records: what the program registers under mocks
(``epfw preview``) or what a render folder holds, converted to the same shape (``epfw diff``). Each
resource is reduced to *facts*: labelled sets of values (the FQDNs of one rule, its ports, an IP
group's addresses, a rule group's Suricata rules...). The diff lists facts added and removed per
resource, and whether the resource is updated in place or replaced. A record may carry the lifecycle ``options``
it was registered with (``protect``, ``retainOnDelete``, ...); the old side's decide what a delete or a
replacement does, and a change says so in its ``notes`` (which group to swap in a policy outside the stack, how to
remove what Pulumi refuses to delete or leaves behind).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..components.resource_types import (
    AWS_FIREWALL_POLICY,
    AWS_RULE_GROUP,
    AZURE_FIREWALL,
    AZURE_GROUP,
    AZURE_IP_GROUP,
    AZURE_POLICY,
)
from .dns_records import DNS_REPLACE_ON, dns_render_records

# Inputs whose change makes the provider replace the resource instead of updating it.
REPLACE_ON = {
    AZURE_GROUP: ("resourceGroupName", "firewallPolicyName", "ruleCollectionGroupName"),
    AZURE_IP_GROUP: ("resourceGroupName", "ipGroupsName", "location"),
    AWS_RULE_GROUP: ("name", "capacity", "type", "ruleGroup.statefulRuleOptions.ruleOrder"),
    # a policy's name and its rule order cannot change in place (components/aws_network_firewall.py)
    AWS_FIREWALL_POLICY: ("name", "firewallPolicy.statefulEngineOptions.ruleOrder"),
    AZURE_POLICY: ("resourceGroupName", "firewallPolicyName", "location"),
    AZURE_FIREWALL: ("resourceGroupName", "azureFirewallName", "location"),
    **DNS_REPLACE_ON,
}
LIST_FIELDS = (
    "targetFqdns",
    "destinationFqdns",
    "destinationAddresses",
    "destinationIpGroups",
    "destinationPorts",
    "sourceAddresses",
    "sourceIpGroups",
    "ipProtocols",
    "fqdnTags",
    "targetUrls",
    "webCategories",
)


@dataclass
class Change:
    type: str
    name: str
    status: str  # added | removed | updated | replaced
    added: dict[str, list[str]] = field(default_factory=dict)
    removed: dict[str, list[str]] = field(default_factory=dict)
    replace_reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the lifecycle options make of a delete or replacement

    def to_json(self) -> dict:
        return {
            "type": self.type,
            "name": self.name,
            "status": self.status,
            "added": self.added,
            "removed": self.removed,
            "replaceReasons": self.replace_reasons,
            "notes": self.notes,
        }


def _get(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def _flatten(value: Any, prefix: str, out: dict[str, set[str]]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(v, f"{prefix}.{k}" if prefix else k, out)
    elif isinstance(value, list):
        for v in value:
            if isinstance(v, (dict, list)):
                _flatten(v, prefix + "[]", out)
            else:
                out.setdefault(prefix, set()).add(_text(v))
    else:
        out.setdefault(prefix, set()).add(_text(value))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def facts(record: dict) -> dict[str, set[str]]:
    """Labelled value sets of one resource, at the level a reviewer reads rules."""
    typ, inputs = record["type"], record.get("inputs") or {}
    out: dict[str, set[str]] = {}
    if typ == AZURE_GROUP or typ == AZURE_FIREWALL:
        out["priority"] = {_text(inputs.get("priority"))} if "priority" in inputs else set()
        collections = list(inputs.get("ruleCollections") or [])
        for key in ("applicationRuleCollections", "networkRuleCollections"):
            for coll in inputs.get(key) or []:
                collections.append({"name": coll.get("name"), **(coll.get("properties") or coll)})
        for coll in collections:
            cname = coll.get("name", "?")
            out[f"{cname}: priority"] = {_text(coll.get("priority"))}
            out[f"{cname}: action"] = {_text((coll.get("action") or {}).get("type"))}
            for rule in coll.get("rules") or []:
                label = f"{cname}/{rule.get('name', '?')}"
                protocols = rule.get("protocols") or []
                ports = {
                    f"{p.get('protocolType')}:{p.get('port')}" if isinstance(p, dict) else _text(p) for p in protocols
                }
                if ports:
                    out[f"{label}: protocols"] = ports
                for name in LIST_FIELDS:
                    if rule.get(name):
                        out[f"{label}: {name}"] = {_text(v) for v in rule[name]}
        return {k: v for k, v in out.items() if v}
    if typ == AZURE_IP_GROUP:
        return {"ipAddresses": set(inputs.get("ipAddresses") or [])}
    if typ == AWS_RULE_GROUP:
        group = inputs.get("ruleGroup") or {}
        source = group.get("rulesSource") or {}
        domain_list = source.get("rulesSourceList") or {}
        if domain_list:
            out["domains"] = set(domain_list.get("targets") or [])
            out["domain target types"] = set(domain_list.get("targetTypes") or [])
            out["domain list type"] = {_text(domain_list.get("generatedRulesType"))}
        if source.get("rulesString"):
            out["rules"] = {
                line
                for line in source["rulesString"].splitlines()
                if line.strip() and not line.lstrip().startswith("#")
            }
        for ip_set in (group.get("ruleVariables") or {}).get("ipSets") or []:
            out[f"${ip_set.get('key')}"] = set((ip_set.get("ipSet") or {}).get("definitions") or [])
        out["capacity"] = {_text(inputs.get("capacity"))}
        out["rule order"] = {_text(_get(inputs, "ruleGroup.statefulRuleOptions.ruleOrder"))}
        return {k: v for k, v in out.items() if v}
    flat: dict[str, set[str]] = {}
    _flatten(inputs, "", flat)
    return flat


_HASH_SUFFIX = re.compile(r"-[0-9a-f]{6,12}$")


def stem(name: str) -> str:
    return _HASH_SUFFIX.sub("", name)


def diff(old: Iterable[dict], new: Iterable[dict]) -> list[Change]:
    old_by = {(r["type"], r["name"]): r for r in old}
    new_by = {(r["type"], r["name"]): r for r in new}
    changes: list[Change] = []
    # A resource whose logical name carries a content hash comes back under a new name: pair by stem.
    removed = {k for k in old_by if k not in new_by}
    added = {k for k in new_by if k not in old_by}
    pairs: dict[tuple, tuple] = {}
    for key in sorted(removed):
        partners = [a for a in added if a[0] == key[0] and stem(a[1]) == stem(key[1])]
        if len(partners) == 1:
            pairs[key] = partners[0]
            added.discard(partners[0])
    for key in sorted(set(old_by) | set(new_by)):
        if key in pairs.values():
            continue
        if key in old_by and key not in new_by and key not in pairs:
            old_record = old_by[key]
            changes.append(
                Change(key[0], key[1], "removed", removed=_lists(facts(old_record)), notes=lifecycle_notes(old_record))
            )
            continue
        if key in new_by and key not in old_by:
            changes.append(Change(key[0], key[1], "added", added=_lists(facts(new_by[key]))))
            continue
        a, b = old_by[key], new_by[pairs.get(key, key)]
        fa, fb = facts(a), facts(b)
        add = {k: sorted(fb.get(k, set()) - fa.get(k, set())) for k in fb}
        rem = {k: sorted(fa.get(k, set()) - fb.get(k, set())) for k in fa}
        add = {k: v for k, v in add.items() if v}
        rem = {k: v for k, v in rem.items() if v}
        reasons = [p for p in REPLACE_ON.get(key[0], ()) if _get(a.get("inputs"), p) != _get(b.get("inputs"), p)]
        if key in pairs:
            reasons = reasons or ["name"]
        if not (add or rem or reasons or a.get("inputs") != b.get("inputs")):
            continue
        name = key[1] if key not in pairs else f"{key[1]} -> {pairs[key][1]}"
        notes = lifecycle_notes(a, b) if reasons else []
        changes.append(Change(key[0], name, "replaced" if reasons else "updated", add, rem, reasons, notes))
    return changes


def _physical(record: dict) -> str:
    """The name the cloud knows the resource by (the logical name when the inputs do not say)."""
    inputs = record.get("inputs") or {}
    for key in ("name", "ruleCollectionGroupName", "ipGroupsName", "firewallPolicyName", "azureFirewallName"):
        if isinstance(inputs.get(key), str):
            return inputs[key]
    return record["name"]


def lifecycle_notes(old: dict, new: dict | None = None) -> list[str]:
    """What the old record's lifecycle options make of its delete (``new`` None) or its replacement by ``new``."""
    options = old.get("options") or {}
    gone = _physical(old)
    if options.get("protect"):
        verb = "replace" if new is not None else "delete"
        return [
            f"protected: pulumi preview and up refuse to {verb} {gone}. If that is meant, unprotect it first "
            "(pulumi state unprotect <its URN>, from pulumi stack --show-urns), then pulumi up"
        ]
    if not options.get("retainOnDelete"):
        return []
    if new is None:
        kept = f"retainOnDelete: Pulumi forgets {gone} and leaves it in the cloud"
        if old["type"] == AZURE_GROUP:
            policy = (old.get("inputs") or {}).get("firewallPolicyName")
            return [f"{kept}, rules and all, on the policy {policy}: delete it there if its rules must go"]
        if old["type"] == AWS_RULE_GROUP:
            return [
                f"{kept}: remove it from the firewall policy that references it, then "
                f"aws network-firewall delete-rule-group --rule-group-name {gone} --type STATEFUL"
            ]
        return [kept]
    if old["type"] == AWS_RULE_GROUP:
        return [
            f"the firewall policy is outside this stack: Pulumi creates {_physical(new)} and keeps {gone} "
            f"(retainOnDelete), which that policy still references and enforces. Then 1. in that policy, replace "
            f"{gone}'s ARN by {_physical(new)}'s (stack output aws.ruleGroupArns); 2. aws network-firewall "
            f"delete-rule-group --rule-group-name {gone} --type STATEFUL"
        ]
    return [f"retainOnDelete: Pulumi creates {_physical(new)} and leaves {gone} in the cloud, no longer managed"]


def _lists(f: dict[str, set[str]]) -> dict[str, list[str]]:
    return {k: sorted(v) for k, v in f.items()}


def render_dir_records(folder: Path) -> list[dict]:
    """A render folder as resource records, in the input shape the program registers."""
    records: list[dict] = []
    for path in sorted((folder / "azure").glob("*.json")) if (folder / "azure").exists() else []:
        if path.name == "template.json":  # the same bodies again, as one ARM deployment template
            continue
        body = json.loads(path.read_text(encoding="utf-8"))
        props = body.get("properties", {})
        records.append(
            {
                "type": AZURE_GROUP,
                "name": body["name"],
                "inputs": {
                    "ruleCollectionGroupName": body["name"],
                    "priority": props.get("priority"),
                    "ruleCollections": props.get("ruleCollections", []),
                },
            }
        )
    for path in (
        sorted((folder / "azure" / "ip-groups").glob("*.json")) if (folder / "azure" / "ip-groups").exists() else []
    ):
        body = json.loads(path.read_text(encoding="utf-8"))
        records.append(
            {
                "type": AZURE_IP_GROUP,
                "name": body["name"],
                "inputs": {
                    "ipGroupsName": body["name"],
                    "location": body.get("location"),
                    "ipAddresses": body["properties"]["ipAddresses"],
                },
            }
        )
    for path in (
        sorted((folder / "azure" / "classic").glob("*.json")) if (folder / "azure" / "classic").exists() else []
    ):
        body = json.loads(path.read_text(encoding="utf-8"))
        props = body.get("properties", body)
        records.append({"type": AZURE_FIREWALL, "name": body.get("name", path.stem), "inputs": props})
    for path in sorted((folder / "aws").glob("*.json")) if (folder / "aws").exists() else []:
        request = json.loads(path.read_text(encoding="utf-8"))
        group = request.get("RuleGroup", {})
        source = group.get("RulesSource", {})
        rules_source: dict[str, Any] = {}
        if "RulesSourceList" in source:
            sl = source["RulesSourceList"]
            rules_source["rulesSourceList"] = {
                "targets": sl.get("Targets"),
                "targetTypes": sl.get("TargetTypes"),
                "generatedRulesType": sl.get("GeneratedRulesType"),
            }
        if "RulesString" in source:
            rules_source["rulesString"] = source["RulesString"]
        ip_sets = [
            {"key": k, "ipSet": {"definitions": v.get("Definition", [])}}
            for k, v in sorted(((group.get("RuleVariables") or {}).get("IPSets") or {}).items())
        ]
        records.append(
            {
                "type": AWS_RULE_GROUP,
                "name": request["RuleGroupName"],
                "inputs": {
                    "name": request["RuleGroupName"],
                    "capacity": request.get("Capacity"),
                    "type": request.get("Type"),
                    "ruleGroup": {
                        "rulesSource": rules_source,
                        "ruleVariables": {"ipSets": ip_sets},
                        "statefulRuleOptions": {"ruleOrder": (group.get("StatefulRuleOptions") or {}).get("RuleOrder")},
                    },
                },
            }
        )
    return records + dns_render_records(folder)
