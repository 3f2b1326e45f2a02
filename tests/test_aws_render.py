"""AWS renderer: AWS's own service model (botocore), mapping, widening, capacity headroom, sharding, sids."""

from __future__ import annotations

import ipaddress
import json
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import botocore.session
import pytest
import yaml
from botocore.model import Shape
from botocore.validate import ParamValidator
from conftest import ROOT

from endpoint_firewall.config.aws_config import (
    STATEFUL_DEFAULT_ACTIONS,
    AwsConfig,
    AwsLimits,
    AwsPolicyConfig,
    FqdnMode,
    RuleOrder,
)
from endpoint_firewall.config.stack_config import StackConfig, load_stack_file
from endpoint_firewall.endpoints.loader import Catalogue, load_catalogue, shipped_catalogue_files
from endpoint_firewall.endpoints.models import Entry, Service
from endpoint_firewall.planning.address_rules import AddressRules
from endpoint_firewall.planning.planner import build_plan
from endpoint_firewall.planning.rules import AreaPlan, Plan, Rule, RuleKind, Skipped
from endpoint_firewall.renderers.aws.capacity import (
    CAPACITY_STEP,
    domain_list_capacity,
    reserved_capacity,
    units_per_group,
)
from endpoint_firewall.renderers.aws.deny import (
    CLIENT_HELLO_MAX_BYTES,
    HTTP_METHODS,
    START_JUDGED_AT,
    default_deny_rules,
)
from endpoint_firewall.renderers.aws.groups import policy_name
from endpoint_firewall.renderers.aws.model import AwsRenderError
from endpoint_firewall.renderers.aws.render import render_aws
from endpoint_firewall.renderers.aws.suricata import (
    SID_SPAN,
    allocate_sids,
    domain_list_rules,
    expanded_length,
    variable_name,
)

NAME_RE = re.compile(r"^[a-zA-Z0-9-]+$")


# --- fixtures -----------------------------------------------------------------------------------------------


def stack(name: str):
    return load_stack_file(ROOT / "stacks" / f"Pulumi.{name}.yaml")


def stack_plan(name: str, catalogue: Catalogue | None = None) -> Plan:
    config = stack(name)
    return build_plan(
        catalogue or load_catalogue(), config.selection.to_selection(), config.source_ranges, config.peer_ranges
    )


DEV = stack("dev").aws
PROD = stack("prod").aws
VARIANTS = {
    "dev": DEV,
    "dev-exact": DEV.model_copy(update={"fqdn_mode": FqdnMode.EXACT}),
    "dev-strict": DEV.model_copy(update={"rule_order": RuleOrder.STRICT_ORDER}),
    "prod": PROD,
    "prod-domain-list": PROD.model_copy(update={"fqdn_mode": FqdnMode.DOMAIN_LIST}),
}


@pytest.fixture(scope="module")
def dev_plan() -> Plan:
    return stack_plan("dev")


@pytest.fixture(scope="module")
def prod_plan() -> Plan:
    return stack_plan("prod")


def upper_cased_catalogue(folder: Path) -> list[Path]:
    """The shipped catalogue with every destination written in upper case (no shipped name has an uppercase
    letter): host names are case-insensitive, and AWS's domain lists and Suricata's http.host take lowercase."""
    paths = []
    for path in shipped_catalogue_files():
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for entry in data["entries"]:
            entry["destinations"] = [
                {**d, "numbered": d["numbered"].upper()} if isinstance(d, dict) else d.upper()
                for d in entry.get("destinations", [])
            ]
        paths.append(folder / path.name)
        paths[-1].write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert "#-COURIER.PUSH.APPLE.COM" in paths[0].parent.joinpath("apple.yaml").read_text(encoding="utf-8")
    return paths


@pytest.fixture(scope="module", params=["shipped", "upper-cased"])
def dev_plan_any_case(request, dev_plan: Plan, tmp_path_factory) -> Plan:
    """The dev plan from the shipped catalogue, and from the same catalogue written in upper case."""
    if request.param == "shipped":
        return dev_plan
    return stack_plan("dev", load_catalogue(upper_cased_catalogue(tmp_path_factory.mktemp("upper"))))


def renders(dev_plan: Plan, prod_plan: Plan):
    for name, config in VARIANTS.items():
        yield name, render_aws(prod_plan if name.startswith("prod") else dev_plan, config)


def svc(text: str) -> Service:
    protocol, port = text.split(":")
    return Service(protocol=protocol, port=port)


def make_plan(*rules: Rule, sources=("10.10.0.0/16",), skipped=()) -> Plan:
    return Plan(
        areas=(AreaPlan(area="synthetic", title="Synthetic", priority=1000, rules=tuple(rules)),),
        source_ranges=tuple(sources),
        skipped=tuple(skipped),
        selected_entries=("synthetic",),
        digest="0" * 64,
    )


def make_rule(
    kind: RuleKind,
    services: list[str],
    destinations: list[str],
    name: str | None = None,
    entry: str = "synthetic-entry",
) -> Rule:
    services_t = tuple(svc(s) for s in services)
    return Rule(
        name=name or f"synthetic-{kind.value}-{'-'.join(s.replace(':', '') for s in services)}",
        area="synthetic",
        kind=kind,
        services=services_t,
        destinations=tuple(destinations),
        origins=tuple((d, (entry,)) for d in destinations),
    )


# --- AWS's service model ----------------------------------------------------------------------------------

INPUT_SHAPE = (
    botocore.session.get_session().get_service_model("network-firewall").operation_model("CreateRuleGroup").input_shape
)


def constraint_problems(shape: Shape, value, path: str = "CreateRuleGroup") -> list[str]:
    """What ParamValidator does not check: each shape's ``enum`` and ``pattern``/``min``/``max`` metadata."""
    problems: list[str] = []
    meta = shape.metadata
    if shape.type_name == "string":
        if shape.enum and value not in shape.enum:
            problems.append(f"{path}: {value!r} not in {shape.enum}")
        if "pattern" in meta and not re.search(meta["pattern"], value):
            problems.append(f"{path}: {value!r} does not match {meta['pattern']}")
        size = len(value)
    elif shape.type_name in ("list", "map"):
        size = len(value)
    elif shape.type_name in ("integer", "long"):
        size = value
    else:
        size = None
    if size is not None and "min" in meta and size < meta["min"]:
        problems.append(f"{path}: {size} < min {meta['min']}")
    if size is not None and "max" in meta and size > meta["max"]:
        problems.append(f"{path}: {size} > max {meta['max']}")
    if shape.type_name == "structure":
        for name, member in shape.members.items():
            if name in value:
                problems += constraint_problems(member, value[name], f"{path}.{name}")
    elif shape.type_name == "list":
        for i, item in enumerate(value):
            problems += constraint_problems(shape.member, item, f"{path}[{i}]")
    elif shape.type_name == "map":
        for key, item in value.items():
            problems += constraint_problems(shape.key, key, f"{path}.<key {key}>")
            problems += constraint_problems(shape.value, item, f"{path}.{key}")
    return problems


def validate(request: dict) -> list[str]:
    report = ParamValidator().validate(request, INPUT_SHAPE)
    problems = [report.generate_report()] if report.has_errors() else []
    return problems + constraint_problems(INPUT_SHAPE, request)


def test_the_constraint_walk_catches_what_param_validator_misses():
    good = {
        "RuleGroupName": "ok-name",
        "Type": "STATEFUL",
        "Capacity": 100,
        "RuleGroup": {
            "RulesSource": {
                "RulesSourceList": {
                    "Targets": [".x.com"],
                    "TargetTypes": ["TLS_SNI"],
                    "GeneratedRulesType": "ALLOWLIST",
                }
            }
        },
    }
    assert validate(good) == []
    bad = json.loads(json.dumps(good))
    bad["RuleGroupName"] = "has space"
    bad["RuleGroup"]["RulesSource"]["RulesSourceList"]["GeneratedRulesType"] = "ALLOW"
    bad["RuleGroup"]["RuleVariables"] = {"IPSets": {"1BAD": {"Definition": ["10.0.0.0/8"]}}}
    assert not ParamValidator().validate(bad, INPUT_SHAPE).has_errors()  # the gap field-facts measured
    problems = validate(bad)
    assert any("RuleGroupName" in p for p in problems)
    assert any("GeneratedRulesType" in p for p in problems)
    assert any("1BAD" in p for p in problems)


def test_every_rendered_request_passes_aws_service_model(dev_plan, prod_plan):
    count = 0
    for variant, render in renders(dev_plan, prod_plan):
        for group in render.groups:
            assert validate(group.request) == [], (variant, group.name)
            count += 1
    assert count >= 5


# --- mapping on the real catalogue -----------------------------------------------------------------------


def domain_lists(render) -> dict[str, dict]:
    return {
        g.role: g.request["RuleGroup"]["RulesSource"]["RulesSourceList"]
        for g in render.groups
        if g.kind == "domain-list"
    }


def test_dev_layout_one_domain_list_per_target_types_and_one_rules_group(dev_plan_any_case, dev_plan):
    render = render_aws(dev_plan_any_case, DEV)
    assert [g.role for g in render.groups] == ["rules", "http-host", "tls-sni", "http-tls"]
    lists = domain_lists(render)
    http, tls, both = lists["http-host"], lists["tls-sni"], lists["http-tls"]
    assert (http["TargetTypes"], tls["TargetTypes"], both["TargetTypes"]) == (
        ["HTTP_HOST"],
        ["TLS_SNI"],
        ["HTTP_HOST", "TLS_SNI"],
    )
    assert {x["GeneratedRulesType"] for x in lists.values()} == {"ALLOWLIST"}
    # *.x.com -> .x.com, lowercase, sorted; each name in the one list of its protocols
    assert ".manage.microsoft.com" in both["Targets"] and "login.microsoftonline.com" in both["Targets"]
    assert "updates-http.cdn-apple.com" in http["Targets"] and ".notify.windows.com" in tls["Targets"]
    assert "updates-http.cdn-apple.com" not in tls["Targets"] + both["Targets"]
    assert ".notify.windows.com" not in http["Targets"] + both["Targets"]
    for x in lists.values():
        assert x["Targets"] == sorted(x["Targets"]) and all(t == t.lower() and "*" not in t for t in x["Targets"])
    # names on other ports (APNs 5223, FCM 5228-5230) are exact Suricata rules, not domain lists
    assert not any("courier" in t or "mtalk" in t for x in lists.values() for t in x["Targets"])
    by_role = {g.role: g for g in render.groups}
    rules = by_role["rules"].rules_text
    assert (
        "pass tls $HOME_NET any -> any [443,5223] (flow:to_server,established; ssl_state:client_hello; "
        'tls.sni; content:"1-courier.push.apple.com"; startswith; nocase; endswith;'
    ) in rules
    assert (
        'any [443,5228:5230] (flow:to_server,established; ssl_state:client_hello; tls.sni; content:"mtalk.google.com"'
        in rules
    )
    # addresses and peers: IP set variables, flow keywords, exact ports. Peers and plain TCP/UDP are IP-only (no flow
    # keyword: the pass applies to the whole flow, replies included); an address of an http/https entry without
    # names takes a complete HTTP request or a ClientHello (addressRules: names-only, the default)
    assert re.search(r"pass udp \$HOME_NET any -> \$\w+ 3544 \(msg:", rules)
    assert not re.search(r"pass (tcp|udp) .*flow:", rules)
    assert (
        "pass http $HOME_NET any -> $INTUNE_CO_IP_HTTP80_HTTPS443 80 (flow:to_server,established; http.start; "
        'content:"|0d 0a|"; endswith; msg:'
    ) in rules
    assert (
        "pass tls $HOME_NET any -> $INTUNE_CO_IP_HTTP80_HTTPS443 443 (flow:to_server,established; "
        "ssl_state:client_hello; msg:"
    ) in rules
    variables = dict(by_role["rules"].variables)
    assert variables["HOME_NET"] == ("10.10.0.0/16",)
    assert variables["INTUNE_CO_IP_HTTP80_HTTPS443"] == ("20.189.172.160/27",)
    # ID 163's addresses are left to its names (which match the name at any address), and the summary says so
    assert not any("INTUNE_CORE_IP" in v for v in variables) and "INTUNE_CORE_IP" not in rules
    [left] = render.summary()["addressRules"]["leftToNames"]
    assert left["entry"] == "intune-163" and left["services"] == "http:80, https:443"
    assert "40.82.248.224/28" in left["addresses"] and "13.107.219.0/24" in left["addresses"]
    # addressRules: tcp renders them as before: any TCP payload on the listed ports, IP-only
    tcp = render_aws(dev_plan, DEV.model_copy(update={"address_rules": AddressRules.TCP}))
    tcp_rules = tcp.groups[0].rules_text
    assert re.search(r"pass tcp \$HOME_NET any -> \$INTUNE_CORE_IP_TCP80_TCP443 \[80,443\] \(msg:", tcp_rules)
    assert "40.82.248.224/28" in dict(tcp.groups[0].variables)["INTUNE_CORE_IP_TCP80_TCP443"]
    assert tcp.summary()["addressRules"] == {"mode": "tcp", "leftToNames": []}
    # DEFAULT_ACTION_ORDER: the policy has no default action, so the rules group ends with the deny, per protocol
    deny = [line for line in render.groups[0].rules if "default deny" in line]
    assert render.groups[0].rules[-len(deny) :] == deny and len(deny) == len(default_deny_rules())
    marks = 1 + len(HTTP_METHODS)
    short = START_JUDGED_AT - 1  # one drop per length of a first segment too short to judge whole
    assert [line.split("(")[0].split()[:2] for line in deny] == [
        ["drop", "tls"],
        ["drop", "http"],
        *[["drop", "tcp"]] * (4 + short),  # the start, short starts, TLS record and ClientHello lengths, not a hello
        *[["alert", "tcp"]] * marks,
        ["drop", "tcp"],
        ["drop", "tcp"],
        ["drop", "tcp"],
        ["drop", "tcp"],
        ["drop", "tcp"],
        ["drop", "udp"],
        ["drop", "udp"],
        ["drop", "icmp"],
        ["drop", "ip"],
        *[["drop", "ip"]] * 7,  # started outside HOME_NET: every protocol but ICMP, a device's side, ICMP but errors
        ["drop", "ip"],
    ]
    assert "(flow:to_server,established; ssl_state:client_hello; msg:" in deny[0]
    assert '(flow:to_server,established; http.start; content:"|0d 0a|"; endswith; msg:' in deny[1]
    assert not any("pcre" in line for line in render.groups[0].rules)  # AWS: pcre only with content/sni/host
    # UDP, ICMP, other IP, flows started outside HOME_NET, IPv6 from outside HOME_NET: at the first packet
    for line in [deny[-12], deny[-10], deny[-9], deny[-8], *deny[-6:]]:
        assert "(flow:to_server; " in line and "established" not in line
    assert "ip_proto:!6; ip_proto:!17; ip_proto:!1; ip_proto:!58;" in deny[-9]
    assert deny[-7].startswith(
        'drop ip $HOME_NET any -> $EXTERNAL_NET any (flow:to_client; msg:"default deny: flow started outside HOME_NET'
    )  # a device's side of a flow started outside: nothing leaves on it
    inbound = [line for line in deny if "$EXTERNAL_NET any -> $HOME_NET" in line]
    assert inbound == [deny[-8], *deny[-6:-1]]
    assert all(
        line.startswith("drop ip $EXTERNAL_NET any -> $HOME_NET any (flow:to_server; ip_proto:")
        and 'msg:"default deny: flow started outside HOME_NET towards it' in line
        for line in inbound
    )
    assert [re.search(r"ip_proto:(\S+); (itype:\S+;)?", line).group(0) for line in inbound] == [
        "ip_proto:!1; ",  # then ip_proto:!58: every protocol but ICMP
        "ip_proto:1; itype:<3;",
        "ip_proto:1; itype:3<>11;",
        "ip_proto:1; itype:>12;",  # ICMPv4 errors 3, 11 and 12 pass (Path MTU discovery)
        "ip_proto:58; itype:<1;",
        "ip_proto:58; itype:>4;",  # ICMPv6 errors 1 to 4 pass
    ]
    # HOME_NET is IPv4 only: every IPv6 source is outside it (dropIpv6OutsideHomeNet, on by default)
    assert deny[-1].startswith('drop ip ::/0 any -> any any (flow:to_server; msg:"default deny: IPv6 from outside')
    assert "drop tcp any any -> $HOME_NET any (flow:to_client; dsize:>0; msg:" in deny[-13]
    assert "drop udp any any -> $HOME_NET any (flow:to_client; msg:" in deny[-11]
    assert not any(
        "drop ip $HOME_NET any -> any any (flow:to_server,established" in line for line in render.groups[0].rules
    )
    assert all(g.priority is None for g in render.groups)
    assert render.files() == render_aws(dev_plan, DEV).files()  # the case a name is written in changes nothing


def test_strict_order_uses_one_domain_list_per_protocol(dev_plan):
    render = render_aws(dev_plan, VARIANTS["dev-strict"])
    assert [(g.role, g.priority) for g in render.groups] == [("rules", 100), ("http-host", 200), ("tls-sni", 300)]
    lists = domain_lists(render)
    assert (
        ".manage.microsoft.com" in lists["http-host"]["Targets"]
        and ".manage.microsoft.com" in lists["tls-sni"]["Targets"]
    )
    assert "updates-http.cdn-apple.com" not in lists["tls-sni"]["Targets"]
    assert ".notify.windows.com" not in lists["http-host"]["Targets"]
    # the rules group ends with the deny minus TLS and HTTP, which the domain-list groups after it drop themselves
    drops = [line.split()[1] for line in render.groups[0].rules if line.startswith("drop")]
    assert drops == ["http", *["tcp"] * (8 + START_JUDGED_AT), "udp", "udp", "icmp", *["ip"] * 9]
    assert (
        'http.start; content:!"|0d 0a 0d 0a|"; msg:"default deny: HTTP request without header lines'
        in render.groups[0].rules_text
    )  # AWS's generated HTTP drop misses requests without headers


def test_every_rule_has_flow_keywords_and_no_priority(dev_plan, prod_plan):
    """Every rule says its direction, except the address passes: IP-only on purpose, so that their pass holds
    for the whole flow (the server's replies included)."""
    for variant, render in renders(dev_plan, prod_plan):
        for group in render.groups:
            for line in group.rules:
                address_pass = re.match(r"pass (tcp|udp) \$HOME_NET any -> \$\w+ ", line)
                assert ("flow:" in line) != bool(address_pass), (variant, line)
                assert "priority:" not in line, (variant, line)
                assert re.search(r"sid:\d+; rev:1;\)$", line), line


def test_exact_mode_matches_names_exactly_and_widens_nothing(dev_plan):
    render = render_aws(dev_plan, VARIANTS["dev-exact"])
    assert [g.role for g in render.groups] == ["rules"]
    # no name is widened; what is, is the address-only entry's address (any name: the entry names none)
    assert [(w.entry, w.destination) for w in render.widened] == [
        ("intune-consolidated-addresses", "20.189.172.160/27")
    ]
    text = render.groups[0].rules_text
    assert "dotprefix" not in text
    assert (
        'pass http $HOME_NET any -> any 80 (flow:to_server,established; http.host; content:".windowsupdate.com"; '
        "endswith;"
    ) in text
    assert 'tls.sni; content:"updates-http.cdn-apple.com"' not in text  # apple-software-updates-http is http:80 only
    assert (
        "pass tls $HOME_NET any -> any 443 (flow:to_server,established; ssl_state:client_hello; tls.sni; "
        'content:"login.microsoftonline.com"; startswith; nocase; endswith;'
    ) in text
    for line in render.groups[0].rules:
        if "default deny" in line or re.match(r"pass \w+ \$HOME_NET any -> \$", line):  # the deny, address rules
            continue
        for content in re.findall(r'content:"([^"]+)"', line):
            if content.startswith("."):
                assert "startswith" not in line.split(content)[1].split("msg:")[0]
            else:
                assert "startswith" in line and "endswith" in line


def test_strict_order_prod_priorities_and_default_actions(prod_plan):
    render = render_aws(prod_plan, PROD)
    assert render.rule_order is RuleOrder.STRICT_ORDER
    assert [(g.role, g.priority) for g in render.groups] == [("rules", 100)]
    # no domain lists follow: the rules group holds the whole deny, TLS and HTTP included
    assert [line.split()[1] for line in render.groups[0].rules if line.startswith("drop")] == [
        "tls",
        "http",
        *["tcp"] * (8 + START_JUDGED_AT),
        "udp",
        "udp",
        "icmp",
        *["ip"] * 9,  # other IP protocols, flows started outside HOME_NET (7), IPv6 from outside it
    ]
    assert render.stateful_default_actions == ("aws:drop_established_app_layer", "aws:alert_established_app_layer")
    assert any("managed elsewhere" in w and "aws:drop_established_app_layer" in w for w in render.warnings)
    mixed = render_aws(prod_plan, VARIANTS["prod-domain-list"])
    assert [(g.role, g.priority) for g in mixed.groups] == [("rules", 100), ("http-host", 200), ("tls-sni", 300)]
    alert_only = {"name": "p", "statefulDefaultActions": ["aws:alert_established"]}
    with pytest.raises(ValueError, match="drop nothing.*allowAlertOnly"):
        AwsConfig.model_validate({**PROD.model_dump(by_alias=True), "firewallPolicy": alert_only})
    warn = render_aws(
        prod_plan,
        AwsConfig.model_validate(
            {**PROD.model_dump(by_alias=True), "firewallPolicy": {**alert_only, "allowAlertOnly": True}}
        ),
    )
    assert any("without a drop default action" in w for w in warn.warnings)


def test_strict_order_guard_refuses_a_pass_after_a_drop_of_the_same_traffic(prod_plan):
    from endpoint_firewall.renderers.aws import render as aws_renderer

    render = render_aws(prod_plan, VARIANTS["prod-domain-list"])
    reordered = sorted(render.groups, key=lambda g: -(g.priority or 0))
    for i, g in enumerate(reordered):
        object.__setattr__(g, "priority", 100 + i)
    with pytest.raises(AwsRenderError, match="after a drop"):
        aws_renderer._check_strict_order(reordered)


def test_domain_list_rules_text_is_aws_generated_form():
    rules = domain_list_rules([".example.com", "www.example.com"], ["TLS_SNI"])
    sids = {r.key: i + 1 for i, r in enumerate(rules)}
    text = [r.text(sids[r.key]) for r in rules]
    assert text == [
        "pass tls $HOME_NET any -> $EXTERNAL_NET any (ssl_state:client_hello; tls.sni; dotprefix; "
        'content:".example.com"; nocase; endswith; msg:"matching TLS allowlisted FQDNs"; '
        "flow:to_server, established; sid:1; rev:1;)",
        'pass tls $HOME_NET any -> $EXTERNAL_NET any (ssl_state:client_hello; tls.sni; content:"www.example.com"; '
        'startswith; nocase; endswith; msg:"matching TLS allowlisted FQDNs"; flow:to_server, established; '
        "sid:2; rev:1;)",
        'drop tls $HOME_NET any -> $EXTERNAL_NET any (ssl_state:client_hello; msg:"not matching any TLS '
        'allowlisted FQDNs"; flow:to_server, established; sid:3; rev:1;)',
    ]
    http = [r.text(9) for r in domain_list_rules([".example.com"], ["HTTP_HOST"])]
    assert http[0].startswith(
        "pass http $HOME_NET any -> $EXTERNAL_NET any (http.host; dotprefix; "
        'content:".example.com"; endswith; msg:"matching HTTP allowlisted FQDNs";'
    )
    assert http[1].startswith(
        "drop http $HOME_NET any -> $EXTERNAL_NET any (http.header_names; "
        'content:"|0d 0a|"; startswith; msg:"not matching any HTTP allowlisted FQDNs";'
    )


# --- findings ---------------------------------------------------------------------------------------------


def test_widened_entries_are_listed_per_entry_and_destination(dev_plan):
    summary = render_aws(dev_plan, DEV).summary()
    widened = {(w["entry"], w["destination"], w["reason"]) for w in summary["widened"]}
    assert (
        "intune-171",
        "*.notify.windows.com",
        "domain list target .notify.windows.com also matches notify.windows.com itself (TLS_SNI); "
        "the catalogue allows only its subdomains",
    ) in widened
    assert (
        "intune-56",
        "login.microsoftonline.com",
        "AWS domain lists (HTTP_HOST, TLS_SNI) match on any port: allowed beyond http:80, https:443",
    ) in widened
    # manage.microsoft.com is listed exactly as well: its wildcard does not widen to the apex
    assert not any(d == "*.manage.microsoft.com" and "itself" in r for _, d, r in widened)
    # every entry behind a wildcard is named
    entries = {e for e, d, _ in widened if d == "*.manage.microsoft.com"}
    assert {"intune-163", "intune-170"} <= entries
    # names on other ports are exact: never widened
    assert not any("courier" in d or "mtalk" in d for _, d, _ in widened)


def test_host_network_rules_are_not_expressible_and_never_rendered():
    plan = make_plan(
        make_rule(
            RuleKind.HOST_NETWORK, ["tcp:8080", "udp:3478"], ["turn.example.com", "stun.example.com"], entry="rtc"
        ),
        make_rule(RuleKind.HOSTNAME, ["https:443"], ["app.example.com"], entry="app"),
        skipped=[Skipped("ref-only", None, "reference only: https://example.com/list")],
    )
    for config in (DEV, VARIANTS["dev-exact"], PROD):
        render = render_aws(plan, config)
        found = {(f["entry"], f["destination"]) for f in render.summary()["notExpressible"]}
        assert {("rtc", "turn.example.com"), ("rtc", "stun.example.com")} <= found
        assert [(f["entry"], f["reason"]) for f in render.summary()["skipped"]] == [
            ("ref-only", "reference only: https://example.com/list")
        ]
        reasons = [f["reason"] for f in render.summary()["notExpressible"] if f["entry"] == "rtc"]
        assert all("plain tcp:8080, udp:3478" in r and "HTTP Host or TLS SNI" in r for r in reasons)
        files = "".join(render.files().values())
        assert "turn.example.com" not in files and "stun.example.com" not in files
        assert "app.example.com" in files


def test_plan_skipped_items_appear_in_the_summary(dev_plan):
    summary = render_aws(dev_plan, DEV).summary()
    skipped = {s.entry for s in dev_plan.skipped}
    assert skipped and skipped == {f["entry"] for f in summary["skipped"]}
    json.dumps(summary)  # JSON-able


# --- capacity, names, headroom ----------------------------------------------------------------------------


def test_reserved_capacity_formula():
    config = AwsConfig(capacity_headroom=0.5, capacity_minimum=100, limits=AwsLimits(capacity_max=1000))
    assert reserved_capacity(1, config) == 100
    assert reserved_capacity(67, config) == 200  # ceil(100.5) -> 101 -> 200
    assert reserved_capacity(200, config) == 300
    assert reserved_capacity(900, config) == 1000  # capped at capacity_max
    assert units_per_group(config) == 666
    assert domain_list_capacity(1, "HTTP_HOST") == 2 and domain_list_capacity(1, "TLS_SNI") == 2
    assert domain_list_capacity(10, "HTTP_HOST") == 11 and domain_list_capacity(10, "TLS_SNI") == 11
    assert domain_list_capacity(1, ["HTTP_HOST", "TLS_SNI"]) == 4  # guidance 3; AWS generates 4 rules
    assert domain_list_capacity(10, ["HTTP_HOST", "TLS_SNI"]) == 22


def with_entry(catalogue: Catalogue, **fields) -> Catalogue:
    entry = Entry.model_validate(
        {"provenance": {"source": "intune-2020-ja", "section": "test"}, "description": "added in a test", **fields}
    )
    return Catalogue(
        entries=tuple(sorted(catalogue.entries + (entry,), key=lambda e: e.id)),
        service_areas=catalogue.service_areas,
        sources=catalogue.sources,
    )


@pytest.mark.parametrize("variant", ["dev", "dev-exact", "prod"])
@pytest.mark.parametrize(
    "added",
    [
        {
            "id": "test-new-web",
            "service_area": "intune-core",
            "destinations": ["new.manage-test.example.com"],
            "services": [{"protocol": "http", "port": 80}, {"protocol": "https", "port": 443}],
        },
        {
            "id": "test-new-push",
            "service_area": "apple",
            "destinations": ["51-courier.push.apple.com"],
            "services": [{"protocol": "tls", "port": 5223}, {"protocol": "tls", "port": 443}],
        },
        {
            "id": "test-new-address",
            "service_area": "intune-core",
            "destinations": ["52.0.0.1"],
            "services": [{"protocol": "https", "port": 443}],
        },
    ],
    ids=["web-name", "push-name", "address"],
)
def test_adding_one_entry_keeps_every_group_name_capacity_and_sid(variant, added):
    """The shipped stacks: one more entry keeps every group (name, capacity) and every existing sid.

    Capacity is a step function of what the rules use (see test_capacity_steps_are_where_documented): a
    stack whose group sits right below a step gets a new, non-colliding group when it crosses it."""
    config = VARIANTS[variant]
    stack_name = variant.split("-")[0]
    catalogue = load_catalogue()
    before = render_aws(stack_plan(stack_name, catalogue), config)
    after = render_aws(stack_plan(stack_name, with_entry(catalogue, **added)), config)
    assert [g.role for g in after.groups] == [g.role for g in before.groups]
    for old, new in zip(before.groups, after.groups, strict=True):
        if new.capacity == old.capacity:
            assert new.name == old.name
        else:  # this group sat right below a capacity step and crossed it: a new group, one step up, new name
            assert new.capacity == old.capacity + CAPACITY_STEP and new.name != old.name
            assert reserved_capacity(new.used, config) > old.capacity >= reserved_capacity(old.used, config)
    assert sum(g.used for g in after.groups) > sum(g.used for g in before.groups) or added["id"] == "test-new-address"
    old_lines = {line for g in before.groups for line in g.rules}
    new_lines = {line for g in after.groups for line in g.rules}
    changed = old_lines - new_lines
    # only the rule whose content grew (the address set's rule keeps its sid; only the message is the same)
    assert len(changed) <= 1 if added["id"] != "test-new-address" else not changed
    sid = re.compile(r"sid:(\d+);")
    old_sids = {sid.search(line).group(1) for line in old_lines}
    assert old_sids <= {sid.search(line).group(1) for line in new_lines}


def test_capacity_steps_are_where_documented():
    """Reserved capacity only moves when ceil(used * (1 + headroom)) crosses a multiple of 100: with the
    default headroom 0.5 that is once per ~67 rules, never twice in a row."""
    config = AwsConfig(capacity_headroom=0.5, capacity_minimum=100)
    steps = [u for u in range(1, 2000) if reserved_capacity(u + 1, config) != reserved_capacity(u, config)]
    assert steps[:4] == [66, 133, 200, 266]
    assert all(b - a >= 66 for a, b in zip(steps, steps[1:], strict=False))


def test_a_replacement_forcing_change_renames_the_group(dev_plan):
    base = render_aws(dev_plan, DEV)
    more = render_aws(dev_plan, DEV.model_copy(update={"capacity_headroom": 5.0}))
    strict = render_aws(dev_plan, VARIANTS["dev-strict"])
    assert any(a.capacity != b.capacity for a, b in zip(base.groups, more.groups, strict=False))
    for a, b in zip(base.groups, more.groups, strict=False):
        assert (a.capacity != b.capacity) == (a.name != b.name)  # the name changes exactly when capacity does
        assert a.name.rsplit("-", 1)[0] == b.name.rsplit("-", 1)[0]
    strict_names = {g.role: g.name for g in strict.groups}
    for a in base.groups:
        if a.role in strict_names:  # same role, same capacity or not: another rule order is another name
            assert a.name != strict_names[a.role]
    for render in (base, more, strict):
        for g in render.groups:
            assert NAME_RE.match(g.name) and len(g.name) <= 128 and g.name.startswith("epfw-dev-")


# --- sharding ---------------------------------------------------------------------------------------------


def hosts(n: int) -> list[str]:
    return sorted(f"h{i:04d}.shard-test.example.com" for i in range(n))


def all_request_targets(render) -> list[str]:
    return [t for g in render.groups if g.kind == "domain-list" for t in g.targets]


def test_capacity_sharding_of_rules_and_domain_lists():
    limits = AwsLimits(capacity_max=100)
    plan = make_plan(make_rule(RuleKind.HOSTNAME, ["https:443", "http:80"], hosts(250)))
    exact = render_aws(plan, AwsConfig(fqdn_mode=FqdnMode.EXACT, capacity_headroom=0, limits=limits))
    assert len(exact.groups) == 6  # 500 rules + the default deny -> 6 groups of at most 100
    for g in exact.groups:
        assert g.used <= g.capacity <= 100 and validate(g.request) == []
    assert [g.role for g in exact.groups] == ["rules"] + [f"rules-{i}" for i in range(2, 7)]
    assert sum(g.rule_count for g in exact.groups) == 500 + len(default_deny_rules())
    listed = render_aws(plan, AwsConfig(capacity_headroom=0.25, limits=limits))
    assert sorted(all_request_targets(listed)) == hosts(250)
    for g in listed.groups:
        assert g.used <= 80 and g.capacity <= 100 and validate(g.request) == []  # 80 * 1.25 = 100
    shards = len(listed.groups) - 1
    assert shards >= 7  # 250 targets of 2 types at 80 units a group: 7 at the very least
    assert [g.role for g in listed.groups] == ["rules", "http-tls"] + [f"http-tls-{i}" for i in range(2, shards + 1)]
    with pytest.raises(AwsRenderError, match="STRICT_ORDER"):
        render_aws(plan, AwsConfig(rule_order=RuleOrder.STRICT_ORDER, capacity_headroom=0, limits=limits))


def test_rules_string_bytes_sharding():
    plan = make_plan(make_rule(RuleKind.HOSTNAME, ["tls:5223"], hosts(120)))
    config = AwsConfig(limits=AwsLimits(rules_string_max_bytes=6000))
    render = render_aws(plan, config)
    assert len(render.groups) > 1
    for g in render.groups:
        assert len(g.request["RuleGroup"]["RulesSource"]["RulesString"].encode()) <= 6000
        assert validate(g.request) == []
    assert sum(g.rule_count for g in render.groups) == 120 + len(default_deny_rules())


def test_one_rule_chars_sharding_splits_the_ip_set():
    cidrs = [f"52.{i // 250}.{i % 250}.0/24" for i in range(600)]
    plan = make_plan(make_rule(RuleKind.ADDRESS, ["tcp:443", "udp:3478"], cidrs))
    render = render_aws(plan, AwsConfig(limits=AwsLimits(rule_max_chars=2000)))
    [group] = render.groups
    variables = dict(group.variables)
    data_vars = sorted(v for v in variables if v not in ("HOME_NET", "EXTERNAL_NET"))
    assert len(data_vars) > 1 and data_vars[0] == "SYNTHETIC_IP_TCP443_UDP3478"
    assert sorted(c for v in data_vars for c in variables[v]) == sorted(cidrs)
    for line in group.rules:
        assert expanded_length(line, variables) <= 2000
    assert sum(1 for line in group.rules if line.startswith("pass")) == 2 * len(data_vars)
    assert validate(group.request) == []


def test_impossible_limits_fail_clearly():
    plan = make_plan(
        make_rule(RuleKind.ADDRESS, ["tcp:443"], ["52.0.0.0/24"]), sources=[f"10.{i}.0.0/16" for i in range(200)]
    )
    with pytest.raises(AwsRenderError, match="ruleMaxChars"):
        render_aws(plan, AwsConfig(limits=AwsLimits(rule_max_chars=500)))


# --- sids, variables, determinism, purity -------------------------------------------------------------------


def test_sids_are_unique_stable_and_inside_the_span(dev_plan):
    for config in (DEV, VARIANTS["dev-exact"], DEV.model_copy(update={"base_sid": 3_999_000_000})):
        render = render_aws(dev_plan, config)
        sids = [int(s) for g in render.groups for s in re.findall(r"sid:(\d+);", g.rules_text)]
        assert len(sids) == len(set(sids))
        assert all(config.base_sid <= s < config.base_sid + SID_SPAN for s in sids)
        assert max(sids) < 2**32


def test_sid_collisions_resolve_deterministically():
    keys = [f"k{i}" for i in range(50)]
    a = allocate_sids(keys, 100, span=64)
    b = allocate_sids(list(reversed(keys)), 100, span=64)
    assert a == b and len(set(a.values())) == 50 and all(100 <= s < 164 for s in a.values())
    grown = allocate_sids(keys + ["k50"], 100, span=1_000_000)
    assert {k: grown[k] for k in keys} == allocate_sids(keys, 100, span=1_000_000)


def test_variable_names_fit_aws():
    for text, head in [
        ("delivery-optimization-p2p-tcp7680", "delivery-optimization"),
        ("1x-ip-tcp1", "1x"),
        ("a" * 90 + "-ip-tcp80", "a" * 90),
    ]:
        name = variable_name(text, "_12", head=head)
        assert re.match(r"^[A-Za-z][A-Za-z0-9_]*$", name) and len(name) <= 32


def test_render_is_deterministic_and_files_are_loadable(dev_plan):
    catalogue = load_catalogue()
    shuffled = Catalogue(
        entries=tuple(reversed(catalogue.entries)), service_areas=catalogue.service_areas, sources=catalogue.sources
    )
    a = render_aws(dev_plan, DEV).files()
    b = render_aws(stack_plan("dev", shuffled), DEV).files()
    assert a == b
    render = render_aws(dev_plan, DEV)
    for g in render.groups:
        body = a[f"aws/{g.name}.json"]
        assert body.endswith("}\n") and json.loads(body) == g.request
        assert body == json.dumps(g.request, indent=2, ensure_ascii=False) + "\n"
        rules_file = a[f"aws/{g.name}.rules"]
        assert rules_file.endswith(g.rules_text) and f"# capacity used: {g.used} of {g.capacity}" in rules_file
    rule_files = sorted(p for p in a if not p.startswith("aws/dns/"))  # the DNS layer: tests/test_dns_aws.py
    assert rule_files == sorted(f"aws/{g.name}.{ext}" for g in render.groups for ext in ("json", "rules"))


def test_summary_shape(dev_plan):
    summary = render_aws(dev_plan, DEV).summary()
    assert {"groups", "rules", "capacityUsed", "capacityReserved", "widened", "notExpressible", "warnings"} <= set(
        summary
    )
    assert summary["rules"] == sum(g["rules"] for g in summary["groups"])
    assert summary["capacityUsed"] <= summary["capacityReserved"]
    json.dumps(summary)


def test_rendering_imports_no_pulumi():
    code = (
        "import sys; import endpoint_firewall.renderers.aws.render, endpoint_firewall.checks.aws; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('pulumi', 'pulumi_aws')]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_name_rule_too_long_with_home_net_expanded_fails_clearly():
    plan = make_plan(
        make_rule(RuleKind.HOSTNAME, ["tls:5223"], ["push.example.com"]), sources=[f"10.{i}.0.0/16" for i in range(100)]
    )
    with pytest.raises(AwsRenderError, match="ruleMaxChars"):
        render_aws(plan, AwsConfig(limits=AwsLimits(rule_max_chars=1000)))
    assert render_aws(plan, AwsConfig()).groups  # fits the default 8,192


# --- policy default actions, policy name, IPv6, pinned capacity -----------------------------------------------


def test_stateful_default_actions_are_the_ones_aws_service_model_lists():
    shape = botocore.session.get_session().get_service_model("network-firewall").shape_for("FirewallPolicy")
    documented = re.findall(r"<p>(aws:[a-z_]+)</p>", shape.members["StatefulDefaultActions"].documentation)
    assert sorted(documented) == sorted(STATEFUL_DEFAULT_ACTIONS)
    assert AwsPolicyConfig(name="p").stateful_default_actions == (
        "aws:drop_established_app_layer",
        "aws:alert_established_app_layer",
    )


@pytest.mark.parametrize(
    "actions, message",
    [
        (["aws:drop_establishd"], "unknown stateful default action 'aws:drop_establishd'"),
        (["aws:drop_established", "aws:drop_established"], "listed twice"),
        (["aws:drop_strict", "aws:drop_established_app_layer"], "at most one drop action"),
        (["aws:drop_established", "aws:alert_established_app_layer"], "refuses to mix"),
        (["aws:drop_established_app_layer_to_server", "aws:alert_established_app_layer"], "refuses to mix"),
    ],
)
def test_bad_default_actions_are_refused_with_the_key_named(actions, message):
    from endpoint_firewall.config.stack_config import ConfigError, parse

    values = {
        "sourceRanges": ["10.0.0.0/16"],
        "aws": {"ruleOrder": "STRICT_ORDER", "firewallPolicy": {"name": "p", "statefulDefaultActions": actions}},
    }
    with pytest.raises(ConfigError) as err:
        parse(values, "Pulumi.x.yaml")
    [problem] = err.value.problems
    assert problem.field == "endpoint-firewall:aws.firewallPolicy.statefulDefaultActions"
    assert message in problem.message


def test_alert_only_defaults_need_the_opt_in_and_only_matter_in_strict_order():
    base = {"sourceRanges": ["10.0.0.0/16"]}
    alert = {"name": "p", "statefulDefaultActions": ["aws:alert_established_app_layer"]}
    with pytest.raises(ValueError, match="drop nothing"):
        StackConfig.model_validate({**base, "aws": {"ruleOrder": "STRICT_ORDER", "firewallPolicy": alert}})
    StackConfig.model_validate(
        {**base, "aws": {"ruleOrder": "STRICT_ORDER", "firewallPolicy": {**alert, "allowAlertOnly": True}}}
    )
    StackConfig.model_validate({**base, "aws": {"firewallPolicy": alert}})  # DEFAULT_ACTION_ORDER: not used
    for strict_ok in (["aws:drop_strict", "aws:alert_established_app_layer"], ["aws:drop_established"]):
        AwsPolicyConfig.model_validate({"name": "p", "statefulDefaultActions": strict_ok})


def test_drop_strict_is_refused_when_name_rules_need_the_handshake(dev_plan):
    strict = DEV.model_copy(
        update={
            "rule_order": RuleOrder.STRICT_ORDER,
            "firewall_policy": AwsPolicyConfig(
                name="p", stateful_default_actions=("aws:drop_strict", "aws:alert_strict")
            ),
        }
    )
    with pytest.raises(AwsRenderError, match="aws:drop_strict.*handshakes.*aws:drop_established_app_layer"):
        render_aws(dev_plan, strict)
    addresses_only = make_plan(make_rule(RuleKind.ADDRESS, ["tcp:443"], ["52.0.0.0/24"]))
    render = render_aws(addresses_only, strict)  # address rules pass the SYN: drop_strict is fine there
    assert render.stateful_default_actions == ("aws:drop_strict", "aws:alert_strict")


def test_the_policy_name_carries_the_rule_order_in_strict_order():
    default = AwsConfig(firewall_policy=AwsPolicyConfig(name="egress"))
    strict = default.model_copy(update={"rule_order": RuleOrder.STRICT_ORDER})
    assert policy_name(default) == "egress"  # DEFAULT_ACTION_ORDER keeps the name policies had before
    assert re.fullmatch(r"egress-[0-9a-f]{6}", policy_name(strict))
    assert policy_name(AwsConfig()) is None
    longest = AwsConfig(rule_order=RuleOrder.STRICT_ORDER, firewall_policy=AwsPolicyConfig(name="a" * 121))
    assert len(policy_name(longest)) == 128 and NAME_RE.match(policy_name(longest))
    with pytest.raises(ValueError):
        AwsPolicyConfig(name="a" * 122)
    assert render_aws(make_plan(make_rule(RuleKind.ADDRESS, ["tcp:443"], ["52.0.0.0/24"])), strict).summary()[
        "firewallPolicyName"
    ] == policy_name(strict)


def test_ipv6_destinations_without_an_ipv6_source_range_are_named_in_the_warnings():
    rule = make_rule(RuleKind.ADDRESS, ["tcp:443"], ["52.0.0.0/24", "2001:db8:5::/48"])
    warned = render_aws(make_plan(rule), DEV)
    [warning] = [w for w in warned.warnings if "IPv6" in w]
    assert "2001:db8:5::/48" in warning and "not in HOME_NET" in warning and "sourceRanges" in warning
    both = render_aws(make_plan(rule, sources=("10.10.0.0/16", "2001:db8:10::/56")), DEV)
    assert not any("IPv6" in w for w in both.warnings)


def _tls_hosts(n: int) -> Plan:
    return make_plan(make_rule(RuleKind.HOSTNAME, ["tls:5223"], hosts(n)))


def test_a_pinned_capacity_keeps_name_and_capacity_across_a_step_and_fails_clearly_when_outgrown():
    free = DEV.model_copy(update={"fqdn_mode": FqdnMode.EXACT})
    deny = len(default_deny_rules())  # the rules group: one rule per host, then the deny
    small, large = render_aws(_tls_hosts(60 - deny), free), render_aws(_tls_hosts(80 - deny), free)
    assert (small.groups[0].capacity, large.groups[0].capacity) == (100, 200)  # unpinned: a step, a new group
    assert small.groups[0].name != large.groups[0].name
    pinned = free.model_copy(update={"capacity": {"rules": 150}})
    a, b = render_aws(_tls_hosts(60 - deny), pinned), render_aws(_tls_hosts(80 - deny), pinned)
    assert (a.groups[0].capacity, b.groups[0].capacity) == (150, 150)
    assert a.groups[0].name == b.groups[0].name and a.groups[0].used < b.groups[0].used
    assert b.groups[0].request["Capacity"] == 150 and validate(b.groups[0].request) == []
    assert not any("headroom" in w for w in b.warnings)  # 80 used: 80 x 1.5 fits in 150
    tight = render_aws(_tls_hosts(118 - deny), pinned)  # 118 used: it fits, with less than the configured headroom
    assert tight.groups[0].name == a.groups[0].name
    assert any("group rules uses 118 of its pinned capacity 150: less headroom" in w for w in tight.warnings)
    with pytest.raises(
        AwsRenderError,
        match=r"group rules now needs capacity 158, more than its pinned capacity 150 "
        r"\(aws.capacity.rules\)\. Raise the pin",
    ):
        render_aws(_tls_hosts(158 - deny), pinned)
    raised = render_aws(_tls_hosts(158 - deny), pinned.model_copy(update={"capacity": {"rules": 300}}))
    assert raised.groups[0].capacity == 300 and raised.groups[0].name != a.groups[0].name  # the deliberate replacement


def test_pins_are_validated_and_a_pin_without_its_group_is_a_warning():
    with pytest.raises(ValueError, match="'http_host' is not a group role"):
        AwsConfig.model_validate({"capacity": {"http_host": 100}})
    with pytest.raises(ValueError, match="outside 1..limits.capacityMax"):
        AwsConfig.model_validate({"capacity": {"rules": 40_000}})
    AwsConfig.model_validate({"capacity": {"rules": 300, "http-tls": 200, "tls-sni-2": 100}})
    render = render_aws(_tls_hosts(5), AwsConfig(fqdn_mode=FqdnMode.EXACT, capacity={"rules": 100, "http-tls": 200}))
    assert any("capacity pins http-tls, but this render has no http-tls group" in w for w in render.warnings)


def test_one_more_name_changes_one_domain_list_shard():
    """Shards are cut by a stable hash, not by position: an insertion does not move every later boundary."""
    limits = AwsLimits(capacity_max=100)
    config = AwsConfig(capacity_headroom=0.25, limits=limits)
    before = render_aws(make_plan(make_rule(RuleKind.HOSTNAME, ["https:443", "http:80"], hosts(250))), config)
    grown = hosts(250) + ["aaa-inserted-first.example.com"]
    after = render_aws(make_plan(make_rule(RuleKind.HOSTNAME, ["https:443", "http:80"], grown)), config)

    def targets(render):
        return {
            g.role: g.request["RuleGroup"]["RulesSource"].get("RulesSourceList", {}).get("Targets")
            for g in render.groups
        }

    old, new = targets(before), targets(after)
    assert old.keys() == new.keys()
    changed = [role for role in old if old[role] != new[role]]
    assert len(changed) == 1 and "aaa-inserted-first.example.com" in new[changed[0]]


def test_every_group_sets_external_net_to_the_complement_of_home_net():
    """AWS: a group that sets HOME_NET must set EXTERNAL_NET too (else it stays the negation of the policy's
    HOME_NET); IP sets hold CIDRs, so the complement is spelled out, both families."""
    plan = make_plan(
        make_rule(RuleKind.HOSTNAME, ["https:443"], ["a.example.com"]),
        sources=("10.10.0.0/16", "10.30.0.0/16", "2001:db8:10::/56"),
    )
    render = render_aws(plan, AwsConfig())
    for group in render.groups:
        variables = dict(group.variables)
        inside, outside = variables["HOME_NET"], variables["EXTERNAL_NET"]
        assert group.request["RuleGroup"]["RuleVariables"]["IPSets"]["EXTERNAL_NET"]["Definition"] == list(outside)
        for version, everything in ((4, 2**32), (6, 2**128)):
            nets = [ipaddress.ip_network(n) for n in inside + outside if ipaddress.ip_network(n).version == version]
            assert sum(n.num_addresses for n in nets) == everything  # together: every address, once
            assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :])


def test_ipv6_outside_home_net_is_dropped_by_default_and_the_stack_can_opt_out():
    plan = make_plan(make_rule(RuleKind.ADDRESS, ["tcp:443"], ["2001:db8:5::/48"]))  # IPv4-only HOME_NET
    render = render_aws(plan, AwsConfig())
    [v6] = [line for line in render.groups[0].rules if "IPv6 from outside HOME_NET" in line]
    assert v6.startswith("drop ip ::/0 any -> any any (flow:to_server;")
    assert any("the deny drops it (dropIpv6OutsideHomeNet)" in w for w in render.warnings)
    dual = render_aws(
        make_plan(
            make_rule(RuleKind.ADDRESS, ["tcp:443"], ["2001:db8:5::/48"]), sources=("10.10.0.0/16", "2001:db8:10::/56")
        ),
        AwsConfig(),
    )
    [v6] = [line for line in dual.groups[0].rules if "IPv6 from outside HOME_NET" in line]
    sources = [ipaddress.ip_network(n) for n in v6.split()[2].strip("[]").split(",")]
    assert not any(n.overlaps(ipaddress.ip_network("2001:db8:10::/56")) for n in sources)
    assert sum(n.num_addresses for n in sources) == 2**128 - 2**72
    opted_out = render_aws(plan, AwsConfig(drop_ipv6_outside_home_net=False))
    assert not any("IPv6 from outside" in line for line in opted_out.groups[0].rules)
    assert any("neither pass nor drop it" in w for w in opted_out.warnings)
    assert AwsConfig.model_validate({"dropIpv6OutsideHomeNet": False}).drop_ipv6_outside_home_net is False


def test_pinned_capacities_over_the_policy_quota_fail_naming_the_pins():
    config = AwsConfig.model_validate(
        {"fqdnMode": "exact", "capacity": {"rules": 300}, "limits": {"policyCapacity": 250}}
    )
    assert config.limits.policy_capacity == 250
    with pytest.raises(
        AwsRenderError,
        match=r"pinned capacities \(rules 300\) and the other groups' use need 300, "
        r"more than aws.limits.policyCapacity \(250\)",
    ):
        render_aws(_tls_hosts(10), config)
    fits = render_aws(_tls_hosts(10), config.model_copy(update={"capacity": {}}))  # unpinned: its step fits
    assert fits.groups[0].capacity == 100 and not any("trimmed" in w for w in fits.warnings)  # 31 used


def test_the_summary_names_the_deny_s_residual_risks_with_the_rendered_bounds(dev_plan):
    render = render_aws(dev_plan, DEV)
    residual = render.summary()["residualRisks"]
    risks = {r["risk"]: r for r in residual["risks"]}
    pending, tls_pending = (
        next(line for line in render.groups[0].rules if "stream_size:client" in line and (tls in line) is is_tls)
        for tls, is_tls in (("epfw.tls_start", False), ("epfw.tls_start", True))
    )
    # stream_size counts the SYN: the rule's figure is one more than the client bytes let through; each bound is
    # per connection, and the summary says so
    bounds = risks["pending-bytes"]["boundBytesPerConnection"]
    assert bounds["http"] == int(re.search(r"stream_size:client,>,(\d+)", pending)[1]) - 1
    assert bounds["http"] == 16_389  # one maximal TLS record (2^14 + 5), no more
    assert bounds["tls"] == int(re.search(r"stream_size:client,>,(\d+)", tls_pending)[1]) - 1
    assert bounds["tls"] == CLIENT_HELLO_MAX_BYTES + 5 == 8_197  # a ClientHello of at most 8 KB and its header
    assert "byte_test:2,>,8192,3;" in render.groups[0].rules_text  # a record declaring more: dropped at once
    assert "per connection: N parallel connections carry N times that" in risks["pending-bytes"]["text"]
    shortest = min(int(n) for n in re.findall(r"isdataat:(\d+)", "\n".join(render.groups[0].rules)))
    assert risks["unjudged-prefix"]["boundBytesPerConnection"] == START_JUDGED_AT - 1 == 7 and shortest == 0
    assert risks["name-any-address"]["bound"] == "unbounded"  # a name rule passes the name at any address
    assert residual["explained"] == "docs/residual-risks.md" and (ROOT / residual["explained"]).is_file()


@pytest.mark.parametrize("order", list(RuleOrder))
@pytest.mark.parametrize("drop", [True, False])
def test_the_summary_always_says_how_devices_ipv6_is_handled(order, drop):
    """Not only a warning when the catalogue lists IPv6: the summary always has ``ipv6``, and it matches the rules
    (the drop of IPv6 from outside HOME_NET is rendered exactly when it says ``dropped``)."""
    rule = make_rule(RuleKind.ADDRESS, ["tcp:443"], ["52.0.0.0/24"])  # no IPv6 destination: no warning
    config = DEV.model_copy(update={"rule_order": order, "drop_ipv6_outside_home_net": drop})
    expected = "dropped" if drop else ("policy-default-action" if order is RuleOrder.STRICT_ORDER else "unfiltered")
    for sources, families in ((("10.10.0.0/16",), [4]), (("10.10.0.0/16", "2001:db8:10::/56"), [4, 6])):
        render = render_aws(make_plan(rule, sources=sources), config)
        assert not any("IPv6" in w for w in render.warnings)
        assert render.summary()["ipv6"] == {
            "homeNetFamilies": families,
            "outsideHomeNet": expected,
            "dropIpv6OutsideHomeNet": drop,
        }
        rendered = any("default deny: IPv6 from outside HOME_NET" in line for g in render.groups for line in g.rules)
        assert rendered is drop


def test_trimmed_headroom_is_shared_fairly_and_the_quota_not_wasted(dev_plan):
    """Trimming gives every unpinned group the same fraction of its headroom, in capacity steps where they fit,
    and gives back what rounding down to a step would waste: the groups then reserve exactly the quota (the old
    rounding left 97 of 500 unused, with one group at 3 of 3)."""
    config = DEV.model_copy(update={"capacity": {}})
    roomy = render_aws(dev_plan, config)
    used = sum(g.used for g in roomy.groups)
    reserved = sum(g.capacity for g in roomy.groups)

    def with_quota(quota: int):
        return render_aws(
            dev_plan, config.model_copy(update={"limits": config.limits.model_copy(update={"policy_capacity": quota})})
        )

    for quota in range(used, reserved, 13):
        tight = with_quota(quota)
        assert sum(g.capacity for g in tight.groups) == quota, quota
        for a, b in zip(tight.groups, roomy.groups, strict=True):
            assert a.used <= a.capacity <= b.capacity and a.request["Capacity"] == a.capacity
            share = Fraction(quota - used, reserved - used)  # every group's fair share of its headroom
            assert abs(a.capacity - a.used - (b.capacity - b.used) * share) <= CAPACITY_STEP, (quota, a.role)
        assert [g.capacity for g in with_quota(quota).groups] == [g.capacity for g in tight.groups]  # stable
    # the reviewer's case (dev's groups at policyCapacity 500): room for 146 of 446 headroom. Rounded down, the
    # groups took 100, 3, 200, 100 (403); the 97 left is one more step for http-host, whose fair share
    # (3 + 97 x 146/446 = 34.8) is furthest from the 3 it had: every group keeps a step multiple and headroom
    from types import SimpleNamespace

    from endpoint_firewall.renderers.aws.capacity import share_headroom

    groups = [
        SimpleNamespace(role=r, used=u, capacity=c)
        for r, u, c in (("rules", 99, 200), ("http-host", 3, 100), ("tls-sni", 156, 300), ("http-tls", 96, 200))
    ]
    assert share_headroom(groups, 500 - 354) == {"rules": 100, "http-host": 100, "tls-sni": 200, "http-tls": 100}
    # less room: whole steps where they fit (tls-sni 156 -> 200), the rest unit by unit up to each fair share
    shared = share_headroom(groups, 450 - 354)
    assert sum(shared.values()) == 450 and shared["tls-sni"] == 200
    assert all(g.used < shared[g.role] for g in groups)


def test_the_pages_the_code_points_to_exist():
    """The address rules and the residual risks are explained once, in the manual; the code points there (headings
    and anchors cited are checked by test_docs.py)."""
    sources = [p.read_text(encoding="utf-8") for p in (ROOT / "endpoint_firewall").rglob("*.py")]
    pages = {m for text in sources for m in re.findall(r"\bdocs/[a-z0-9-]+\.md\b", text)}
    assert {"docs/residual-risks.md", "docs/address-rules.md"} <= pages
    for page in pages:  # the pages the code points to exist
        assert (ROOT / page).is_file(), page
