"""``epfw verify aws``: every rendered group as a CreateRuleGroup dry run, against botocore's Stubber (AWS's own
service model validates each request; the answers are AWS's documented shapes)."""

from __future__ import annotations

import argparse

import botocore.session
import pytest
from botocore.stub import Stubber
from conftest import ROOT

from endpoint_firewall.checks.aws_verify import verify_group
from endpoint_firewall.cli import cmd_verify
from endpoint_firewall.cli.main import main
from endpoint_firewall.program.render import render_stack


def _client():
    return botocore.session.get_session().create_client(
        "network-firewall", region_name="eu-west-1", aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x"
    )


def _answer(group, consumed: int) -> dict:
    return {
        "UpdateToken": "token",
        "RuleGroupResponse": {
            "RuleGroupArn": f"arn:aws:network-firewall:eu-west-1:123456789012:stateful-rulegroup/{group.name}",
            "RuleGroupName": group.name,
            "RuleGroupId": "b1c2d3e4-0000-0000-0000-000000000000",
            "Capacity": group.capacity,
            "ConsumedCapacity": consumed,
            "Type": "STATEFUL",
        },
    }


def _args(stack: str = "dev") -> argparse.Namespace:
    return argparse.Namespace(cloud="aws", stack=stack, region=None, profile=None, project=ROOT)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_group_valid_prints_aws_capacity_next_to_ours(stack, capsys):
    groups = render_stack(stack, ROOT, cloud="aws").aws.groups
    client = _client()
    with Stubber(client) as stub:
        for g in groups:  # expected_params: exactly our request, with DryRun (and botocore validates it)
            stub.add_response("create_rule_group", _answer(g, g.used + 1), {**g.request, "DryRun": True})
        assert cmd_verify.run(_args(stack), client=client) == 0
        stub.assert_no_pending_responses()
    out = capsys.readouterr().out.splitlines()
    for g, line in zip(groups, out, strict=False):  # out ends with the summary line
        assert (
            line == f"valid    {g.name}: ours {g.used} used of {g.capacity}; AWS {g.used + 1} consumed of {g.capacity}"
        )
    assert out[-1].startswith(f"{len(groups)} of {len(groups)} groups valid (CreateRuleGroup DryRun, region ")


def test_a_validation_error_is_printed_for_its_group_and_exits_1(capsys):
    groups = render_stack("dev", ROOT, cloud="aws").aws.groups
    client = _client()
    with Stubber(client) as stub:
        stub.add_client_error(
            "create_rule_group",
            service_error_code="InvalidRequestException",
            service_message="parameter is invalid: pcre keyword without content",
            http_status_code=400,
        )
        for g in groups[1:]:
            stub.add_response("create_rule_group", _answer(g, g.used))
        assert cmd_verify.run(_args(), client=client) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        f"INVALID  {groups[0].name}: ours {groups[0].used} used of {groups[0].capacity}; AWS: "
        "InvalidRequestException: parameter is invalid: pcre keyword without content"
    )
    assert out[-1].startswith(f"{len(groups) - 1} of {len(groups)} groups valid")


def test_throttling_is_retried_with_backoff_and_bounded():
    group = render_stack("dev", ROOT, cloud="aws").aws.groups[0]
    client = _client()
    waits: list[float] = []
    with Stubber(client) as stub:
        for _ in range(2):
            stub.add_client_error(
                "create_rule_group",
                service_error_code="ThrottlingException",
                service_message="Rate exceeded",
                http_status_code=400,
            )
        stub.add_response("create_rule_group", _answer(group, group.used))
        verdict = verify_group(client, group.request, group.used, sleep=waits.append)
    assert verdict.valid and verdict.attempts == 3 and verdict.aws_consumed == group.used
    assert waits == [0.5, 1.0]
    with Stubber(client) as stub:  # never more than the bound: the last throttling is the answer
        for _ in range(3):
            stub.add_client_error(
                "create_rule_group",
                service_error_code="ThrottlingException",
                service_message="Rate exceeded",
                http_status_code=400,
            )
        verdict = verify_group(client, group.request, group.used, attempts=3, sleep=lambda s: None)
        stub.assert_no_pending_responses()
    assert not verdict.valid and verdict.attempts == 3 and verdict.error == "ThrottlingException: Rate exceeded"


def test_no_credentials_says_so_in_one_line_and_exits_2(monkeypatch, tmp_path, capsys):
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code = main(["verify", "aws", "--stack", "dev", "--project", str(ROOT)])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err.splitlines() == [cmd_verify.NO_CREDENTIALS]


def test_the_region_comes_from_the_stack():
    assert cmd_verify.stack_region(ROOT / "stacks" / "Pulumi.dev.yaml") == "eu-west-1"
    assert cmd_verify.stack_region(ROOT / "stacks" / "Pulumi.prod.yaml") == "us-east-1"


def test_a_request_botocore_s_model_refuses_never_reaches_aws():
    group = render_stack("dev", ROOT, cloud="aws").aws.groups[0]
    client = _client()
    with Stubber(client) as stub:
        stub.add_response("create_rule_group", _answer(group, group.used))
        verdict = verify_group(client, {**group.request, "Capacity": "many"}, group.used)
        with pytest.raises(AssertionError):  # the queued answer was never taken: nothing reached "AWS"
            stub.assert_no_pending_responses()
    assert not verdict.valid and verdict.error.startswith("ParamValidationError: Parameter validation failed")
