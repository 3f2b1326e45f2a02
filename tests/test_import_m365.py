"""`epfw import m365`: the Microsoft 365 IP/URL web service JSON -> a catalogue file."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import pytest

from endpoint_firewall.catalogue_tools.importers import m365
from endpoint_firewall.catalogue_tools.importers.m365.ports import (
    TLS_PORTS,
    default_tls_ports,
    parse_ports,
    services_for,
)
from endpoint_firewall.cli.main import main
from endpoint_firewall.endpoints.errors import CatalogueError
from endpoint_firewall.endpoints.loader import load_catalogue, shipped_catalogue_files
from endpoint_firewall.endpoints.models import PortRange

FIXTURE = Path(__file__).parent / "fixtures" / "m365" / "endpoints.json"
DATE = "2024-06-28"


def run(*argv: str) -> int:
    return main(["import", "m365", *argv])


def import_fixture(tmp_path: Path, capsys, *extra: str, source: Path = FIXTURE, name: str = "m365.yaml"):
    out = tmp_path / name
    rc = run(str(source), "--out", str(out), "--source-date", DATE, *extra)
    captured = capsys.readouterr()
    return rc, out, captured.out, captured.err


def services(entry) -> list[str]:
    return [str(s) for s in entry.services]


def values(entry) -> list[str]:
    return [d.value for d in entry.destinations]


# --- the fixture --------------------------------------------------------------------------------------------


def test_import_writes_a_catalogue_that_loads(tmp_path, capsys):
    rc, out, stdout, _ = import_fixture(tmp_path, capsys)
    assert rc == 0
    assert f"wrote {out}: 8 entries in 5 service areas" in stdout
    catalogue = load_catalogue([out])
    assert [e.id for e in catalogue.entries] == sorted(
        ["m365-1", "m365-2", "m365-8", "m365-11", "m365-12", "m365-31", "m365-46", "m365-163"]
    )
    source = catalogue.sources["m365-web-service"]
    assert source.date == dt.date(2024, 6, 28)
    assert source.url == m365.WEB_SERVICE_URL
    assert {a.id: a.priority for a in catalogue.service_areas.values()} == {
        "common": 2000,
        "exchange": 2100,
        "sharepoint": 2200,
        "skype": 2300,
        "mem": 2400,
    }
    assert catalogue.service_areas["mem"].title == "Microsoft Intune"


def test_the_output_loads_together_with_the_shipped_catalogue(tmp_path, capsys):
    rc, out, _, _ = import_fixture(tmp_path, capsys)
    assert rc == 0
    merged = load_catalogue([*shipped_catalogue_files(), out])  # no id, area or priority collision
    assert "m365-163" in {e.id for e in merged.entries}
    assert "intune-core" in merged.service_areas


def test_ports_become_services(tmp_path, capsys):
    _, out, _, _ = import_fixture(tmp_path, capsys)
    catalogue = load_catalogue([out])
    # "80,443": tcp 80 -> http, tcp 443 -> https
    assert services(catalogue.entry("m365-1")) == ["http:80", "https:443"]
    # Exchange record with ips and udpPorts only
    assert services(catalogue.entry("m365-2")) == ["udp:443"]
    # " 443, 5223 ,80" and "3478 - 3481, 50000-50059": stray spaces and ranges; 5223 (APNs) carries TLS
    assert services(catalogue.entry("m365-12")) == [
        "http:80",
        "https:443",
        "tls:5223",
        "udp:3478-3481",
        "udp:50000-50059",
    ]
    assert services(catalogue.entry("m365-11")) == ["udp:3478-3481"]
    # "443,80" in the other order gives the same services
    assert services(catalogue.entry("m365-31")) == ["http:80", "https:443"]


def test_destinations_and_fields(tmp_path, capsys):
    _, out, _, _ = import_fixture(tmp_path, capsys)
    catalogue = load_catalogue([out])
    exchange = catalogue.entry("m365-2")
    assert exchange.service_area == "exchange"
    assert exchange.required is False
    assert values(exchange) == [
        "outlook.office.com",
        "outlook.office365.com",
        "13.107.6.152/31",
        "52.96.0.0/14",
        "2603:1063::/38",
    ]  # names, then IPv4, then IPv6, sorted
    assert exchange.notes == "Outlook Web Access over QUIC, for clients that support it."
    assert exchange.provenance.source == "m365-web-service"
    assert "Optimize" in exchange.description
    assert exchange.provenance.note == "category Optimize; expressRoute false"
    mem = catalogue.entry("m365-163")
    assert mem.service_area == "mem"
    assert values(mem) == [
        "*.manage.microsoft.com",
        "manage.microsoft.com",
        "13.67.13.176/28",
        "52.175.12.209/32",
        "104.46.162.96/27",
    ]
    # upper case in the input is normalised, not duplicated
    assert "login.microsoft.com" in values(catalogue.entry("m365-46"))


def test_mid_label_wildcards_are_named_and_left_out(tmp_path, capsys):
    rc, out, _, stderr = import_fixture(tmp_path, capsys)
    assert rc == 0
    warnings = [line for line in stderr.splitlines() if line.startswith("warning: ")]
    assert any("record 8" in w and "'autodiscover.*.onmicrosoft.com' left out" in w for w in warnings), stderr
    assert any("record 40" in w and "'*contoso.com' left out" in w for w in warnings), stderr
    # the record whose only URL cannot be expressed is reported as a whole and has no entry
    assert any("record 40" in w and "record left out" in w for w in warnings), stderr
    # warnings are located by the URL's path in the JSON list: record [2], its urls[1]
    assert json.loads(FIXTURE.read_text())[2]["urls"][1] == "autodiscover.*.onmicrosoft.com"
    assert any(w.startswith(f"warning: {FIXTURE}: [2].urls[1]: record 8: ") for w in warnings), stderr
    assert any(w.startswith(f"warning: {FIXTURE}: [6]: record 40: record left out") for w in warnings), stderr
    catalogue = load_catalogue([out])
    assert "m365-40" not in {e.id for e in catalogue.entries}
    # never widened: the record keeps only what it said exactly
    assert values(catalogue.entry("m365-8")) == ["*.outlook.com", "*.protection.outlook.com"]
    text = out.read_text()
    assert "onmicrosoft" not in text.split("schema_version")[1]
    assert "#   record 8: 'autodiscover.*.onmicrosoft.com'" in text  # listed in the header comment


def test_service_area_filter_is_case_insensitive(tmp_path, capsys):
    for i, spelling in enumerate(("MEM", "mem", "Mem")):
        rc, out, _, stderr = import_fixture(tmp_path, capsys, "--service-area", spelling, name=f"{i}.yaml")
        assert rc == 0
        catalogue = load_catalogue([out])
        assert [e.id for e in catalogue.entries] == ["m365-163"]
        assert list(catalogue.service_areas) == ["mem"]
        assert catalogue.service_areas["mem"].priority == 2400  # the same priority as in a full import
        # other areas' omissions are not reported; the one warning is MEM's
        assert [line for line in stderr.splitlines() if "warning" in line] == [
            line for line in stderr.splitlines() if "intune-page" in line
        ], stderr


def test_several_service_areas(tmp_path, capsys):
    rc, out, _, stderr = import_fixture(tmp_path, capsys, "--service-area", "exchange", "--service-area", "Skype,MEM")
    assert rc == 0
    catalogue = load_catalogue([out])
    assert set(catalogue.service_areas) == {"exchange", "skype", "mem"}
    assert {e.service_area for e in catalogue.entries} == {"exchange", "skype", "mem"}
    assert "autodiscover.*.onmicrosoft.com" in stderr
    assert "*contoso.com" not in stderr


def test_unknown_service_area_is_refused(tmp_path, capsys):
    rc, out, _, stderr = import_fixture(tmp_path, capsys, "--service-area", "Intune")
    assert rc == 1
    assert "no record has service area 'intune'" in stderr
    assert "MEM" in stderr
    assert not out.exists()


def test_reimport_is_byte_identical_whatever_the_input_order(tmp_path, capsys):
    _, first, _, _ = import_fixture(tmp_path, capsys, name="a.yaml")
    _, second, _, _ = import_fixture(tmp_path, capsys, name="b.yaml")
    assert first.read_bytes() == second.read_bytes()
    records = json.loads(FIXTURE.read_text())
    rng = random.Random(7)
    rng.shuffle(records)
    for record in records:
        for key in ("urls", "ips"):
            if key in record:
                rng.shuffle(record[key])
    shuffled = tmp_path / "shuffled.json"
    shuffled.write_text(json.dumps(records))  # one line, other order
    _, third, _, _ = import_fixture(tmp_path, capsys, source=shuffled, name="c.yaml")
    assert third.read_bytes() == first.read_bytes()


def test_output_is_readable_yaml(tmp_path, capsys):
    _, out, _, _ = import_fixture(tmp_path, capsys)
    text = out.read_text()
    assert text.startswith("# Microsoft 365 endpoints, imported by `epfw import m365`")
    assert "\nentries:\n  - id: m365-1\n    service_area: exchange\n" in text
    assert "    services: [{protocol: http, port: 80}, {protocol: https, port: 443}]\n" in text
    assert "      - outlook.office.com\n" in text
    assert "\n\n  - id: m365-2\n" in text  # a blank line between entries


def test_overwrites_an_existing_output_only_on_success(tmp_path, capsys):
    out = tmp_path / "m365.yaml"
    out.write_text("old content\n")
    bad = tmp_path / "bad.json"
    bad.write_text("[{]\n")
    assert run(str(bad), "--out", str(out), "--source-date", DATE) == 1
    assert out.read_text() == "old content\n"
    assert run(str(FIXTURE), "--out", str(out), "--source-date", DATE) == 0
    load_catalogue([out])
    assert not any(p.name.endswith(".tmp") for p in tmp_path.iterdir())  # no temporary file left behind


def test_source_date_defaults_to_today_in_utc(tmp_path, capsys):
    out = tmp_path / "x.yaml"
    before = dt.datetime.now(dt.UTC).date()
    assert run(str(FIXTURE), "--out", str(out)) == 0
    after = dt.datetime.now(dt.UTC).date()
    capsys.readouterr()
    assert load_catalogue([out]).sources["m365-web-service"].date in {before, after}
    with pytest.raises(SystemExit) as exc:  # a given date must still be a date
        run(str(FIXTURE), "--out", str(out), "--source-date", "28/06/2024")
    assert exc.value.code == 2
    assert "'28/06/2024' is not a date" in capsys.readouterr().err


def test_counts_are_singular_for_one(tmp_path, capsys):
    source = write_records(tmp_path, [RECORD])
    out = tmp_path / "one.yaml"
    assert run(str(source), "--out", str(out), "--source-date", DATE) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}: 1 entry in 1 service area from 1 record"
    assert "(source date 2024-06-28, 1 record in the input," in out.read_text()
    two = write_records(tmp_path, [RECORD, dict(RECORD, id=2, urls=["*", "b.example.com"])], name="two.json")
    assert run(str(two), "--out", str(out), "--source-date", DATE) == 0
    assert capsys.readouterr().out.strip() == (
        f"wrote {out}: 2 entries in 1 service area from 2 records; 1 item left out (see warnings)"
    )


# --- MEM: Microsoft no longer keeps the web service's Intune data accurate ----------------------------------


def test_mem_records_warn_once_and_point_to_the_intune_page_importer(tmp_path, capsys):
    mem = dict(RECORD, serviceArea="MEM", serviceAreaDisplayName="Microsoft Intune")
    source = write_records(tmp_path, [RECORD, dict(mem, id=5), dict(mem, id=6)])
    out = tmp_path / "out.yaml"
    assert run(str(source), "--out", str(out), "--source-date", DATE) == 0
    err = capsys.readouterr().err.splitlines()
    (warning,) = [line for line in err if "MEM" in line]
    assert warning.startswith(f"warning: {source}: [1].serviceArea: 2 MEM records (first: record 5)")
    assert '"no longer return accurate data"' in warning
    assert "epfw import intune-page" in warning
    assert "learn.microsoft.com/intune/fundamentals/endpoints" in warning
    assert {e.id for e in load_catalogue([out]).entries} == {"m365-1", "m365-5", "m365-6"}  # still imported
    assert "# MEM records: " in out.read_text()
    rc, _, _, stderr = import_fixture(tmp_path, capsys)  # one MEM record
    assert rc == 0
    assert json.loads(FIXTURE.read_text())[8]["serviceArea"] == "MEM"
    assert f"warning: {FIXTURE}: [8].serviceArea: MEM record 163: " in stderr
    # no MEM record selected, no warning
    assert run(str(source), "--out", str(out), "--source-date", DATE, "--service-area", "Exchange") == 0
    assert "MEM" not in capsys.readouterr().err
    assert "MEM records" not in out.read_text()


# --- TLS ports: names on ports that carry TLS from the first byte are matched by SNI ------------------------


def test_tls_ports_import_as_tls_and_other_tcp_stays_tcp(tmp_path, capsys):
    # IMAPS, POP3S, FCM's range (whole and one port of it), HTTPS alt; SMTP and STARTTLS submission; a range
    # that reaches beyond FCM's
    record = dict(RECORD, tcpPorts="993,995,5228-5230,5229,8443,25,587,5220-5230")
    source = write_records(tmp_path, [record])
    out = tmp_path / "out.yaml"
    assert run(str(source), "--out", str(out), "--source-date", DATE) == 0
    capsys.readouterr()
    assert services(load_catalogue([out]).entry("m365-1")) == [
        "tcp:25",
        "tcp:587",
        "tcp:5220-5230",
        "tls:993",
        "tls:995",
        "tls:5228-5230",
        "tls:5229",
        "tls:8443",
    ]
    assert (
        "# TCP ports imported as tls (TLS from the first byte, matched by SNI): 465, 636, 853, 993, 995, "
        "5061, 5223, 5228-5230, 8443."
    ) in out.read_text()


def test_tls_ports_flag_replaces_the_list(tmp_path, capsys):
    source = write_records(tmp_path, [dict(RECORD, tcpPorts="80,443,993,5223,7000-7002")])
    out = tmp_path / "out.yaml"
    assert run(str(source), "--out", str(out), "--source-date", DATE, "--tls-ports", "5223, 7000-7010") == 0
    capsys.readouterr()
    assert services(load_catalogue([out]).entry("m365-1")) == [
        "http:80",
        "https:443",
        "tcp:993",
        "tls:5223",
        "tls:7000-7002",
    ]
    assert "matched by SNI): 5223, 7000-7010." in out.read_text()
    assert run(str(source), "--out", str(out), "--source-date", DATE, "--tls-ports", "") == 0
    capsys.readouterr()
    assert services(load_catalogue([out]).entry("m365-1")) == [
        "http:80",
        "https:443",
        "tcp:993",
        "tcp:5223",
        "tcp:7000-7002",
    ]
    assert "matched by SNI): none." in out.read_text()


def test_bad_tls_ports_flag_is_refused(tmp_path, capsys):
    out = tmp_path / "out.yaml"
    assert run(str(FIXTURE), "--out", str(out), "--source-date", DATE, "--tls-ports", "5223,tls") == 1
    err = capsys.readouterr().err
    assert "--tls-ports: '5223,tls': 'tls' is not a port or a port range" in err
    assert not out.exists()


def test_the_default_tls_ports_are_one_documented_list():
    assert [str(p) for p in default_tls_ports()] == [
        "465",
        "636",
        "853",
        "993",
        "995",
        "5061",
        "5223",
        "5228-5230",
        "8443",
    ]
    assert all(source.strip() for _, source in TLS_PORTS)  # each with where it is documented
    assert not {80, 443, 25, 587, 143, 110, 389} & {
        port for r in default_tls_ports() for port in range(r.first, r.last + 1)
    }


# --- bad input ----------------------------------------------------------------------------------------------

RECORD = {
    "id": 1,
    "serviceArea": "Exchange",
    "serviceAreaDisplayName": "Exchange Online",
    "urls": ["outlook.office.com"],
    "tcpPorts": "80,443",
    "expressRoute": True,
    "category": "Optimize",
    "required": True,
}


def write_records(tmp_path: Path, records: list, name: str = "in.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(records, indent=2) + "\n")
    return path


def refused(tmp_path: Path, capsys, source: Path) -> list[str]:
    out = tmp_path / "out.yaml"
    rc = run(str(source), "--out", str(out), "--source-date", DATE)
    err = capsys.readouterr().err
    assert rc == 1
    assert "Traceback" not in err
    assert not out.exists()
    return err.splitlines()


def test_json_syntax_error_gives_its_line(tmp_path, capsys):
    source = tmp_path / "broken.json"
    source.write_text('[\n  {"id": 1,\n   "serviceArea": "Exchange"\n   "urls": []}\n]\n')
    assert refused(tmp_path, capsys, source) == [f"{source}:4: json: Expecting ',' delimiter (column 4)"]


def test_bad_port_string_is_located(tmp_path, capsys):
    good = dict(RECORD, id=2)
    source = write_records(tmp_path, [good, dict(RECORD, id=3, tcpPorts="80,4x3")])
    lines = refused(tmp_path, capsys, source)
    assert lines == [f"{source}: [1].tcpPorts: '80,4x3': '4x3' is not a port or a port range like '3478-3481'"]


@pytest.mark.parametrize(
    "ports, message",
    [
        ("80,,443", "empty port between commas"),
        ("70000", "port 70000 is outside 1-65535"),
        ("3481-3478", "reversed port range 3481-3478"),
        ("443;80", "is not a port or a port range"),
    ],
)
def test_bad_port_strings(tmp_path, capsys, ports, message):
    source = write_records(tmp_path, [dict(RECORD, udpPorts=ports)])
    (line,) = refused(tmp_path, capsys, source)
    assert line.startswith(f"{source}: [0].udpPorts: ")
    assert message in line


def test_wrong_types_are_located(tmp_path, capsys):
    source = write_records(tmp_path, [RECORD, dict(RECORD, id="2", urls="a.example.com", required="yes")])
    assert refused(tmp_path, capsys, source) == [
        f"{source}: [1].id: expected a whole number, 0 or more, found the string '2'",
        f"{source}: [1].required: expected true or false, found the string 'yes'",
        f"{source}: [1].urls: expected a list of strings, found the string 'a.example.com'",
    ]


def test_missing_and_duplicate(tmp_path, capsys):
    record = dict(RECORD, colour="blue")
    del record["category"]
    source = write_records(tmp_path, [record, RECORD, dict(RECORD, id=1)])
    lines = refused(tmp_path, capsys, source)
    assert f"{source}: [0].category: missing required key 'category'" in lines
    assert f"{source}: [2].id: duplicate record id 1 (first at [1])" in lines
    assert not any("colour" in line for line in lines), lines  # an unknown key is not an error


def test_a_one_line_feed_is_located_by_path(tmp_path, capsys):
    """The feed is machine-generated, often on one line: the record's index and key find a value, a line would
    not. A repeated key is refused (json keeps the last value silently)."""
    first = json.dumps(RECORD)[:-1] + ', "tcpPorts": "443", "id": 1}'
    source = tmp_path / "one-line.json"
    source.write_text(f"[{first}, {json.dumps(dict(RECORD, id=2, tcpPorts='80,4x3'))}]")
    assert refused(tmp_path, capsys, source) == [
        f"{source}: [0].id: duplicate key 'id'",
        f"{source}: [0].tcpPorts: duplicate key 'tcpPorts'",
        f"{source}: [1].tcpPorts: '80,4x3': '4x3' is not a port or a port range like '3478-3481'",
    ]


def test_problems_follow_the_records_order(tmp_path, capsys):
    """[2] before [10]: a path's indexes are compared as numbers."""
    records = [dict(RECORD, id=i) for i in range(11)]
    records[10]["tcpPorts"] = records[2]["tcpPorts"] = "x"
    lines = refused(tmp_path, capsys, write_records(tmp_path, records))
    assert [line.split(": ")[1] for line in lines] == ["[2].tcpPorts", "[10].tcpPorts"]


def test_unknown_keys_warn_once_per_key_and_the_import_goes_on(tmp_path, capsys):
    source = write_records(
        tmp_path, [dict(RECORD, id=7, colour="blue"), dict(RECORD, id=3, colour="red"), dict(RECORD, id=9, size=2)]
    )
    out = tmp_path / "out.yaml"
    assert run(str(source), "--out", str(out), "--source-date", DATE) == 0
    captured = capsys.readouterr()
    warnings = captured.err.splitlines()
    assert warnings == [  # located at record 3, the first in id order
        f"warning: {source}: [1].colour: unknown key 'colour' ignored (record 3 and 1 other record); "
        "the importer reads id, serviceArea, serviceAreaDisplayName, urls, ips, tcpPorts, udpPorts, expressRoute, "
        "category, required, notes",
        f"warning: {source}: [2].size: unknown key 'size' ignored (record 9); "
        "the importer reads id, serviceArea, serviceAreaDisplayName, urls, ips, tcpPorts, udpPorts, expressRoute, "
        "category, required, notes",
    ]
    assert f"wrote {out}: 3 entries" in captured.out
    assert {e.id for e in load_catalogue([out]).entries} == {"m365-3", "m365-7", "m365-9"}
    assert "# Keys the importer does not know, ignored: 'colour' (2 records), 'size' (1 record)" in out.read_text()
    # only the imported records' keys are reported
    skype = dict(RECORD, id=4, serviceArea="Skype", serviceAreaDisplayName="Teams", colour="green")
    source = write_records(tmp_path, [RECORD, skype], name="areas.json")
    assert run(str(source), "--out", str(out), "--source-date", DATE, "--service-area", "Exchange") == 0
    assert capsys.readouterr().err == ""
    assert run(str(source), "--out", str(out), "--source-date", DATE, "--service-area", "Skype") == 0
    assert "[1].colour: unknown key 'colour' ignored (record 4)" in capsys.readouterr().err


def test_known_keys_stay_strict_next_to_unknown_ones(tmp_path, capsys):
    source = write_records(tmp_path, [dict(RECORD, colour="blue", category="Sometimes", expressRoute="no")])
    lines = refused(tmp_path, capsys, source)
    assert any("[0].category: unknown category 'Sometimes'" in line for line in lines), lines
    assert any("[0].expressRoute: expected true or false, found the string 'no'" in line for line in lines), lines
    assert not any("colour" in line for line in lines), lines


def test_not_a_list_and_not_records(tmp_path, capsys):
    source = tmp_path / "obj.json"
    source.write_text('{"id": 1}\n')
    (line,) = refused(tmp_path, capsys, source)
    assert line.startswith(f"{source}:1: file: expected a JSON list of records")
    source = write_records(tmp_path, [RECORD, "text"], name="items.json")
    (line,) = refused(tmp_path, capsys, source)
    assert line == f"{source}: [1]: expected a record (a JSON object), found the string 'text'"


def test_invalid_addresses_and_names_are_errors_not_warnings(tmp_path, capsys):
    source = write_records(
        tmp_path, [dict(RECORD, ips=["10.1.2.3/8", "not-an-address.example.com"], urls=["bad name.example.com"])]
    )
    lines = refused(tmp_path, capsys, source)
    assert any("[0].ips[0]: '10.1.2.3/8': host bits are set" in line for line in lines), lines
    assert any("[0].ips[1]: 'not-an-address.example.com' is not an IP address or CIDR" in line for line in lines)
    assert any("[0].urls[0]:" in line for line in lines), lines


def test_catch_all_destinations_are_left_out_not_widened(tmp_path, capsys):
    source = write_records(tmp_path, [dict(RECORD, urls=["*", "ok.example.com"], ips=["0.0.0.0/0", "::/0"])])
    out = tmp_path / "out.yaml"
    assert run(str(source), "--out", str(out), "--source-date", DATE) == 0
    err = capsys.readouterr().err
    for value in ("'*'", "'0.0.0.0/0'", "'::/0'"):
        assert f"{value} left out: it would allow every destination" in err
    assert values(load_catalogue([out]).entry("m365-1")) == ["ok.example.com"]


def test_records_without_destinations_or_ports_are_reported(tmp_path, capsys):
    no_dest = {k: v for k, v in RECORD.items() if k != "urls"}
    no_ports = {k: v for k, v in dict(RECORD, id=2).items() if k != "tcpPorts"}
    source = write_records(tmp_path, [no_dest, no_ports, dict(RECORD, id=3, tcpPorts=" ")])
    out = tmp_path / "out.yaml"
    assert run(str(source), "--out", str(out), "--source-date", DATE) == 0
    err = capsys.readouterr().err
    assert "record 1: record left out: it lists no urls or ips" in err
    assert "record 2: record left out: it has no tcpPorts or udpPorts" in err
    assert "record 3: record left out: it has no tcpPorts or udpPorts" in err
    assert load_catalogue([out]).entries == ()


def test_not_utf8_and_empty(tmp_path, capsys):
    source = tmp_path / "latin1.json"
    source.write_bytes(b'[\n{"notes": "caf\xe9"}]\n')
    (line,) = refused(tmp_path, capsys, source)
    assert line.startswith(f"{source}:2: file: not UTF-8")
    source = tmp_path / "empty.json"
    source.write_text("")
    assert refused(tmp_path, capsys, source) == [f"{source}:1: file: empty file"]


# --- units --------------------------------------------------------------------------------------------------


def test_parse_ports():
    assert parse_ports("80,443") == (PortRange(first=80, last=80), PortRange(first=443, last=443))
    assert parse_ports(" 443, 5223 ") == (PortRange(first=443, last=443), PortRange(first=5223, last=5223))
    assert parse_ports("3478-3481") == (PortRange(first=3478, last=3481),)
    assert parse_ports("3478 - 3481") == (PortRange(first=3478, last=3481),)
    assert parse_ports("") == ()
    with pytest.raises(ValueError, match="is not a port"):
        parse_ports("http")


def test_services_for_ranges_containing_web_ports_stay_tcp():
    tcp = parse_ports("1-1024,443,80,8080")
    assert [str(s) for s in services_for(tcp, parse_ports("443"))] == [
        "http:80",
        "https:443",
        "tcp:1-1024",
        "tcp:8080",
        "udp:443",
    ]


def test_unknown_areas_get_priorities_after_the_table():
    assert m365.area_priorities(["zeta", "exchange", "alpha"]) == {**m365.AREA_PRIORITIES, "alpha": 2500, "zeta": 2600}


def test_convert_raises_located_errors_without_the_cli(tmp_path):
    source = write_records(tmp_path, [dict(RECORD, tcpPorts="x")])
    with pytest.raises(CatalogueError) as exc:
        m365.import_file(source, source_date=dt.date(2024, 1, 1))
    assert [p.field for p in exc.value.problems] == ["[0].tcpPorts"]
