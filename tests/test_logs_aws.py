"""``epfw logs explain --cloud aws`` on Suricata's own alerts: flows replayed through the rendered rules in the real
engine (the harness of ``checks/suricata*.py``), their eve ``alert`` events wrapped as AWS delivers them (JSON lines
``{firewall_name, availability_zone, event_timestamp, event}``, gzip'd S3 objects in AWS's folder layout), then
explained. Each denied flow has the verdict its catalogue entries and the stack's selection give it.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pytest
from conftest import ROOT
from logs_cases import PROD_CASES, Case, check_verdicts

from endpoint_firewall.checks.flow import Flow
from endpoint_firewall.checks.suricata import replay
from endpoint_firewall.cli.main import main
from endpoint_firewall.config.aws_config import AwsPolicyConfig
from endpoint_firewall.config.stack_config import load_stack_file
from endpoint_firewall.program.stack_plan import load_selected
from endpoint_firewall.renderers.aws.render import render_aws

DEVICE = "10.20.0.10"  # inside prod's sourceRanges (10.20.0.0/16, 10.21.0.0/16)
DEV_DEVICE = "10.10.0.10"
NEW_VLAN = "10.99.0.5"  # a device subnet the stack does not name


PROD_AWS_CASES = [
    Case(
        Flow("portal.manage.microsoft.com", 443, "https", source=NEW_VLAN),
        "selected",
        "intune-163",
        "outside sourceRanges",
    ),
    *PROD_CASES,
    Case(Flow("brand-new.microsoft.com", 443, "https"), "unlisted", None, "under microsoft.com"),
    # ID 163's ranges are left to Intune's names (aws.addressRules: names-only): a ClientHello without a name, and
    # bytes that are not TLS (the catalogue lists the ranges for http and https only), are denied
    Case(
        Flow(None, 443, "https", ip="13.107.219.10"),
        "not-selected",
        "intune-163",
        "aws.addressRules: names-only leaves this address to those names",
    ),
    Case(Flow(None, 443, "tcp", ip="40.82.248.230"), "unlisted", None, "other traffic"),
]
# The demo stack: names on plain UDP (NTP) are not expressible on AWS; a device's NTP shows as an address only
DEV_CASES = [
    Case(Flow(None, 123, "udp", ip="40.119.6.228"), "not-expressible", "intune-165", "cannot express"),
]
# A ClientHello without a name to the address-only entry's address: its address rule holds it to TLS (any name)
ALLOWED = [Flow("portal.manage.microsoft.com", 443, "https"), Flow(None, 443, "https", ip="20.189.172.170")]


def _render(stack: str, **aws_changes):
    config = load_stack_file(ROOT / "stacks" / f"Pulumi.{stack}.yaml")
    _, plan = load_selected(config, ROOT, stack)
    assert config.aws is not None
    return render_aws(plan, config.aws.model_copy(update=aws_changes))


def _eve(render, flows: list[Flow], source: str, keep: Path) -> list[dict]:
    result = replay(render, flows, source, keep=keep)
    expected_denied = [f for f in flows if f not in ALLOWED]
    assert [v.flow for v in result.verdicts if not v.allowed] == expected_denied
    return [json.loads(line) for line in (keep / "verdict" / "log" / "eve.json").read_text().splitlines()]


def as_aws_delivers(event: dict, firewall: str) -> dict:
    """AWS's log record around a Suricata eve event (event_timestamp: epoch seconds, UTC, as a string)."""
    when = dt.datetime.strptime(event["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z")
    return {
        "firewall_name": firewall,
        "availability_zone": "us-east-1a",
        "event_timestamp": str(int(when.timestamp())),
        "event": event,
    }


def as_netflow(event: dict) -> dict:
    """A Suricata ``flow`` event as AWS's flow log writes it: EVE type ``netflow``, one direction."""
    flow = event["flow"]
    netflow = {
        "pkts": flow["pkts_toserver"],
        "bytes": flow["bytes_toserver"],
        "start": flow["start"],
        "end": flow["end"],
        "age": 0,
    }
    keep = ("timestamp", "flow_id", "src_ip", "src_port", "dest_ip", "dest_port", "proto", "app_proto")
    return {**{k: event[k] for k in keep if k in event}, "event_type": "netflow", "netflow": netflow}


def write_s3_objects(folder: Path, records: list[dict], log_type: str, firewall: str) -> None:
    """Gzip'd JSON lines in AWS's S3 layout, two objects (AWSLogs/<account>/network-firewall/<type>/<region>/...)."""
    prefix = (
        folder
        / "AWSLogs"
        / "123456789012"
        / "network-firewall"
        / log_type
        / "us-east-1"
        / firewall
        / "2026"
        / "11"
        / "28"
    )
    prefix.mkdir(parents=True, exist_ok=True)
    half = len(records) // 2
    for i, part in enumerate((records[:half], records[half:])):
        name = f"123456789012_network-firewall_{log_type}_20261128T10{i}0Z_{i}.log.gz"
        with gzip.open(prefix / name, "wt", encoding="utf-8") as out:
            out.writelines(json.dumps(r) + "\n" for r in part)


def explain(capsys, stack: str, *paths: Path, fmt: str = "json") -> tuple[int, dict | str]:
    capsys.readouterr()
    code = main(
        [
            "logs",
            "explain",
            "--project",
            str(ROOT),
            "--stack",
            stack,
            "--cloud",
            "aws",
            *map(str, paths),
            "--format",
            fmt,
        ]
    )
    out = capsys.readouterr().out
    return code, json.loads(out) if fmt == "json" else out


@pytest.fixture(scope="module")
def prod_logs(suricata, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("prod-logs")
    events = _eve(_render("prod"), [c.flow for c in PROD_AWS_CASES] + ALLOWED, DEVICE, folder / "engine")
    alerts = [as_aws_delivers(e, "epfw-prod-fw") for e in events if e["event_type"] == "alert"]
    flows = [as_aws_delivers(as_netflow(e), "epfw-prod-fw") for e in events if e["event_type"] == "flow"]
    write_s3_objects(folder / "s3", alerts, "alert", "epfw-prod-fw")
    write_s3_objects(folder / "s3", flows, "flow", "epfw-prod-fw")
    return folder / "s3"


def _check(report: dict, cases: list[Case]) -> None:
    for item in check_verdicts(report, cases).values():
        assert item["count"] >= 1 and item["sources"] == 1 and item["first"] <= item["last"]


def test_prod_denies_from_suricata_get_their_verdicts(capsys, prod_logs):
    code, report = explain(capsys, "prod", prod_logs)
    assert isinstance(report, dict)
    assert code == 1  # a selected destination was denied
    assert set(report) == {"stack", "cloud", "records", "denied", "unused_rules"}
    assert (report["stack"], report["cloud"]) == ("prod", "aws")
    _check(report, PROD_AWS_CASES)
    assert {(d["destination"], d["port"]) for d in report["denied"]} == {c.key for c in PROD_AWS_CASES}
    selected = check_verdicts(report, [])[("portal.manage.microsoft.com", 443)]
    assert 'tls:443"' in selected["why"] and "sid:" in selected["why"]  # the rendered pass rule that should match


def test_prod_flow_logs_show_which_address_rules_passed_traffic(capsys, prod_logs):
    _, report = explain(capsys, "prod", prod_logs)
    assert isinstance(report, dict)
    unused = {u["rule"].rsplit("/", 1)[-1] for u in report["unused_rules"]}
    assert "intune-consolidated-ip-http80-https443" not in unused  # 20.189.172.170:443 went through it
    # ID 163's ranges have no address rule (left to Intune's names): the denied 40.82.248.230:443 used none
    assert not any(rule.startswith("intune-core-ip") for rule in unused)


def test_flow_logs_name_the_address_rules_no_flow_went_through(capsys, tmp_path):
    """The demo stack's address rules as the render writes them (the peers', the address-only entry's held to its
    protocols): flow records to the address-only entry leave the peers' rules unused."""
    netflow = {
        "timestamp": "2026-11-28T10:00:00.000000+0000",
        "event_type": "netflow",
        "src_ip": DEV_DEVICE,
        "src_port": 50000,
        "dest_ip": "20.189.172.170",
        "dest_port": 443,
        "proto": "TCP",
        "app_proto": "tls",
        "netflow": {"pkts": 5, "bytes": 2000, "start": "2026-11-28T10:00:00.000000+0000", "age": 0},
    }
    log = tmp_path / "flow.log"
    log.write_text(json.dumps(as_aws_delivers(netflow, "fw")) + "\n")
    _, report = explain(capsys, "dev", log)
    assert isinstance(report, dict)
    unused = {u["rule"].rsplit("/", 1)[-1] for u in report["unused_rules"]}
    assert unused == {"delivery-optimization-p2p-tcp7680", "delivery-optimization-p2p-udp3544"}


def test_a_split_client_hello_dropped_by_the_policy_default_names_no_host_and_says_why(capsys, suricata, tmp_path):
    """AWS's aws:drop_established drops the first segment of a split ClientHello before the SNI rule can match
    (the render warns): the alert has no SNI, so the deny is an address's; the explanation says what drops a
    hello before it is complete, and that the rule is not this stack's."""
    render = _render(
        "prod",
        firewall_policy=AwsPolicyConfig(name="epfw-prod-egress", stateful_default_actions=("aws:drop_established",)),
    )
    split = Flow("portal.manage.microsoft.com", 443, "https", split=True)
    result = replay(render, [split], DEVICE, keep=tmp_path / "engine")
    assert not result.verdicts[0].allowed
    events = [
        json.loads(line) for line in (tmp_path / "engine" / "verdict" / "log" / "eve.json").read_text().splitlines()
    ]
    log = tmp_path / "alert.log"
    log.write_text("".join(json.dumps(as_aws_delivers(e, "fw")) + "\n" for e in events if e["event_type"] == "alert"))
    code, report = explain(capsys, "prod", log)
    assert isinstance(report, dict) and code == 0
    [item] = report["denied"]
    assert (item["destination"], item["protocol"], item["verdict"]) == ("198.51.100.10", "tls", "unlisted")
    assert "names no host" in item["why"] and "aws:drop_established" in item["why"]
    assert "not one of this stack's rules" in item["why"]


def test_dev_ntp_to_an_address_is_not_expressible(capsys, suricata, tmp_path):
    events = _eve(_render("dev"), [c.flow for c in DEV_CASES], DEV_DEVICE, tmp_path / "engine")
    log = tmp_path / "alert.log"
    log.write_text("".join(json.dumps(as_aws_delivers(e, "fw")) + "\n" for e in events if e["event_type"] == "alert"))
    code, report = explain(capsys, "dev", log)
    assert isinstance(report, dict)
    assert code == 0
    _check(report, DEV_CASES)


def test_prod_table_fits_80_columns_and_markdown_names_every_verdict(capsys, prod_logs, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    code, table = explain(capsys, "prod", prod_logs, fmt="table")
    assert isinstance(table, str) and code == 1
    assert max(len(line) for line in table.splitlines()) <= 80
    assert "selected portal.manage.microsoft.com tls:443" in table
    _, text = explain(capsys, "prod", prod_logs, fmt="markdown")
    assert isinstance(text, str)
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) == len(PROD_AWS_CASES)
    assert {"**selected**", "**not-selected**", "**unlisted**"} <= {
        cell.strip() for row in rows for cell in row.split("|")
    }


def test_the_rule_that_should_have_matched_in_domain_list_mode(capsys, tmp_path):
    """The demo stack (domain lists): a wildcard's name is passed by its domain-list group; APNs on 5223 by the
    rules group's tls.sni rule whose ports are written [443,5223]. Records from a subnet outside sourceRanges."""
    events = [
        {
            "timestamp": "2026-11-28T10:00:00.000000+0000",
            "event_type": "alert",
            "src_ip": NEW_VLAN,
            "src_port": 50000,
            "dest_ip": "203.0.113.9",
            "dest_port": port,
            "proto": "TCP",
            "app_proto": "tls",
            "tls": {"sni": host},
            "alert": {"action": "blocked", "signature_id": 1, "signature": "drop"},
        }
        for host, port in (("portal.manage.microsoft.com", 443), ("courier.push.apple.com", 5223))
    ]
    log = tmp_path / "alert.log"
    log.write_text("".join(json.dumps(as_aws_delivers(e, "fw")) + "\n" for e in events))
    code, report = explain(capsys, "dev", log)
    assert isinstance(report, dict) and code == 1
    why = {d["destination"]: d["why"] for d in report["denied"] if d["verdict"] == "selected"}
    assert "(domain list HTTP_HOST, TLS_SNI: .manage.microsoft.com)" in why["portal.manage.microsoft.com"]
    assert '"apple-fqdn-tls443-tls5223 courier.push.apple.com tls:[443,5223]"' in why["courier.push.apple.com"]
    assert all("from the stack's sourceRanges only" in text and "outside sourceRanges" in text for text in why.values())
