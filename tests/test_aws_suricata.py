"""The rendered AWS rules in the real Suricata engine: every catalogue flow passes, look-alikes are dropped.

Suricata is required in CI (``CI=true``: a missing engine fails these tests); locally they skip without it.
Run with ``-s`` to see the verdict counts per stack.
"""

from __future__ import annotations

import ipaddress
import json
import os
from pathlib import Path

import pytest

from endpoint_firewall.checks.aws import evaluate
from endpoint_firewall.checks.flow import Flow
from endpoint_firewall.checks.suricata import (
    HARNESS_SID, SuricataError, build_capture, check_rules, find_suricata, replay, ruleset,
)
from endpoint_firewall.endpoints.loader import load_catalogue
from endpoint_firewall.planning.planner import build_plan
from endpoint_firewall.program.stack_config import FqdnMode, RuleOrder, load_stack_file
from endpoint_firewall.renderers.aws import render_aws

from pcap import catalogue_cases, look_alike_cases, scapy_read, sni_of

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def suricata():
    binary = find_suricata()
    if binary is None:
        message = ("Suricata is not installed: the AWS engine tests need it (scripts/install-suricata.sh, or "
                   "apt-get install -t bookworm-backports suricata on Debian 12)")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return binary


def stack(name: str, **aws_changes):
    config = load_stack_file(ROOT / "stacks" / f"Pulumi.{name}.yaml")
    catalogue = load_catalogue()
    selection = config.selection.to_selection()
    plan = build_plan(catalogue, selection, config.source_ranges, config.peer_ranges)
    aws = config.aws.model_copy(update=aws_changes)
    return config, catalogue, selection, plan, aws


VARIANTS = {
    # name: (stack, changes to its aws config)
    "dev": ("dev", {}),                                                     # domain lists, DEFAULT_ACTION_ORDER
    "dev-exact": ("dev", {"fqdn_mode": FqdnMode.EXACT}),                    # exact names, DEFAULT_ACTION_ORDER
    "dev-strict": ("dev", {"rule_order": RuleOrder.STRICT_ORDER}),          # domain lists, STRICT_ORDER
    "prod": ("prod", {}),                                                   # exact names, STRICT_ORDER
}
RESULTS: dict[str, dict] = {}


@pytest.mark.usefixtures("suricata")
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_catalogue_flows_pass_and_look_alikes_drop(variant, capsys):
    stack_name, changes = VARIANTS[variant]
    config, catalogue, selection, plan, aws = stack(stack_name, **changes)
    render = render_aws(plan, aws)
    source = str(next(ipaddress.ip_network(config.source_ranges[0]).hosts()))
    peer = (config.peer_ranges or config.source_ranges)[0]
    allowed_cases = catalogue_cases(catalogue, selection, config.peer_ranges)
    lookalikes = look_alike_cases(peer)
    cases = allowed_cases + lookalikes
    result = replay(render, [c.flow for c in cases], source)
    domain_list = aws.fqdn_mode is FqdnMode.DOMAIN_LIST
    widened = {(w.entry, w.destination) for w in render.widened}
    wrong = []
    for case, verdict in zip(cases, result.verdicts):
        expected = case.expected(domain_list, widened)
        if verdict.allowed != expected:
            wrong.append(f"{case.flow} ({case.why}): expected {'allow' if expected else 'drop'}, got "
                         f"{'allow' if verdict.allowed else 'drop by ' + str(verdict.dropped_by)}")
    assert not wrong, "\n".join(wrong)

    # every allowed catalogue flow is passed by a rendered rule, not merely "not dropped"
    unexplained = [str(c.flow) for c, v in zip(cases, result.verdicts) if v.allowed and not v.passed_by]
    assert not unexplained, unexplained
    passed_catalogue = sum(v.allowed for v in result.verdicts[:len(allowed_cases)])
    dropped_lookalikes = sum(not v.allowed for v in result.verdicts[len(allowed_cases):])
    widened_allowed = sum(v.allowed for v in result.verdicts[len(allowed_cases):])
    # in exact mode nothing is widened; in domain-list mode each widened look-alike is in the summary
    if not domain_list:
        assert widened_allowed == 0
    else:
        assert widened_allowed == sum(1 for c in lookalikes if c.widened_by in widened) == 4
    # the modelled policy default only exists in STRICT_ORDER; DEFAULT_ACTION_ORDER denies with rendered rules
    droppers = {v.dropped_by.sid for v in result.verdicts if v.dropped_by}
    if aws.rule_order is RuleOrder.STRICT_ORDER:
        assert result.policy_default == "aws:drop_established"
    else:
        assert result.policy_default is None and HARNESS_SID not in droppers
    RESULTS[variant] = {
        "mode": f"{aws.fqdn_mode.value}, {aws.rule_order.value}", "rulesLoaded": result.rules_loaded,
        "catalogueFlows": len(allowed_cases), "catalogueFlowsPassed": passed_catalogue,
        "lookAlikes": len(lookalikes), "lookAlikesDropped": dropped_lookalikes,
        "lookAlikesAllowedAsListedWidening": widened_allowed, **result.counts(), "suricata": result.version,
    }
    with capsys.disabled():
        print(f"\n[suricata {result.version}] {variant}: {json.dumps(RESULTS[variant])}")


@pytest.mark.usefixtures("suricata")
def test_exact_mode_drops_the_apex_of_a_wildcard_and_domain_lists_name_it():
    for variant, expected in (("dev-exact", False), ("prod", False), ("dev", True)):
        stack_name, changes = VARIANTS[variant]
        config, _, _, plan, aws = stack(stack_name, **changes)
        render = render_aws(plan, aws)
        source = config.source_ranges[0]
        apex = evaluate(render, Flow("mzstatic.com", 80, "http"), source)
        sub = evaluate(render, Flow("images.mzstatic.com", 80, "http"), source)
        assert apex.allowed is expected, (variant, apex)
        assert sub.allowed, (variant, sub)


@pytest.mark.usefixtures("suricata")
def test_evaluate_names_the_deciding_rule():
    config, _, _, plan, aws = stack("dev")
    render = render_aws(plan, aws)
    tls = evaluate(render, Flow("1-courier.push.apple.com", 5223, "tls"), "10.10.0.5")
    assert tls.allowed and "epfw-dev-rules-" in tls.rule and "1-courier.push.apple.com" in tls.rule
    assert "sid:" in tls.rule
    listed = evaluate(render, Flow("portal.manage.microsoft.com", 443, "https"), "10.10.0.5")
    assert listed.allowed and "epfw-dev-http-tls-" in listed.rule and "matching TLS allowlisted FQDNs" in listed.rule
    address = evaluate(render, Flow(None, 443, "tcp", ip="40.82.248.230"), "10.10.0.0/16")
    assert address.allowed and "INTUNE_CORE_IP_TCP80_TCP443" in address.rule
    denied = evaluate(render, Flow(None, 8443, "tcp", ip="138.91.243.97"), "10.10.0.5")
    assert not denied.allowed and "default deny" in denied.rule  # the rendered deny, DEFAULT_ACTION_ORDER
    _, _, _, prod_plan, prod_aws = stack("prod")
    prod = evaluate(render_aws(prod_plan, prod_aws), Flow("mzstatic.com", 80, "http"), "10.20.0.5")
    assert not prod.allowed and prod.rule is None and "aws:drop_established" in prod.detail
    assert str(prod).startswith("deny (default deny)")


@pytest.mark.usefixtures("suricata")
def test_every_group_loads_in_suricata_T(tmp_path):
    for variant in VARIANTS:
        stack_name, changes = VARIANTS[variant]
        _, _, _, plan, aws = stack(stack_name, **changes)
        render = render_aws(plan, aws)
        check = check_rules(render)
        assert check.failed == 0 and check.loaded == len(ruleset(render).rules)


@pytest.mark.usefixtures("suricata")
def test_a_broken_rule_is_refused():
    import dataclasses
    _, _, _, plan, aws = stack("dev")
    render = render_aws(plan, aws)
    group = render.groups[0]
    bad = dataclasses.replace(group, rules_text=group.rules_text.replace("flow:to_server;", "flow:to_nowhere;", 1))
    with pytest.raises(SuricataError, match="refused"):
        check_rules(dataclasses.replace(render, groups=(bad, *render.groups[1:])))


def test_capture_frames_decode_with_scapy(tmp_path):
    flows = [Flow("a.example.com", 443, "https"), Flow("x.example.com", 8080, "http"),
             Flow(None, 3544, "udp", ip="10.10.3.3"), Flow(None, 443, "tcp", ip="2001:db8::1", source="2001:db8:1::5")]
    path = tmp_path / "flows.pcap"
    sessions = build_capture(flows, "10.10.0.0/16", path)
    decoded = scapy_read(path)
    assert all(d.checksum_ok for d in decoded)
    assert [d.flags for d in decoded if d.sport == sessions[0].client_port or d.dport == sessions[0].client_port] \
        == ["S", "SA", "A", "PA", "A"]
    hello = next(d.payload for d in decoded if d.payload.startswith(b"\x16\x03"))
    assert sni_of(hello) == "a.example.com"
    http = next(d.payload for d in decoded if d.payload.startswith(b"GET "))
    assert b"\r\nHost: x.example.com:8080\r\n" in http
    client_side = {(d.src, d.sport, d.dst, d.dport, d.proto) for d in decoded if d.sport >= 20_000}
    assert len(client_side) == len(flows)  # one 5-tuple per flow
    assert [d.proto for d in decoded if d.dport == 3544 or d.sport == 3544] == ["udp"] * 3
    corrupt = bytearray(path.read_bytes())
    corrupt[-1] ^= 0xFF  # last frame: the payload-less ACK's last header byte
    broken = tmp_path / "broken.pcap"
    broken.write_bytes(bytes(corrupt))
    assert not all(d.checksum_ok for d in scapy_read(broken))


@pytest.mark.usefixtures("suricata")
def test_evaluate_handles_the_other_address_family_and_an_empty_render():
    _, _, _, plan, aws = stack("dev")
    render = render_aws(plan, aws)
    v6 = evaluate(render, Flow(None, 443, "tcp", ip="2001:db8::1"), "10.10.0.5")
    assert not v6.allowed and "no IPv6 range" in v6.detail
    empty = render_aws(plan.__class__(areas=(), source_ranges=plan.source_ranges, skipped=(), selected_entries=(),
                                      digest=plan.digest), aws.model_copy(update={"rule_order": RuleOrder.STRICT_ORDER}))
    assert empty.groups == ()
    verdict = evaluate(empty, Flow("portal.manage.microsoft.com", 443, "https"), "10.10.0.5")
    assert not verdict.allowed and verdict.rule is None  # only the policy default action remains
