"""AWS's own rules for stateful rule groups (renderers/aws/compat.py): each one broken by a rule, and every
shipped stack's groups accepted."""

from __future__ import annotations

import pytest
from conftest import ROOT

from endpoint_firewall.config.aws_config import FqdnMode, RuleOrder
from endpoint_firewall.config.stack_config import load_stack_file
from endpoint_firewall.endpoints.loader import load_catalogue
from endpoint_firewall.planning.planner import build_plan
from endpoint_firewall.renderers.aws import layout as aws_layout
from endpoint_firewall.renderers.aws.compat import AWS_RULES, GroupText, problems
from endpoint_firewall.renderers.aws.deny import default_deny_rules
from endpoint_firewall.renderers.aws.model import AwsRenderError
from endpoint_firewall.renderers.aws.render import render_aws
from endpoint_firewall.renderers.aws.suricata import SuricataRule

NETS = {"HOME_NET": ["10.10.0.0/16"], "EXTERNAL_NET": ["0.0.0.0/5", "::/0"], "SET": ["192.0.2.0/24"]}
OK = 'pass tls $HOME_NET any -> any 443 (flow:to_server,established; tls.sni; content:"a.example"; sid:1; rev:1;)'

# (AWS rule broken, the rule that breaks it, STRICT_ORDER?)
BREAKERS = [
    ("dataset", "alert dns $HOME_NET any -> any any (dns.query; dataset:isset,bad; sid:2;)", False),
    ("dataset", "alert dns $HOME_NET any -> any any (dns.query; datarep:bad,>,5; sid:2;)", False),
    ("iprep", "drop ip $HOME_NET any -> any any (iprep:dst,BadHosts,>,50; sid:2;)", False),
    ("lua", "alert http $HOME_NET any -> any any (lua:check.lua; sid:2;)", False),
    ("lua", "alert http $HOME_NET any -> any any (luajit:check.lua; sid:2;)", False),
    (
        "threshold",
        "alert tcp $HOME_NET any -> any any (flow:to_server; threshold:type limit, track by_src, count 1, "
        "seconds 60; sid:2;)",
        False,
    ),
    (
        "threshold",
        "alert tcp $HOME_NET any -> any any (flow:to_server; detection_filter:track by_src, count 5, "
        "seconds 60; sid:2;)",
        False,
    ),
    ("geoip", "drop ip $HOME_NET any -> any any (geoip:dst,RU; sid:2;)", False),
    ("file", 'alert http $HOME_NET any -> any any (filemagic:"PE32"; sid:2;)', False),
    ("file", "alert http $HOME_NET any -> any any (filestore; sid:2;)", False),
    ("file", 'alert http $HOME_NET any -> any any (file.data; content:"MZ"; sid:2;)', False),
    ("file", "alert http $HOME_NET any -> any any (filesize:>100MB; sid:2;)", False),
    (
        "bits-tracking",
        "alert tcp $HOME_NET any -> any any (flow:to_server; xbits:set,seen,track ip_src; sid:2;)",
        False,
    ),
    ("bits-tracking", "alert tcp $HOME_NET any -> any any (flow:to_server; hostbits:set,seen; sid:2;)", False),
    ("tag-host", "alert tcp $HOME_NET any -> any any (flow:to_server; tag:host,10,packets,src; sid:2;)", False),
    ("protocol", "drop sctp $HOME_NET any -> any any (sid:2;)", False),
    ("protocol", "drop quic $HOME_NET any -> any any (flow:to_server; sid:2;)", False),
    ("protocol", 'alert udp $HOME_NET any -> any 443 (flow:to_server; quic.sni; content:"x"; sid:2;)', False),
    ("protocol", "alert tcp $HOME_NET any -> any 44818 (flow:to_server; enip_command:99; sid:2;)", False),
    ("ip-in-ip", "drop ip $HOME_NET any -> any any (flow:to_server; ip_proto:4; sid:2;)", False),
    ("ip-in-ip", "alert ip $HOME_NET any -> any any (flow:to_server; ip_proto:IPIP; sid:2;)", False),
    ("http2", "alert http2 $HOME_NET any -> any any (flow:to_server,established; sid:2;)", False),
    (
        "http2",
        'alert http $HOME_NET any -> any any (flow:to_server,established; http2.header_name; content:"x"; sid:2;)',
        False,
    ),
    ("action", "rejectsrc tcp $HOME_NET any -> any any (flow:to_server; sid:2;)", False),
    ("action", "config tcp $HOME_NET any -> any any (flow:to_server; sid:2;)", False),
    ("priority", "pass tcp $HOME_NET any -> $SET 443 (priority:1; sid:2;)", True),
    ("pcre", 'drop tcp $HOME_NET any -> any any (flow:to_server,established; pcre:"/^GET /"; sid:2;)', False),
    ("pcre", 'drop tcp $HOME_NET any -> any any (flow:to_server; dsize:>0; pcre:!"/^\\x16\\x03/"; sid:2;)', False),
    ("variables", "pass tcp $HOME_NET any -> $UNDEFINED 443 (sid:2;)", False),
    (
        "http-host-lowercase",
        'pass http $HOME_NET any -> any 80 (flow:to_server,established; http.host; content:"1-Courier.example.com"; '
        "startswith; endswith; sid:2;)",
        False,
    ),
    # Suricata 7.0.10 loads this one (a transform, dotprefix, before the content) and it never matches
    (
        "http-host-lowercase",
        'pass http $HOME_NET any -> any 80 (flow:to_server,established; http.host; dotprefix; content:".Example.com"; '
        "endswith; sid:2;)",
        False,
    ),
    ("http-host-lowercase", 'pass http $HOME_NET any -> any 80 (http.host; content:"|41|.example.com"; sid:2;)', False),
    ("http-host-lowercase", 'pass http $HOME_NET any -> any 80 (content:"A.example.com"; http_host; sid:2;)', False),
    (
        "http-host-lowercase",
        'pass http $HOME_NET any -> any 80 (http.host; content:"a.example"; nocase; sid:2;)',
        False,
    ),
    ("rule-size", "pass tcp $HOME_NET any -> $BIG 443 (sid:2;)", False),
]


def _group(*rules: str, name: str = "g", variables=None, rules_string: str | None = "") -> GroupText:
    variables = dict(NETS if variables is None else variables)
    if "$BIG" in " ".join(rules):
        variables["BIG"] = [f"10.{i // 256}.{i % 256}.0/24" for i in range(800)]  # ~9,900 characters expanded
    return GroupText(name, list(rules), variables, "\n".join(rules) if rules_string is not None else None)


@pytest.mark.parametrize(("key", "rule", "strict"), BREAKERS, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(BREAKERS)])
def test_a_rule_that_breaks_an_aws_rule_is_named_with_group_sid_and_aws_words(key, rule, strict):
    found = problems([_group(OK, rule)], strict=strict)
    assert [p.rule.key for p in found] == [key]
    [problem] = found
    text = str(problem)
    assert text.startswith("group g, rule sid 2: ") and AWS_RULES[key].says in text and AWS_RULES[key].source in text
    assert problems([_group(OK)], strict=strict) == []  # the same group without it passes


def test_group_level_rules_home_net_without_external_net_duplicate_sids_and_rules_string_size():
    alone = problems([_group(OK, variables={"HOME_NET": ["10.10.0.0/16"]})], strict=False)
    assert [(p.rule.key, p.sid) for p in alone] == [("home-external", None)]
    twice = problems([_group(OK, name="a"), _group(OK, name="b")], strict=False)
    assert [(p.rule.key, p.group, p.sid) for p in twice] == [("sid", "b", "1")] and "also in group a" in str(twice[0])
    # a domain list's rules are AWS's own (it picks their sids): never a duplicate
    assert problems([_group(OK, name="a"), _group(OK, name="list", rules_string=None)], strict=False) == []
    big = problems(
        [_group(*[OK.replace("sid:1", f"sid:{i}") for i in range(1, 30)])], strict=False, rules_string_max=1_000
    )
    assert [p.rule.key for p in big] == ["rules-string-size"] and "bytes (limit 1000)" in str(big[0])
    assert "priority" not in {
        p.rule.key for p in problems([_group("pass tcp $HOME_NET any -> $SET 443 (priority:1; sid:2;)")], strict=False)
    }


def test_every_aws_rule_in_the_table_is_broken_by_a_test():
    covered = {key for key, _, _ in BREAKERS} | {
        "home-external",
        "sid",
        "rules-string-size",
        "groups-per-policy",
        "app-layer-session-holding",
    }
    assert covered == set(AWS_RULES)


def _stack(name: str):
    config = load_stack_file(ROOT / "stacks" / f"Pulumi.{name}.yaml")
    plan = build_plan(load_catalogue(), config.selection.to_selection(), config.source_ranges, config.peer_ranges)
    return plan, config.aws


@pytest.mark.parametrize("variant", ["dev", "prod", "dev-strict-domain-list", "dev-exact", "prod-domain-list"])
def test_every_group_of_the_shipped_stacks_passes_aws_rules(variant):
    plan, aws = _stack("prod" if variant.startswith("prod") else "dev")
    if variant == "prod-domain-list":
        aws = aws.model_copy(update={"fqdn_mode": FqdnMode.DOMAIN_LIST, "capacity": {}})
    if variant == "dev-strict-domain-list":
        aws = aws.model_copy(update={"rule_order": RuleOrder.STRICT_ORDER, "fqdn_mode": FqdnMode.DOMAIN_LIST})
    if variant == "dev-exact":
        aws = aws.model_copy(update={"fqdn_mode": FqdnMode.EXACT})
    render = render_aws(plan, aws)  # runs the check: a problem would raise
    texts = [
        GroupText(g.name, g.rules, dict(g.variables), g.request["RuleGroup"]["RulesSource"].get("RulesString"))
        for g in render.groups
    ]
    assert problems(texts, strict=aws.rule_order is RuleOrder.STRICT_ORDER) == []
    assert all(not any("pcre" in line for line in g.rules) for g in render.groups)
    if variant == "dev-strict-domain-list":
        assert {g.kind for g in render.groups} == {"rules", "domain-list"}


def test_a_render_that_aws_would_refuse_fails_naming_group_rule_and_aws_rule(monkeypatch):
    plan, aws = _stack("dev")

    def with_pcre(*args, **kwargs):
        rules = default_deny_rules(*args, **kwargs)
        bad = SuricataRule(
            key="default-deny|bad",
            action="drop",
            proto="tcp",
            src="$HOME_NET",
            src_port="any",
            dst="any",
            dst_port="any",
            options=("flow:to_server,established", 'pcre:"/^x/"'),
            msg="bad",
        )
        return [*rules, bad]

    monkeypatch.setattr(aws_layout, "default_deny_rules", with_pcre)
    with pytest.raises(
        AwsRenderError,
        match=r"AWS would refuse 1 rule\(s\) of these groups:\n  group epfw-dev-rules-"
        r"\w+, rule sid \d+: pcre without content.*AWS: \"In payload keywords, "
        r"the pcre keyword is only allowed with content",
    ):
        render_aws(plan, aws)


def test_uppercase_outside_http_host_is_no_problem():
    """tls.sni is matched with nocase, http.host.raw is the Host header as sent, hex digits are not letters."""
    rules = [
        'pass tls $HOME_NET any -> any 443 (tls.sni; content:"A.Example.com"; nocase; sid:2;)',
        'pass http $HOME_NET any -> any 80 (http.host.raw; content:"A.Example.com"; sid:3;)',
        'pass http $HOME_NET any -> any 80 (content:"A.Example.com"; http_raw_host; sid:4;)',
        'pass http $HOME_NET any -> any 80 (http.host; content:"a.example.com"; http.header; content:"X-A"; sid:5;)',
        'pass http $HOME_NET any -> any 80 (http.host; content:"a.example.com|0D 0A|"; sid:6;)',
    ]
    assert problems([_group(OK, *rules)], strict=False) == []


def test_negated_ip_protocols_are_not_ip_in_ip():
    """The deny's ``ip_proto:!6; ...`` drops other protocols, IP-in-IP among them: that is not a rule about it."""
    rule = "drop ip $HOME_NET any -> any any (flow:to_server; ip_proto:!6; ip_proto:!4; sid:2;)"
    assert problems([_group(OK, rule)], strict=False) == []


def test_more_stateful_groups_than_a_policy_takes_fail_the_render():
    groups = [_group(OK.replace("sid:1", f"sid:{i}"), name=f"g{i}") for i in range(1, 4)]
    assert problems(groups, strict=False, groups_max=3) == []
    [problem] = problems(groups, strict=False, groups_max=2)
    assert problem.rule.key == "groups-per-policy" and "3 stateful rule groups" in str(problem)
    plan, aws = _stack("dev")
    count = len(render_aws(plan, aws).groups)  # under the default limit (20)
    limits = aws.limits.model_copy(update={"stateful_groups_per_policy": count - 1})
    with pytest.raises(
        AwsRenderError,
        match=rf"{count} stateful rule groups in one firewall policy \(limit "
        rf"{count - 1}: aws.limits.statefulGroupsPerPolicy\)",
    ):
        render_aws(plan, aws.model_copy(update={"limits": limits}))


def test_app_layer_drop_defaults_warn_about_session_holding():
    from endpoint_firewall.config.aws_config import AwsPolicyConfig

    plan, aws = _stack("prod")
    assert aws.rule_order is RuleOrder.STRICT_ORDER
    caveat = AWS_RULES["app-layer-session-holding"].says
    for actions, warned in (
        (("aws:drop_established_app_layer",), True),
        (("aws:drop_established_app_layer_to_server",), True),
        (("aws:drop_established",), False),
    ):
        policy = AwsPolicyConfig(name="p", stateful_default_actions=actions)
        render = render_aws(plan, aws.model_copy(update={"firewall_policy": policy}))
        assert any("session holding" in w and caveat in w for w in render.warnings) is warned, actions
    dev_plan, dev = _stack("dev")  # DEFAULT_ACTION_ORDER: no policy default action, nothing to warn about
    assert not any("session holding" in w for w in render_aws(dev_plan, dev).warnings)
