"""Walking Azure rules: the rules of a rule collection group or of a classic ``AzureFirewall``, with their collection.

Shared by the resource checks (what a rule allows) and the stack checks (which IP Groups a group uses).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..components.resource_types import AZURE_FIREWALL, AZURE_GROUP
from .props import _get, _is_map, _items, _lower, _strings


@dataclass(frozen=True)
class _AzureRule:
    collection: str
    name: str
    kind: str  # application | network | nat
    allow: bool
    body: Any


def _azure_rules(resource_type: str, props: Any) -> list[_AzureRule]:
    rules: list[_AzureRule] = []
    if resource_type == AZURE_GROUP:
        for coll in _items(props, "ruleCollections"):
            cname = str(_get(coll, "name") or "?")
            ctype = _lower(_get(coll, "ruleCollectionType"))
            action = _lower(_get(_get(coll, "action"), "type"))
            nat = "nat" in ctype or action == "dnat"
            for rule in _items(coll, "rules"):
                rtype = _lower(_get(rule, "ruleType"))
                kind = "nat" if nat or "nat" in rtype else "application" if "application" in rtype else "network"
                rules.append(
                    _AzureRule(cname, str(_get(rule, "name") or "?"), kind, action == "allow" and not nat, rule)
                )
    elif resource_type == AZURE_FIREWALL:
        for key, kind in (
            ("applicationRuleCollections", "application"),
            ("networkRuleCollections", "network"),
            ("natRuleCollections", "nat"),
        ):
            for coll in _items(props, key):
                body = _get(coll, "properties") if _is_map(_get(coll, "properties")) else coll
                cname = str(_get(coll, "name") or "?")
                action = _lower(_get(_get(body, "action"), "type"))
                for rule in _items(body, "rules"):
                    rules.append(
                        _AzureRule(
                            cname, str(_get(rule, "name") or "?"), kind, kind != "nat" and action == "allow", rule
                        )
                    )
    return rules


def _network_fqdn_rules(resource_type: str, props: Any) -> list[str]:
    """``collection/rule`` of every network rule (any action) with ``destinationFqdns``."""
    return [
        f"{r.collection}/{r.name}"
        for r in _azure_rules(resource_type, props)
        if r.kind == "network" and _strings(r.body, "destinationFqdns")
    ]
