"""Deployment guardrails over the resources the components register: CrossGuard policies and ``epfw preview``.

The same checks run in two places:

* ``pulumi preview/up --policy-pack policy`` (CrossGuard): ``policy/__main__.py`` builds a ``PolicyPack``
  from :func:`pulumi_policies` (``pack.py``), which wraps the plain check functions for ``pulumi_policy``;
* ``epfw preview``: :func:`validate_resources` (``preview.py``) over the records ``preview/mock_runner.py``
  makes under mocks.

One job per module; this package re-exports the public names, so ``endpoint_firewall.guardrails`` is the
import path: ``props`` (readers over props and config), ``addresses`` (what every address looks like, unions
included), ``host_names`` (what every name / too wide a name pattern looks like), ``suricata_text`` (a small
Suricata rule reader), ``azure_rules`` (walking Azure rule collections), ``resource_checks``, ``stack_checks``,
``dns_checks`` (the DNS layer's stack checks), ``preview`` and ``pack``. Resource type tokens come from ``endpoint_firewall.components.resource_types``.

Resource checks are plain functions ``check(resource_type, props, config=None) -> list[str]`` over the
resource's *inputs* with camelCase keys (what CrossGuard's resource validation and the mock records both
see). Stack checks take a list of :class:`StackResource`. Every policy is **mandatory** by default, but
``allow-any-exception`` and ``dns-alert-only`` (advisory).

Policies (names as in the pack; override enforcement per policy with ``--policy-pack-config``):

``no-allow-any``
    No allow rule to ``*``, ``0.0.0.0/0``, ``::/0`` (any prefix-0 network, an address range covering every
    address, the ``Internet`` service tag, or values that only *together* cover a whole family, such as
    ``0.0.0.0/1`` + ``128.0.0.0/1``: the union of a rule's, IP set's or IP Group's addresses is checked, per
    family) or from such sources: Azure application and network rules of
    ``Allow`` collections (``targetFqdns``, ``targetUrls``, ``destinationAddresses``, ``destinationFqdns``,
    ``sourceAddresses``), classic ``AzureFirewall`` collections, IP Groups' ``ipAddresses``, AWS
    ``ALLOWLIST`` domain lists (``.``, ``*``), AWS Suricata ``pass`` rules whose destination (or source)
    is ``any``/``0.0.0.0/0``/a negation/an IP set defined as every address/``$EXTERNAL_NET`` without a
    host-name match, 5-tuple ``PASS`` rules and stateless ``aws:pass`` rules with any destination.
    Deny and DNAT collections are not allow rules and are not checked. Rules named in the config's
    ``allowAnyExceptions`` (rule name -> justification; an Azure rule's name, the first word of an AWS pass
    rule's msg; an IP set counts when every pass rule using it is named) are left to ``allow-any-exception``.
``allow-any-exception`` (advisory)
    The declared exceptions: rules that reach every destination because a catalogue entry has ``allow_any``
    with a written justification, each named with that justification. ``epfw render`` writes the declaration
    to ``policy-config.json`` (``program/allow_any.py``); ``epfw preview`` passes the same.
``no-public-suffix-wildcard``
    No wildcard on a public suffix (``*.com``, ``*.co.uk``, ``.azurewebsites.net`` in a domain list, a
    Suricata host match that is a suffix match on a public suffix), judged by
    ``endpoint_firewall.endpoints.names.is_public_suffix`` (the catalogue's own rule), on allow rules. Nor
    a name pattern that reaches past a label boundary, which is a wildcard over the suffix too: a ``*``
    other than a whole left-most label ``*.`` (``*contoso.com`` also matches ``evilcontoso.com``), and a
    Suricata pass rule whose host matches have no anchor: an exact name (``startswith; endswith``) or a
    suffix starting with a dot (``content:".x.com"; endswith``, with or without ``dotprefix``);
    ``content:"x.com"; endswith`` also matches ``evilx.com``, an unanchored content ``x.com.evil.example``.
``network-fqdn-needs-dns-proxy`` (resource) and ``network-fqdn-needs-dns-proxy-stack`` (stack)
    A network rule with ``destinationFqdns`` needs the firewall's DNS proxy. A classic ``AzureFirewall``
    carries the setting itself (``additionalProperties["Network.DNS.EnableProxy"]``): checked per
    resource. A rule collection group does not: its policy's ``dnsSettings.enableProxy`` is checked by the
    stack policy when the ``FirewallPolicy`` is in the stack. For a policy managed outside the stack, declare
    it in the pack config, under both policy names: ``{"externalPolicies": {"<policy name>": {"dnsProxy":
    true|false}}}``; the resource policy then judges each group on it, and the stack policy refuses groups
    whose policy is neither in the stack nor declared (the proxy cannot be verified).
``rule-groups-serialized`` (stack)
    Azure refuses concurrent writes to one Firewall Policy, its rule collection groups and the IP Groups
    its rules reference. The members of each policy, in stack order, must each depend (directly or
    through other resources) on the previous one. CrossGuard's ``PolicyResource.dependencies`` gives the
    dependency graph; mock records give it only when the runner records ``urn`` and ``dependencies``
    (otherwise :func:`validate_resources` reports an advisory note that it could not check).
``dns-no-allow-all`` (stack) and ``dns-alert-only`` (stack, advisory)
    The DNS layer (docs/dns.md, ``dns_checks.py``): no allow rule of Route 53 Resolver DNS Firewall or an Azure DNS
    security policy whose domain lists hold every name (``*``, ``.``) or every name under a public suffix (AWS
    ``*.com``; Azure ``com``, since an Azure entry matches its domain and all below it); and, advisory, a catch-all
    rule that only alerts (the layer's rollout: every name still resolves).
``aws-capacity-headroom``
    An AWS rule group's fixed ``capacity`` exceeds what its rules use: one per Suricata rule and 5-tuple
    rule, ``(domains x target types) + target types`` for a domain list (AWS's observed accounting), the
    product of match-setting sizes per stateless rule. Config ``minHeadroom`` (fraction, default 0) asks
    for more: ``capacity >= used * (1 + minHeadroom)`` as well as ``capacity > used``.
"""

from __future__ import annotations

from ..components.resource_types import AWS_RULE_GROUP, AZURE_FIREWALL, AZURE_GROUP, AZURE_IP_GROUP, AZURE_POLICY
from ..renderers.suricata_text import ParsedRule, parse_suricata
from .addresses import address_networks, covered_families, is_any_address, union_only_families
from .pack import CONFIG_SCHEMAS, POLICY_DESCRIPTIONS, pulumi_policies
from .preview import ADVISORY, MANDATORY, Violation, validate_resources
from .props import Config
from .resource_checks import (
    ADVISORY_POLICIES,
    RESOURCE_CHECKS,
    RESOURCE_TYPES,
    check_allow_any_exception,
    check_aws_capacity,
    check_network_fqdn_dns_proxy,
    check_no_allow_any,
    check_no_public_suffix_wildcard,
    rules_capacity,
    validate_resource,
)
from .stack_checks import (
    STACK_CHECKS,
    StackFinding,
    StackResource,
    check_stack_dns_proxy,
    check_stack_serialized,
    policy_members,
)

__all__ = [
    "ADVISORY",
    "ADVISORY_POLICIES",
    "AWS_RULE_GROUP",
    "AZURE_FIREWALL",
    "AZURE_GROUP",
    "AZURE_IP_GROUP",
    "AZURE_POLICY",
    "CONFIG_SCHEMAS",
    "Config",
    "MANDATORY",
    "POLICY_DESCRIPTIONS",
    "RESOURCE_CHECKS",
    "RESOURCE_TYPES",
    "STACK_CHECKS",
    "StackFinding",
    "StackResource",
    "ParsedRule",
    "Violation",
    "address_networks",
    "check_allow_any_exception",
    "check_aws_capacity",
    "check_network_fqdn_dns_proxy",
    "check_no_allow_any",
    "check_no_public_suffix_wildcard",
    "check_stack_dns_proxy",
    "check_stack_serialized",
    "covered_families",
    "is_any_address",
    "parse_suricata",
    "policy_members",
    "pulumi_policies",
    "rules_capacity",
    "union_only_families",
    "validate_resource",
    "validate_resources",
]
