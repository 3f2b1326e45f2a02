"""Azure renderer: mapping on the real catalogue, Microsoft's REST schema, names, limits and sharding."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from pathlib import Path

import jsonschema
import pytest
from conftest import dev_azure_config as dev_config

from endpoint_firewall.config.azure_config import AzureConfig, AzureLimits
from endpoint_firewall.endpoints.loader import load_catalogue
from endpoint_firewall.endpoints.models import Destination, EntryKind, Service
from endpoint_firewall.planning.address_rules import AddressRules
from endpoint_firewall.planning.kinds import REFERENCE_ONLY
from endpoint_firewall.planning.planner import build_plan
from endpoint_firewall.planning.rules import AreaPlan, Plan, Rule, RuleKind, Skipped
from endpoint_firewall.planning.selection import Selection
from endpoint_firewall.renderers.azure.model import NAME_RE, RenderError, json_size
from endpoint_firewall.renderers.azure.render import render_azure

SPEC_DIR = Path(__file__).resolve().parent / "fixtures" / "azure" / "spec"
SOURCES = ["10.10.0.0/16"]
# The pattern the same spec puts on rule collection group names (FirewallPolicyRuleCollectionGroupDrafts paths).
SPEC_NAME_PATTERN = re.compile(r"^[^_\W][\w\-._]{0,79}(?<![-.])$", re.ASCII)


# --- Microsoft's REST spec as JSON Schema ----------------------------------------------------------------


class SpecSchemas:
    """Swagger 2.0 definitions of the fixture -> closed JSON Schemas (see tests/fixtures/azure/README.md)."""

    def __init__(self, folder: Path) -> None:
        self.files = {p.name: json.loads(p.read_text())["definitions"] for p in sorted(folder.glob("*.json"))}
        self.defs: dict[str, dict] = {}

    def validator(self, file: str, name: str) -> jsonschema.Draft202012Validator:
        key = self._ensure(file, name)
        schema = {"$defs": self.defs, "$ref": f"#/$defs/{key}"}
        jsonschema.Draft202012Validator.check_schema(schema)
        return jsonschema.Draft202012Validator(schema)

    def _ensure(self, file: str, name: str) -> str:
        key = f"{file.removesuffix('.json')}.{name}"
        if key not in self.defs:
            self.defs[key] = {}  # recursion guard; filled below
            self.defs[key] = self._definition(file, name)
        return key

    def _resolve(self, file: str, ref: str) -> tuple[str, str]:
        path, _, pointer = ref.partition("#")
        return (Path(path).name or file), pointer.removeprefix("/definitions/")  # common-types/.../types.json too

    def _definition(self, file: str, name: str) -> dict:
        d = self.files.get(file, {}).get(name)
        if d is None:
            return {"not": {}, "description": f"{file}#{name} is not kept in the fixture: must not be used"}
        if "discriminator" in d:
            disc = d["discriminator"]
            subs = [
                (f, n, s["x-ms-discriminator-value"])
                for f, defs in self.files.items()
                for n, s in defs.items()
                if "x-ms-discriminator-value" in s
                and any(self._resolve(f, p.get("$ref", "")) == (file, name) for p in s.get("allOf", []))
            ]
            return {
                "type": "object",
                "required": [disc],
                "properties": {disc: {"enum": sorted(v for _, _, v in subs)}},
                "allOf": [
                    {
                        "if": {"properties": {disc: {"const": v}}, "required": [disc]},
                        "then": self._closed(f, n, {disc: {"const": v}}),
                    }
                    for f, n, v in subs
                ],
            }
        if d.get("type", "object") != "object" or ("properties" not in d and "allOf" not in d):
            return self._property(file, d)
        return self._closed(file, name)

    def _collect(self, file: str, name: str) -> tuple[dict, set]:
        d = self.files[file][name]
        props: dict = {}
        required: set = set(d.get("required", []))
        for parent in d.get("allOf", []):
            pf, pn = self._resolve(file, parent["$ref"])
            pp, pr = self._collect(pf, pn)
            props.update(pp)
            required |= pr
        props.update({k: (file, v) for k, v in d.get("properties", {}).items()})
        return props, required

    def _closed(self, file: str, name: str, override: dict | None = None) -> dict:
        props, required = self._collect(file, name)
        out = {k: self._property(f, v) for k, (f, v) in props.items() if not v.get("readOnly")}
        out.update(override or {})
        return {"type": "object", "properties": out, "required": sorted(required), "additionalProperties": False}

    def _property(self, file: str, p: dict) -> dict:
        if "$ref" in p:
            f, n = self._resolve(file, p["$ref"])
            return {"$ref": f"#/$defs/{self._ensure(f, n)}"}
        kind = p.get("type")
        out: dict = {}
        if kind == "array":
            out = {"type": "array", "items": self._property(file, p["items"])}
        elif kind == "object":
            out = {"type": "object"}
            if isinstance(p.get("additionalProperties"), dict):
                out["additionalProperties"] = self._property(file, p["additionalProperties"])
        elif kind in ("string", "integer", "boolean", "number"):
            out = {"type": kind}
        for key in ("enum", "minimum", "maximum"):
            if key in p:
                out[key] = p[key]
        if p.get("exclusiveMinimum") is True or p.get("exclusiveMaximum") is True:
            raise AssertionError("exclusive bounds are not used by these definitions")
        return out


SPEC = SpecSchemas(SPEC_DIR)
GROUP = SPEC.validator("firewallPolicy.json", "FirewallPolicyRuleCollectionGroup")
IP_GROUP = SPEC.validator("ipGroups.json", "IpGroup")
FIREWALL = SPEC.validator("azureFirewall.json", "AzureFirewall")


def errors(validator, body) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]


def assert_valid(render) -> None:
    for g in render.groups:
        assert errors(GROUP, g.body) == [], g.name
    for ipg in render.ip_groups:
        body = {k: v for k, v in ipg.body.items() if k != "name"}  # Resource.name is readOnly: the id names it
        assert errors(IP_GROUP, body) == [], ipg.name
    if render.classic is not None:
        assert errors(FIREWALL, {"properties": render.classic}) == []


# --- helpers -------------------------------------------------------------------------------------------


def dev_plan(catalogue=None):
    return build_plan(catalogue or load_catalogue(), Selection(), SOURCES, SOURCES)


def dev_render(address_rules: AddressRules = AddressRules.NAMES_ONLY):
    return render_azure(dev_plan(), dev_config().model_copy(update={"address_rules": address_rules}))


def config(**kw) -> AzureConfig:
    limits = kw.pop("limits", {})
    base = {
        "resource_group_name": "rg",
        "policy_name": "pol",
        "name_prefix": "t",
        "dns_proxy": True,
        "location": "westeurope",
    }
    return AzureConfig(**{**base, **kw}, limits=AzureLimits(**limits))


def svc(text: str) -> Service:
    proto, port = text.split(":")
    return Service(protocol=proto, port=port)


def rule(area, kind, services, destinations, entry="e1", name=None) -> Rule:
    services = tuple(svc(s) for s in services)
    sig = "-".join(f"{s.protocol.value}{s.port}" for s in services)
    return Rule(
        name=name or f"{area}-{kind.value}-{sig}",
        area=area,
        kind=kind,
        services=services,
        destinations=tuple(destinations),
        origins=tuple((d, (entry,)) for d in destinations),
    )


def plan(*areas: tuple[str, int, list[Rule]], sources=SOURCES, skipped=()) -> Plan:
    return Plan(
        areas=tuple(
            AreaPlan(area=a, title=a, priority=p, rules=tuple(sorted(rs, key=lambda r: r.name))) for a, p, rs in areas
        ),
        source_ranges=tuple(sources),
        skipped=tuple(skipped),
        selected_entries=(),
        digest="x",
    )


def hosts(n, base="example.com", prefix="h"):
    return sorted(f"{prefix}{i:05d}.{base}" for i in range(n))


def addresses(n, first="20.0.0.0"):
    import ipaddress

    start = int(ipaddress.ip_address(first))
    return [f"{ipaddress.ip_address(start + 4 * i)}/32" for i in range(n)]


def microsoft_pairs(render, formula: str = "2026-10") -> int:
    """Microsoft's count, worked from the rendered rules alone, summed over network rules (an IP Group id or an FQDN is
    one address). 2026-10 (includes/firewall-limits.md, ms.date 10/14/2026): IP protocols x sources x destinations x
    ceil(destination ports / 14), every port of a range counted; 2023 (ms.date 10/10/2023): sources x destinations."""
    total = 0
    for g in render.groups:
        for r in g.rules:
            if r["ruleType"] == "NetworkRule":
                sources = set(r.get("sourceAddresses", []) + r.get("sourceIpGroups", []))
                destinations = set(
                    r.get("destinationAddresses", []) + r.get("destinationIpGroups", []) + r.get("destinationFqdns", [])
                )
                factor = 1
                if formula == "2026-10":
                    ports: set[int] = set()
                    for entry in r["destinationPorts"]:
                        low, high = (entry.split("-") + [entry])[:2]
                        ports.update(range(int(low), int(high) + 1))
                    factor = len(set(r["ipProtocols"])) * -(-len(ports) // 14)
                total += len(sources) * len(destinations) * factor
    return total


def group(render, name):
    return next(g for g in render.groups if g.name == name)


def rules_of(g, collection):
    return {
        r["name"]: r for c in g.body["properties"]["ruleCollections"] if c["name"] == collection for r in c["rules"]
    }


# --- mapping on the real catalogue ---------------------------------------------------------------------


def test_one_group_per_area_at_the_area_priority_with_network_then_application_collection():
    r = dev_render()
    catalogue = load_catalogue()
    assert [(g.name, g.priority) for g in r.groups] == [
        (f"epfw-dev-{a.area}", catalogue.service_areas[a.area].priority) for a in dev_plan().areas
    ]
    for g in r.groups:
        collections = g.body["properties"]["ruleCollections"]
        assert [(c["name"], c["priority"]) for c in collections] in (
            [("network", 100), ("application", 200)],
            [("network", 100)],
            [("application", 200)],
        )
        for c in collections:
            assert c["ruleCollectionType"] == "FirewallPolicyFilterRuleCollection"
            assert c["action"] == {"type": "Allow"}
            assert [x["name"] for x in c["rules"]] == sorted(x["name"] for x in c["rules"])
            kind = "NetworkRule" if c["name"] == "network" else "ApplicationRule"
            assert {x["ruleType"] for x in c["rules"]} == {kind}
        assert g.body["name"] == g.name and g.body["properties"]["priority"] == g.priority


def test_hostnames_become_application_rules_with_one_protocol_entry_per_port():
    r = dev_render()
    android = rules_of(group(r, "epfw-dev-android"), "application")["android-fqdn-tls443-tls5228-5230"]
    assert android["protocols"] == [{"protocolType": "Https", "port": p} for p in (443, 5228, 5229, 5230)]
    apns = rules_of(group(r, "epfw-dev-apple"), "application")["apple-fqdn-tls443-tls5223"]
    assert apns["protocols"] == [{"protocolType": "Https", "port": 443}, {"protocolType": "Https", "port": 5223}]
    assert "0-courier.push.apple.com" in apns["targetFqdns"] and "50-courier.push.apple.com" in apns["targetFqdns"]
    web = rules_of(group(r, "epfw-dev-intune-core"), "application")["intune-core-fqdn-http80-https443"]
    assert web["protocols"] == [{"protocolType": "Http", "port": 80}, {"protocolType": "Https", "port": 443}]
    assert web["sourceAddresses"] == SOURCES
    for g in r.groups:
        for x in rules_of(g, "application").values():
            assert x["targetFqdns"] == sorted(x["targetFqdns"])


def test_wildcards_are_written_as_listed_and_the_apex_only_when_listed():
    r = dev_render()
    web = rules_of(group(r, "epfw-dev-intune-core"), "application")["intune-core-fqdn-http80-https443"]
    assert "*.manage.microsoft.com" in web["targetFqdns"] and "manage.microsoft.com" in web["targetFqdns"]
    apple = rules_of(group(r, "epfw-dev-apple"), "application")["apple-fqdn-https443"]
    assert "*.mzstatic.com" in apple["targetFqdns"] and "mzstatic.com" not in apple["targetFqdns"]
    # no wildcard is widened; only the NTP names on UDP 123 (FQDN network rules allow what the name resolves to) and
    # the address of the entry that lists no name (a network rule cannot hold it to HTTP or TLS)
    names = {(w.entry, w.destination) for w in r.widened if w.reason.startswith("network rule on a name (udp:123)")}
    assert names == {("apple-time", h) for h in ("time.apple.com", "time-ios.apple.com", "time-macos.apple.com")} | {
        ("intune-165", "time.windows.com"),
        ("autopilot-ntp", "time.windows.com"),  # the Intune and Autopilot pages
    }
    [address] = [w for w in r.widened if (w.entry, w.destination) not in names]
    assert (address.entry, address.destination) == ("intune-consolidated-addresses", "20.189.172.160/27")
    assert address.reason.startswith("network rule on addresses (http:80, https:443 listed)")


def test_addresses_become_network_rules_and_large_sets_go_into_ip_groups():
    # as shipped (names-only) ID 163's addresses are left to its application rules: Azure resolves the name itself
    shipped = dev_render()
    assert shipped.ip_groups == () and not rules_of(group(shipped, "epfw-dev-intune-core"), "network")
    [left] = shipped.by_name
    planned = next(x for x in dev_plan().rules if x.name == "intune-core-ip-tcp80-tcp443")
    assert left.entry == "intune-163" and set(left.destinations) == {d for d in planned.destinations if ":" not in d}
    assert shipped.summary()["addressRules"]["leftToNames"] == [left.to_json()]
    # addressRules tcp: every listed address is a network rule, large sets in IP Groups
    r = dev_render(AddressRules.TCP)
    small = rules_of(group(r, "epfw-dev-intune-consolidated"), "network")["intune-consolidated-ip-tcp80-tcp443"]
    assert small["ipProtocols"] == ["TCP"] and small["destinationPorts"] == ["80", "443"]
    assert small["destinationAddresses"] == ["20.189.172.160/27"]  # not more than ipGroupThreshold (50): literal
    net = rules_of(group(r, "epfw-dev-intune-core"), "network")
    big = net["intune-core-ip-tcp80-tcp443"]
    assert "destinationAddresses" not in big and big["destinationPorts"] == ["80", "443"]
    [ipg] = r.ip_groups
    assert big["destinationIpGroups"] == [ipg.id]
    assert ipg.id == (
        "/subscriptions/{subscriptionId}/resourceGroups/rg-egress-dev/providers/Microsoft.Network/"
        "ipGroups/epfw-dev-intune-core-ip-tcp80-tcp443-1"
    )
    planned = next(x for x in dev_plan().rules if x.name == "intune-core-ip-tcp80-tcp443")
    ipv4 = tuple(d for d in planned.destinations if ":" not in d)  # IPv6: named as not expressible
    assert ipg.addresses == ipv4 and len(ipg.addresses) > 50
    assert {n.destination for n in r.not_expressible} == set(planned.destinations) - set(ipv4)
    peers = rules_of(group(r, "epfw-dev-delivery-optimization"), "network")
    assert peers["delivery-optimization-p2p-tcp7680"]["ipProtocols"] == ["TCP"]
    assert peers["delivery-optimization-p2p-udp3544"] == {
        "ruleType": "NetworkRule",
        "name": "delivery-optimization-p2p-udp3544",
        "ipProtocols": ["UDP"],
        "sourceAddresses": SOURCES,
        "destinationAddresses": ["10.10.0.0/16"],
        "destinationPorts": ["3544"],
    }
    # Per rule, summed, one source range: 1 IP Group + 1 address + the peer range in two rules (TCP 7680,
    # UDP 3544) + 4 NTP names (time.windows.com, Apple's three) in two rules
    assert r.network_pairs == microsoft_pairs(r) == 1 + 1 + 2 + 4
    assert shipped.network_pairs == microsoft_pairs(shipped) == 1 + 2 + 4  # no IP Group


def test_tcp_and_udp_on_different_ports_are_separate_rules_and_on_the_same_ports_one():
    r = render_azure(
        plan(
            (
                "a",
                1000,
                [
                    rule("a", RuleKind.ADDRESS, ["tcp:80", "udp:3478-3481"], ["20.0.0.0/24"]),
                    rule("a", RuleKind.ADDRESS, ["tcp:443", "udp:443"], ["20.0.1.0/24"]),
                ],
            )
        ),
        config(),
    )
    net = rules_of(r.groups[0], "network")
    assert net["a-ip-tcp80-udp3478-3481-tcp"]["ipProtocols"] == ["TCP"]
    assert net["a-ip-tcp80-udp3478-3481-tcp"]["destinationPorts"] == ["80"]
    assert net["a-ip-tcp80-udp3478-3481-udp"]["destinationPorts"] == ["3478-3481"]
    assert net["a-ip-tcp443-udp443"]["ipProtocols"] == ["TCP", "UDP"]
    assert_valid(r)


def test_plan_skipped_entries_are_in_the_summary_not_dropped():
    s = dev_render().summary()
    references = {(e.id, None) for e in load_catalogue().entries if e.kind is EntryKind.REFERENCE}
    # the shared-tenant wildcards the demo stack leaves out (sharedTenantWildcards: exact), each with its vendor page
    left_out = {("intune-181", "*.monitor.azure.com"), ("intune-187", "*.webpubsub.azure.com")}
    assert {(x["entry"], x["destination"]) for x in s["skipped"]} == references | left_out
    assert all(x["reason"] for x in s["skipped"])
    assert all("https://learn.microsoft.com/" in x["reason"] for x in s["skipped"] if x["destination"])
    json.dumps(s)  # JSON-able
    assert s["rules"] == sum(g["rules"] for g in s["groups"]) == dev_render().rule_count
    planned = next(x for x in dev_plan().rules if x.name == "intune-core-ip-tcp80-tcp443")
    assert dev_render(AddressRules.TCP).summary()["ipGroups"] == [
        {
            "name": "epfw-dev-intune-core-ip-tcp80-tcp443-1",
            "addresses": sum(":" not in d for d in planned.destinations),
            "serves": "intune-core-ip-tcp80-tcp443",
        }
    ]


# --- Microsoft's schema ----------------------------------------------------------------------------------


def test_every_dev_group_and_ip_group_validates_against_the_rest_spec():
    assert_valid(dev_render())


def test_classic_target_validates_against_the_rest_spec_and_mirrors_the_groups():
    policy = dev_render(AddressRules.TCP)  # with ID 163's IP Group
    classic = render_azure(
        dev_plan(),
        config(
            target="classic",
            firewall_name="fw-egress",
            policy_name=None,
            name_prefix="epfw-dev",
            resource_group_name="rg-egress-dev",
            address_rules=AddressRules.TCP,
        ),
    )
    assert classic.groups == () and classic.classic is not None
    assert_valid(classic)
    net = classic.classic["networkRuleCollections"]
    assert [c["name"] for c in net] == [f"{g.name}-net" for g in policy.groups if rules_of(g, "network")]
    assert [c["properties"]["priority"] for c in net] == [g.priority for g in policy.groups if rules_of(g, "network")]
    first = net[0]["properties"]["rules"][0]
    assert "ruleType" not in first and first["protocols"] == ["TCP"]
    assert classic.rule_count == policy.rule_count
    assert list(classic.files()) == [
        "azure/classic/fw-egress.json",
        "azure/ip-groups/epfw-dev-intune-core-ip-tcp80-tcp443-1.json",
    ]


def test_synthetic_render_with_every_field_validates():
    p = plan(
        (
            "a",
            1000,
            [
                rule("a", RuleKind.HOST_NETWORK, ["tcp:5228-5230"], ["mtalk.google.com"]),
                rule("a", RuleKind.ADDRESS, ["udp:3478"], addresses(60)),
                rule("a", RuleKind.HOSTNAME, ["https:8443"], ["*.x.example.com"]),
            ],
        ),
        sources=addresses(60, "10.0.0.0"),
    )
    r = render_azure(p, config())
    assert_valid(r)
    first = r.groups[0].rules[0]
    assert "sourceIpGroups" in first and "sourceAddresses" not in first


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda b: b["properties"].update(priority=99), "99 is less than the minimum of 100"),
        (lambda b: b["properties"].update(priority=65001), "65001 is greater than the maximum of 65000"),
        (lambda b: b["properties"]["ruleCollections"][0].update(priority=70000), "greater than the maximum"),
        (
            lambda b: b["properties"]["ruleCollections"][0].update(ruleCollectionType="FilterRuleCollection"),
            "is not one of",
        ),
        (lambda b: b["properties"]["ruleCollections"][0]["action"].update(type="Pass"), "'Pass' is not one of"),
        (lambda b: app(b)["protocols"][0].update(protocolType="Tls"), "'Tls' is not one of"),
        (lambda b: app(b)["protocols"][0].update(port=64001), "64001 is greater than the maximum of 64000"),
        (lambda b: app(b)["protocols"][0].update(port="443"), "'443' is not of type 'integer'"),
        (lambda b: app(b).update(targetFQDNs=["x.example"]), "Additional properties are not allowed"),
        (lambda b: app(b).update(destinationPorts=["443"]), "Additional properties are not allowed"),
        (lambda b: app(b).update(ruleType="FqdnRule"), "is not one of"),
        (lambda b: net(b).update(ipProtocols=["tcp"]), "'tcp' is not one of"),
        (lambda b: net(b).update(destinationPorts=[443]), "443 is not of type 'string'"),
        (lambda b: b["properties"].update(provisioningState="Succeeded"), "Additional properties are not allowed"),
        (lambda b: app(b).pop("ruleType"), "'ruleType' is a required property"),
        (
            lambda b: b["properties"]["ruleCollections"][0].pop("ruleCollectionType"),
            "'ruleCollectionType' is a required property",
        ),
    ],
)
def test_the_schema_has_teeth(mutate, expected):
    body = copy.deepcopy(group(dev_render(), "epfw-dev-intune-consolidated").body)  # a network and an app rule
    mutate(body)
    found = errors(GROUP, body)
    assert found and any(expected in e for e in found), found


def test_the_classic_schema_has_teeth():
    cfg = config(target="classic", firewall_name="fw", policy_name=None)
    r = render_azure(
        plan(
            (
                "a",
                1000,
                [
                    rule("a", RuleKind.ADDRESS, ["tcp:443"], ["20.0.0.0/24"]),
                    rule("a", RuleKind.HOSTNAME, ["https:443"], ["a.example.com"]),
                ],
            )
        ),
        cfg,
    )
    assert errors(FIREWALL, {"properties": r.classic}) == []
    bad = copy.deepcopy(r.classic)
    bad["networkRuleCollections"][0]["properties"]["rules"][0]["ipProtocols"] = ["TCP"]  # the policy's field name
    bad["applicationRuleCollections"][0]["properties"]["rules"][0]["ruleType"] = "ApplicationRule"
    bad["applicationRuleCollections"][0]["properties"]["priority"] = 99
    found = errors(FIREWALL, {"properties": bad})
    assert len(found) == 3, found
    assert errors(FIREWALL, {"properties": {**r.classic, "ipConfigurations": [{}]}}) != []  # not kept: not ours


def app(body):
    return next(c for c in body["properties"]["ruleCollections"] if c["name"] == "application")["rules"][0]


def net(body):
    return next(c for c in body["properties"]["ruleCollections"] if c["name"] == "network")["rules"][0]


# --- names, files, determinism -----------------------------------------------------------------------------


def all_names(r):
    names = [g.name for g in r.groups] + [g.name for g in r.ip_groups]
    for g in r.groups:
        for c in g.body["properties"]["ruleCollections"]:
            names += [c["name"], *(x["name"] for x in c["rules"])]
    if r.classic:
        for key in ("networkRuleCollections", "applicationRuleCollections"):
            for c in r.classic[key]:
                names += [c["name"], *(x["name"] for x in c["properties"]["rules"])]
    return names


def test_every_name_matches_azures_rules_even_for_long_prefixes_and_areas():
    area = "a" * 60 + "-"  # a valid catalogue id that ends with '-'
    long_name = "r" * 79 + "-"
    p = plan(
        (
            area,
            1000,
            [
                rule(area, RuleKind.ADDRESS, ["tcp:443"], addresses(70)),
                rule(area, RuleKind.HOSTNAME, ["https:443"], ["a.example.com"], name=long_name),
            ],
        )
    )
    for r in (
        dev_render(),
        render_azure(p, config(name_prefix="p" * 31)),
        render_azure(p, config(name_prefix="p" * 31, target="classic", firewall_name="fw")),
    ):
        names = all_names(r)
        assert names
        for name in names:
            assert NAME_RE.match(name) and SPEC_NAME_PATTERN.match(name) and len(name) <= 80, name
    again = render_azure(p, config(name_prefix="p" * 31))
    assert all_names(again) == all_names(render_azure(p, config(name_prefix="p" * 31)))


def test_files_are_deterministic_json_with_a_trailing_newline():
    a, b = dev_render().files(), dev_render().files()
    assert a == b
    r = dev_render()
    for g in r.groups:
        text = a[f"azure/{g.name}.json"]
        assert text.endswith("}\n") and text == json.dumps(g.body, indent=2) + "\n"
    for ipg in r.ip_groups:
        assert json.loads(a[f"azure/ip-groups/{ipg.name}.json"]) == ipg.body


def with_destination(catalogue, entry_id, value):
    assert entry_id in {e.id for e in catalogue.entries}, entry_id
    entries = tuple(
        e.model_copy(update={"destinations": e.destinations + (Destination.model_validate(value),)})
        if e.id == entry_id
        else e
        for e in catalogue.entries
    )
    return dataclasses.replace(catalogue, entries=entries)


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def test_adding_one_fqdn_changes_one_rule_in_one_group_and_nothing_else():
    catalogue = load_catalogue()
    before = render_azure(dev_plan(catalogue), dev_config())
    after = render_azure(dev_plan(with_destination(catalogue, "intune-190", "new.example.com")), dev_config())
    # template.json holds every body: it changes with the one group and the one DNS list it holds
    assert changed(before.files(), after.files()) == [
        "azure/dns/domain-lists/epfw-dev-dns-allowed.json",
        "azure/epfw-dev-intune-core.json",
        "azure/template.json",
    ]
    old, new = group(before, "epfw-dev-intune-core"), group(after, "epfw-dev-intune-core")
    diff = [
        n
        for n in {**rules_of(old, "application"), **rules_of(old, "network")}
        if {**rules_of(old, "application"), **rules_of(old, "network")}[n]
        != {**rules_of(new, "application"), **rules_of(new, "network")}.get(n)
    ]
    assert diff == ["intune-core-fqdn-http80-https443"]
    a = rules_of(old, "application")[diff[0]]
    b = rules_of(new, "application")[diff[0]]
    assert set(b["targetFqdns"]) - set(a["targetFqdns"]) == {"new.example.com"}
    assert {k: v for k, v in a.items() if k != "targetFqdns"} == {k: v for k, v in b.items() if k != "targetFqdns"}


def test_adding_one_address_to_a_grouped_set_changes_only_its_ip_group():
    catalogue = load_catalogue()
    tcp = dev_config().model_copy(update={"address_rules": AddressRules.TCP})  # ID 163's addresses: an IP Group
    before = render_azure(dev_plan(catalogue), tcp).files()
    after = render_azure(dev_plan(with_destination(catalogue, "intune-163", "52.1.2.3")), tcp).files()
    assert changed(before, after) == [
        "azure/ip-groups/epfw-dev-intune-core-ip-tcp80-tcp443-1.json",
        "azure/template.json",
    ]
    # as shipped (names-only) an address of an entry with names is left to them: no Azure resource changes
    shipped = render_azure(dev_plan(with_destination(catalogue, "intune-163", "52.1.2.3")), dev_config())
    assert changed(render_azure(dev_plan(catalogue), dev_config()).files(), shipped.files()) == []
    assert "52.1.2.3/32" in shipped.by_name[0].destinations


# --- findings: widened, not expressible, refused ---------------------------------------------------------------


def test_host_network_without_dns_proxy_fails_naming_the_entries_and_hosts():
    p = plan(
        (
            "a",
            1000,
            [
                rule(
                    "a",
                    RuleKind.HOST_NETWORK,
                    ["tcp:5228"],
                    ["mtalk.google.com", "x.example.com"],
                    entry="android-fcm-plain",
                )
            ],
        )
    )
    with pytest.raises(RenderError) as err:
        render_azure(p, config(dns_proxy=False))
    assert "android-fcm-plain (mtalk.google.com, x.example.com)" in str(err.value)
    assert "dnsProxy" in str(err.value)


def test_host_network_with_dns_proxy_is_a_network_rule_on_fqdns_reported_as_widened():
    p = plan(("a", 1000, [rule("a", RuleKind.HOST_NETWORK, ["tcp:5228-5230"], ["mtalk.google.com"], entry="fcm")]))
    r = render_azure(p, config())
    [x] = rules_of(r.groups[0], "network").values()
    assert x["destinationFqdns"] == ["mtalk.google.com"] and x["destinationPorts"] == ["5228-5230"]
    assert [(n.entry, n.destination) for n in r.widened] == [("fcm", "mtalk.google.com")]
    assert r.summary()["widened"][0]["reason"].startswith("network rule on a name")
    existing = render_azure(p, config()).warnings
    assert any("DNS proxy enabled" in w for w in existing)  # the existing policy's DNS proxy is not ours to check
    created = render_azure(p, config(create_policy={"location": "westeurope"})).warnings
    assert not any("DNS proxy enabled" in w for w in created)


def test_many_network_fqdns_warn():
    p = plan(("a", 1000, [rule("a", RuleKind.HOST_NETWORK, ["tcp:5228"], hosts(12))]))
    r = render_azure(p, config(limits={"network_fqdns_warn": 10}))
    assert any("12 FQDNs in network rules, more than networkFqdnsWarn (10)" in w for w in r.warnings)


def test_ports_azure_application_rules_cannot_take_are_not_expressible_with_reasons():
    p = plan(
        (
            "a",
            1000,
            [
                rule("a", RuleKind.HOSTNAME, ["tls:443", "tls:64500"], ["high.example.com"], entry="high"),
                rule("a", RuleKind.HOSTNAME, ["https:8000-8100"], ["wide.example.com"], entry="wide"),
                rule("a", RuleKind.HOSTNAME, ["tls:64100"], ["only.example.com"], entry="only"),
                rule("a", RuleKind.ADDRESS, ["tcp:443"], ["2001:db8::/32", "20.0.0.0/24"], entry="v6"),
            ],
        ),
        skipped=[Skipped("ref", None, "reference only: https://example.com", REFERENCE_ONLY)],
    )
    r = render_azure(p, config())
    found = {(n.entry, n.destination): n.reason for n in r.not_expressible}
    assert set(found) == {
        ("high", "high.example.com"),
        ("wide", "wide.example.com"),
        ("only", "only.example.com"),
        ("v6", "2001:db8::/32"),
    }
    assert "1-64000" in found[("high", "high.example.com")]
    assert "range of 101 ports" in found[("wide", "wide.example.com")]
    app_rules = rules_of(r.groups[0], "application")
    assert app_rules["a-fqdn-tls443-tls64500"]["protocols"] == [{"protocolType": "Https", "port": 443}]
    assert "a-fqdn-tls64100" not in app_rules and "a-fqdn-https8000-8100" not in app_rules
    assert rules_of(r.groups[0], "network")["a-ip-tcp443"]["destinationAddresses"] == ["20.0.0.0/24"]
    s = r.summary()
    assert {x["entry"] for x in s["notExpressible"]} == {"high", "wide", "only", "v6"}
    assert s["skipped"] == [
        {"entry": "ref", "destination": None, "reason": "reference only: https://example.com", "kind": "reference-only"}
    ]
    assert {x["kind"] for x in s["notExpressible"]} == {"app-port-out-of-range", "ipv6-destination"}
    assert_valid(r)


# --- limits and sharding ---------------------------------------------------------------------------------------


def test_groups_over_the_byte_limit_shard_into_numbered_groups_at_the_next_priorities():
    rules = [rule("big", RuleKind.HOSTNAME, [f"https:{443 + i}"], hosts(40, f"s{i}.example.com")) for i in range(6)]
    r = render_azure(plan(("big", 2000, rules)), config(limits={"group_max_bytes": 5000}))
    names = [g.name for g in r.groups]
    assert names[0] == "t-big" and names[1:] == [f"t-big-{i}" for i in range(2, len(names) + 1)]
    assert len(names) > 1
    assert [g.priority for g in r.groups] == list(range(2000, 2000 + len(names)))
    for g in r.groups:
        assert json_size(g.body) <= 5000
        assert len(json.dumps(g.body, separators=(",", ":"))) <= 5000
    rendered = sorted(t for g in r.groups for x in g.rules for t in x["targetFqdns"])
    assert rendered == sorted(h for x in rules for h in x.destinations)
    assert_valid(r)


def test_one_rule_bigger_than_a_group_is_split_into_parts():
    r = render_azure(
        plan(("big", 2000, [rule("big", RuleKind.HOSTNAME, ["https:443"], hosts(1000))])),
        config(limits={"group_max_bytes": 6000}),
    )
    parts = [x["name"] for g in r.groups for x in g.rules]
    assert parts == [f"big-fqdn-https443-{i}" for i in range(1, len(parts) + 1)] and len(parts) > 2
    assert sorted(t for g in r.groups for x in g.rules for t in x["targetFqdns"]) == hosts(1000)
    assert all(json_size(g.body) <= 6000 for g in r.groups)


def test_sharding_is_stable_growth_of_one_area_does_not_move_another():
    def render(n):
        return render_azure(
            plan(
                ("a", 1000, [rule("a", RuleKind.HOSTNAME, ["https:443"], hosts(n, "a.example.com"))]),
                (
                    "b",
                    1100,
                    [
                        rule("b", RuleKind.HOSTNAME, [f"https:{p}"], hosts(30, f"b{p}.example.com"))
                        for p in (443, 444, 445)
                    ],
                ),
            ),
            config(limits={"group_max_bytes": 3000}),
        )

    small, grown = render(20), render(200)
    assert len([g for g in grown.groups if g.area == "a"]) > len([g for g in small.groups if g.area == "a"])
    assert [g.body for g in small.groups if g.area == "b"] == [g.body for g in grown.groups if g.area == "b"]
    assert_valid(grown)


def test_network_pairs_over_the_limit_move_address_sets_into_ip_groups():
    sources = addresses(10, "10.0.0.0")
    rules = [rule("a", RuleKind.ADDRESS, [f"tcp:{p}"], addresses(40, f"20.{p % 256}.0.0")) for p in (1001, 1002, 1003)]
    p = plan(("a", 1000, rules), sources=sources)
    loose = render_azure(p, config(limits={"network_pairs_max": 20_000}))
    assert loose.ip_groups == () and loose.network_pairs == 10 * 120
    tight = render_azure(p, config(limits={"network_pairs_max": 300}))
    assert tight.network_pairs <= 300 and tight.ip_groups
    assert {g.serves for g in tight.ip_groups} <= {"sources", *(x.name for x in rules)}
    assert_valid(tight)
    with pytest.raises(
        RenderError, match=r"unique source-destination combinations .*, more than networkPairsMax \(2\)"
    ):
        render_azure(p, config(limits={"network_pairs_max": 2}))


def test_ip_groups_hold_at_most_the_configured_number_of_addresses():
    big = rule("a", RuleKind.ADDRESS, ["tcp:443"], addresses(120))
    r = render_azure(plan(("a", 1000, [big])), config(limits={"ip_group_max_addresses": 50}))
    assert [g.name for g in r.ip_groups] == [f"t-a-ip-tcp443-{i}" for i in range(1, len(r.ip_groups) + 1)]
    assert len(r.ip_groups) >= 3 and all(len(g.addresses) <= 50 for g in r.ip_groups)
    assert rules_of(r.groups[0], "network")["a-ip-tcp443"]["destinationIpGroups"] == [g.id for g in r.ip_groups]
    assert sorted(sum((g.addresses for g in r.ip_groups), ())) == sorted(big.destinations)
    assert_valid(r)
    with pytest.raises(RenderError, match=r"\d+ IP Groups needed, more than ipGroupsMax \(2\)"):
        render_azure(plan(("a", 1000, [big])), config(limits={"ip_group_max_addresses": 50, "ip_groups_max": 2}))


def test_more_groups_than_a_policy_takes_is_an_error_naming_the_limit():
    areas = [
        (f"area{i}", 1000 + 100 * i, [rule(f"area{i}", RuleKind.HOSTNAME, ["https:443"], ["a.example.com"])])
        for i in range(4)
    ]
    assert len(render_azure(plan(*areas), config(limits={"groups_per_policy_max": 4})).groups) == 4
    with pytest.raises(RenderError, match=r"4 rule collection groups needed, more than groupsPerPolicyMax \(3\)"):
        render_azure(plan(*areas), config(limits={"groups_per_policy_max": 3}))


def test_shards_past_the_priority_range_or_onto_another_area_are_errors():
    many = [rule("a", RuleKind.HOSTNAME, [f"https:{443 + i}"], hosts(40, f"s{i}.example.com")) for i in range(6)]
    with pytest.raises(RenderError, match=r"group t-a-2: priority 65001 is outside 100..65000"):
        render_azure(plan(("a", 65000, many)), config(limits={"group_max_bytes": 5000}))
    other = [rule("b", RuleKind.HOSTNAME, ["https:443"], ["b.example.com"])]
    with pytest.raises(RenderError, match=r"groups t-a-2 and t-b both need priority 1001"):
        render_azure(plan(("a", 1000, many), ("b", 1001, other)), config(limits={"group_max_bytes": 5000}))
    with pytest.raises(RenderError, match="groupMaxBytes"):
        render_azure(plan(("a", 1000, many)), config(limits={"group_max_bytes": 200}))


def test_one_more_address_changes_one_ip_group():
    """IP Groups are cut by a stable hash, not by position: an insertion does not move every later boundary."""
    cfg = config(limits={"ip_group_max_addresses": 50})
    before = render_azure(plan(("a", 1000, [rule("a", RuleKind.ADDRESS, ["tcp:443"], addresses(120))])), cfg)
    grown = ["1.0.0.1/32", *addresses(120)]
    after = render_azure(plan(("a", 1000, [rule("a", RuleKind.ADDRESS, ["tcp:443"], grown)])), cfg)
    old = {g.name: g.addresses for g in before.ip_groups}
    new = {g.name: g.addresses for g in after.ip_groups}
    assert old.keys() == new.keys()
    assert [name for name in old if old[name] != new[name]] == [next(name for name in new if "1.0.0.1/32" in new[name])]


def test_one_more_name_in_a_rule_split_over_groups_changes_one_group():
    cfg = config(limits={"group_max_bytes": 6000})
    before = render_azure(plan(("big", 2000, [rule("big", RuleKind.HOSTNAME, ["https:443"], hosts(600))])), cfg)
    grown = ["aaa-inserted-first.example.com", *hosts(600)]
    after = render_azure(plan(("big", 2000, [rule("big", RuleKind.HOSTNAME, ["https:443"], grown)])), cfg)
    old = {g.name: g.body for g in before.groups}
    new = {g.name: g.body for g in after.groups}
    assert len(old) > 2 and old.keys() == new.keys()
    changed = [name for name in old if old[name] != new[name]]
    assert len(changed) == 1 and "aaa-inserted-first.example.com" in json.dumps(new[changed[0]])
