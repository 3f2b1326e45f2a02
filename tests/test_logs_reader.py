"""How ``epfw logs explain`` reads files: every shape AWS and Azure deliver, gzip and folders, stdin, bad lines
counted with file and line (never a traceback), an unknown format named with what was expected, and a JSON
document read in bounded memory."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import sys
import tracemalloc
from collections.abc import Iterator

import pytest
from conftest import ROOT

from endpoint_firewall.cli.cmd_logs import parse_since
from endpoint_firewall.cli.main import main
from endpoint_firewall.logs.json_stream import READ_AHEAD, ArrayStream, StreamError
from endpoint_firewall.logs.reader import ReadStats, read


def nfw(
    host: str | None, ip: str = "198.51.100.7", port: int = 443, when: str = "2026-11-28T10:00:00.000000+0000"
) -> dict:
    """An AWS Network Firewall alert record as AWS documents it."""
    event = {
        "timestamp": when,
        "flow_id": 1,
        "event_type": "alert",
        "src_ip": "10.20.0.10",
        "src_port": 50000,
        "dest_ip": ip,
        "dest_port": port,
        "proto": "TCP",
        "app_proto": "tls",
        "alert": {"action": "blocked", "signature_id": 1506515, "rev": 1, "signature": "default deny", "severity": 3},
    }
    if host:
        event["tls"] = {"sni": host}
    return {"firewall_name": "fw", "availability_zone": "us-east-1a", "event_timestamp": "1795860000", "event": event}


def explain(
    capsys, *paths: str, cloud: str = "aws", stdin: str | None = None, monkeypatch=None
) -> tuple[int, dict | None, str]:
    capsys.readouterr()
    if stdin is not None:
        assert monkeypatch is not None
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    code = main(
        ["logs", "explain", "--project", str(ROOT), "--stack", "prod", "--cloud", cloud, *paths, "--format", "json"]
    )
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, json.loads(captured.out) if captured.out.startswith("{") else None, captured.err


def destinations(report: dict | None) -> dict[str, int]:
    assert report is not None
    return {d["destination"]: d["count"] for d in report["denied"]}


def test_bad_lines_are_counted_and_named_with_file_and_line(capsys, tmp_path):
    log = tmp_path / "alert.log"
    bad_time = nfw("example.org")
    bad_time["event"]["timestamp"] = "yesterday"
    log.write_text(
        "\n".join(
            [
                json.dumps(nfw("example.org")),
                "{not json",
                json.dumps({"unrelated": 1}),
                json.dumps(bad_time),
                "",
                json.dumps(nfw("example.net")),
            ]
        )
        + "\n"
    )
    code, report, err = explain(capsys, str(log))
    assert code == 0 and report is not None
    assert destinations(report) == {"example.org": 1, "example.net": 1} and report["records"] == 2
    assert "3 bad lines skipped:" in err
    assert f"{log}:2: not JSON" in err and f"{log}:3: not a record of this log (found unrelated)" in err
    assert f"{log}:4: not a record: 'yesterday' is not an ISO 8601 time" in err


def test_an_unknown_format_says_what_was_expected(capsys, tmp_path):
    log = tmp_path / "syslog.txt"
    log.write_text("Nov 28 10:00:00 fw kernel: DROP IN=eth0\n")
    code, report, err = explain(capsys, str(log))
    assert code == 1 and report is None
    assert f"{log}:1: unknown log format; expected AWS Network Firewall logs: JSON lines" in err
    json_lines = tmp_path / "other.json"
    json_lines.write_text(json.dumps({"hello": "world"}) + "\n")
    code, _, err = explain(capsys, str(json_lines), cloud="azure")
    assert code == 1 and "unknown log format; expected Azure Firewall structured logs" in err


def test_gzip_objects_in_nested_folders_and_stdin(capsys, tmp_path, monkeypatch):
    deep = (
        tmp_path / "AWSLogs" / "123456789012" / "network-firewall" / "alert" / "us-east-1" / "fw" / "2026" / "11" / "28"
    )
    deep.mkdir(parents=True)
    with gzip.open(deep / "object-without-gz-suffix", "wt") as out:
        out.write(json.dumps(nfw("a.example")) + "\n")
    (deep / "plain.log").write_text(json.dumps(nfw("b.example")) + "\n")
    (deep / ".hidden").write_text("not a log\n")
    code, report, _ = explain(capsys, str(tmp_path / "AWSLogs"))
    assert code == 0 and destinations(report) == {"a.example": 1, "b.example": 1}
    code, report, _ = explain(capsys, "-", stdin=json.dumps(nfw("c.example")) + "\n", monkeypatch=monkeypatch)
    assert destinations(report) == {"c.example": 1}
    code, report, err = explain(capsys, str(tmp_path / "missing"))
    assert code == 1 and "missing: no such file or folder" in err
    truncated = tmp_path / "truncated.log.gz"
    whole = gzip.compress("".join(json.dumps(nfw(f"t{i}.example")) + "\n" for i in range(2000)).encode())
    truncated.write_bytes(whole[: len(whole) // 2])  # an S3 object still being written
    code, report, err = explain(capsys, str(truncated))
    assert code == 0 and 0 < len(destinations(report)) < 2000
    assert f"{truncated}:" in err and "cannot read further" in err


def test_cloudwatch_shapes(capsys, tmp_path):
    """A CloudWatch Logs export task's lines (``<time> <message>``), the JSON of ``aws logs filter-log-events``
    (botocore's FilteredLogEvent: logStreamName, timestamp, message, ingestionTime, eventId), a subscription record
    (``logEvents``), and a Logs Insights CSV export (``@timestamp``, ``@message``)."""
    export = tmp_path / "000000"
    with gzip.open(export, "wt") as out:
        out.write("2026-11-28T10:00:00.000Z " + json.dumps(nfw("export.example")) + "\n")
    answer = tmp_path / "filter-log-events.json"
    events = [
        {
            "logStreamName": "fw_us-east-1a",
            "timestamp": 1795860000000,
            "message": json.dumps(nfw(f"cli{i}.example")),
            "ingestionTime": 1795860001000,
            "eventId": str(i),
        }
        for i in range(3)
    ]
    answer.write_text(json.dumps({"events": events, "searchedLogStreams": []}, indent=4))
    subscription = tmp_path / "subscription.json"
    subscription.write_text(
        json.dumps(
            {
                "messageType": "DATA_MESSAGE",
                "logEvents": [{"id": "1", "timestamp": 1, "message": json.dumps(nfw("sub.example"))}],
            }
        )
        + "\n"
    )
    insights = tmp_path / "insights.csv"
    buffer = io.StringIO()
    import csv

    csv.writer(buffer).writerows(
        [["@timestamp", "@message"], ["2026-11-28 10:00:00.000", json.dumps(nfw("insights.example"))]]
    )
    insights.write_text(buffer.getvalue())
    code, report, err = explain(capsys, str(export), str(answer), str(subscription), str(insights))
    assert code == 0, err
    assert destinations(report) == {
        "export.example": 1,
        "cli0.example": 1,
        "cli1.example": 1,
        "cli2.example": 1,
        "sub.example": 1,
        "insights.example": 1,
    }


def test_netflow_and_other_event_types(capsys, tmp_path):
    flow = nfw(None, ip="40.82.248.230")
    flow["event"] = {k: v for k, v in flow["event"].items() if k != "alert"} | {
        "event_type": "netflow",
        "netflow": {"pkts": 1, "bytes": 60},
    }
    tls_error = nfw(None)
    tls_error["event"]["event_type"] = "tls"
    log = tmp_path / "mixed.log"
    log.write_text("".join(json.dumps(r) + "\n" for r in (flow, tls_error, nfw("example.org"))))
    code, report, err = explain(capsys, str(log))
    assert report is not None and report["records"] == 2 and destinations(report) == {"example.org": 1}
    assert "event_type tls (1)" in err
    assert all(not u["rule"].endswith("intune-core-ip-tcp80-tcp443") for u in report["unused_rules"])


def test_a_device_ipv6_address_is_shortened_and_server_side_drops_are_turned_round(capsys, tmp_path):
    reply = nfw(None, ip="10.20.0.10", port=50000)
    reply["event"].update(
        {"src_ip": "2001:0db8:0000:0000:0000:0000:0000:0001", "src_port": 443, "direction": "to_client"}
    )
    reply["event"]["dest_ip"] = "10.20.0.10"
    log = tmp_path / "alert.log"
    log.write_text(json.dumps(reply) + "\n")
    _, report, _ = explain(capsys, str(log))
    assert destinations(report) == {"2001:db8::1": 1}
    assert report is not None and report["denied"][0]["port"] == 443


def _document(items: int) -> Iterator[str]:
    """A filter-log-events answer, generated line by line (never held whole)."""
    yield '{\n  "events": [\n'
    for i in range(items):
        message = json.dumps(json.dumps(nfw(f"h{i % 50}.example")))
        yield f'    {{"logStreamName": "s", "timestamp": {i}, "message": {message}, "eventId": "{i}"}}' + (
            ",\n" if i < items - 1 else "\n"
        )
    yield '  ],\n  "searchedLogStreams": []\n}\n'


def test_a_json_document_is_read_in_bounded_memory():
    items = 12_000  # about 8 MB of text
    stats = ReadStats()
    tracemalloc.start()
    try:
        count = sum(1 for _ in read([("big.json", _document(items))], "aws", stats))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == items and stats.bad_lines == 0
    assert peak < 8 * READ_AHEAD * 4 + 2_000_000, peak  # a few read-aheads, not the document


def test_a_broken_document_keeps_what_came_before_and_names_the_line():
    lines = ["[\n", json.dumps(nfw("a.example")) + ",\n", '{"firewall_name": "fw", "event": \n', "]\n"]
    stats = ReadStats()
    records = list(read([("broken.json", iter(lines))], "aws", stats))
    assert [r.host for r in records] == ["a.example"]
    assert stats.bad_lines == 1 and stats.shown[0].startswith("broken.json:4: not valid JSON")


def test_array_stream_seeks_a_key_across_reads():
    padding = " " * (READ_AHEAD + 10)
    stream = ArrayStream(iter([f'{{"pad": "{padding}",', ' "rec', 'ords": [1, ', "2]}"]))
    assert stream.seek(__import__("re").compile(r'"(records)"\s*:\s*\['))
    assert [v for _, v in stream.items()] == [1, 2]
    with pytest.raises(StreamError):
        list(ArrayStream(iter(["[1, 2"])).items())


def test_since_takes_dates_times_and_ages():
    now = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
    assert parse_since("7d", now) == dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
    assert parse_since("30m", now) == dt.datetime(2026, 12, 4, 11, 30, tzinfo=dt.UTC)
    assert parse_since("2026-11-27", now) == dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
    assert parse_since(None, now) is None
