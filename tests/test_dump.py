"""The catalogue YAML writer: libyaml's emitter, re-indented, writes exactly what the pure-Python one does."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from endpoint_firewall.catalogue_tools import dump
from endpoint_firewall.cli.main import main
from endpoint_firewall.endpoints.loader import parse_file, shipped_catalogue_files

FIXTURE = Path(__file__).parent / "fixtures" / "m365" / "endpoints.json"


def python_emitter(doc) -> str:
    return yaml.dump(
        dump.catalogue_data(doc),
        Dumper=dump._Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=dump.WIDTH,
    )


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML built without libyaml: only one emitter exists")
def test_libyaml_path_writes_what_the_python_emitter_writes():
    shipped = shipped_catalogue_files()[0]
    doc = parse_file(shipped.read_text(encoding="utf-8"), str(shipped))
    assert dump._emit(dump.catalogue_data(doc)) == python_emitter(doc)


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML built without libyaml: only one emitter exists")
def test_libyaml_path_matches_on_an_imported_catalogue(tmp_path, capsys):
    out = tmp_path / "m365.yaml"
    assert main(["import", "m365", str(FIXTURE), "--source-date", "2026-01-01", "--out", str(out)]) == 0
    doc = parse_file(out.read_text(encoding="utf-8"), str(out))
    assert dump._emit(dump.catalogue_data(doc)) == python_emitter(doc)


def test_a_written_catalogue_reads_back_as_the_same_document():
    shipped = shipped_catalogue_files()[0]
    doc = parse_file(shipped.read_text(encoding="utf-8"), str(shipped))
    assert parse_file(dump.dump_catalogue(doc), "again") == doc


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a:\n- 1\n- b:\n  - 2\n  c: 3\nd: 4\n", "a:\n  - 1\n  - b:\n      - 2\n    c: 3\nd: 4\n"),
        ("x:\n  y:\n  - {p: 1}\n  z: >-\n    long\n", "x:\n  y:\n    - {p: 1}\n  z: >-\n    long\n"),
        ("k: [a, b]\nl:\n- '- not a key:'\n", "k: [a, b]\nl:\n  - '- not a key:'\n"),
    ],
    ids=["nested", "under-a-mapping", "quoted-dash"],
)
def test_indent_sequences(text, expected):
    assert dump._indent_sequences(text) == expected
    assert yaml.safe_load(dump._indent_sequences(text)) == yaml.safe_load(text)
