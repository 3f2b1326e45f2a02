"""AWS ``CreateRuleGroup`` request bodies: the Suricata rules groups and the domain-list groups of a render, with
their IP set variables (``HOME_NET`` and its complement ``EXTERNAL_NET`` in each), descriptions and rules files.

Pure: plain values in, plain values out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from ...config.aws_config import AwsConfig, FqdnMode, RuleOrder
from .capacity import domain_list_capacity, group_capacity, group_name
from .layout import LIST_ROLES, Collected, external_net, group_priority, role_name, shard_items, shard_key
from .model import AwsRenderError, AwsRuleGroup
from .suricata import SuricataRule, referenced_variables

DESCRIPTION_MAX = 512


def policy_name(config: AwsConfig) -> str | None:
    """The firewall policy's physical name: ``firewallPolicy.name``, with a short hash of the rule order in
    ``STRICT_ORDER``. AWS cannot change a policy's rule order in place (the policy is replaced), and names are
    unique per account and region: with the hash, the replacement is created under another name before the
    old policy is deleted. ``DEFAULT_ACTION_ORDER`` keeps the bare name (what policies created before had)."""
    if config.firewall_policy is None:
        return None
    name = config.firewall_policy.name
    if config.rule_order is RuleOrder.STRICT_ORDER:
        name += "-" + hashlib.sha256(f"{config.rule_order.value}|POLICY".encode()).hexdigest()[:6]
    assert len(name) <= 128, name
    return name


def group_ip_sets(home: Sequence[str], extra: dict[str, tuple[str, ...]]) -> dict[str, dict[str, list[str]]]:
    merged = {"HOME_NET": tuple(home), "EXTERNAL_NET": external_net(home), **extra}
    return {name: {"Definition": list(merged[name])} for name in sorted(merged)}


def group_description(prefix: str, text: str) -> str:
    out = f"endpoint-firewall {prefix}: {text}"
    return out[:DESCRIPTION_MAX]


def _request(name: str, capacity: int, description: str, ip_sets: dict, source: dict, order: RuleOrder) -> dict:
    return {
        "RuleGroupName": name,
        "Type": "STATEFUL",
        "Capacity": capacity,
        "Description": description,
        "RuleGroup": {
            "RuleVariables": {"IPSets": ip_sets},
            "RulesSource": source,
            "StatefulRuleOptions": {"RuleOrder": order.value},
        },
    }


def rules_groups(
    collected: Collected, texts: dict[str, str], home: Sequence[str], config: AwsConfig
) -> list[AwsRuleGroup]:
    """The Suricata rules groups (``rules``, ``rules-2``...): the rules in shards, each with the IP sets it uses."""
    order = config.rule_order
    groups: list[AwsRuleGroup] = []
    rules_desc = (
        "Suricata rules: addresses, peers and host names on ports domain lists cannot hold"
        if config.fqdn_mode is FqdnMode.DOMAIN_LIST
        else "Suricata rules: host names on exact ports, addresses and peers"
    )
    rules_desc += ", then the default deny per protocol"
    rule_shards = shard_items(collected.items, texts, config) if collected.items else []
    for i, shard in enumerate(rule_shards):
        lines = [texts[item.rule.key] for item in shard]
        extra: dict[str, tuple[str, ...]] = {}
        for item in shard:
            for var, values in item.variables.items():
                if extra.setdefault(var, values) != values:
                    raise AwsRenderError(f"IP set variable {var} defined twice with different values")
        ip_sets = group_ip_sets(home, extra)
        defined = set(ip_sets)
        for line in lines:
            missing = referenced_variables(line) - defined
            if missing:
                raise AwsRenderError(f"rule refers to undefined variables {sorted(missing)}: {line}")
        used = len(lines)
        role = role_name("rules", i)
        capacity = group_capacity(role, used, config)
        name = group_name(config.name_prefix, role, capacity, order)
        rules_string = "\n".join(lines)
        desc = rules_desc + (f" (shard {i + 1} of {len(rule_shards)})" if len(rule_shards) > 1 else "")
        groups.append(
            AwsRuleGroup(
                name=name,
                role=role,
                kind="rules",
                capacity=capacity,
                used=used,
                request=_request(
                    name,
                    capacity,
                    group_description(config.name_prefix, desc),
                    ip_sets,
                    {"RulesString": rules_string},
                    order,
                ),
                rules_text=rules_string + "\n",
                priority=group_priority("rules", i, order),
                rule_count=used,
                variables=tuple((k, tuple(v["Definition"])) for k, v in ip_sets.items()),
            )
        )

    return groups


def domain_list_groups(
    list_shards: dict[tuple[str, ...], list[list[str]]],
    generated: dict[tuple[str, ...], list[list[SuricataRule]]],
    sids: dict[str, int],
    home: Sequence[str],
    config: AwsConfig,
) -> list[AwsRuleGroup]:
    """The ALLOWLIST domain-list groups, one per shard of each set of target types (rules as AWS generates them)."""
    order = config.rule_order
    groups: list[AwsRuleGroup] = []
    for list_key, shards in list_shards.items():
        role = LIST_ROLES[list_key]
        for i, shard in enumerate(shards):
            rules = generated[list_key][i]
            lines = [r.text(sids[shard_key(f"{role}|{r.key}", i)]) for r in rules]
            used = domain_list_capacity(len(shard), list_key)
            shard_role = role_name(role, i)
            capacity = group_capacity(shard_role, used, config)
            name = group_name(config.name_prefix, shard_role, capacity, order)
            what = {"http-host": "HTTP Host", "tls-sni": "TLS SNI", "http-tls": "HTTP Host and TLS SNI"}[role]
            names_on = {
                "http-host": "http:80",
                "tls-sni": "https:443 and tls:443",
                "http-tls": "http:80 and https:443",
            }[role]
            desc = f"{what} allowlist (domain list) for names on {names_on}"
            if order is RuleOrder.DEFAULT_ACTION_ORDER and role != "http-tls":
                desc += " only"
            if len(shards) > 1:
                desc += f" (shard {i + 1} of {len(shards)})"
            ip_sets = group_ip_sets(home, {})
            source = {
                "RulesSourceList": {
                    "Targets": list(shard),
                    "TargetTypes": list(list_key),
                    "GeneratedRulesType": "ALLOWLIST",
                }
            }
            groups.append(
                AwsRuleGroup(
                    name=name,
                    role=shard_role,
                    kind="domain-list",
                    capacity=capacity,
                    used=used,
                    request=_request(
                        name, capacity, group_description(config.name_prefix, desc), ip_sets, source, order
                    ),
                    rules_text="\n".join(lines) + "\n",
                    priority=group_priority(role, i, order),
                    rule_count=len(lines),
                    variables=tuple((k, tuple(v["Definition"])) for k, v in ip_sets.items()),
                    targets=tuple(shard),
                    target_types=list_key,
                )
            )
    return groups
