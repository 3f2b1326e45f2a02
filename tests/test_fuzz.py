"""Fuzzing the inputs: mutated catalogue YAML, mutated Microsoft 365 JSON and random bytes go into the loader
(``load_catalogue``), the importer (``m365.import_file``) and the command line (``cli.main.main``).

Properties, for every input:

* never a traceback: the loader and importer either succeed or raise :class:`CatalogueError`; ``main``
  returns 0, or 1 with one ``FILE:LINE: field: message`` line per problem on stderr (a line of the file);
* never a partial result: ``epfw render`` with a bad catalogue into an existing output folder leaves the
  folder byte-for-byte unchanged, ``epfw import`` leaves an existing ``--out`` file unchanged, and neither
  leaves a stray temporary file or folder behind.

Hypothesis runs derandomized (the same examples on every run) with bounded example counts, so this file
takes a bounded time in CI. The bugs fuzzing and the benchmark found (nested wildcards, render errors as
tracebacks, YAML alias bombs, control characters reported over two lines, unbounded numbered ranges) are
kept as regression tests at the end.
"""

from __future__ import annotations

import contextlib
import io
import json
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from endpoint_firewall.catalogue_tools.importers import m365
from endpoint_firewall.cli.main import main
from endpoint_firewall.endpoints.errors import CatalogueError
from endpoint_firewall.endpoints.loader import load_catalogue

INTUNE = ROOT / "endpoint_firewall" / "endpoints" / "catalogue" / "intune.yaml"
INTUNE_TEXT = INTUNE.read_text(encoding="utf-8")
M365_FIXTURE = ROOT / "tests" / "fixtures" / "m365" / "endpoints.json"
M365_TEXT = M365_FIXTURE.read_text(encoding="utf-8")
SOURCE_DATE = "2024-06-28"
# PyYAML's wheels for CPython on Linux, macOS and Windows are built with libyaml (the loader's fast path;
# docs/benchmarks.md, "Benchmarks": without it the 30k + 60k target is missed); elsewhere PyYAML may be pure Python
LIBYAML_WHEELS = platform.python_implementation() == "CPython" and sys.platform in ("linux", "darwin", "win32")
MAX_RENDERED_HOSTS = 5_000  # a valid mutant with more expanded names is not rendered (see test_huge_numbered_range)

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)

# A located problem as printed: FILE:LINE: field: message
LOCATED = re.compile(r"^(?P<file>.+?):(?P<line>[1-9][0-9]*): (?P<field>[^ ].*?): (?P<message>\S.*)$")
# A problem of the M365 feed (a machine-generated JSON list), located by its record's path: FILE: [3].key: message
LOCATED_BY_PATH = re.compile(r"^(?P<file>.+?): (?P<field>\[(?P<index>[0-9]+)\][^ ]*): (?P<message>\S.*)$")

YAML_SCALARS = [
    "",
    "~",
    "null",
    "true",
    "yes",
    "no",
    "0",
    "-1",
    "1.5",
    "65536",
    "1e9",
    "0x1F",
    "[]",
    "{}",
    "[a, b]",
    "'unterminated",
    '"unterminated',
    "*alias",
    "&anchor x",
    "!!binary AAAA",
    "!custom x",
    "2024-13-45",
    "12:30",
    "0.0.0.0/0",
    "'*'",
    "::/0",
    "999.1.1.1",
    "10.0.0.1/33",
    "a..b.com",
    "'*.com'",
    "x" * 300,
    "'*.co.uk'",
    "'a*.example.com'",
    "-",
    "? key",
    ": value",
    "|",
    ">",
    "%YAML 1.2",
    "---",
    "...",
    "{numbered: 'x#.example.com', first: 5, last: 1}",
    "{protocol: https, port: '443-80'}",
    "{protocol: gopher, port: 70}",
    "'\u00e9xample.com'",
    "'\u2028'",
    '"\\x00"',
    "<<: {a: 1}",
]
TRICKY_CHARS = [
    ":",
    "-",
    "*",
    "#",
    "&",
    "!",
    "[",
    "]",
    "{",
    "}",
    "'",
    '"',
    "\t",
    "%",
    "@",
    "|",
    ">",
    "\x00",
    "\u00e9",
    "\u2028",
    "\ufeff",
    "\r",
    " ",
    "\\",
    ",",
    "?",
    "0",
    "9",
    "/",
    "\x85",
    "\U0001f600",
]
JSON_STRINGS = [
    "",
    " ",
    "80",
    "443",
    "80,443",
    "443, 5223",
    "3478-3481",
    "80,,443",
    "0",
    "65536",
    "1-",
    "-5",
    "a",
    " 443 ",
    "443-80",
    "1-65535",
    "*",
    "*.com",
    "*.example.com",
    "autodiscover.*.example.com",
    "a..b.com",
    "x" * 300,
    "10.0.0.1/33",
    "::/0",
    "0.0.0.0/0",
    "1.2.3.4/24",
    "300.1.1.1",
    "2603:1006::/40",
    "fe80::1%eth0",
    "Optimize",
    "Allow",
    "Default",
    "MEM",
    "Exchange",
    "\u00e9xample.com",
    "\x00",
    "Skype for Business",
    "!!",
    "a" * 70,
]


# --- helpers ----------------------------------------------------------------------------------------------


def cli(*argv: str) -> tuple[int, str, str]:
    """``epfw ARGV`` in this process; an exception escaping ``main`` fails the test (a traceback)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def line_count(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n") + 1
    except OSError:
        return 1


def assert_located(stderr: str, files: list[Path]) -> None:
    """Every stderr line is ``FILE:LINE: field: message`` about one of ``files``, on a line of that file."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines, "refused without saying why"
    names = {str(f): f for f in files}
    for line in lines:
        match = LOCATED.match(line)
        assert match, f"not a located problem line: {line!r}\n--- stderr ---\n{stderr}"
        assert match["file"] in names, f"problem about an unexpected file: {line!r}"
        assert int(match["line"]) <= line_count(names[match["file"]]) + 1, f"line past the end of the file: {line!r}"


def assert_problems(err: CatalogueError, path: Path) -> None:
    assert err.problems, "CatalogueError without problems"
    for problem in err.problems:
        text = str(problem)
        assert "\n" not in text, f"a problem spans lines: {text!r}"
        assert problem.file == str(path), text
        assert problem.field and problem.message, text
        if problem.line is None:
            assert_feed_line(text, path)
        else:
            assert 1 <= problem.line <= line_count(path) + 1, text
            assert LOCATED.match(text), text


def assert_feed_line(line: str, path: Path) -> None:
    """``line`` is about the M365 feed at ``path``: located by the path of one of its records
    (``FILE: [3].tcpPorts: message``), or by a line of a text that is no JSON list (``FILE:LINE: json: ...``)."""
    by_path = LOCATED_BY_PATH.match(line)
    if not by_path:
        assert_located(line, [path])
        return
    assert by_path["file"] == str(path), f"problem about an unexpected file: {line!r}"
    records = json.loads(path.read_text(encoding="utf-8-sig"))
    assert int(by_path["index"]) < len(records), f"no such record: {line!r}"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def expanded_hosts(path: Path) -> int:
    catalogue = load_catalogue([path])
    return sum(len(d.hosts()) for e in catalogue.entries for d in e.destinations)


# --- strategies -------------------------------------------------------------------------------------------


@st.composite
def text_mutants(draw: st.DrawFn, text: str) -> str:
    """``text`` with one to three line- or character-level edits."""
    lines = text.split("\n")
    for op in draw(
        st.lists(
            st.sampled_from(
                [
                    "delete",
                    "duplicate",
                    "swap",
                    "indent",
                    "dedent",
                    "insert",
                    "char",
                    "truncate",
                    "value",
                    "value",
                    "value",
                ]
            ),
            min_size=1,
            max_size=3,
        )
    ):
        if not lines:
            lines = [""]
        i = draw(st.integers(0, len(lines) - 1))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "indent":
            lines[i] = " " * draw(st.integers(1, 4)) + lines[i]
        elif op == "dedent":
            lines[i] = lines[i][draw(st.integers(1, 4)) :]
        elif op == "insert":
            lines.insert(
                i,
                draw(
                    st.sampled_from(
                        [
                            "- x",
                            "  - x",
                            "key: value",
                            "entries:",
                            "  ",
                            "\t- a",
                            "schema_version: 2",
                            "# comment",
                            "- id: e",
                            "{",
                            "]",
                        ]
                    )
                ),
            )
        elif op == "char":
            line = lines[i]
            k = draw(st.integers(0, len(line)))
            lines[i] = line[:k] + draw(st.sampled_from(TRICKY_CHARS)) + line[k + draw(st.integers(0, 1)) :]
        elif op == "truncate":
            whole = "\n".join(lines)
            return whole[: draw(st.integers(0, len(whole)))]
        elif op == "value":
            line = lines[i]
            head = re.match(r"^(\s*(?:- )?(?:[A-Za-z_]+: )?)", line)
            lines[i] = (head.group(1) if head else "") + draw(st.sampled_from(YAML_SCALARS))
    return "\n".join(lines)


def _paths(data: object, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            out += _paths(value, prefix + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            out += _paths(value, prefix + (i,))
    return out


def _get(data: object, path: tuple) -> object:
    for part in path:
        data = data[part]  # type: ignore[index]
    return data


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([-1, 0, 1, 80, 99, 100, 443, 5223, 65000, 65001, 65535, 65536, 2**31, 2**70]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(JSON_STRINGS + YAML_SCALARS),
    st.text(max_size=20),
    st.lists(st.sampled_from(JSON_STRINGS), max_size=3),
    st.dictionaries(
        st.sampled_from(["id", "kind", "value", "protocol", "port", "numbered", "first", "last", "x"]),
        st.sampled_from([1, "a", None, "443"]),
        max_size=3,
    ),
)


@st.composite
def data_mutants(draw: st.DrawFn, data: object) -> object:
    """A deep copy of ``data`` with one to three structural edits: replace a value, delete a key or item,
    duplicate an item, add an unknown key."""
    data = json.loads(json.dumps(data, default=str))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(data)
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["replace", "replace", "delete", "duplicate", "add_key"]))
        if not path:
            if op == "replace":
                data = draw(VALUES)
            continue
        parent = _get(data, path[:-1])
        assert isinstance(parent, (dict, list))  # the parent of a value's path is a mapping or a list
        key = path[-1]
        if op == "replace":
            parent[key] = draw(VALUES)
        elif op == "delete":
            del parent[key]
        elif op == "duplicate" and isinstance(parent, list):
            parent.insert(key, json.loads(json.dumps(parent[key])))
        elif op == "add_key":
            target = _get(data, path)
            if isinstance(target, dict):
                target[draw(st.sampled_from(["extra", "id", "note", "kind", "urls", "tcpPorts", "1"]))] = draw(VALUES)
    return data


def dump_yaml(data: object) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)


INTUNE_DATA = yaml.safe_load(INTUNE_TEXT)
M365_DATA = json.loads(M365_TEXT)


# --- the loader and `epfw validate` --------------------------------------------------------------------------


def check_catalogue_file(path: Path) -> bool:
    """Load ``path`` directly and through ``epfw validate``; both agree; True if it is valid."""
    try:
        load_catalogue([path])
        valid = True
    except CatalogueError as err:
        assert_problems(err, path)
        valid = False
    code, out, err_text = cli("validate", str(path))
    assert code == (0 if valid else 1), (code, err_text)
    if valid:
        assert out.startswith("ok: ") and not err_text
    else:
        assert not out
        assert_located(err_text, [path])
    return valid


@FUZZ
@given(text=text_mutants(INTUNE_TEXT))
def test_mutated_catalogue_text_is_loaded_or_refused_with_located_problems(text):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "intune.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        check_catalogue_file(path)


@FUZZ
@given(data=data_mutants(INTUNE_DATA))
def test_mutated_catalogue_data_is_loaded_or_refused_and_valid_mutants_render(data):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "intune.yaml"
        path.write_text(dump_yaml(data), encoding="utf-8")
        if not check_catalogue_file(path) or expanded_hosts(path) > MAX_RENDERED_HOSTS:
            return
        out = folder / "out"
        out.mkdir()
        (out / "stale.txt").write_text("from an earlier render\n")
        code, _, err = cli(
            "render", "--stack", "dev", "--catalogue", str(path), "--out", str(out), "--quiet", "--project", str(ROOT)
        )
        if code == 0:
            assert (out / "summary.json").exists() and not (out / "stale.txt").exists(), (
                "the folder is not replaced whole"
            )
        else:  # a valid catalogue the plan or a renderer refuses (a limit): one line, no traceback
            assert code == 1 and len(err.strip().splitlines()) == 1 and err.startswith("epfw: "), err
            assert snapshot(out) == {"stale.txt": b"from an earlier render\n"}, "a refused render changed the folder"
        assert sorted(p.name for p in folder.iterdir()) == ["intune.yaml", "out"], "stray temporary files"


def test_the_loader_parses_through_yaml_lines_loader_the_parser_the_agreement_test_swaps(tmp_path):
    """The agreement test below swaps ``yaml_lines._LOADER``; if the loader parsed with a parser of its own, that
    test would compare libyaml with itself. A recording parser put in its place must be the one that parses."""
    from unittest import mock

    from endpoint_firewall.endpoints import yaml_lines

    used: list[str] = []

    class Recording(yaml.SafeLoader):
        def __init__(self, stream: str) -> None:
            used.append("parsed")
            super().__init__(stream)

    path = tmp_path / "intune.yaml"
    path.write_text(INTUNE_TEXT, encoding="utf-8")
    with mock.patch.object(yaml_lines, "_LOADER", Recording):
        load_catalogue([path])
    assert used, "load_catalogue did not parse with yaml_lines._LOADER"


@FUZZ
@given(text=text_mutants(INTUNE_TEXT))
def test_libyaml_and_the_pure_python_parser_accept_and_refuse_alike(text):
    """The loader parses with libyaml when PyYAML has it (falling back to the pure-Python parser only to word a
    syntax error): whichever parser runs, a file is accepted as the same catalogue or refused by both."""
    from unittest import mock

    from endpoint_firewall.endpoints import yaml_lines

    if not getattr(yaml, "__with_libyaml__", False):
        assert not LIBYAML_WHEELS, "PyYAML without libyaml where its wheels have it: the loader's fast path is lost"
        pytest.skip("PyYAML has no libyaml on this platform: one parser only")
    assert getattr(yaml_lines, "_LOADER", None) is yaml.CSafeLoader, (
        "the loader no longer parses with libyaml through yaml_lines._LOADER, the parser this test swaps"
    )

    def outcome(path: Path, loader: type) -> tuple[str, object]:
        with mock.patch.object(yaml_lines, "_LOADER", loader):
            try:
                return "accepted", load_catalogue([path])
            except CatalogueError as err:
                assert_problems(err, path)
                return "refused", None

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "intune.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        assert outcome(path, yaml.CSafeLoader) == outcome(path, yaml.SafeLoader)


@FUZZ
@given(raw=st.binary(max_size=2_000))
def test_random_bytes_are_refused_with_located_problems(raw):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "random.yaml"
        path.write_bytes(raw)
        check_catalogue_file(path)
        json_path = Path(tmp) / "random.json"
        json_path.write_bytes(raw)
        check_m365_file(json_path, Path(tmp) / "out.yaml")


@FUZZ
@given(raw=st.binary(min_size=1, max_size=300), where=st.integers(0, len(INTUNE_TEXT)))
def test_random_bytes_spliced_into_the_catalogue(raw, where):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "intune.yaml"
        data = INTUNE_TEXT.encode("utf-8")
        path.write_bytes(data[:where] + raw + data[where:])
        check_catalogue_file(path)


# --- the importer and `epfw import m365` --------------------------------------------------------------------

SENTINEL = "# an earlier import: must survive a refused one\n"


def check_m365_file(path: Path, out: Path) -> bool:
    """Import ``path`` directly and through ``epfw import m365 --out OUT`` (OUT exists beforehand)."""
    import datetime as dt

    try:
        m365.import_file(path, source_date=dt.date.fromisoformat(SOURCE_DATE))
        valid = True
    except CatalogueError as err:
        assert_problems(err, path)
        valid = False
    out.write_text(SENTINEL, encoding="utf-8")
    before = sorted(p.name for p in out.parent.iterdir())
    code, _, err_text = cli("import", "m365", str(path), "--source-date", SOURCE_DATE, "--out", str(out))
    assert sorted(p.name for p in out.parent.iterdir()) == before, "stray temporary files"
    if valid:
        assert code == 0, err_text
        load_catalogue([out])  # what was written loads
        for line in err_text.splitlines():
            assert line.startswith("warning: ") and LOCATED_BY_PATH.match(line[len("warning: ") :]), line
            assert_feed_line(line[len("warning: ") :], path)
    else:
        assert code == 1
        assert out.read_text(encoding="utf-8") == SENTINEL, "a refused import changed --out"
        assert err_text.strip(), "refused without saying why"
        for line in err_text.splitlines():
            assert_feed_line(line, path)
    return valid


@FUZZ
@given(data=data_mutants(M365_DATA), indent=st.sampled_from([None, 1, 2]), bom=st.booleans())
def test_mutated_m365_records_are_imported_or_refused_with_located_problems(data, indent, bom):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "endpoints.json"
        path.write_text(
            ("\ufeff" if bom else "") + json.dumps(data, indent=indent, ensure_ascii=False),
            encoding="utf-8",
            errors="surrogatepass",
        )
        check_m365_file(path, Path(tmp) / "m365.yaml")


@FUZZ
@given(text=text_mutants(M365_TEXT))
def test_mutated_m365_text_is_imported_or_refused_with_located_problems(text):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "endpoints.json"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        check_m365_file(path, Path(tmp) / "m365.yaml")


# --- never a partial render -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rendered_intune(tmp_path_factory) -> Path:
    """A good render of the shipped catalogue with the dev stack, to be overwritten (or not)."""
    out = tmp_path_factory.mktemp("good") / "out"
    code, _, err = cli(
        "render", "--stack", "dev", "--catalogue", str(INTUNE), "--out", str(out), "--quiet", "--project", str(ROOT)
    )
    assert code == 0, err
    return out


@settings(FUZZ, max_examples=25)
@given(text=text_mutants(INTUNE_TEXT))
def test_bad_catalogue_leaves_an_existing_render_untouched(rendered_intune, text):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bad = folder / "intune.yaml"
        bad.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            load_catalogue([bad])
            assume(False)  # a mutant that is still valid says nothing here
        except CatalogueError:
            pass
        out = folder / "out"
        shutil.copytree(rendered_intune, out)
        before = snapshot(out)
        code, stdout, err = cli(
            "render", "--stack", "dev", "--catalogue", str(bad), "--out", str(out), "--quiet", "--project", str(ROOT)
        )
        assert code == 1 and not stdout
        assert_located(err, [bad])
        assert snapshot(out) == before, "a refused render changed the output folder"
        assert sorted(p.name for p in folder.iterdir()) == ["intune.yaml", "out"], "stray temporary folders"


def test_a_failing_write_leaves_no_temporary_folder(tmp_path, monkeypatch):
    """The atomic writer cleans its staging folder when writing fails half-way."""
    from endpoint_firewall.program import render as render_module

    out = tmp_path / "out"
    calls = {"n": 0}
    real = Path.write_text

    def failing(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", failing)
    with pytest.raises(OSError):
        render_module.write_atomically({"a.json": "1", "b/c.json": "2", "d.json": "3", "e.json": "4"}, out)
    assert list(tmp_path.iterdir()) == [], "staging folder left behind"


# --- regressions: bugs found by fuzzing and the benchmark, since fixed ----------------------------------------

HEADER = """\
schema_version: 1
sources:
  - {id: s, title: S, url: https://example.com/s, date: 2024-06-28}
"""


def _entry(eid: str, area: str, dests: str, services: str = "[{protocol: https, port: 443}]") -> str:
    return (
        f"  - id: {eid}\n    service_area: {area}\n    description: d\n    destinations: {dests}\n"
        f"    services: {services}\n    provenance: {{source: s, section: x}}\n"
    )


def test_nested_wildcards_render(tmp_path):
    """Found by the benchmark's data (fixed in 8b48c04): a host under a wildcard that is itself under another
    wildcard made the planner raise KeyError."""
    path = tmp_path / "nested.yaml"
    path.write_text(
        HEADER
        + "service_areas:\n  - {id: a, title: A, priority: 3000}\nentries:\n"
        + _entry("e1", "a", '["*.example.com", "*.b.c.example.com", "x.b.c.example.com"]')
    )
    assert cli("validate", str(path))[0] == 0
    code, _, err = cli(
        "render",
        "--stack",
        "dev",
        "--catalogue",
        str(path),
        "--out",
        str(tmp_path / "out"),
        "--quiet",
        "--project",
        str(ROOT),
    )
    assert code == 0, err


def test_control_character_is_one_located_line(tmp_path):
    """yaml.ReaderError was two lines, always at line 1; now located."""
    path = tmp_path / "nul.yaml"
    path.write_text("schema_version: 1\nsources: []\nentries:\n  - id: a\x00b\n")
    code, _, err = cli("validate", str(path))
    assert code == 1
    assert err.splitlines() == [line for line in err.splitlines() if LOCATED.match(line)], err
    assert err.startswith(f"{path}:4: "), err


def test_render_limits_are_reported_not_raised(tmp_path):
    """A valid catalogue past an Azure limit (91 areas: 91 groups > 90) is one error line, not a traceback
    (was a RenderError traceback; fixed in 8b48c04)."""
    areas = "".join(f"  - {{id: a{i}, title: A{i}, priority: {1000 + 100 * i}}}\n" for i in range(91))
    entries = "".join(_entry(f"e{i}", f"a{i}", f"[h{i}.example.com]") for i in range(91))
    path = tmp_path / "many-areas.yaml"
    path.write_text(HEADER + "service_areas:\n" + areas + "entries:\n" + entries)
    code, _, err = cli(
        "render",
        "--stack",
        "dev",
        "--catalogue",
        str(path),
        "--out",
        str(tmp_path / "out"),
        "--quiet",
        "--project",
        str(ROOT),
    )
    assert code == 1 and "groupsPerPolicyMax" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


def _limited(argv: list[str], seconds: int, memory_mb: int) -> subprocess.CompletedProcess:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20, memory_mb * 2**20))

    return subprocess.run(
        [sys.executable, "-m", "endpoint_firewall.cli.main", *argv],
        capture_output=True,
        text=True,
        timeout=seconds,
        preexec_fn=limit,
        cwd=ROOT,
    )


def test_yaml_alias_bomb_is_refused_quickly(tmp_path):
    """A 400-byte file of nested anchors expanded to a million nodes (25 s, 2.5 GB) before 111539f; aliases
    are now refused. Run in a process capped at 768 MB and 20 s."""
    levels = [
        'a0: &a0 ["x.example.com", "y.example.com", "z.example.com", "w.example.com", "v.example.com", '
        '"u.example.com", "t.example.com", "s.example.com", "r.example.com", "q.example.com"]'
    ]
    levels += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 7)]
    path = tmp_path / "bomb.yaml"
    path.write_text("schema_version: 1\nanchors:\n" + "".join(f"  {line}\n" for line in levels))
    assert path.stat().st_size < 1_000
    done = _limited(["validate", str(path)], seconds=20, memory_mb=768)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-500:]
    assert_located(done.stderr, [path])
    assert "aliases" in done.stderr


def test_huge_numbered_range_is_refused_or_rendered_in_bounded_time(tmp_path):
    """A numbered range was unbounded and the render quadratic in one rule's names; ranges are now capped
    (endpoints/names.py MAX_NUMBERED_HOSTS) and Rule.origin_of is a dict look-up."""
    path = tmp_path / "numbered.yaml"
    path.write_text(
        HEADER
        + "service_areas:\n  - {id: a, title: A, priority: 3000}\nentries:\n"
        + _entry("e1", "a", "[{numbered: '#-courier.example.com', first: 0, last: 1000000}]")
    )
    done = _limited(
        ["render", "--stack", "dev", "--catalogue", str(path), "--out", str(tmp_path / "out"), "--quiet"],
        seconds=10,
        memory_mb=2048,
    )
    assert "Traceback" not in done.stderr, done.stderr[-500:]
    if done.returncode == 1:
        assert_located(done.stderr, [path])
    else:
        assert done.returncode == 0
