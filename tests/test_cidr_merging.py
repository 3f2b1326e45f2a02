"""Merging addresses never widens nor loses them (docs/rules.md, "The plan"): checked on the shipped catalogue and
on a generated one, each in the dev stack's settings and with every address rendered (``addressRules: tcp``).

* The plan: each address rule covers exactly the addresses the selected entries wrote for its service area and
  services (merging shortens the list, never changes what it covers), and no written address is left without one.
* Each cloud: what it renders for a plan address or peer rule covers no address outside that rule, and what it
  leaves out is named: on Azure as a not-expressible finding (IPv6 without ``azure.ipv6``), on both clouds as an
  address left to its entry's names (``addressRules.leftToNames``).

Moved here from the benchmark, where it was a probe (issue 22): a correctness check is a test.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable

import pytest
from conftest import ROOT

from endpoint_firewall.config.stack_config import StackConfig, load_stack_file
from endpoint_firewall.endpoints.loader import Catalogue, load_catalogue
from endpoint_firewall.endpoints.models import DestinationKind, EntryKind
from endpoint_firewall.planning.address_rules import AddressRules
from endpoint_firewall.planning.planner import build_plan
from endpoint_firewall.planning.rules import Plan, Rule, RuleKind
from endpoint_firewall.planning.selection import Selection
from endpoint_firewall.renderers.aws.render import AwsRender, render_aws
from endpoint_firewall.renderers.azure.render import AzureRender, render_azure

ADDRESS_KINDS = (RuleKind.ADDRESS, RuleKind.PEER)


def collapse(values: Iterable[str]) -> list[str]:
    """The addresses ``values`` cover, as the fewest networks (IPv4 first)."""
    nets = [ipaddress.ip_network(v) for v in values]
    v4 = ipaddress.collapse_addresses(n for n in nets if isinstance(n, ipaddress.IPv4Network))
    v6 = ipaddress.collapse_addresses(n for n in nets if isinstance(n, ipaddress.IPv6Network))
    return [str(n) for n in (*v4, *v6)]


def within(inner: Iterable[str], outer: Iterable[str]) -> bool:
    """Every address of ``inner`` is one of ``outer``."""
    outer = list(outer)
    return collapse([*outer, *inner]) == collapse(outer)


def service_key(rule_area: str, services: Iterable) -> tuple[str, frozenset]:
    return rule_area, frozenset((s.protocol.transport, s.port.first, s.port.last) for s in services)


@pytest.fixture(scope="module")
def dev() -> StackConfig:
    return load_stack_file(ROOT / "stacks" / "Pulumi.dev.yaml")


def with_address_rules(config: StackConfig, mode: AddressRules) -> StackConfig:
    assert config.azure is not None and config.aws is not None
    return config.model_copy(
        update={
            "azure": config.azure.model_copy(update={"address_rules": mode}),
            "aws": config.aws.model_copy(update={"address_rules": mode}),
        }
    )


CASES = [(c, m) for c in ("shipped", "generated") for m in ("stack", "tcp")]


@pytest.fixture(scope="module", params=CASES, ids=[f"{c}-{m}" for c, m in CASES])
def rendered(request, dev, generated_catalogue) -> tuple[Catalogue, Plan, AzureRender, AwsRender]:
    name, mode = request.param
    catalogue = load_catalogue() if name == "shipped" else generated_catalogue
    config = dev if mode == "stack" else with_address_rules(dev, AddressRules.TCP)
    selection = config.selection.to_selection() if name == "shipped" else Selection()  # as epfw render --catalogue
    plan = build_plan(catalogue, selection, config.source_ranges, config.peer_ranges)
    assert config.azure is not None and config.aws is not None
    return catalogue, plan, render_azure(plan, config.azure), render_aws(plan, config.aws)


def written_addresses(catalogue: Catalogue, plan: Plan) -> dict[tuple[str, frozenset], list[str]]:
    """The addresses the selected entries wrote, per service area and services."""
    selected = set(plan.selected_entries)
    out: dict[tuple[str, frozenset], list[str]] = defaultdict(list)
    for entry in catalogue.entries:
        if entry.id in selected and entry.kind is EntryKind.ENDPOINTS:
            networks = [d.value for d in entry.destinations if d.kind is DestinationKind.NETWORK]
            if networks:
                out[service_key(entry.service_area, entry.services)] += networks
    return out


def test_each_plan_address_rule_covers_exactly_what_the_catalogue_wrote(rendered):
    catalogue, plan, _, _ = rendered
    written = written_addresses(catalogue, plan)
    planned = {service_key(r.area, r.services): r for r in plan.rules if r.kind is RuleKind.ADDRESS}
    assert planned and set(planned) == set(written)
    merged = 0
    for key, rule in planned.items():
        assert collapse(rule.destinations) == collapse(written[key]), rule.name
        merged += len(set(written[key])) - len(rule.destinations)
    assert merged >= 0


def left_to_names(render: AzureRender | AwsRender, catalogue: Catalogue) -> dict[str, set[str]]:
    """Addresses the render leaves to their entries' names, per service area."""
    area = {e.id: e.service_area for e in catalogue.entries}
    out: dict[str, set[str]] = defaultdict(set)
    for left in render.by_name:
        out[area[left.entry]].update(left.destinations)
    return out


def rendered_address_rules(render: AzureRender | AwsRender) -> list[Rule]:
    return [r for r in render.rules if r.kind in ADDRESS_KINDS]


@pytest.mark.parametrize("cloud", ["azure", "aws"])
def test_a_cloud_s_view_of_the_address_rules_moves_addresses_to_names_and_adds_none(rendered, cloud):
    """``addressRules`` leaves some addresses to their entries' names: per area, what stays in address rules and
    what is left to names together are the plan's addresses, and nothing else."""
    catalogue, plan, azure, aws = rendered
    render = azure if cloud == "azure" else aws
    left = left_to_names(render, catalogue)
    for area in plan.areas:
        planned = [d for r in area.rules if r.kind is RuleKind.ADDRESS for d in r.destinations]
        kept = [
            d
            for r in rendered_address_rules(render)
            if r.area == area.area and r.kind is RuleKind.ADDRESS
            for d in r.destinations
        ]
        assert within(kept, planned), area.area
        assert collapse([*kept, *left[area.area]]) == collapse(planned), area.area


def azure_rule_addresses(render: AzureRender) -> dict[str, list[str]]:
    """Every Azure network rule's destination addresses, IP Group members included, by rule name."""
    members = {g.id: g.addresses for g in render.ip_groups}
    out: dict[str, list[str]] = defaultdict(list)
    for group in render.groups:
        for rule in group.rules:
            out[rule["name"]] += rule.get("destinationAddresses", [])
            for ip_group in rule.get("destinationIpGroups", []):
                out[rule["name"]] += members[ip_group]
    return out


def test_azure_renders_each_address_rule_without_widening_and_names_what_it_leaves_out(rendered):
    catalogue, plan, azure, _ = rendered
    by_rule = azure_rule_addresses(azure)
    noted = {f.destination for f in azure.not_expressible if f.destination}
    rules = sorted(rendered_address_rules(azure), key=lambda r: -len(r.name))
    claimed: set[str] = set()
    for rule in rules:  # longest name first: a rule's parts are <rule>-<suffix>
        parts = [n for n in by_rule if n not in claimed and (n == rule.name or n.startswith(rule.name + "-"))]
        claimed.update(parts)
        rendered = [a for n in parts for a in by_rule[n]]
        assert within(rendered, rule.destinations), f"{rule.name} allows addresses the plan's rule does not"
        missing = [d for d in rule.destinations if d in noted]
        assert collapse([*rendered, *missing]) == collapse(rule.destinations), f"{rule.name} loses addresses"
    assert claimed == {n for n, v in by_rule.items() if v}, "an Azure rule with addresses that no plan rule has"


def test_aws_ip_sets_cover_exactly_the_address_and_peer_rules(rendered):
    _, _, _, aws = rendered
    ip_sets = [
        value
        for group in aws.groups
        for name, values in group.variables
        if name not in ("HOME_NET", "EXTERNAL_NET")  # the sources, and their complement AWS needs defined
        for value in values
    ]
    planned = [d for r in rendered_address_rules(aws) for d in r.destinations]
    assert planned
    assert collapse(ip_sets) == collapse(planned)
