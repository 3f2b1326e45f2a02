"""Tables fit the terminal (COLUMNS), keep names whole, list one destination per row; what is not deployed as
written is printed by kind (``--details``: item by item), and `make demo` fits a screen; Markdown diffs list one
value per line; epfw preview lists resources in the same order every run and says the guardrails ran."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from conftest import ROOT

from endpoint_firewall.cli.cmd_preview import display_order
from endpoint_firewall.cli.main import main
from endpoint_firewall.components.resource_types import AWS_RULE_GROUP, AZURE_GROUP


@pytest.fixture(scope="module")
def renders(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("renders")
    out = {}
    for stack in ("dev", "prod"):
        out[stack] = base / stack
        assert main(["render", "--project", str(ROOT), "--stack", stack, "--out", str(out[stack]), "--quiet"]) == 0
    return out


def names_in(folder: Path) -> set[str]:
    """Every group, IP group and rule group name, and every finding's destination, of a render folder; of the DNS
    layer, its rule group's or policy's name (its lists and rules are counted, their names are in summary.json)."""
    names = set()
    for path in (folder / "azure").rglob("*.json"):
        if path.name == "template.json" or "dns" in path.relative_to(folder).parts:  # template: the same bodies
            continue
        names.add(json.loads(path.read_text())["name"])
    for path in (folder / "aws").glob("*.json"):
        names.add(json.loads(path.read_text())["RuleGroupName"])
    summary = json.loads((folder / "summary.json").read_text())
    for cloud in ("azure", "aws"):
        for key in ("widened", "notExpressible"):
            names |= {f["destination"] for f in (summary.get(cloud) or {}).get(key, []) if f.get("destination")}
        dns = (summary.get(cloud) or {}).get("dns") or {}
        names |= {n for n in (dns.get("ruleGroup"), dns.get("policy")) if n}
    return names


@pytest.mark.parametrize("columns", [80, 100, 160])
def test_show_fits_the_width_and_keeps_every_name_whole(renders, capsys, monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    for details in ([], ["--details"]):
        assert main(["show", str(renders["dev"]), *details]) == 0
        out = capsys.readouterr().out
        lines = out.splitlines()
        assert max(len(line) for line in lines) <= columns
        assert "…" not in out
    words = {w.rstrip(",") for line in lines for w in line.split()}
    missing = sorted(n for n in names_in(renders["dev"]) if n not in words)  # --details: every destination
    assert missing == [], missing


def test_details_list_each_destination_once_per_table(renders, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    assert main(["show", str(renders["dev"]), "--details"]) == 0
    out = capsys.readouterr().out
    summary = json.loads((renders["dev"] / "summary.json").read_text())
    widened = summary["aws"]["widened"]
    assert widened, "the demo stack's AWS domain lists widen something"
    section = out.split("AWS, widened", 1)[1].split("─" * 20, 1)[1].split("under each destination", 1)[0]
    rows = [line.split()[0] for line in section.splitlines() if line[:1] not in ("", " ", "─")]
    expected = sorted({f["destination"] for f in widened})
    assert rows == expected  # one row per destination, sorted, each once
    by_dest: dict[str, set[str]] = {}
    for f in widened:
        by_dest.setdefault(f["destination"], set()).add(f["entry"])
    many = max(by_dest, key=lambda d: len(by_dest[d]))
    if len(by_dest[many]) > 3:
        assert f"(+{len(by_dest[many]) - 3} more)" in section


DEMO_MAX_LINES = 150


def demo_commands() -> list[list[str]]:
    """The epfw commands of the Makefile's demo target, as argument lists."""
    recipe = (ROOT / "Makefile").read_text().split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    commands = [line.split()[1:] for line in recipe.splitlines()[1:] if line.startswith("\t$(BIN)/epfw ")]
    assert commands and any(c[0] == "render" for c in commands), recipe
    return commands


def run_demo(tmp_path, capsys, monkeypatch, columns: int) -> tuple[str, Path]:
    """`make demo`'s commands as make runs them (not a terminal) at ``columns``, in a copy of the project's settings
    (Pulumi.yaml and stacks/, linked) so that ``--out build/dev`` is written under ``tmp_path``: the output and
    the render folder."""
    monkeypatch.setenv("COLUMNS", str(columns))
    for name in ("Pulumi.yaml", "stacks"):
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    output = []
    for argv in demo_commands():
        assert main(argv) == 0, argv
        output.append(capsys.readouterr().out)
    return "".join(output), tmp_path / "build" / "dev"


def test_make_demo_fits_a_screen_and_names_every_kind_with_its_count(tmp_path, capsys, monkeypatch):
    text, out = run_demo(tmp_path, capsys, monkeypatch, 80)
    lines = text.splitlines()
    assert len(lines) + len(demo_commands()) <= DEMO_MAX_LINES, len(lines)  # make echoes each command too
    summary = json.loads((out / "summary.json").read_text())
    kinds = summary["findingKinds"]
    assert {"domain-list-any-port", "reference-only"} <= set(kinds), kinds  # the demo widens and skips
    flat = " ".join(text.split())
    sections = [
        (summary[cloud][key], f"{name}, {what}:")
        for cloud, name in (("azure", "Azure"), ("aws", "AWS"))
        for key, what in (("widened", "widened"), ("notExpressible", "not expressible"))
        if summary[cloud][key]
    ] + [(summary["skipped"], "Both clouds, skipped:")]
    for items, heading in sections:
        assert heading in flat
        part = flat.split(heading, 1)[1]
        for kind in {i["kind"] for i in items}:
            count = len({i["destination"] or i["entry"] for i in items if i["kind"] == kind})
            assert f"{count} {kinds[kind]} {kind}: " in part, (heading, kind, count)
    assert "Every item and its reason: build/dev/summary.json, epfw show build/dev --details" in flat
    for cloud in ("azure", "aws"):
        for warning in summary[cloud]["warnings"]:
            assert " ".join(warning.split()) in flat
    group_names = [g["name"] for g in summary["azure"]["groups"]] + [g["name"] for g in summary["aws"]["groups"]]
    assert group_names and all(name in text for name in group_names)


@pytest.mark.parametrize("columns", [60, 80, 100])
def test_no_word_is_wrapped_onto_a_line_of_its_own(tmp_path, capsys, monkeypatch, columns):
    """Prose (the stack line, titles, captions, kinds, warnings) fits the width and never leaves one word alone on a
    line; the digest stays beside its value. A single word is a line only in a table's header (the line before the
    rule)."""
    text, _ = run_demo(tmp_path, capsys, monkeypatch, columns)
    lines = text.splitlines()
    rendered = lines[[i for i, line in enumerate(lines) if line.startswith("ok: ")][-1] + 1 :]
    assert rendered and max(len(line) for line in rendered) <= columns  # epfw validate's lines are one line each
    assert re.search(r"\bdigest [0-9a-f]{12}$", text, flags=re.M), text[:400]
    for i, line in enumerate(lines):
        if re.fullmatch(r"\s*[A-Za-z]+[.,;:)]?\s*", line):
            assert any(nxt.startswith("─") for nxt in lines[i + 1 : i + 3]), (i, line)


def test_markdown_diff_has_one_value_per_line(renders, capsys):
    args = ["diff", str(renders["dev"]), str(renders["prod"])]
    assert main([*args, "--format", "json"]) == 0
    changes = json.loads(capsys.readouterr().out)["changes"]
    assert main([*args, "--format", "markdown"]) == 0
    markdown = capsys.readouterr().out
    blocks = re.findall(r"```diff\n(.*?)```", markdown, flags=re.S)
    lines = [
        line for block in blocks for line in block.splitlines() if not re.search(r": \(\+\d+ more\)$", line)
    ]  # the count of what is past the first 50
    expected = [
        f"{sign} {label}: {value}"
        for change in changes
        for sign, part in (("+", change["added"]), ("-", change["removed"]))
        for label, values in sorted(part.items())
        for value in values[:50]
    ]
    assert lines and sorted(lines) == sorted(expected)


def test_preview_order_does_not_depend_on_registration_order():
    records = [
        {"type": t, "name": n, "custom": c}
        for t, n, c in [
            (AZURE_GROUP, "b", True),
            (AZURE_GROUP, "a", True),
            (AWS_RULE_GROUP, "r", True),
            ("endpoint-firewall:aws:NetworkFirewallRules", "aws", False),
        ]
    ]
    first = display_order(records)
    for seed in range(5):
        shuffled = records[:]
        random.Random(seed).shuffle(shuffled)
        assert display_order(shuffled) == first
    assert first[0]["name"] == "aws" and [r["name"] for r in first[-2:]] == ["a", "b"]


def test_preview_says_the_guardrails_ran_and_explains_rule_facts(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    assert main(["preview", "--project", str(ROOT), "--stack", "dev"]) == 0
    first = capsys.readouterr().out
    # dev's DNS layer is in its rollout (mode alert): passed, with the advisory finding that says so per cloud
    assert re.search(
        r"^guardrails: \d+ policies over \d+ resources: passed \(2 advisory findings above\)$", first, flags=re.M
    ), first
    assert "rule facts: how many values the resource's rules carry" in " ".join(first.split())
    assert main(["preview", "--project", str(ROOT), "--stack", "dev"]) == 0
    assert capsys.readouterr().out == first  # the same order, run to run


def test_whole_entries_and_shared_destinations_are_rows_of_their_own():
    import io

    from rich.console import Console

    from endpoint_firewall.cli.tables import findings_tables

    summary = {
        "skipped": [
            {"entry": "ref-a", "destination": None, "reason": "reference only: A"},
            {"entry": "ref-b", "destination": None, "reason": "reference only: B"},
        ],
        "aws": {"widened": [{"entry": f"e{i}", "destination": "*.x.example", "reason": "any port"} for i in range(5)]},
    }
    out = io.StringIO()
    console = Console(file=out, width=80)
    for titled in findings_tables(summary):
        console.print(titled.table)
    lines = out.getvalue().splitlines()
    assert sum(line.startswith("*.x.example") for line in lines) == 1
    entries = " ".join(lines[lines.index(next(x for x in lines if x.startswith("*.x.example"))) + 1 :]).split()
    assert entries[:5] == ["e0", "e1", "e2", "(+2", "more)"]
    a = next(i for i, line in enumerate(lines) if line.startswith("  ref-a"))
    b = next(i for i, line in enumerate(lines) if line.startswith("  ref-b"))
    assert "reference only: A" in lines[a - 1] and "reference only: B" in lines[b - 1]


def test_a_kind_no_table_knows_is_grouped_like_the_others():
    """Grouping is by the ``kind`` each item carries, titled by summary.json's ``findingKinds``: a new kind needs no
    table code. Counted by destination (a whole entry by entry), largest first; an item without a kind (an older
    render) is counted as unclassified."""
    import io

    from rich.console import Console

    from endpoint_firewall.cli.tables import print_render

    widened = [
        {"entry": f"e{i}", "destination": f"20.0.0.{i % 4}/32", "reason": f"r{i}", "kind": "address-rule-widening"}
        for i in range(8)
    ] + [{"entry": "e9", "destination": "a.example", "reason": "old"}]
    summary = {
        "stack": "t",
        "entries": 1,
        "sourceRanges": ["10.0.0.0/8"],
        "catalogueDigest": "0" * 64,
        "aws": {"widened": widened},
        "skipped": [{"entry": "ref-a", "destination": None, "reason": "x", "kind": "reference-only"}],
        "findingKinds": {"address-rule-widening": "address rules: any protocol", "reference-only": "references"},
    }
    out = io.StringIO()
    print_render({"summary.json": json.dumps(summary)}, Console(file=out, width=80), folder="out/t")
    lines = [" ".join(line.split()) for line in out.getvalue().splitlines()]
    at = lines.index("4 address rules: any protocol")
    assert lines[at + 1] == "address-rule-widening: 20.0.0.0/32, 20.0.0.1/32, 20.0.0.2/32, +1 more"
    assert lines[at + 2] == "1 findings without a kind: render again"
    assert lines[at + 3] == "unclassified: a.example"
    assert "reference-only: ref-a" in lines and "1 references" in lines
    assert "Every item and its reason: out/t/summary.json, epfw show out/t --details" in lines


def test_the_dns_table_counts_names_not_findings():
    """summary.json has one finding per entry and name; the table's widened and not-resolved columns count names: a
    name two entries list is one (the demo stack's time.windows.com, not resolved for two entries on AWS)."""
    import io

    from rich.console import Console

    from endpoint_firewall.cli.tables import dns_table
    from endpoint_firewall.program.render import render_stack

    def printed(summary: dict) -> dict[str, list[str]]:
        titled = dns_table(summary)
        assert titled is not None
        out = io.StringIO()
        Console(file=out, width=200).print(titled.table)
        rows = [line.split() for line in out.getvalue().splitlines()]
        return {row[0]: row[-3:] for row in rows if row and row[0] in ("aws", "azure")}

    def finding(entry: str, name: str) -> dict:
        return {"entry": entry, "destination": name, "reason": "r", "kind": "k"}

    layer = {"ruleGroup": "t-dns", "mode": "block", "names": 3, "domainLists": [{}, {}], "vpcs": [{}]}
    twice = [finding("a", "time.windows.com"), finding("b", "time.windows.com"), finding("a", "x.example.com")]
    summary = {"aws": {"dns": {**layer, "widened": [finding("a", "y.example.com")] * 2, "notResolved": twice}}}
    assert printed(summary)["aws"] == ["3", "1", "2"]
    dev = render_stack("dev", ROOT).summary()
    for cloud, (_, widened, not_resolved) in printed(dev).items():
        dns = dev[cloud]["dns"]
        for key, shown in (("widened", widened), ("notResolved", not_resolved)):
            assert int(shown) == len({f["destination"] for f in dns[key]}), (cloud, key)
    assert len(dev["aws"]["dns"]["notResolved"]) > int(printed(dev)["aws"][2])  # the demo has a name twice
