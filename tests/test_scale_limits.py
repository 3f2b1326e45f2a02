"""At 100k destinations the rendered output still respects every Azure and AWS limit.

The catalogue is the benchmark's seeded synthetic one (``bench/generate.py``: 100,000 destinations, six
service areas, names, wildcards, IPv4 and IPv6 CIDRs), generated, planned and rendered once per module with
the dev stack's settings. The YAML is parsed with libyaml and validated by the same pydantic models the
loader uses (the loader's own speed is the benchmark's business, not this file's). Every limit is checked
independently of the renderer's own checks, from the bodies and requests it produced:

Azure: group JSON <= 2 MB (placeholder ids at a real id's length), <= 60 groups, unique group priorities in
100..65000, collection priorities in range and unique per group, names (groups, collections, rules, IP Groups)
match Azure's rule, IP Groups <= 5,000 addresses and <= 200 of them, network rules <= 20,000 source x
destination pairs (per rule, unique sources x unique destinations, an IP Group counting as one, summed),
application ports 1..64000.

AWS: capacity <= 30,000 per group and >= the rules it holds, rules string <= 2,000,000 bytes, every rule
<= 8,192 characters with its variables expanded, names ``^[a-zA-Z0-9-]{1,128}$``, <= 20 stateful groups, sids
unique, every referenced variable defined.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections import Counter

import pytest
import yaml
from conftest import ROOT
from test_azure_render import microsoft_pairs

sys.path.insert(0, str(ROOT / "bench"))

import generate

from endpoint_firewall.config.stack_config import load_stack_file
from endpoint_firewall.endpoints.loader import Catalogue
from endpoint_firewall.endpoints.models import CatalogueFile
from endpoint_firewall.planning.planner import build_plan
from endpoint_firewall.planning.selection import Selection
from endpoint_firewall.renderers.aws.model import AwsRenderError
from endpoint_firewall.renderers.aws.render import render_aws
from endpoint_firewall.renderers.azure.render import render_azure

pytestmark = pytest.mark.slow  # a 100k-destination catalogue, rendered for both clouds
DESTINATIONS = 100_000
AZURE_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?$")
AWS_NAME = re.compile(r"^[a-zA-Z0-9-]{1,128}$")
GUID = "00000000-0000-0000-0000-000000000000"

# Documented limits (field facts; Microsoft's Azure Firewall limits page of ms.date 10/14/2026 for Azure), written out
# here rather than read from the config under test.
AZURE_GROUP_MAX_BYTES = 2_000_000
AZURE_GROUPS_MAX = 90  # rule collection groups per policy created after July 2022
AZURE_PRIORITY = (100, 65000)
AZURE_IP_GROUP_MAX = 5_000
AZURE_IP_GROUPS_MAX = 200
AZURE_PAIRS_MAX = 20_000
AZURE_APP_PORT = (1, 64000)
AWS_CAPACITY_MAX = 30_000
AWS_RULES_STRING_MAX = 2_000_000
AWS_RULE_MAX_CHARS = 8_192
AWS_STATEFUL_GROUPS_MAX = 20


def _with_quota(aws, quota: int):
    return aws.model_copy(update={"limits": aws.limits.model_copy(update={"policy_capacity": quota})})


def _generated(destinations: int) -> Catalogue:
    data = yaml.load(generate.native_catalogue(destinations), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    doc = CatalogueFile.model_validate(data)
    return Catalogue(
        entries=tuple(sorted(doc.entries, key=lambda e: e.id)),
        service_areas={a.id: a for a in doc.service_areas},
        sources={s.id: s for s in doc.sources},
        files=("generated",),
    )


@pytest.fixture(scope="module")
def scale():
    started = time.perf_counter()
    catalogue = _generated(DESTINATIONS)
    config = load_stack_file(ROOT / "stacks" / "Pulumi.dev.yaml")
    plan = build_plan(catalogue, Selection(), config.source_ranges, config.peer_ranges)
    azure = render_azure(plan, config.azure)
    # 100k destinations use far more than AWS's default 30,000 per policy: as if the quota had been raised
    aws = render_aws(plan, _with_quota(config.aws, 120_000))
    written = sum(len(e.destinations) for e in catalogue.entries)
    print(
        f"\n100k scale: {written} destinations, {len(plan.rules)} plan rules, {len(azure.groups)} Azure groups, "
        f"{len(azure.ip_groups)} IP Groups, {len(aws.groups)} AWS groups in {time.perf_counter() - started:.1f} s"
    )
    return {"catalogue": catalogue, "plan": plan, "azure": azure, "aws": aws, "written": written}


def test_the_catalogue_has_100k_destinations_of_every_kind(scale):
    kinds = Counter(d.kind.value for e in scale["catalogue"].entries for d in e.destinations)
    assert scale["written"] == DESTINATIONS
    assert kinds["fqdn"] > 40_000 and kinds["wildcard"] > 5_000 and kinds["network"] > 40_000, kinds
    assert any(":" in d.value for e in scale["catalogue"].entries for d in e.destinations), "no IPv6"


# --- Azure -----------------------------------------------------------------------------------------------------


def _azure_bytes(body: dict) -> int:
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False).replace("{subscriptionId}", GUID)
    return len(text.encode("utf-8"))


def test_azure_groups_fit_in_size_count_and_priorities(scale):
    groups = scale["azure"].groups
    assert 0 < len(groups) <= AZURE_GROUPS_MAX
    sizes = {g.name: _azure_bytes(g.body) for g in groups}
    assert max(sizes.values()) <= AZURE_GROUP_MAX_BYTES, sizes
    priorities = [g.body["properties"]["priority"] for g in groups]
    assert len(set(priorities)) == len(priorities), "group priorities collide"
    assert all(AZURE_PRIORITY[0] <= p <= AZURE_PRIORITY[1] for p in priorities), priorities
    for g in groups:
        coll = [c["priority"] for c in g.body["properties"]["ruleCollections"]]
        assert len(set(coll)) == len(coll) and all(AZURE_PRIORITY[0] <= p <= AZURE_PRIORITY[1] for p in coll)


def test_azure_names_are_names_azure_accepts(scale):
    az = scale["azure"]
    names = [g.name for g in az.groups] + [g.name for g in az.ip_groups]
    for g in az.groups:
        for coll in g.body["properties"]["ruleCollections"]:
            names.append(coll["name"])
            rule_names = [r["name"] for r in coll["rules"]]
            assert len(set(rule_names)) == len(rule_names), f"{g.name}/{coll['name']}: rule names collide"
            names += rule_names
    bad = [n for n in names if not AZURE_NAME.match(n)]
    assert not bad, bad[:10]
    assert len({g.name for g in az.groups}) == len(az.groups)
    assert len({g.name for g in az.ip_groups}) == len(az.ip_groups)


def test_azure_ip_groups_within_limits_and_referenced(scale):
    az = scale["azure"]
    assert len(az.ip_groups) <= AZURE_IP_GROUPS_MAX
    assert all(0 < len(g.addresses) <= AZURE_IP_GROUP_MAX for g in az.ip_groups), max(
        len(g.addresses) for g in az.ip_groups
    )
    referenced = {
        gid
        for g in az.groups
        for r in g.rules
        for gid in r.get("destinationIpGroups", []) + r.get("sourceIpGroups", [])
    }
    assert referenced == {g.id for g in az.ip_groups}, "IP Groups referenced but not rendered, or rendered unused"


def test_azure_network_pairs_within_limit(scale):
    """Microsoft's count (limits page of ms.date 10/14/2026), worked from the rendered rules alone."""
    pairs = microsoft_pairs(scale["azure"])
    assert pairs <= AZURE_PAIRS_MAX, pairs
    assert pairs == scale["azure"].network_pairs, "the render's own count disagrees"


def test_azure_application_ports_in_range(scale):
    for g in scale["azure"].groups:
        for rule in g.rules:
            for proto in rule.get("protocols", []) if rule.get("ruleType") == "ApplicationRule" else []:
                assert proto["protocolType"] in ("Http", "Https")
                assert AZURE_APP_PORT[0] <= proto["port"] <= AZURE_APP_PORT[1], proto


# --- AWS -------------------------------------------------------------------------------------------------------


def _expanded(rule: str, variables: dict[str, list[str]]) -> int:
    def sub(match: re.Match) -> str:
        values = variables.get(match.group(1))
        return "[" + ",".join(values) + "]" if values else match.group(0)

    return len(re.sub(r"\$([A-Za-z_][A-Za-z0-9_]*)", sub, rule))


def test_aws_capacity_and_sizes_within_limits(scale):
    groups = scale["aws"].groups
    assert 0 < len(groups) <= AWS_STATEFUL_GROUPS_MAX
    for g in groups:
        request = g.request
        assert request["Capacity"] <= AWS_CAPACITY_MAX, (g.name, request["Capacity"])
        assert request["Capacity"] >= len(g.rules), (g.name, request["Capacity"], len(g.rules))
        source = request["RuleGroup"]["RulesSource"]
        if "RulesString" in source:
            assert len(source["RulesString"].encode("utf-8")) <= AWS_RULES_STRING_MAX, g.name
        else:
            targets = source["RulesSourceList"]["Targets"]
            assert len(targets) + 1 <= request["Capacity"], g.name


def test_aws_every_rule_fits_with_variables_expanded(scale):
    longest = 0
    for g in scale["aws"].groups:
        ip_sets = g.request["RuleGroup"]["RuleVariables"]["IPSets"]
        variables = {name: value["Definition"] for name, value in ip_sets.items()}
        for line in g.rules:
            if line.startswith("#"):
                continue
            for name in re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", line):
                assert name in variables or name == "EXTERNAL_NET", f"{g.name}: ${name} undefined"
            length = _expanded(line, variables)
            longest = max(longest, length)
            assert length <= AWS_RULE_MAX_CHARS, (g.name, length, line[:120])
    assert longest > 0


def test_aws_names_and_sids(scale):
    sids: list[int] = []
    for g in scale["aws"].groups:
        assert AWS_NAME.match(g.request["RuleGroupName"]), g.request["RuleGroupName"]
        for line in g.rules:
            sids += [int(s) for s in re.findall(r"\bsid:\s*(\d+)", line)]
    assert len({g.name for g in scale["aws"].groups}) == len(scale["aws"].groups)
    duplicated = [sid for sid, n in Counter(sids).items() if n > 1]
    assert not duplicated, duplicated[:10]


def test_azure_sharding_at_scale_keeps_every_rule_within_a_smaller_group_limit(scale):
    """The same 100k plan with groupMaxBytes at 200 kB: areas shard into several groups (priority+1, ...),
    every group within the configured limit, and the shards together hold exactly each rule's destinations."""
    from endpoint_firewall.config.azure_config import AzureConfig

    config = load_stack_file(ROOT / "stacks" / "Pulumi.dev.yaml").azure
    limits = config.limits.model_copy(update={"group_max_bytes": 200_000})
    small = render_azure(
        scale["plan"], AzureConfig.model_validate({**config.model_dump(), "limits": limits.model_dump()})
    )
    assert len(small.groups) > len(scale["azure"].groups), "nothing was sharded"
    assert len(small.groups) <= AZURE_GROUPS_MAX
    assert max(_azure_bytes(g.body) for g in small.groups) <= 200_000
    priorities = [g.priority for g in small.groups]
    assert len(set(priorities)) == len(priorities)
    assert all(AZURE_PRIORITY[0] <= p <= AZURE_PRIORITY[1] for p in priorities)

    def destinations(render) -> dict[tuple[str, str], set[str]]:
        out: dict[tuple[str, str], set[str]] = {}
        members = {g.id: g.addresses for g in render.ip_groups}
        for g in render.groups:
            for rule in g.rules:
                base = re.sub(r"-\d+$", "", rule["name"])
                values = set(
                    rule.get("targetFqdns", [])
                    + rule.get("destinationFqdns", [])
                    + rule.get("destinationAddresses", [])
                )
                values.update(a for gid in rule.get("destinationIpGroups", []) for a in members[gid])
                out.setdefault((g.area, base), set()).update(values)
        return out

    assert destinations(small) == destinations(scale["azure"])


# --- AWS: the capacity of one firewall policy ---------------------------------------------------------------

AWS_POLICY_CAPACITY_DEFAULT = 30_000  # quotas page: stateful rules per firewall policy, all its groups


def test_aws_a_catalogue_over_the_policy_quota_fails_naming_the_figure_the_quota_and_how_to_raise_it(scale):
    config = load_stack_file(ROOT / "stacks" / "Pulumi.dev.yaml")
    used = sum(g.used for g in scale["aws"].groups)
    assert used > AWS_POLICY_CAPACITY_DEFAULT
    with pytest.raises(AwsRenderError) as err:
        render_aws(scale["plan"], config.aws)  # the default quota
    text = str(err.value)
    assert f"need stateful capacity {used}" in text and "aws.limits.policyCapacity is 30000" in text
    assert "Service Quotas" in text and "Maximum number of stateful rules per firewall policy" in text


def test_aws_headroom_is_trimmed_to_fit_the_policy_quota():
    config = load_stack_file(ROOT / "stacks" / "Pulumi.dev.yaml")
    plan = build_plan(_generated(20_000), Selection(), config.source_ranges, config.peer_ranges)
    roomy = render_aws(plan, _with_quota(config.aws, 1_000_000))
    used = sum(g.used for g in roomy.groups)
    reserved = sum(g.capacity for g in roomy.groups)
    assert used < reserved
    quota = used + (reserved - used) // 3  # room for a third of the headroom
    tight = render_aws(plan, _with_quota(config.aws, quota))
    assert sum(g.capacity for g in tight.groups) <= quota
    assert [g.used for g in tight.groups] == [g.used for g in roomy.groups]
    assert all(g.used <= g.capacity == g.request["Capacity"] for g in tight.groups)
    assert any(a.capacity < b.capacity and a.name != b.name for a, b in zip(tight.groups, roomy.groups, strict=True))
    assert any(f"headroom trimmed to fit aws.limits.policyCapacity ({quota})" in w for w in tight.warnings)
    exact = render_aws(plan, _with_quota(config.aws, used))  # no headroom left at all, still deployable
    assert sum(g.capacity for g in exact.groups) == used
    with pytest.raises(AwsRenderError, match=f"need stateful capacity {used}, more than one firewall policy holds"):
        render_aws(plan, _with_quota(config.aws, used - 1))
