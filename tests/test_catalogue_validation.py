"""``epfw validate FILE``: every bad catalogue is refused with exit 1 and ``FILE:LINE: field: message``.

Each test writes a small catalogue to ``tmp_path`` and runs the real command line. Line numbers are
those of the YAML text below, counted by hand.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from endpoint_firewall.cli.main import main

HEADER = """\
schema_version: 1
sources:
  - {id: seed, title: Seed document, url: "https://example.com/seed", date: 2020-09-08}
service_areas:
  - {id: core, title: Core, priority: 1000}
entries:
"""  # lines 1-6; the first entry starts on line 7


def entry(
    eid: str = "e1",
    *,
    area: str = "core",
    dests: str = "[a.example.com]",
    services: str = "[{protocol: https, port: 443}]",
    source: str = "seed",
    extra: str = "",
) -> str:
    """One entry of six lines: id +0, service_area +1, description +2, destinations +3, services +4,
    provenance +5; ``extra`` lines follow."""
    return (
        f"  - id: {eid}\n"
        f"    service_area: {area}\n"
        f"    description: Test entry\n"
        f"    destinations: {dests}\n"
        f"    services: {services}\n"
        f"    provenance: {{source: {source}, section: s}}\n" + extra
    )


def write(tmp_path: Path, text: str | bytes, name: str = "bad.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def validate(capsys: pytest.CaptureFixture[str], *paths: Path) -> tuple[int, str, list[str]]:
    code = main(["validate", *(str(p) for p in paths)])
    out, err = capsys.readouterr()
    return code, out, err.splitlines()


def assert_refused(capsys, path: Path, line: int, field: str, fragment: str, *more: Path) -> None:
    """Exit 1, nothing on stdout, and exactly one problem: ``FILE:LINE: field: ...fragment...``."""
    code, out, errors = validate(capsys, path, *more)
    assert (code, out) == (1, ""), errors
    assert len(errors) == 1, errors
    prefix = f"{path}:{line}: {field}: "
    assert errors[0].startswith(prefix), errors[0]
    assert fragment in errors[0][len(prefix) :], errors[0]


# --- the file as a whole -------------------------------------------------------------------------------


def test_yaml_syntax_error(tmp_path, capsys):
    path = write(tmp_path, HEADER + "  - id: e1\n    service_area: core\n   description: bad indent\n")
    assert_refused(capsys, path, 9, "yaml", "check the indentation")


def test_unterminated_quote_names_where_it_started(tmp_path, capsys):
    path = write(tmp_path, HEADER + '  - id: e1\n    description: "no end\n    service_area: core\n')
    assert_refused(capsys, path, 10, "yaml", "quoted scalar that starts on line 8")


@pytest.mark.parametrize("text", ["", "\n  \n", "# only a comment\n"], ids=["empty", "blank", "comment"])
def test_empty_file(tmp_path, capsys, text):
    assert_refused(capsys, write(tmp_path, text), 1, "file", "empty file")


def test_not_utf8(tmp_path, capsys):
    path = write(tmp_path, HEADER.encode().replace(b"Seed document", b"Caf\xe9"))
    assert_refused(capsys, path, 3, "file", "not UTF-8: byte 0xe9")


def test_not_a_mapping(tmp_path, capsys):
    assert_refused(capsys, write(tmp_path, "- a\n- b\n"), 1, "file", "a catalogue file is a mapping")


def test_a_fixup_file_is_named_as_such_not_as_a_catalogue_with_an_unknown_key(tmp_path, capsys):
    fixups = (
        Path(__file__).resolve().parents[1]
        / "endpoint_firewall"
        / "endpoints"
        / "catalogue"
        / "fixups"
        / "intune-page.yaml"
    )
    message = (
        "fixups: this is a fix-up file of a page import (`epfw import intune-page`, `epfw import autopilot-page`), "
        "not a catalogue: the import checks it when it reads it (--fixups FILE)"
    )
    files = sorted(fixups.parent.glob("*.yaml"))  # intune-page.yaml and autopilot-page.yaml
    assert fixups in files and fixups.parent / "autopilot-page.yaml" in files

    def error(f: Path) -> str:
        lines = f.read_text(encoding="utf-8").split("\n")
        return f"{f}:{next(i for i, text in enumerate(lines, 1) if text.startswith('fixups:'))}: {message}"

    for path, expected in ((fixups, [error(fixups)]), (fixups.parent, [error(f) for f in files])):
        code, out, errors = validate(capsys, path)  # the file, or its folder
        assert (code, out) == (1, "")
        assert sorted(errors) == sorted(expected)
    small = write(tmp_path, "schema_version: 1\nfixups: []\n")
    assert_refused(capsys, small, 2, "fixups", "this is a fix-up file of a page import")


def test_entries_left_empty(tmp_path, capsys):
    assert_refused(capsys, write(tmp_path, HEADER), 6, "entries", "expected a list, found nothing")


def test_missing_file(tmp_path, capsys):
    assert_refused(capsys, tmp_path / "nowhere.yaml", 1, "file", "cannot read")


# --- keys and ids ----------------------------------------------------------------------------------------


def test_unknown_key(tmp_path, capsys):
    text = HEADER + entry().replace("destinations:", "destination:")
    assert_refused(capsys, write(tmp_path, text), 10, "entries[0].destination", "unknown key 'destination'")


def test_missing_key(tmp_path, capsys):
    text = HEADER + entry().replace("    provenance: {source: seed, section: s}\n", "")
    assert_refused(capsys, write(tmp_path, text), 7, "entries[0].provenance", "missing required key 'provenance'")


def test_duplicate_mapping_key(tmp_path, capsys):
    text = HEADER + entry(extra="    description: Again\n")
    assert_refused(capsys, write(tmp_path, text), 13, "entries[0].description", "duplicate key 'description'")


def test_duplicate_id_in_one_file(tmp_path, capsys):
    path = write(tmp_path, HEADER + entry("e1") + entry("e1", dests="[b.example.com]"))
    assert_refused(capsys, path, 13, "entries[1].id", f"duplicate id 'e1' (first at {path}:7)")


def test_duplicate_id_across_files(tmp_path, capsys):
    first = write(tmp_path, HEADER + entry("e1"), "a.yaml")
    second = write(tmp_path, HEADER + entry("e2") + entry("e1", dests="[b.example.com]"), "b.yaml")
    code, out, errors = validate(capsys, first, second)
    assert (code, out) == (1, "")
    assert errors == [f"{second}:13: entries[1].id: duplicate id 'e1' (first at {first}:7)"]


def test_bad_id(tmp_path, capsys):
    assert_refused(capsys, write(tmp_path, HEADER + entry("E_1")), 7, "entries[0].id", "'E_1' is not an id")


def test_unknown_service_area(tmp_path, capsys):
    path = write(tmp_path, HEADER + entry(area="nowhere"))
    assert_refused(capsys, path, 8, "entries[0].service_area", "unknown service area 'nowhere'")


def test_unknown_provenance_source(tmp_path, capsys):
    path = write(tmp_path, HEADER + entry(source="rumour"))
    assert_refused(capsys, path, 12, "entries[0].provenance.source", "unknown source 'rumour'")


def test_same_priority_twice(tmp_path, capsys):
    text = HEADER.replace("entries:\n", "  - {id: other, title: Other, priority: 1000}\nentries:\n") + entry()
    path = write(tmp_path, text)
    assert_refused(capsys, path, 6, "service_areas[1].priority", "priority 1000 of 'other' is also")


# --- destinations ------------------------------------------------------------------------------------------

BAD_DESTINATIONS = [
    ("a..b.com", "empty label"),
    ("a" * 64 + ".com", "64 characters, more than 63"),
    (".".join(["a" * 60] * 4) + ".example.com", "characters, more than 253"),
    ('"a b.com"', "label 'a b' has a character"),
    ('"a_b!.com"', "label 'a_b!' has a character"),
    ('"a*.x.com"', "must be the whole left-most label"),
    ('"x.*.com"', "must be the whole left-most label"),
    ('"autodiscover.*.onmicrosoft.com"', "must be the whole left-most label"),
    ('"*.com"', "wildcard directly on the public suffix 'com'"),
    ('"*.co.uk"', "wildcard directly on the public suffix 'co.uk'"),
    ("300.1.1.1", "not a valid IPv4 address"),
    ("10.0.0.0/33", "prefix length /33 is not valid for IPv4"),
    ("10.0.0.1/24", "host bits are set; the network is 10.0.0.0/24"),
    ('"2001:db8::/129"', "prefix length /129 is not valid for IPv6"),
    ('"*"', "'*' allows every destination; it needs allow_any"),
    ("0.0.0.0/0", "'0.0.0.0/0' allows every destination; it needs allow_any"),
    ('"::/0"', "'::/0' allows every destination; it needs allow_any"),
    ('"#-n.example.com"', "a numbered pattern is written {numbered:"),
    ('{kind: fqdn, value: "a..b.com"}', "empty label"),
    ('{kind: fqdn, value: "*"}', "is a destination of kind any, not fqdn"),
    ('{kind: network, value: "::/0"}', "is a destination of kind any, not network"),
]


@pytest.mark.parametrize("dest, fragment", BAD_DESTINATIONS, ids=[d for d, _ in BAD_DESTINATIONS])
def test_bad_destination(tmp_path, capsys, dest, fragment):
    path = write(tmp_path, HEADER + entry(dests=f"[a.example.com, {dest}]"))
    assert_refused(capsys, path, 10, "entries[0].destinations[1]", fragment)


def test_bad_destination_in_block_list_points_at_its_own_line(tmp_path, capsys):
    dests = "\n      - a.example.com\n      - b.example.com\n      - '*'"
    path = write(tmp_path, HEADER + entry(dests=dests))
    assert_refused(capsys, path, 13, "entries[0].destinations[2]", "needs allow_any")


def test_bad_numbered_range(tmp_path, capsys):
    path = write(tmp_path, HEADER + entry(dests='[{numbered: "#-n.example.com", first: 5, last: 1}]'))
    assert_refused(capsys, path, 10, "entries[0].destinations[0]", "numbered range 5..1 is empty")


def test_any_with_justification_is_accepted(tmp_path, capsys):
    allow = "    allow_any: {justification: A lab network with no egress filtering at all}\n"
    for dest in ('"*"', "0.0.0.0/0", '"::/0"'):
        path = write(tmp_path, HEADER + entry(dests=f"[{dest}]", extra=allow))
        code, out, errors = validate(capsys, path)
        assert (code, errors) == (0, []), dest
        assert out.startswith("ok: 1 entry in 1 file")


def test_any_with_empty_allow_any_is_refused(tmp_path, capsys):
    path = write(tmp_path, HEADER + entry(dests='["*"]', extra="    allow_any: {}\n"))
    assert_refused(capsys, path, 13, "entries[0].allow_any.justification", "missing required key 'justification'")


def test_peer_to_peer_with_destinations(tmp_path, capsys):
    path = write(tmp_path, HEADER + entry(extra="    kind: peer-to-peer\n"))
    assert_refused(capsys, path, 10, "entries[0].destinations", "a peer-to-peer entry has no destinations")


# --- services ------------------------------------------------------------------------------------------------

BAD_SERVICES = [
    ("{protocol: https, port: 0}", "port", "port 0 is outside 1-65535"),
    ("{protocol: https, port: 65536}", "port", "port 65536 is outside 1-65535"),
    ("{protocol: https, port: 443-80}", "port", "reversed port range 443-80"),
    ("{protocol: https, port: http}", "port", "'http' is not a port or a port range"),
    ("{protocol: sctp, port: 443}", "protocol", "unknown protocol 'sctp'; expected 'http', 'https'"),
]


@pytest.mark.parametrize("service, field, fragment", BAD_SERVICES, ids=[s for s, _, _ in BAD_SERVICES])
def test_bad_service(tmp_path, capsys, service, field, fragment):
    path = write(tmp_path, HEADER + entry(services=f"[{{protocol: http, port: 80}}, {service}]"))
    assert_refused(capsys, path, 11, f"entries[0].services[1].{field}", fragment)


# --- all at once, and through a real process -----------------------------------------------------------

TWO_BAD = HEADER + entry("e1", dests="[a..b.com]") + entry("e2", services="[{protocol: udp, port: 0}]")


def test_every_problem_of_a_file_is_reported(tmp_path, capsys):
    path = write(tmp_path, TWO_BAD)
    code, out, errors = validate(capsys, path)
    assert (code, out) == (1, "")
    assert errors == [
        f"{path}:10: entries[0].destinations[0]: 'a..b.com': empty label",
        f"{path}:17: entries[1].services[0].port: port 0 is outside 1-65535",
    ]


def test_every_file_is_reported(tmp_path, capsys):
    broken = write(tmp_path, "schema_version: [\n", "a.yaml")
    bad = write(tmp_path, HEADER + entry(dests="[300.1.1.1]"), "b.yaml")
    good = write(tmp_path, HEADER + entry("e9"), "c.yaml")
    code, out, errors = validate(capsys, broken, bad, good)
    assert (code, out) == (1, "")
    assert [e.split(": ")[0] for e in errors] == [f"{broken}:2", f"{bad}:10"]


def _commands() -> list[list[str]]:
    commands = [[sys.executable, "-m", "endpoint_firewall.cli.main"]]
    script = shutil.which("epfw", path=str(Path(sys.executable).parent))
    if script:
        commands.append([script])
    return commands


@pytest.mark.parametrize("command", _commands(), ids=lambda c: Path(c[-1]).name)
def test_refusal_in_a_real_process(tmp_path, command):
    path = write(tmp_path, TWO_BAD)
    done = subprocess.run([*command, "validate", str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        f"{path}:10: entries[0].destinations[0]: 'a..b.com': empty label",
        f"{path}:17: entries[1].services[0].port: port 0 is outside 1-65535",
    ]


# --- accepted ----------------------------------------------------------------------------------------------------

GOOD = (
    HEADER
    + """\
  - id: web
    service_area: core
    description: Web front ends
    destinations: [a.example.com, "*.example.org", 192.0.2.10, 198.51.100.0/24]
    services: [{protocol: https, port: 443}, {protocol: http, port: 80}]
    provenance: {source: seed, section: s}
  - id: push
    service_area: core
    description: Push hosts 1-n to 3-n
    destinations:
      - A.Example.com.
      - {numbered: "#-n.example.net", first: 1, last: 3}
    services: [{protocol: https, port: 443}, {protocol: tls, port: 5228-5230}]
    provenance: {source: seed, section: s}
  - id: peers
    service_area: core
    description: Peer traffic
    kind: peer-to-peer
    services: [{protocol: tcp, port: 7680}]
    provenance: {source: seed, section: s}
"""
)


def test_valid_file_summary(tmp_path, capsys):
    code, out, errors = validate(capsys, write(tmp_path, GOOD, "good.yaml"))
    # FQDNs: a.example.com (twice, once in capitals with a dot), 1-n, 2-n, 3-n.example.net -> 4.
    # Services: https:443, http:80, tls:5228-5230, tcp:7680 -> 4.
    assert (code, errors) == (0, [])
    assert out == ("ok: 3 entries in 1 file: 4 FQDNs, 1 wildcard, 2 addresses/CIDRs, 4 protocol/port pairs\n")


def test_valid_files_summary(tmp_path, capsys):
    first = write(tmp_path, GOOD, "a.yaml")
    second = write(tmp_path, HEADER + entry("more", dests="[b.example.com, 192.0.2.10]"), "b.yaml")
    code, out, errors = validate(capsys, first, second)
    assert (code, errors) == (0, [])
    assert out == ("ok: 4 entries in 2 files: 5 FQDNs, 1 wildcard, 2 addresses/CIDRs, 4 protocol/port pairs\n")


def test_shipped_catalogue_validates(capsys):
    code, out, errors = validate(capsys)
    assert (code, errors) == (0, [])
    summary = r"ok: \d+ entries in \d+ files?: \d+ FQDNs, \d+ wildcards, \d+ addresses/CIDRs, \d+ protocol/port pairs"
    assert re.fullmatch(rf"{summary}\n{summary} \(archive\)\n", out), out  # the current catalogue, then the archive


def test_validate_without_files_also_refuses_a_bad_archive(tmp_path, capsys, monkeypatch):
    from endpoint_firewall.cli import cmd_validate

    bad = write(tmp_path, HEADER + entry(dests="[not_a host]"), "old.yaml")
    monkeypatch.setattr(cmd_validate, "archived_catalogue_files", lambda: [bad])
    code, out, errors = validate(capsys)
    assert code == 1 and out == "" and errors and errors[0].startswith(f"{bad}:")


# --- YAML that parses but must not load: aliases, bad scalars, foreign tags, lax numbers ---------------


def test_aliases_are_refused_not_expanded(tmp_path, capsys):
    bomb = HEADER.replace("entries:\n", "x: &a [1, 1, 1]\ny: &b [*a, *a, *a]\nz: [*b, *b, *b]\nentries:\n")
    path = write(tmp_path, bomb)
    code, out, errors = validate(capsys, path)
    assert code == 1 and len(errors) == 1, errors
    assert errors[0].startswith(f"{path}:7: y[0]: ") and "anchors and aliases" in errors[0]


@pytest.mark.parametrize(
    "text, line, field, fragment",
    [
        (
            HEADER.replace("date: 2020-09-08", "date: 2020-02-30"),
            3,
            "sources[0].date",
            "'2020-02-30' is not a valid timestamp (day is out of range for month)",
        ),
        (HEADER + "  - !!python/name:os.system x\n", 7, "entries[0]", "unsupported YAML tag"),
        (
            HEADER.replace("schema_version: 1", "schema_version: !!int one") + entry(),
            1,
            "schema_version",
            "'one' is not a valid int",
        ),
        (
            HEADER.replace("schema_version: 1", "schema_version: 1.0") + entry(),
            1,
            "schema_version",
            "the whole number 1, not 1.0",
        ),
        (
            HEADER + entry(dests='[{numbered: "#-n.example.com", first: 0, last: true}]'),
            10,
            "entries[0].destinations[0]",
            "whole numbers",
        ),
    ],
    ids=["impossible-date", "python-tag", "bad-int", "float-version", "bool-last"],
)
def test_bad_scalars_are_located(tmp_path, capsys, text, line, field, fragment):
    assert_refused(capsys, write(tmp_path, text), line, field, fragment)
