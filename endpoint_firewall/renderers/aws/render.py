"""Plan -> AWS Network Firewall stateful rule groups: ``CreateRuleGroup`` requests and Suricata rules.

Pure: no Pulumi, no network, no clock. The component (``components/aws_network_firewall.py``) deploys
exactly :func:`render_aws`'s requests; ``epfw render`` writes them as files; ``checks/suricata.py`` runs
their rules in the real Suricata engine.

Layout, per stack (a handful of groups, far below AWS's 20 stateful groups per policy, which the render checks:
``limits.statefulGroupsPerPolicy``):

* ``<prefix>-rules-<hash>``: a Suricata rules string (``RulesString``) with everything a domain list
  cannot say exactly: addresses and peers (IP set variables, ``flow:to_server``), names on other ports
  (``tls.sni``/``http.host`` with the port in the header) and, in ``exact`` mode, every name. It ends with
  the default deny (:func:`~.deny.default_deny_rules`): TLS at a complete ClientHello and HTTP
  at a complete request (so a hello split over two TCP segments is judged whole), other TCP by the first
  bytes of its stream, SYN data, server data on flows no rule passed, UDP, ICMP and other IP protocols at their first
  packet, IPv6 from outside HOME_NET. Every group sets ``HOME_NET`` and ``EXTERNAL_NET`` (its complement),
  and every render passes AWS's own rules (:mod:`.compat`) and the policy quota (``policyCapacity``).
  How the groups and the deny are ordered in each rule order, and why: docs/aws-rules.md, "Rule order".
* ``domain-list`` mode only, ALLOWLIST domain lists for names whose services are all among http:80,
  https:443, tls:443 (HTTP_HOST for http, TLS_SNI for https/tls): one group per distinct set of target types in ``DEFAULT_ACTION_ORDER`` (``<prefix>-http-host-<hash>``,
  ``<prefix>-tls-sni-<hash>``, ``<prefix>-http-tls-<hash>``), so a one-name catalogue change updates one group;
  one per protocol in ``STRICT_ORDER`` (``http-host`` at priority 200, ``tls-sni`` at 300, after the rules at
  100; :func:`_check_strict_order` keeps every drop after the passes it could take).

Shards (``-2``, ``-3``...) appear when a group would pass ``capacity_max`` (with headroom),
``rules_string_max_bytes`` or, for an IP set, ``rule_max_chars`` in one rule (variables expanded).
Names end with a hash of the replacement-forcing properties (capacity, rule order, type), so a
replacement never collides with the group it replaces, and anything else keeps the name. Capacity is
``used x (1 + capacityHeadroom)`` rounded up to a multiple of 100, unless ``capacity`` pins a role: a pinned
group keeps its capacity (and name) while what it uses fits, and the render fails once it does not.

How much an address rule carries (``addressRules``) and the flows started outside HOME_NET: docs/address-rules.md.
What these rules let through by design (a listed name at any address, the deny's pending bytes):
docs/residual-risks.md, and the summary's ``residualRisks``.
"""

from __future__ import annotations

import ipaddress
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ...config.aws_config import DEFAULT_STATEFUL_ACTIONS, AwsConfig, FqdnMode, RuleOrder
from ...planning.address_rules import AddressRules, ByName
from ...planning.rules import Plan, Rule, RuleKind
from ..findings import ADDRESS_RULE_KINDS, RESIDUAL_RISKS_DOC, Finding, plan_widened_findings, skipped_findings
from .capacity import fit_policy_capacity
from .compat import APP_LAYER_DROP_ACTIONS, AWS_RULES, GroupText
from .compat import problems as compat_problems
from .deny import deny_residuals, drop_traffic_class
from .dns import AwsDnsRender, render_aws_dns
from .groups import domain_list_groups, policy_name, rules_groups
from .layout import allocate_rule_sids, collect_rules, rule_texts, shard_lists
from .model import AwsRenderError, AwsRuleGroup, rules_file
from .suricata import domain_list_rules

DEFAULT_POLICY_ACTIONS = DEFAULT_STATEFUL_ACTIONS  # STRICT_ORDER, when the policy is not configured here


# What a name rule (a domain list, a tls.sni or http.host pass) lets through by design (the summary's
# residualRisks; docs/residual-risks.md). Route 53 resolved-IP validation would bind a name to the addresses the
# VPC's resolver returned for it: botocore 1.44.8 has it (FirewallPolicy.Route53ResolvedIPValidation, target type
# AWS_ROUTE_53_RESOLVED_DOMAIN), pulumi-aws 7.51.1 (the newest) has neither, and Suricata 7 does not know the
# aws_route_53_resolved_domain keyword, so it is not offered here (docs/residual-risks.md). Built per call, as
# deny.deny_residuals is: a summary's risks are its own to change.
def _name_residuals() -> list[dict[str, object]]:
    return [
        {
            "risk": "name-any-address",
            "bound": "unbounded",
            "text": "a name rule passes the listed name at any destination address, unbounded: a client can send the "
            "SNI or Host of a listed name to an arbitrary IP and pass with any amount of data; an absolute-URI request "
            "(GET http://listed/...) passes whatever its Host header says; once a connection is passed, later "
            "requests on it (keep-alive) are not judged; inside TLS any HTTP Host can follow a listed SNI. Route 53 "
            "resolved-IP validation would close the first part once pulumi-aws supports it",
        },
    ]


def _inbound_open() -> dict[str, object]:
    return {
        "risk": "inbound-not-judged",
        "bound": "unbounded",
        "text": "dropInbound is false: flows started outside HOME_NET towards the devices are not judged by these "
        "rules (in STRICT_ORDER only the policy's default action does)",
    }


@dataclass(frozen=True, eq=False)
class AwsRender:
    groups: tuple[AwsRuleGroup, ...]
    widened: tuple[Finding, ...]
    not_expressible: tuple[Finding, ...]
    warnings: tuple[str, ...]
    skipped: tuple[Finding, ...] = ()  # the plan's skipped entries (references, P2P without peers, ...)
    rule_order: RuleOrder = RuleOrder.DEFAULT_ACTION_ORDER
    fqdn_mode: FqdnMode = FqdnMode.DOMAIN_LIST
    source_ranges: tuple[str, ...] = ()
    stateful_default_actions: tuple[str, ...] = ()  # STRICT_ORDER: what the policy does with the rest
    policy_name: str | None = None  # the firewall policy's physical name, when the policy is created here
    ipv6: dict[str, Any] = field(default_factory=dict)  # how devices' IPv6 is handled (:func:`ipv6_handling`)
    dns: AwsDnsRender | None = None  # Route 53 Resolver DNS Firewall, when aws.dns is enabled (docs/dns.md)
    address_rules: AddressRules = AddressRules.NAMES_ONLY
    by_name: tuple[ByName, ...] = ()  # addresses left to their entries' names (addressRules names-only)
    rules: tuple[Rule, ...] = ()  # the plan's rules as rendered here: the address rules in addressRules' view
    drop_inbound: bool = True

    def files(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for group in self.groups:
            out[f"aws/{group.name}.json"] = json.dumps(group.request, indent=2, ensure_ascii=False) + "\n"
            out[f"aws/{group.name}.rules"] = rules_file(group, self.rule_order)
        if self.dns is not None:
            out.update(self.dns.files())
        return out

    def summary(self) -> dict[str, Any]:
        return {
            "ruleOrder": self.rule_order.value,
            "fqdnMode": self.fqdn_mode.value,
            "groups": [g.summary() for g in self.groups],
            "rules": sum(g.rule_count for g in self.groups),
            "capacityUsed": sum(g.used for g in self.groups),
            "capacityReserved": sum(g.capacity for g in self.groups),
            "statefulDefaultActions": list(self.stateful_default_actions),
            "firewallPolicyName": self.policy_name,
            "ipv6": self.ipv6,
            "addressRules": {"mode": self.address_rules.value, "leftToNames": [b.to_json() for b in self.by_name]},
            "dropInbound": self.drop_inbound,
            "widened": [f.to_json() for f in self.widened],
            "notExpressible": [f.to_json() for f in self.not_expressible],
            "skipped": [f.to_json() for f in self.skipped],
            "warnings": list(self.warnings),
            "residualRisks": {"explained": RESIDUAL_RISKS_DOC, "risks": self.residual_risks()},
            **({"dns": self.dns.summary()} if self.dns is not None else {}),
        }

    def residual_risks(self) -> list[dict[str, object]]:
        """What these rules let through by design (docs/residual-risks.md, "AWS"), as the summary lists it."""
        risks = _name_residuals() if _name_based(self.groups) else []
        addresses = {(f.entry, f.destination) for f in self.widened if f.kind in ADDRESS_RULE_KINDS}
        if addresses:
            entries = sorted({e for e, _ in addresses})
            risks.append(
                {
                    "risk": "address-any-name",
                    "bound": "unbounded",
                    "text": f"{len({d for _, d in addresses})} address(es) of {', '.join(entries)} take "
                    f"{'any TCP payload' if self.address_rules is AddressRules.TCP else 'a request or ClientHello for any name'}"
                    " on their listed ports (addressRules: "
                    f"{self.address_rules.value}; each is listed under widened)",
                }
            )
        if not self.drop_inbound:
            risks.append(_inbound_open())
        return risks + deny_residuals()


def render_aws(plan: Plan, config: AwsConfig) -> AwsRender:
    """Render ``plan`` as AWS Network Firewall stateful rule groups (see the module docstring)."""
    home = list(plan.source_ranges)
    if not home:
        raise AwsRenderError("the plan has no source ranges: HOME_NET would be empty")
    order = config.rule_order
    collected = collect_rules(plan, config, home)
    list_shards = shard_lists(collected, config)
    generated = {key: [domain_list_rules(shard, key) for shard in shards] for key, shards in list_shards.items()}
    sids = allocate_rule_sids(collected, generated, config)
    texts = rule_texts(collected, sids, home, config)
    groups = rules_groups(collected, texts, home, config) + domain_list_groups(
        list_shards, generated, sids, home, config
    )
    groups, trimmed = fit_policy_capacity(groups, config)
    if order is RuleOrder.STRICT_ORDER:
        _check_strict_order(groups)
        _check_default_actions(groups, config)
    _check_aws_accepts(groups, config)
    return AwsRender(
        groups=tuple(groups),
        widened=tuple(sorted(collected.widened | set(plan_widened_findings(plan)))),
        not_expressible=tuple(
            sorted(collected.not_expressible, key=lambda f: (f.entry, f.destination or "", f.reason))
        ),
        warnings=tuple(trimmed + _warnings(groups, config, plan)),
        rule_order=order,
        fqdn_mode=config.fqdn_mode,
        skipped=skipped_findings(plan),
        source_ranges=tuple(home),
        stateful_default_actions=_default_actions(config),
        policy_name=policy_name(config),
        ipv6=ipv6_handling(home, config),
        dns=render_aws_dns(plan, config.dns, config.name_prefix) if config.dns and config.dns.enabled else None,
        address_rules=config.address_rules,
        by_name=tuple(collected.by_name),
        rules=tuple(collected.rules),
        drop_inbound=config.drop_inbound,
    )


def ipv6_handling(home: Sequence[str], config: AwsConfig) -> dict[str, Any]:
    """The summary's word on IPv6 from devices: which families ``HOME_NET`` holds, and what happens to IPv6 from
    outside it (a device's IPv6 when ``sourceRanges`` are IPv4 only): ``dropped`` by the deny
    (``aws.dropIpv6OutsideHomeNet``, the default); with the setting off ``unfiltered`` in DEFAULT_ACTION_ORDER
    (no rule passes or drops it), ``policy-default-action`` in STRICT_ORDER (only the policy's default action
    judges it)."""
    families = sorted({ipaddress.ip_network(r, strict=False).version for r in home})
    if config.drop_ipv6_outside_home_net:
        outside = "dropped"
    elif config.rule_order is RuleOrder.STRICT_ORDER:
        outside = "policy-default-action"
    else:
        outside = "unfiltered"
    return {
        "homeNetFamilies": families,
        "outsideHomeNet": outside,
        "dropIpv6OutsideHomeNet": config.drop_ipv6_outside_home_net,
    }


def _check_aws_accepts(groups: Sequence[AwsRuleGroup], config: AwsConfig) -> None:
    """AWS's own rules (:mod:`.compat`): a render AWS would refuse fails here, naming group, sid and rule."""
    texts = [
        GroupText(g.name, g.rules, dict(g.variables), g.request["RuleGroup"]["RulesSource"].get("RulesString"))
        for g in groups
    ]
    found = compat_problems(
        texts,
        config.rule_order is RuleOrder.STRICT_ORDER,
        config.limits.rule_max_chars,
        config.limits.rules_string_max_bytes,
        config.limits.stateful_groups_per_policy,
    )
    if found:
        shown = "\n  ".join(str(p) for p in found[:10])
        more = f"\n  ... and {len(found) - 10} more" if len(found) > 10 else ""
        raise AwsRenderError(f"AWS would refuse {len(found)} rule(s) of these groups:\n  {shown}{more}")


def _default_actions(config: AwsConfig) -> tuple[str, ...]:
    if config.rule_order is not RuleOrder.STRICT_ORDER:
        return ()
    return tuple(config.firewall_policy.stateful_default_actions) if config.firewall_policy else DEFAULT_POLICY_ACTIONS


def _check_strict_order(groups: Sequence[AwsRuleGroup]) -> None:
    """In STRICT_ORDER the first matching rule decides: no ``drop`` may come before a ``pass`` for the same
    application protocol, else the pass is dead. Our layout guarantees it; this keeps it guaranteed. The
    default deny's ``tcp-other`` drops (TCP that starts as, or is, neither TLS nor HTTP) and ``ip-other``
    drop (neither TCP, UDP nor ICMP) cannot take a TLS, HTTP, UDP or ICMP pass's traffic."""

    def overlap(a: str, b: str, src: str) -> bool:
        if b == "outside-home":  # sources outside HOME_NET: only a pass for peers starts there
            return src != "$HOME_NET"
        if b == "udp-reply":  # passes are IP-only (whole flow) or client-side
            return False
        if b == "http-no-headers":  # the only HTTP passes after the rules group are domain lists' http.host
            return a == "ip"
        if b == "tcp-other":
            return a in ("tcp", "ip")
        if b == "ip-other":
            return a == "ip"
        over_tcp = {"tcp", "tls", "http"}
        return a == b or "ip" in (a, b) or (a in over_tcp and b in over_tcp and "tcp" in (a, b))

    seen_drops: set[str] = set()
    for group in sorted(groups, key=lambda g: g.priority or 0):
        for line in group.rules:
            action, proto, src = line.split()[:3]
            if action == "pass" and any(overlap(proto, d, src) for d in seen_drops):
                raise AwsRenderError(f"STRICT_ORDER: {group.name} passes {proto} after a drop of it: {line}")
            if action == "drop":
                seen_drops.add(drop_traffic_class(line))


def _name_based(groups: Sequence[AwsRuleGroup]) -> bool:
    """Whether any rule passes on a TLS SNI or HTTP Host (which needs the handshake to complete first)."""
    return any(
        g.kind == "domain-list" or any(line.split()[:2] in (["pass", "tls"], ["pass", "http"]) for line in g.rules)
        for g in groups
    )


def _check_default_actions(groups: Sequence[AwsRuleGroup], config: AwsConfig) -> None:
    policy = config.firewall_policy
    if policy is not None and policy.drop_action == "aws:drop_strict" and _name_based(groups):
        raise AwsRenderError(
            "firewallPolicy.statefulDefaultActions has aws:drop_strict, which drops every packet no rule passes, "
            "TCP handshakes included: the TLS SNI and HTTP Host rules here never see a ClientHello or request. "
            "Use aws:drop_established_app_layer"
        )


def _warnings(groups: Sequence[AwsRuleGroup], config: AwsConfig, plan: Plan) -> list[str]:
    out = []
    if config.rule_order is RuleOrder.STRICT_ORDER:
        actions = _default_actions(config)
        drop = next((a for a in actions if a.startswith("aws:drop_")), None)
        if drop in APP_LAYER_DROP_ACTIONS:
            caveat = AWS_RULES["app-layer-session-holding"]
            out.append(
                f"STRICT_ORDER with {drop}: do not turn on session holding for this firewall; AWS: "
                f'"{caveat.says}" ({caveat.source})'
            )
        if drop is None:
            out.append(
                f"STRICT_ORDER without a drop default action ({', '.join(actions) or 'none'}): traffic "
                "that no rule drops is allowed (allowAlertOnly)"
            )
        elif drop == "aws:drop_established" and _name_based(groups):
            out.append(
                "STRICT_ORDER with aws:drop_established: a TLS ClientHello spanning two TCP segments (common "
                "with post-quantum key shares) is dropped at its first segment, before its SNI can be "
                "matched, so listed hosts fail; use aws:drop_established_app_layer"
            )
        if config.firewall_policy is None:
            out.append(
                f"STRICT_ORDER: the firewall policy is managed elsewhere; these groups assume its stateful "
                f"default actions are {', '.join(actions)} (aws:drop_established drops split TLS "
                "ClientHellos of listed hosts; aws:drop_strict drops the handshakes name rules need)"
            )
    by_role = {g.role for g in groups}
    for role in sorted(set(config.capacity) - by_role):
        out.append(f"capacity pins {role}, but this render has no {role} group")
    for g in groups:
        if g.role in config.capacity and g.capacity < math.ceil(g.used * (1 + Fraction(str(config.capacity_headroom)))):
            out.append(
                f"group {g.role} uses {g.used} of its pinned capacity {g.capacity}: less headroom than "
                f"capacityHeadroom ({config.capacity_headroom}); raise the pin before it fills (a replacement)"
            )
    out += _ipv6_warnings(plan, config)
    return out


def _ipv6_warnings(plan: Plan, config: AwsConfig) -> list[str]:
    """Addresses of the other family than every source range: devices reach them from addresses outside
    HOME_NET. IPv6 from outside HOME_NET is dropped by the deny (``dropIpv6OutsideHomeNet``, the default), so
    the listed IPv6 addresses are unreachable until the devices' IPv6 ranges join sourceRanges; IPv4 from outside
    HOME_NET (an IPv6-only HOME_NET) no rule here judges."""
    families = {ipaddress.ip_network(r, strict=False).version for r in plan.source_ranges}
    out = []
    for version in (6, 4):
        if version in families:
            continue
        listed = sorted(
            {
                d
                for r in plan.rules
                if r.kind in (RuleKind.ADDRESS, RuleKind.PEER)
                for d in r.destinations
                if _family(d) == version
            }
        )
        if not listed:
            continue
        head = (
            f"the catalogue or peers list IPv{version} destinations ({', '.join(listed[:3])}"
            f"{', ...' if len(listed) > 3 else ''}) but no source range is IPv{version}: devices' "
            f"IPv{version} traffic is not in HOME_NET, "
        )
        if version == 6 and config.drop_ipv6_outside_home_net:
            out.append(
                head + "so the deny drops it (dropIpv6OutsideHomeNet) and these IPv6 destinations are "
                "unreachable. Add the devices' IPv6 ranges to sourceRanges"
            )
        else:
            out.append(
                head + "so these rules neither pass nor drop it (in DEFAULT_ACTION_ORDER nothing filters it; "
                "in STRICT_ORDER only the policy's default action does). Add the devices' "
                f"IPv{version} ranges to sourceRanges, or keep IPv{version} away from the firewall"
            )
    return out


def _family(value: str) -> int | None:
    """6 or 4 for the plan's canonical CIDRs (a cheap test: this runs once per address), None otherwise."""
    if "/" not in value:
        return None
    return 6 if ":" in value else 4
