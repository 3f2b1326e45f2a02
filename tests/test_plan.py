"""The cloud-neutral plan: grouping, merging, covering, selection, determinism."""

from __future__ import annotations

import ipaddress
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from endpoint_firewall.endpoints.loader import archived_catalogue_files, load_catalogue, merge, parse_file
from endpoint_firewall.planning import addresses
from endpoint_firewall.planning.planner import build_plan
from endpoint_firewall.planning.rules import PlanError, RuleKind
from endpoint_firewall.planning.selection import Selection, unknown_names

SOURCES = ["10.10.0.0/16"]
HEADER = """schema_version: 1
sources: [{id: s, title: t, url: "https://example.org/", date: 2020-01-01}]
service_areas: [{id: a, title: A, priority: 100}]
entries:
"""


def plan_all(**kwargs):
    return build_plan(load_catalogue(), Selection(**kwargs), SOURCES, SOURCES)


def plan_archive():
    """The archived 2020 catalogue: fixed data with shapes today's list lacks (an address in two rows, port 444)."""
    return build_plan(load_catalogue(archived_catalogue_files()), Selection(), SOURCES, SOURCES)


def rule(plan, name):
    matches = [r for r in plan.rules if r.name == name]
    assert matches, f"no rule {name}; have {[r.name for r in plan.rules]}"
    return matches[0]


def test_address_shared_by_two_rows_is_one_destination_that_remembers_both_entries():
    web = rule(plan_archive(), "intune-core-ip-tcp80-tcp443")
    assert web.destinations.count("52.160.70.20/32") == 1
    assert set(web.origin_of("52.160.70.20/32")) == {"intune-core-portal", "intune-core-fei-msua"}


def test_exact_hosts_under_a_wildcard_of_the_same_services_are_covered_not_lost():
    web = rule(plan_all(), "intune-core-fqdn-http80-https443")
    assert "swda01-mscdn.manage.microsoft.com" not in web.destinations  # ID 170, under ID 163's wildcard
    assert ("swda01-mscdn.manage.microsoft.com", "*.manage.microsoft.com") in web.covered
    assert {"intune-163", "intune-170"} <= set(web.origin_of("*.manage.microsoft.com"))
    # *.x.com never covers x.com: the apex stays an explicit destination.
    assert "manage.microsoft.com" in web.destinations


def test_wip_port_444_is_its_own_rule_and_not_covered_by_the_80_443_wildcard():
    wip = rule(plan_archive(), "intune-core-fqdn-https444")
    assert wip.destinations == ("wip.mam.manage.microsoft.com",)


def test_numbered_pattern_expands_to_exactly_51_hosts_and_never_a_wildcard():
    apns = rule(plan_all(), "apple-fqdn-tls443-tls5223")
    assert len(apns.destinations) == 52
    assert {f"{n}-courier.push.apple.com" for n in range(51)} | {"courier.push.apple.com"} == set(apns.destinations)
    assert not any("*" in d for d in apns.destinations)


def test_region_selection_keeps_only_that_regions_cdn_and_all_global_entries():
    plan = plan_all(regions=frozenset({"north-america"}))
    cdn = rule(plan, "win32-cdn-fqdn-https443")
    assert set(cdn.destinations) == {
        f"imeswda-afd-{s}.manage.microsoft.com" for s in ("primary", "secondary", "hotfix")
    } | {
        "*.events.data.microsoft.com",  # the section's list is global
        "go-amer.trouter.communications.svc.cloud.microsoft",
    }  # the page's NA row
    assert "intune-163" in plan.selected_entries and "intune-182-north-america" in plan.selected_entries
    assert not {"intune-182-europe", "intune-182-amsud", "intune-188"} & set(plan.selected_entries)


def test_optional_entries_are_left_out_when_the_stack_says_so():
    plan = plan_all(include_optional=False)
    assert not [r for r in plan.rules if r.kind is RuleKind.PEER]
    assert "intune-150" not in plan.selected_entries and "intune-150" in plan_all().selected_entries


def test_peer_to_peer_needs_peer_ranges_and_says_so_when_missing():
    plan = build_plan(load_catalogue(), Selection(), SOURCES, peer_ranges=())
    reasons = {s.entry: s.reason for s in plan.skipped}
    assert "no peer ranges" in reasons["intune-delivery-optimization-peers"]
    with_peers = plan_all()
    p2p = rule(with_peers, "delivery-optimization-p2p-tcp7680")
    assert p2p.destinations == ("10.10.0.0/16",)


def test_reference_entries_are_listed_as_skipped_with_their_links():
    reasons = {s.entry: s.reason for s in plan_all().skipped}
    assert reasons["apple-references"].startswith("reference only: https://support.apple.com/en-us/101555")


def test_plan_is_the_same_whatever_the_order_of_files_and_entries():
    docs = [parse_file(open(path, encoding="utf-8").read(), path) for path in load_catalogue().files]
    entries = [e for doc in docs for e in doc.entries]
    random.Random(7).shuffle(entries)
    half = len(entries) // 2
    every = docs[0].model_copy(
        update={
            "sources": tuple(s for d in docs for s in d.sources),
            "service_areas": tuple(a for d in docs for a in d.service_areas),
        }
    )
    first = every.model_copy(update={"entries": tuple(entries[:half])})
    second = every.model_copy(update={"entries": tuple(entries[half:])})
    shuffled = merge([("b.yaml", "", second), ("a.yaml", "", first)])
    a = build_plan(load_catalogue(), Selection(), SOURCES, SOURCES)
    b = build_plan(shuffled, Selection(), SOURCES, SOURCES)
    assert a == b
    assert a.digest == b.digest


def test_wildcard_on_plain_tcp_is_skipped_with_a_reason(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text(
        HEADER
        + """  - id: e
    service_area: a
    description: d
    destinations: ["*.example.org", host.example.org]
    services: [{protocol: tcp, port: 5000}]
    provenance: {source: s, section: x}
"""
    )
    plan = build_plan(load_catalogue([f]), Selection(), SOURCES)
    assert [r.kind for r in plan.rules] == [RuleKind.HOST_NETWORK]
    assert plan.rules[0].destinations == ("host.example.org",)
    assert plan.skipped[0].destination == "*.example.org"
    assert "no firewall resolves a wildcard" in plan.skipped[0].reason


def test_adjacent_cidrs_merge_and_contained_ones_disappear():
    assert addresses.merge(["10.0.0.0/25", "10.0.0.128/25", "10.0.0.7/32", "2001:db8::/33", "2001:db8:8000::/33"]) == [
        "10.0.0.0/24",
        "2001:db8::/32",
    ]


def _addresses(nets):
    out = set()
    for n in nets:
        out.update(int(a) for a in ipaddress.ip_network(n))
    return out


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 255), st.integers(24, 32)), min_size=1, max_size=12))
def test_merge_never_widens_or_narrows(items):
    nets = [
        str(ipaddress.ip_network(f"10.0.{third}.0/{prefix}", strict=False))
        if prefix == 24
        else str(ipaddress.ip_network(f"10.0.0.{third}/{prefix}", strict=False))
        for third, prefix in items
    ]
    merged = addresses.merge(nets)
    assert _addresses(merged) == _addresses(nets)
    parsed = [ipaddress.ip_network(n) for n in nets]
    assert merged == [str(n) for n in ipaddress.collapse_addresses(parsed)]
    together = addresses.merge_assigned(nets)
    assert [net for net, _ in together] == merged
    assert sorted(v for _, vs in together for v in vs) == sorted(set(nets))  # every original, once
    for net, members in together:  # each inside the merged CIDR it is assigned to
        assert all(ipaddress.ip_network(m).subnet_of(ipaddress.ip_network(net)) for m in members)
    assert addresses.collapse(parsed) == list(ipaddress.collapse_addresses(parsed))


def test_merged_origins_give_each_merged_cidr_the_entries_of_what_it_covers():
    """One helper merges destinations with their entries, for the planner and the views of ``addressRules`` alike:
    a merged CIDR serves every entry of what it covers, and no other."""
    origins = {
        "10.0.0.0/25": {"a"},
        "10.0.0.128/25": {"b"},
        "10.0.0.7/32": {"c"},
        "10.0.2.0/24": {"d"},
        "2001:db8::/33": {"a", "e"},
    }
    merged = addresses.merge_origins(origins)
    assert list(merged) == addresses.merge(origins)  # numeric order, IPv4 first
    for net, entries in merged.items():
        outer = ipaddress.ip_network(net)
        inside = [v for v in origins if (n := ipaddress.ip_network(v)).version == outer.version and n.subnet_of(outer)]
        assert entries == set().union(*(origins[v] for v in inside)) and inside, net


def test_nested_wildcards_are_covered_by_the_outermost(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text(
        HEADER
        + """  - id: e
    service_area: a
    description: d
    destinations: ["*.example.com", "*.b.c.example.com", x.b.c.example.com, example.com]
    services: [{protocol: https, port: 443}]
    provenance: {source: s, section: x}
"""
    )
    [only] = build_plan(load_catalogue([f]), Selection(), SOURCES).rules
    assert only.destinations == ("*.example.com", "example.com")
    assert dict(only.covered) == {"*.b.c.example.com": "*.example.com", "x.b.c.example.com": "*.example.com"}


def test_entries_whose_addresses_together_cover_everything_need_allow_any(tmp_path):
    f = tmp_path / "c.yaml"
    body = (
        HEADER
        + """  - id: low-half
    service_area: a
    description: d
    destinations: [0.0.0.0/1]
    services: [{protocol: tcp, port: 443}]
    provenance: {source: s, section: x}
  - id: high-half
    service_area: a
    description: d
    destinations: [128.0.0.0/1]
    services: [{protocol: tcp, port: 443}]
    provenance: {source: s, section: x}
"""
    )
    f.write_text(body)
    with pytest.raises(PlanError, match=r"high-half, low-half together cover every address \(0\.0\.0\.0/0\)"):
        build_plan(load_catalogue([f]), Selection(), SOURCES)
    f.write_text(body + "    allow_any: {justification: the lab firewall in front of the test bench}\n")
    [rule] = build_plan(load_catalogue([f]), Selection(), SOURCES).rules
    assert rule.destinations == ("0.0.0.0/0",)


def test_an_entry_named_explicitly_but_filtered_out_is_a_problem_not_a_silent_drop():
    catalogue = load_catalogue()
    selection = Selection(
        regions=frozenset({"north-america"}),
        include_optional=False,
        entry_ids=frozenset({"intune-150", "intune-win32-cdn-europe", "apple-apns"}),
    )
    assert unknown_names(catalogue, selection) == [
        "entry 'intune-150' is named in entries but left out by includeOptional: false (it is marked required: false)",
        "entry 'intune-win32-cdn-europe' is named in entries but left out by regions (its regions are europe)",
    ]


def test_gcc_entries_are_deployed_only_where_a_stack_names_us_gov():
    catalogue = load_catalogue()
    gcc = {e.id for e in catalogue.entries if "us-gov" in e.regions}
    assert {"intune-188", "intune-consolidated-us-gov"} <= gcc
    assert not gcc & set(plan_all().selected_entries)
    named = build_plan(catalogue, Selection(regions=frozenset({"north-america", "us-gov"})), SOURCES, SOURCES)
    assert gcc <= set(named.selected_entries)
    assert unknown_names(catalogue, Selection(entry_ids=frozenset({"intune-188"}))) == [
        "entry 'intune-188' is named in entries but left out by regions (its regions are us-gov, deployed only "
        "where a stack names them)"
    ]


def test_digest_ignores_the_order_of_lines_inside_an_entry():
    catalogue = load_catalogue()
    entries = list(catalogue.entries)
    portal = next(e for e in entries if e.id == "intune-163")
    reordered = portal.model_copy(
        update={"destinations": tuple(reversed(portal.destinations)), "services": tuple(reversed(portal.services))}
    )
    from endpoint_firewall.planning.planner import selection_digest

    assert selection_digest(entries) == selection_digest([reordered if e is portal else e for e in entries])
    fewer = portal.model_copy(update={"destinations": portal.destinations[1:]})
    assert selection_digest(entries) != selection_digest([fewer if e is portal else e for e in entries])


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 32))
def test_fast_ipv4_path_agrees_with_ipaddress(address, prefix):
    from endpoint_firewall.endpoints import names

    text = f"{ipaddress.IPv4Address(address)}/{prefix}"
    try:
        expected = str(ipaddress.ip_network(text, strict=True))
    except ValueError:
        expected = None
    assert names._canonical_ipv4(text) == expected
    if expected is None:
        with pytest.raises(ValueError, match="host bits"):
            names.normalise_network(text)
    else:
        assert names.normalise_network(text) == expected
