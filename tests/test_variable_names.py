"""AWS IP set variable names: readable (whole first words, only the end of the area cut), valid for AWS
(botocore's RuleVariableName: ^[A-Za-z][A-Za-z0-9_]*$, at most 32, a shard suffix included), deterministic."""

from __future__ import annotations

import re

import botocore.session
import pytest

from endpoint_firewall.renderers.aws.suricata import variable_name

KEY = (
    botocore.session.get_session()
    .get_service_model("network-firewall")
    .shape_for("RuleVariables")
    .members["IPSets"]
    .key.metadata
)


@pytest.mark.parametrize(
    "text, head, expected",
    [
        ("delivery-optimization-p2p-tcp7680", "delivery-optimization", "DELIVERY_OPTIMIZ_P2P_TCP7680"),
        ("intune-core-ip-tcp80-tcp443", "intune-core", "INTUNE_CORE_IP_TCP80_TCP443"),
        ("wns-ip-tcp443", "wns", "WNS_IP_TCP443"),
    ],
)
def test_names_keep_the_first_words_whole(text, head, expected):
    assert variable_name(text, head=head) == expected


@pytest.mark.parametrize(
    "text, head",
    [
        ("delivery-optimization-p2p-tcp7680", "delivery-optimization"),
        ("1x-ip-tcp1", "1x"),
        ("a" * 90 + "-ip-tcp80", "a" * 90),
        ("area-ip-" + "-".join(f"tcp{p}" for p in range(1000, 1010)), "area"),
    ],
)
def test_names_fit_aws_with_a_shard_suffix_and_are_deterministic(text, head):
    for suffix in ("", "_2", "_999"):
        name = variable_name(text, suffix, head=head)
        assert re.fullmatch(KEY["pattern"], name) and KEY["min"] <= len(name) <= KEY["max"], name
        assert name == variable_name(text, suffix, head=head)
    assert variable_name(text, head=head, hashed=True) != variable_name(text + "x", head=head, hashed=True)
