"""Every finding carries a kind (what reports group by): the shipped stacks' findings and each sort the renderers and
the planner make, each kind's id stable and its title one short line; summary.json names each item's kind and
titles every kind it uses."""

from __future__ import annotations

import json
import re

import pytest
from conftest import ROOT
from test_azure_render import config, plan, rule
from test_plan import HEADER, SOURCES

from endpoint_firewall.endpoints.loader import load_catalogue
from endpoint_firewall.planning import kinds as plan_kinds
from endpoint_firewall.planning.kinds import UNCLASSIFIED, Kind
from endpoint_firewall.planning.planner import build_plan
from endpoint_firewall.planning.rules import RuleKind
from endpoint_firewall.planning.selection import Selection
from endpoint_firewall.program.render import render_stack
from endpoint_firewall.renderers import findings as render_kinds
from endpoint_firewall.renderers.azure.render import render_azure

KIND_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def declared() -> list[Kind]:
    """Every kind the planner's and the renderers' kind modules define (one imported into both counted once)."""
    return list(dict.fromkeys(v for m in (plan_kinds, render_kinds) for v in vars(m).values() if isinstance(v, Kind)))


def test_kind_ids_are_unique_slugs_and_titles_fit_a_line():
    kinds = declared()
    assert len(kinds) >= 10
    assert len({k.id for k in kinds}) == len(kinds)
    for kind in kinds:
        assert KIND_ID.match(kind.id), kind
        assert 10 <= len(kind.title) <= 70, kind  # one line at 80 columns beside a count


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_shipped_stacks_findings_have_kinds_and_summary_json_names_them(stack):
    rendered = render_stack(stack, ROOT)
    found = rendered.findings()
    assert found and all(f.kind is not UNCLASSIFIED for f in found)
    summary = json.loads(rendered.files()["summary.json"])
    items = summary["skipped"] + [
        item for cloud in ("azure", "aws") for key in ("widened", "notExpressible") for item in summary[cloud][key]
    ]
    items += [item for cloud in ("azure", "aws") for item in summary[cloud]["addressRules"]["leftToNames"]]
    assert len(items) == len(found) and all(item["kind"] in summary["findingKinds"] for item in items)
    assert summary["findingKinds"] == {f.kind.id: f.kind.title for f in sorted(found, key=lambda f: f.kind.id)}


def test_each_sort_of_azure_finding_has_its_kind():
    names = plan(("a", 1000, [rule("a", RuleKind.HOST_NETWORK, ["udp:123"], ["time.example.com"])]))
    basic = render_azure(names, config(sku_tier="Basic", dns_proxy=False))
    assert {f.kind for f in basic.not_expressible} == {render_kinds.BASIC_TIER_NAMES}
    assert {f.kind for f in render_azure(names, config()).widened} == {render_kinds.NETWORK_RULE_ON_NAME}
    high = plan(("a", 1000, [rule("a", RuleKind.HOSTNAME, ["https:65000"], ["a.example.com"])]))
    assert {f.kind for f in render_azure(high, config()).not_expressible} == {render_kinds.APP_PORT_OUT_OF_RANGE}
    v6 = plan(("a", 1000, [rule("a", RuleKind.ADDRESS, ["tcp:443"], ["2620:1ec:40::/48"])]))
    assert {f.kind for f in render_azure(v6, config()).not_expressible} == {render_kinds.IPV6_DESTINATION}


def test_each_sort_of_skipped_entry_has_its_kind(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text(
        HEADER
        + """  - id: wild
    service_area: a
    description: d
    destinations: ["*.example.org"]
    services: [{protocol: tcp, port: 5000}]
    provenance: {source: s, section: x}
"""
    )
    [wild] = build_plan(load_catalogue([f]), Selection(), SOURCES).skipped
    assert wild.kind is plan_kinds.WILDCARD_ON_PLAIN
    shipped = {s.entry: s.kind for s in build_plan(load_catalogue(), Selection(), SOURCES, peer_ranges=()).skipped}
    assert shipped["intune-delivery-optimization-peers"] is plan_kinds.PEERS_NOT_NAMED
    assert shipped["apple-references"] is plan_kinds.REFERENCE_ONLY


def test_the_kinds_page_lists_every_kind():
    page = (ROOT / "docs" / "finding-kinds.md").read_text(encoding="utf-8")
    assert [k.id for k in declared() if k is not UNCLASSIFIED and f"| `{k.id}` |" not in page] == []
