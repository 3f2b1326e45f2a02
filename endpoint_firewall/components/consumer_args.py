"""Arguments of the cross-language components, as TypedDicts of primitives, and the plan they build.

Pulumi's component provider (``components/provider.py``) infers the package schema from these TypedDicts:
each field is an input, the string under it its description. What decides the rules (catalogue, selection, ranges,
the cloud's settings) is plain: the plan is computed when the component is constructed, so those values must be
known then. The names of what the rules attach to (resource group, policy, firewall, the IP Groups' location) and
the tags are ``pulumi.Input``: another resource's output, passed through to the children (:data:`INPUT_NAMES`).

No ``from __future__ import annotations`` here: the schema analyzer reads the annotations as types.
"""

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import pulumi

from ..config.stack_config import NAMESPACE, ConfigError, StackConfig, parse
from ..endpoints.errors import Problem
from ..endpoints.loader import Catalogue, load_catalogue, load_sources, read_text
from ..planning.planner import build_plan
from ..planning.rules import Plan
from ..planning.selection import unknown_names
from ..planning.tenant_wildcards import instance_problems


class EgressSelectionArgs(TypedDict):
    """Which catalogue entries to deploy; an omitted filter keeps everything."""

    service_areas: NotRequired[list[str] | None]
    """Service area ids to deploy (for example intune-core, wns); omitted: every area."""
    regions: NotRequired[list[str] | None]
    """Region tags to deploy (for example north-america); entries without regions are always kept."""
    include_optional: NotRequired[bool | None]
    """Also deploy entries the catalogue marks optional (default false)."""
    entries: NotRequired[list[str] | None]
    """An explicit list of entry ids to deploy; omitted: every entry the other filters keep."""
    shared_tenant_wildcards: NotRequired[str | None]
    """exact (default): a wildcard under which anyone can create an instance (*.webpubsub.azure.com) is left out and the exact names its entry lists are deployed; allow: it is deployed too, reported as open to any tenant."""
    tenant_instances: NotRequired[list[str] | None]
    """Your tenant's own instances under such wildcards (e.g. its Remote Help web pubsub), deployed with the wildcard's services and entries."""


# The two args types repeat the common fields on purpose: the schema analyzer takes each field's
# description from the source of the class it analyzes, not from a base class.


class AzureEgressRulesArgs(TypedDict):
    """Arguments of AzureEgressRules."""

    source_ranges: list[str]
    """CIDRs of the managed devices whose egress the rules allow (HOME_NET). 0.0.0.0/0 and ::/0 are refused."""
    peer_ranges: NotRequired[list[str] | None]
    """CIDRs of peers for peer-to-peer entries (Delivery Optimization); omitted: no peer-to-peer rules."""
    catalogue_yaml: NotRequired[list[str] | None]
    """Catalogue files as YAML text, one per file; with cataloguePaths also omitted, the shipped catalogue."""
    catalogue_paths: NotRequired[list[str] | None]
    """Catalogue file paths, relative to the provider's working directory (the consumer's project)."""
    selection: NotRequired[EgressSelectionArgs | None]
    """Which catalogue entries to deploy; omitted: all of them."""
    azure: dict[str, Any]
    """Azure settings: the keys of a stack file's endpoint-firewall:azure (target, resourceGroupName, policyName, createPolicy, dnsProxy, dns, ...); with dns, the DNS security policy too."""
    firewall_args: NotRequired[dict[str, Any] | None]
    """Target classic only: the rest of the AzureFirewall's definition (location, sku, ipConfigurations, ...)."""
    resource_group_name: NotRequired[pulumi.Input[str] | None]
    """The resource group of the policy (or classic firewall) and the IP Groups; overrides azure.resourceGroupName."""
    policy_name: NotRequired[pulumi.Input[str] | None]
    """The Firewall Policy the rule collection groups go on (or the one createPolicy creates); overrides azure.policyName."""
    firewall_name: NotRequired[pulumi.Input[str] | None]
    """Target classic: the AzureFirewall's name; overrides azure.firewallName."""
    location: NotRequired[pulumi.Input[str] | None]
    """The Azure region of the IP Groups; overrides azure.location (default createPolicy.location or firewallArgs.location)."""
    tags: NotRequired[pulumi.Input[dict[str, str]] | None]
    """Tags on every resource that takes them (the policy, the IP Groups, the classic firewall, the DNS security policy's resources)."""


class AwsEgressRulesArgs(TypedDict):
    """Arguments of AwsEgressRules."""

    source_ranges: list[str]
    """CIDRs of the managed devices whose egress the rules allow (HOME_NET). 0.0.0.0/0 and ::/0 are refused."""
    peer_ranges: NotRequired[list[str] | None]
    """CIDRs of peers for peer-to-peer entries (Delivery Optimization); omitted: no peer-to-peer rules."""
    catalogue_yaml: NotRequired[list[str] | None]
    """Catalogue files as YAML text, one per file; with cataloguePaths also omitted, the shipped catalogue."""
    catalogue_paths: NotRequired[list[str] | None]
    """Catalogue file paths, relative to the provider's working directory (the consumer's project)."""
    selection: NotRequired[EgressSelectionArgs | None]
    """Which catalogue entries to deploy; omitted: all of them."""
    aws: dict[str, Any]
    """AWS settings: the keys of a stack file's endpoint-firewall:aws (namePrefix, ruleOrder, fqdnMode, capacityHeadroom, firewallPolicy, dns, ...); with dns, the DNS Firewall too."""
    tags: NotRequired[pulumi.Input[dict[str, str]] | None]
    """Tags on every resource that takes them (the rule groups, the policy, the DNS Firewall's lists, rule group and associations)."""


# The args that may be Outputs (passed through to the children), by their Python names; every other arg is plain.
INPUT_NAMES = {"resource_group_name": "resourceGroupName", "policy_name": "policyName", "firewall_name": "firewallName"}
PASSED_THROUGH = frozenset({*INPUT_NAMES, "location", "tags"})


def _plain(value: Any) -> Any:
    """Mappings and sequences as dicts and lists (the provider may hand over its own container types)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [_plain(v) for v in value]
    return value


def stack_config(args: Mapping[str, Any], cloud: str, origin: str) -> StackConfig:
    """The args validated exactly as a stack file's ``endpoint-firewall:`` namespace (camel or snake keys); the
    names given as inputs (:data:`INPUT_NAMES`) need not be in the cloud's settings. Target classic: the
    firewall's definition (``firewall_args``) is the settings' ``firewallArgs``, as in a stack file, so that its
    ``location`` places the IP Groups."""
    settings = _plain(args.get(cloud))
    if cloud == "azure" and isinstance(settings, dict) and args.get("firewall_args") is not None:
        settings = {**settings, "firewallArgs": _firewall_args(args["firewall_args"])}
    values: dict[str, Any] = {"sourceRanges": _plain(args.get("source_ranges")), cloud: settings}
    if args.get("peer_ranges") is not None:
        values["peerRanges"] = _plain(args["peer_ranges"])
    if args.get("selection") is not None:
        values["selection"] = _plain(args["selection"])
    given = frozenset(camel for name, camel in INPUT_NAMES.items() if args.get(name) is not None)
    return parse({k: v for k, v in values.items() if v is not None}, origin, given=given)


def _firewall_args(value: Mapping[str, Any]) -> dict[str, Any]:
    """The firewall's definition with the SDK's snake_case keys (its values may be Outputs, kept as they are)."""
    from .azure_firewall import snake

    return {snake(k): v for k, v in dict(value).items()}


def load_args_catalogue(args: Mapping[str, Any], origin: str) -> Catalogue:
    """The catalogue named by ``catalogue_yaml`` and ``catalogue_paths``; neither: the shipped one."""
    texts = list(args.get("catalogue_yaml") or [])
    paths = [Path(p) for p in args.get("catalogue_paths") or []]
    if not texts and not paths:
        return load_catalogue()
    sources = [(f"{origin}: catalogueYaml[{i}]", _given(text)) for i, text in enumerate(texts)]
    sources += [(str(p), partial(read_text, p)) for p in paths]
    return load_sources(sources)


def _given(text: str) -> Callable[[], str]:
    return lambda: text


def plan_from_args(args: Mapping[str, Any], cloud: str, origin: str) -> tuple[Plan, StackConfig]:
    """Validate the args, load the catalogue and build the plan, or raise a located error naming ``origin``."""
    config = stack_config(args, cloud, origin)
    catalogue = load_args_catalogue(args, origin)
    selection = config.selection.to_selection()
    problems = [Problem(origin, 1, f"{NAMESPACE}:selection", p) for p in unknown_names(catalogue, selection)]
    problems += [
        Problem(origin, 1, f"{NAMESPACE}:selection.tenantInstances[{i}]", p)
        for i, p in instance_problems(catalogue, selection)
    ]
    if problems:
        raise ConfigError(problems)
    plan = build_plan(catalogue, selection, config.source_ranges, config.peer_ranges)
    return plan, config
