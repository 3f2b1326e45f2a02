"""Pulumi component: a plan's Azure Firewall rules, from exactly the bodies ``render_azure`` writes to files.

``AzureFirewallRules`` renders first (a :class:`~endpoint_firewall.renderers.azure.model.RenderError` or a
bad argument registers nothing), then creates, all as its children:

- target ``policy``: with ``createPolicy`` a ``FirewallPolicy`` (SKU tier; ``dnsSettings.enableProxy`` when
  ``dnsProxy``), the ``IpGroup``s, and one ``FirewallPolicyRuleCollectionGroup`` per rendered group on the
  policy (created here or existing, by name).
- target ``classic``: the ``IpGroup``s and the ``AzureFirewall`` itself. Classic rule collections are
  properties of the AzureFirewall resource, not resources of their own, so this component manages the
  whole firewall: ``AzureFirewallRulesArgs.firewall_args`` passes the rest of its definition through
  (``location``, ``sku``, ``ip_configurations``, ...: keyword arguments of ``network.AzureFirewall``); the
  component adds the name, resource group and rule collections, and with ``dnsProxy`` the
  ``Network.DNS.EnableProxy`` additional property. Import an existing firewall before adopting it.

Names and ids of what the rules attach to may be Pulumi inputs (``rg.name``, another stack's output):
``AzureFirewallRulesArgs.resource_group_name``, ``policy_name``, ``firewall_name`` and ``location`` (of the IP
Groups) override the config's values and are passed through to the children as they are. The catalogue, the
selection and the ranges stay plain: they decide what is registered. The render measures and names everything
with placeholders where a name is not yet known (``{resourceGroupName}``...); each IP Group id placeholder is
replaced by that ``IpGroup``'s ``id`` output anyway. ``tags`` go on every child that takes tags (the policy, the
IP Groups, the classic firewall; rule collection groups take none).

Deleting and replacing (``config.on_delete``, :mod:`.lifecycle`): the policy the stack creates (or the classic
firewall) is retained by default, so removing ``createPolicy`` never deletes a policy and every group on it; the
rule collection groups on a policy the stack does not create are protected by default, so removing a service area
or renaming a group fails in preview, naming the group, instead of deleting from a shared policy.

Every IP Group and group depends on the one before it (after the policy): Azure refuses concurrent writes
to one policy (``AnotherOperationInProgress``), and since Pulumi deletes a resource before what it
depends on, the same chain also serialises deletions.

The rule collections are the render's ARM bodies, converted key by key (camelCase -> snake_case) into the
SDK's Args classes, with each IP Group id placeholder (``/subscriptions/{subscriptionId}/...``) replaced by
that ``IpGroup``'s ``id`` output.
Child names are part of the deployed state. Once released, a renamed child keeps its old name as an alias
(``opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(name="<old name>")])``) so that Pulumi updates it in
place instead of replacing it. A consumer's ``opts`` (provider, protect, ...) reach every child through
``parent=self``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_azure_native.network as network

from ..config.azure_config import AZURE_NAMES, AzureConfig, AzureTarget, missing_azure_names
from ..planning.rules import Plan
from ..renderers.azure.model import replace_ids
from ..renderers.azure.render import AzureRender, render_azure
from .lifecycle import Lifecycle, Tags, lifecycle_options, merged_tags

COMPONENT_TYPE = "endpoint-firewall:azure:FirewallRules"
DNS_PROXY_PROPERTY = "Network.DNS.EnableProxy"  # classic firewalls: DNS proxy is an additional property
MANAGED_FIREWALL_ARGS = {
    "azure_firewall_name",
    "resource_group_name",
    "application_rule_collections",
    "network_rule_collections",
    "firewall_policy",
}


@dataclass(frozen=True)
class AzureFirewallRulesArgs:
    plan: Plan
    config: AzureConfig
    firewall_args: Mapping[str, Any] | None = None  # target classic: the rest of the AzureFirewall's definition
    render: AzureRender | None = None  # render_azure(plan, config), when the caller rendered already
    # Inputs that override the config's names (e.g. ResourceGroup("rg").name): passed through to the children
    resource_group_name: pulumi.Input[str] | None = None
    policy_name: pulumi.Input[str] | None = None
    firewall_name: pulumi.Input[str] | None = None  # target classic
    location: pulumi.Input[str] | None = None  # region of the IP Groups
    tags: Tags | None = None  # on every child that takes tags


# Stand-ins the render names things with when the real name is an Output (not known while the program runs)
PLACEHOLDERS = {
    "resource_group_name": "{resourceGroupName}",
    "policy_name": "{policyName}",
    "firewall_name": "{firewallName}",
    "location": "{location}",
}


@dataclass(frozen=True)
class AzureNames:
    """What the rules attach to, each the argument's input if given, else the config's value."""

    resource_group_name: pulumi.Input[str]
    policy_name: pulumi.Input[str] | None
    firewall_name: pulumi.Input[str] | None
    location: pulumi.Input[str] | None  # of the IP Groups

    @classmethod
    def of(cls, args: AzureFirewallRulesArgs) -> AzureNames:
        config = args.config
        given = frozenset(n for n, v in zip(AZURE_NAMES, _name_args(args), strict=True) if v is not None)
        missing = missing_azure_names(config, given)
        if missing:
            raise ValueError(
                "; ".join(f"{key}: {message}" for key, message in missing)
                + " (set it in the azure config or pass it to AzureFirewallRulesArgs)"
            )
        firewall_args = args.firewall_args or config.firewall_args or {}
        classic_location = firewall_args.get("location") if config.target is AzureTarget.CLASSIC else None
        rg = args.resource_group_name if args.resource_group_name is not None else config.resource_group_name
        assert rg is not None  # missing_azure_names said so
        return cls(
            resource_group_name=rg,
            policy_name=args.policy_name if args.policy_name is not None else config.policy_name,
            firewall_name=args.firewall_name if args.firewall_name is not None else config.firewall_name,
            location=next(
                (
                    v
                    for v in (
                        args.location,
                        config.location,
                        config.create_policy.location if config.create_policy else None,
                        classic_location,
                    )
                    if v is not None
                ),
                None,
            ),
        )

    def render_config(self, config: AzureConfig) -> AzureConfig:
        """``config`` with these names, a placeholder for each one that is not a plain string."""
        update = {
            key: value if isinstance(value, str) else PLACEHOLDERS[key]
            for key, value in vars(self).items()
            if value is not None
        }
        return config.model_copy(update=update)


def _name_args(args: AzureFirewallRulesArgs) -> tuple[Any, Any, Any]:
    """The arguments giving the names of ``AZURE_NAMES``, in that order."""
    return args.resource_group_name, args.policy_name, args.firewall_name


class AzureFirewallRules(pulumi.ComponentResource):
    """The rule collection groups (or classic rule collections) and IP Groups of one plan on Azure."""

    render: AzureRender
    group_names: pulumi.Output[list[str]]
    group_ids: pulumi.Output[list[str]]
    ip_group_ids: pulumi.Output[dict[str, str]]
    rule_count: pulumi.Output[int]
    not_expressible: pulumi.Output[list[dict[str, Any]]]
    outputs: dict[str, pulumi.Output[Any]]

    def __init__(self, name: str, args: AzureFirewallRulesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        config = args.config
        names = AzureNames.of(args)
        render = args.render or render_azure(args.plan, names.render_config(config))
        target = AzureTarget(config.target)
        if target is AzureTarget.CLASSIC:
            _check_firewall_args(args.firewall_args)
        super().__init__(COMPONENT_TYPE, name, None, opts)
        self.render = render
        rg = names.resource_group_name
        tags = merged_tags(args.tags)
        chain: list[pulumi.Resource] = []

        def child(lifecycle: Lifecycle | None = None) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, depends_on=chain[-1:], **(lifecycle or {}))

        container = lifecycle_options(config.on_delete.policy)  # the created policy, or the classic firewall
        policy_id: pulumi.Output[str] | None = None
        if target is AzureTarget.POLICY and config.create_policy:
            policy = network.FirewallPolicy(
                f"{name}-policy",
                resource_group_name=rg,
                firewall_policy_name=names.policy_name,
                location=config.create_policy.location,
                sku={"tier": config.tier},
                dns_settings={"enable_proxy": True} if config.dns_proxy else None,
                tags=tags,
                opts=child(container),
            )
            chain.append(policy)
            policy_id = policy.id

        ip_ids: dict[str, pulumi.Output[str]] = {}
        ip_by_name: dict[str, pulumi.Output[str]] = {}
        for ipg in render.ip_groups:
            resource = network.IpGroup(
                f"{name}-ipg-{ipg.name}",
                resource_group_name=rg,
                ip_groups_name=ipg.name,
                ip_addresses=list(ipg.addresses),
                location=names.location,
                tags=tags,
                opts=child(),
            )
            chain.append(resource)
            ip_ids[ipg.id] = ip_by_name[ipg.name] = resource.id

        groups: list[network.FirewallPolicyRuleCollectionGroup] = []
        firewall_id: pulumi.Output[str] | None = None
        if target is AzureTarget.POLICY:
            for g in render.groups:
                resource = network.FirewallPolicyRuleCollectionGroup(
                    f"{name}-{g.name}",
                    resource_group_name=rg,
                    firewall_policy_name=names.policy_name,
                    rule_collection_group_name=g.name,
                    priority=g.priority,
                    rule_collections=policy_collections(g.body["properties"]["ruleCollections"], ip_ids),
                    opts=child(lifecycle_options(config.groups_on_delete)),
                )
                chain.append(resource)
                groups.append(resource)
        else:
            assert render.classic is not None
            fw_args = dict(args.firewall_args or {})
            if config.dns_proxy:
                fw_args["additional_properties"] = {
                    **(fw_args.get("additional_properties") or {}),
                    DNS_PROXY_PROPERTY: "true",
                }
            fw_tags = merged_tags(args.tags, fw_args.pop("tags", None))
            if fw_tags is not None:
                fw_args["tags"] = fw_tags
            firewall = network.AzureFirewall(
                f"{name}-firewall",
                **fw_args,
                resource_group_name=rg,
                azure_firewall_name=names.firewall_name,
                application_rule_collections=classic_collections(
                    render.classic["applicationRuleCollections"], "application", ip_ids
                ),
                network_rule_collections=classic_collections(
                    render.classic["networkRuleCollections"], "network", ip_ids
                ),
                opts=child(container),
            )
            chain.append(firewall)
            firewall_id = firewall.id

        summary = render.summary()
        self.group_names = pulumi.Output.from_input([g.name for g in render.groups])
        self.group_ids = pulumi.Output.all(*[g.id for g in groups]) if groups else pulumi.Output.from_input([])
        self.ip_group_ids = pulumi.Output.all(**ip_by_name) if ip_by_name else pulumi.Output.from_input({})
        self.rule_count = pulumi.Output.from_input(render.rule_count)
        self.not_expressible = pulumi.Output.from_input(summary["notExpressible"])
        self.outputs = {
            "groupNames": self.group_names,
            "groupIds": self.group_ids,
            "ipGroupIds": self.ip_group_ids,
            "ruleCount": self.rule_count,
            "notExpressible": self.not_expressible,
            "widened": pulumi.Output.from_input(summary["widened"]),
            "skipped": pulumi.Output.from_input(summary["skipped"]),
            "onDelete": pulumi.Output.from_input(
                {"policy": config.on_delete.policy.value, "groups": config.groups_on_delete.value}
            ),
        }
        if policy_id is not None:
            self.outputs["policyId"] = policy_id
        if firewall_id is not None:
            self.outputs["firewallId"] = firewall_id
        self.register_outputs(self.outputs)


def _check_firewall_args(firewall_args: Mapping[str, Any] | None) -> None:
    if firewall_args is None:
        raise ValueError(
            "target classic: the component manages the AzureFirewall resource itself (classic rule "
            "collections are its properties); pass the rest of its definition as firewall_args "
            "(location, sku, ip_configurations, ...)"
        )
    clash = sorted(MANAGED_FIREWALL_ARGS & set(firewall_args))
    if clash:
        raise ValueError(
            f"firewall_args must not set {clash}: the component sets the name, resource group and "
            "rule collections, and a firewall with a policy takes no classic rules"
        )


_FIRST_CAP = re.compile(r"(.)([A-Z][a-z]+)")
_ALL_CAP = re.compile(r"([a-z0-9])([A-Z])")


def snake(key: str) -> str:
    """ARM camelCase -> the SDK's snake_case (``ruleCollectionType`` -> ``rule_collection_type``)."""
    return _ALL_CAP.sub(r"\1_\2", _FIRST_CAP.sub(r"\1_\2", key)).lower()


def with_ip_group_ids(value: Any, ip_ids: Mapping[str, pulumi.Output[str]]) -> Any:
    """``value`` with every IP Group id placeholder replaced by that IP Group's ``id`` output."""
    return replace_ids(value, ip_ids)


Converter = Callable[[Any], Any]


def _args(cls: type, data: Mapping[str, Any], nested: Mapping[str, Converter] | None = None) -> Any:
    """An SDK Args object from an ARM dict: keys snake_cased (an unknown key fails in the constructor)."""
    nested = nested or {}
    return cls(**{snake(k): (nested[k](v) if k in nested else v) for k, v in data.items()})


def _each(convert: Converter) -> Converter:
    return lambda values: [convert(v) for v in values]


def _policy_rule(rule: Mapping[str, Any]) -> Any:
    if rule["ruleType"] == "ApplicationRule":
        return _args(
            network.ApplicationRuleArgs,
            rule,
            {"protocols": _each(lambda p: _args(network.FirewallPolicyRuleApplicationProtocolArgs, p))},
        )
    if rule["ruleType"] == "NetworkRule":
        return _args(network.NetworkRuleArgs, rule)
    raise ValueError(f"rule type {rule['ruleType']!r} is not rendered here")


def policy_collections(collections: list[dict[str, Any]], ip_ids: Mapping[str, pulumi.Output[str]]) -> list[Any]:
    """A group's ``ruleCollections`` (ARM) as ``FirewallPolicyFilterRuleCollectionArgs``.

    Args objects rather than dicts: the SDK types ``rule_collections`` as a union of collection kinds, and a
    plain dict in a union-typed list reaches the provider with its keys untranslated.
    """
    out = []
    for c in with_ip_group_ids(collections, ip_ids):
        if c["ruleCollectionType"] != "FirewallPolicyFilterRuleCollection":
            raise ValueError(f"rule collection type {c['ruleCollectionType']!r} is not rendered here")
        out.append(
            _args(
                network.FirewallPolicyFilterRuleCollectionArgs,
                c,
                {
                    "action": lambda a: _args(network.FirewallPolicyFilterRuleCollectionActionArgs, a),
                    "rules": _each(_policy_rule),
                },
            )
        )
    return out


def classic_flat(collections: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Classic collections as the SDK takes them: ``properties`` flattened (``x-ms-client-flatten``)."""
    return [{"name": c["name"], **c["properties"]} for c in collections]


def classic_collections(
    collections: list[dict[str, Any]], kind: str, ip_ids: Mapping[str, pulumi.Output[str]]
) -> list[Any]:
    """Classic ``applicationRuleCollections`` or ``networkRuleCollections`` (ARM) as SDK Args objects."""
    if kind == "application":
        collection, rule = (
            network.AzureFirewallApplicationRuleCollectionArgs,
            lambda r: _args(
                network.AzureFirewallApplicationRuleArgs,
                r,
                {"protocols": _each(lambda p: _args(network.AzureFirewallApplicationRuleProtocolArgs, p))},
            ),
        )
    else:
        collection, rule = (
            network.AzureFirewallNetworkRuleCollectionArgs,
            lambda r: _args(network.AzureFirewallNetworkRuleArgs, r),
        )
    return [
        _args(collection, c, {"action": lambda a: _args(network.AzureFirewallRCActionArgs, a), "rules": _each(rule)})
        for c in with_ip_group_ids(classic_flat(collections), ip_ids)
    ]
