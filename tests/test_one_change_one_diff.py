"""A one-entry catalogue change is a one-resource diff per cloud (docs/rules.md, "One change, one diff").

Four changes to one entry, each picked so that it changes what the clouds deploy: add a host name, remove one, add
an address, remove one. Each is rendered beside the unchanged catalogue, both written as ``epfw render`` writes
them, and compared as ``epfw diff`` compares them (``preview.resource_diff``): per cloud, exactly one firewall
resource is updated (a rule collection group, a rule group), at most one DNS layer resource (the domain list that
holds the name), and nothing is replaced, added or removed. On the shipped catalogue with every address rendered
(``addressRules: tcp``: the stacks' default leaves its addresses to their entries' names) and on a generated one in
the dev stack's settings.

A rule split over several groups stays a one-group diff too: Azure splits a rule that outgrows a group by a stable
hash of its values (``renderers/sharding.py``), so a value added moves no other value to another group.

Moved here from the benchmark, where it was the blast-radius probe (issue 22): a correctness check is a test.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT
from test_cidr_merging import with_address_rules

from endpoint_firewall.config.stack_config import StackConfig, load_stack_file
from endpoint_firewall.endpoints.loader import Catalogue, load_catalogue
from endpoint_firewall.endpoints.models import DestinationKind, Entry
from endpoint_firewall.planning.address_rules import AddressRules
from endpoint_firewall.planning.planner import build_plan
from endpoint_firewall.planning.rules import RuleKind
from endpoint_firewall.planning.selection import Selection
from endpoint_firewall.preview.dns_records import DNS_REPLACE_ON
from endpoint_firewall.preview.resource_diff import diff, render_dir_records
from endpoint_firewall.program.render import StackRender, write_atomically
from endpoint_firewall.renderers.aws.render import render_aws
from endpoint_firewall.renderers.azure.render import render_azure

DNS_TYPES = set(DNS_REPLACE_ON)  # the DNS layer's resource types
ADDED_NAME = "added-host.example-change.net"  # under no wildcard of either catalogue
FREE_NETWORKS = ("198.51.100.0/24", "203.0.113.0/24", "192.0.2.0/24")  # documentation ranges (RFC 5737)


@dataclass(frozen=True)
class Case:
    catalogue: str  # "shipped" or "generated"
    address_rules: AddressRules | None  # None: the dev stack's own


CASES = [Case("shipped", AddressRules.TCP), Case("generated", None)]
CHANGES = ["add a name", "remove a name", "add an address", "remove an address"]


@dataclass(frozen=True)
class Change:
    entry: str
    add: str | None = None
    remove: str | None = None


@dataclass(frozen=True)
class Setting:
    catalogue: Catalogue
    config: StackConfig
    selection: Selection
    base: StackRender


def render(catalogue: Catalogue, config: StackConfig, selection: Selection) -> StackRender:
    plan = build_plan(catalogue, selection, config.source_ranges, config.peer_ranges)
    assert config.azure is not None and config.aws is not None
    return StackRender("dev", plan, render_azure(plan, config.azure), render_aws(plan, config.aws))


@pytest.fixture(scope="module", params=CASES, ids=[c.catalogue for c in CASES])
def setting(request, generated_catalogue) -> Setting:
    case: Case = request.param
    config = load_stack_file(ROOT / "stacks" / "Pulumi.dev.yaml")
    if case.address_rules is not None:
        config = with_address_rules(config, case.address_rules)
    if case.catalogue == "shipped":
        catalogue, selection = load_catalogue(), config.selection.to_selection()
    else:
        catalogue, selection = generated_catalogue, Selection()  # every entry, as epfw render --catalogue
    return Setting(catalogue, config, selection, render(catalogue, config, selection))


def pick(setting: Setting, what: str) -> Change:
    """An entry and a value whose change changes what both clouds deploy: the value is the entry's own (no other
    entry lists it, no other rule holds it) and, for an address, both clouds render it (not left to names; Azure
    renders IPv4 only here) and no other address of the catalogue overlaps it."""
    render = setting.base
    assert render.azure is not None and render.aws is not None
    entries = {e.id: e for e in setting.catalogue.entries}
    networks = [
        ipaddress.ip_network(d.value)
        for e in setting.catalogue.entries
        for d in e.destinations
        if d.kind is DestinationKind.NETWORK
    ]
    rendered_on_both = set.intersection(
        *(
            {d for r in cloud.rules if r.kind is RuleKind.ADDRESS for d in r.destinations}
            for cloud in (render.azure, render.aws)
        )
    )
    kind = RuleKind.HOSTNAME if what.endswith("name") else RuleKind.ADDRESS
    for rule in render.plan.rules:
        if rule.kind is not kind:
            continue
        for destination, origins in rule.origins:
            entry = entries[origins[0]]
            if len(origins) != 1 or len(entry.destinations) < 2:
                continue
            written = {d.kind for d in entry.destinations if d.value == destination}
            if kind is RuleKind.HOSTNAME:
                if (
                    written != {DestinationKind.FQDN}
                    or sum(destination in r.destinations for r in render.plan.rules) != 1
                ):
                    continue
                return (
                    Change(entry.id, add=ADDED_NAME) if what.startswith("add") else Change(entry.id, remove=destination)
                )
            net = ipaddress.ip_network(destination)
            overlapping = [n for n in networks if n.version == net.version and n.overlaps(net)]
            if written != {DestinationKind.NETWORK} or net.version != 4 or destination not in rendered_on_both:
                continue
            if len(overlapping) != 1:
                continue
            if what.startswith("remove"):
                return Change(entry.id, remove=destination)
            free = next(
                f
                for f in FREE_NETWORKS
                if not any(n.overlaps(ipaddress.ip_network(f)) for n in networks if n.version == 4)
            )
            return Change(entry.id, add=free)
    raise AssertionError(f"no entry of the catalogue to {what}")


def changed(catalogue: Catalogue, change: Change) -> Catalogue:
    entries = []
    for entry in catalogue.entries:
        if entry.id == change.entry:
            data = entry.to_data()
            data["destinations"] = [d for d in data["destinations"] if d != change.remove]
            data["destinations"] += [change.add] if change.add else []
            entry = Entry.model_validate(data)
        entries.append(entry)
    return Catalogue(tuple(entries), catalogue.service_areas, catalogue.sources, catalogue.files)


def resource_changes(before: StackRender, after: StackRender, folder: Path) -> dict[tuple[str, str, str], list[str]]:
    """``(cloud, layer, status) -> names``, as ``epfw diff`` finds them between the two render folders."""
    write_atomically(before.files(), folder / "before")
    write_atomically(after.files(), folder / "after")
    out: dict[tuple[str, str, str], list[str]] = {}
    for change in diff(render_dir_records(folder / "before"), render_dir_records(folder / "after")):
        cloud = "aws" if change.type.startswith("aws:") else "azure"
        layer = "dns" if change.type in DNS_TYPES else "firewall"
        out.setdefault((cloud, layer, change.status), []).append(change.name)
    return out


@pytest.mark.parametrize("what", CHANGES)
def test_a_one_entry_change_updates_one_firewall_resource_per_cloud(setting, what, tmp_path):
    change = pick(setting, what)
    after = render(changed(setting.catalogue, change), setting.config, setting.selection)
    changes = resource_changes(setting.base, after, tmp_path)
    for cloud in ("azure", "aws"):
        assert len(changes.get((cloud, "firewall", "updated"), [])) == 1, (change, changes)
        dns = changes.get((cloud, "dns", "updated"), [])
        assert len(dns) <= (1 if what.endswith("name") else 0), (change, changes)
    assert {status for _, _, status in changes} == {"updated"}, (change, changes)


SPLIT_GROUP_BYTES = 3_000  # the generated catalogue's largest rules (about 6.5 kB) then take three groups or more


def test_a_name_added_to_a_rule_split_over_groups_updates_one_of_them(generated_catalogue):
    """With ``groupMaxBytes`` lowered, a name rule of the generated catalogue is split over three groups or more; a
    name that sorts before its every exact host is added to one of its entries, and one group changes (a split in
    sorted order would move later names to the next group)."""
    config = load_stack_file(ROOT / "stacks" / "Pulumi.dev.yaml").azure
    assert config is not None
    small = config.model_copy(
        update={"limits": config.limits.model_copy(update={"group_max_bytes": SPLIT_GROUP_BYTES})}
    )
    plan = build_plan(generated_catalogue, Selection(), ("10.10.0.0/16",), ())
    before = render_azure(plan, small)
    parts = Counter(
        re.sub(r"-\d+$", "", r["name"]) for g in before.groups for r in g.rules if re.search(r"-\d+$", r["name"])
    )
    rule = next(r for r in plan.rules if r.kind is RuleKind.HOSTNAME and parts[r.name] >= 3)
    holding = {g.name for g in before.groups if any(r["name"].startswith(rule.name + "-") for r in g.rules)}
    assert len(holding) >= 3
    entry = rule.origins[0][1][0]
    first = "0-added.example-change.net"
    assert first < min(d for d in rule.destinations if not d.startswith("*."))  # before every exact host in it
    catalogue = changed(generated_catalogue, Change(entry, add=first))
    after = render_azure(build_plan(catalogue, Selection(), ("10.10.0.0/16",), ()), small)
    old = {g.name: json.dumps(g.body, sort_keys=True) for g in before.groups}
    new = {g.name: json.dumps(g.body, sort_keys=True) for g in after.groups}
    assert old.keys() == new.keys()
    updated = [name for name in old if old[name] != new[name]]
    assert len(updated) == 1 and updated[0] in holding, updated
