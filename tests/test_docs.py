"""The README and the manual (``docs/``, built by ``make docs``) say what the code does.

The README is a front page: at most 8,000 characters, every link into the manual resolves (page and anchor, as
GitHub makes anchors), and its command table and picture of the stacks match the parser and the stack files. The
manual's command reference covers every ``epfw`` command and option, its stack keys reference is the one generated
from the config models, its console examples are what the commands print, and every page or heading the code cites
(``docs/<page>.md, "<heading>"`` or ``docs/<page>.md#anchor``) exists. Links inside the manual are checked by
``mkdocs build --strict`` itself.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from conftest import ROOT
from pydantic import Field

from endpoint_firewall.cli.main import build_parser
from endpoint_firewall.config import keys_reference
from endpoint_firewall.config.base import ConfigModel
from endpoint_firewall.config.stack_config import load_stack_file

README = ROOT / "README.md"
DOCS = ROOT / "docs"
README_MAX_CHARS = 8_000


def github_anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lowercase, punctuation other than ``-`` and ``_`` dropped, spaces as dashes."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def mkdocs_anchor(heading: str) -> str:
    """MkDocs' anchor (Python-Markdown's ``toc.slugify``): as GitHub's, but runs of spaces and dashes become one."""
    text = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[-\s]+", "-", re.sub(r"[^\w\s-]", "", text).strip().lower())


def headings(path: Path) -> list[str]:
    """The Markdown headings of a file, outside fenced code blocks."""
    out, fenced = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,6} ", line):
            out.append(line.lstrip("#").strip())
    return out


def anchors(path: Path) -> set[str]:
    """Anchors that work on GitHub and in the built manual alike."""
    found = headings(path)
    return {github_anchor(h) for h in found} & {mkdocs_anchor(h) for h in found}


def test_the_readme_is_a_front_page():
    size = len(README.read_text(encoding="utf-8"))
    assert size <= README_MAX_CHARS, f"README.md has {size} characters; move details into docs/ (at most 8,000)"


def test_every_link_from_the_readme_into_the_manual_resolves():
    text = README.read_text(encoding="utf-8")
    links = re.findall(r"\]\(((?:docs/|CHANGELOG)[^)#\s]*)(?:#([^)\s]+))?\)", text)
    assert len(links) >= 10
    for target, anchor in links:
        path = ROOT / target
        assert path.is_file(), target
        if anchor:
            assert anchor in anchors(path), f"{target}#{anchor}"


def test_the_page_the_summary_names_for_residual_risks_exists():
    """summary.json's ``residualRisks.explained`` names a page (and heading) a reader can open."""
    from endpoint_firewall.renderers.findings import RESIDUAL_RISKS_DOC

    path, _, anchor = RESIDUAL_RISKS_DOC.partition("#")
    assert (ROOT / path).is_file(), RESIDUAL_RISKS_DOC
    assert not anchor or anchor in anchors(ROOT / path), RESIDUAL_RISKS_DOC


def cited_places() -> list[tuple[str, str, str]]:
    """``(file, page, heading or #anchor)`` for every place the code and the build files cite the manual."""
    files = [*(ROOT / "endpoint_firewall").rglob("*.py"), *(ROOT / "tests").glob("*.py"), ROOT / "__main__.py"]
    files += [ROOT / "Makefile", ROOT / "pyproject.toml", *(ROOT / "scripts").glob("*")]
    out = []
    for path in files:
        if path == Path(__file__) or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        name = str(path.relative_to(ROOT))
        out += [
            (name, page, heading) for page, heading in re.findall(r'(?<![\w/])(docs/[\w/.-]+\.md), "([^"]+)"', text)
        ]
        out += [
            (name, page, "#" + anchor) for page, anchor in re.findall(r"(?<![\w/])(docs/[\w/.-]+\.md)#([\w-]+)", text)
        ]
        out += [(name, page, "") for page in re.findall(r"(?<![\w/])(docs/[\w/.-]+\.md)(?![\w#,])", text)]
    return out


def test_the_manual_s_pages_and_headings_the_code_cites_exist():
    """Facts explained once in the manual are cited from the code as docs/<page>.md, "<heading>" (or #anchor)."""
    cited = cited_places()
    assert len({(page, heading) for _, page, heading in cited if heading}) >= 5  # the code does cite headings
    for name, page, heading in cited:
        path = ROOT / page
        assert path.is_file(), f"{name} cites {page}"
        if heading.startswith("#"):
            assert heading[1:] in anchors(path), f"{name} cites {page}{heading}"
        elif heading:
            assert heading in headings(path), f'{name} cites {page}, "{heading}"'


def test_no_code_points_to_a_readme_section_any_more():
    """The README keeps no explanations: what the code cited there lives in the manual."""
    sources = [p.read_text(encoding="utf-8") for p in (ROOT / "endpoint_firewall").rglob("*.py")]
    assert not [m for text in sources for m in re.findall(r'README,? "([^"]+)"', text)]


# --- the layout the manual describes -----------------------------------------------------------------------


def layout_block() -> list[tuple[int, list[str]]]:
    """docs/architecture.md's ``## Layout`` block: ``(indent, names)`` per line, e.g. ``(2, ["endpoints/"])``."""
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    block = re.search(r"^## Layout\n\n```text\n(.*?)\n```", text, re.M | re.S)
    assert block, "docs/architecture.md has no ## Layout text block"
    out = []
    for line in block.group(1).splitlines():
        match = re.match(r"^( *)([\w./-]+(?:, [\w./-]+)*)(?:\s|$)", line)
        assert match, f"not a layout line: {line!r}"
        out.append((len(match.group(1)), match.group(2).split(", ")))
    return out


def test_the_layout_block_names_every_package_folder_and_only_what_exists():
    """One line per folder of the package that holds code (a layer), and every name at the top exists."""
    listed = {name for indent, names in layout_block() if indent for name in names}
    package = ROOT / "endpoint_firewall"
    folders = {f"{d.name}/" for d in package.iterdir() if (d / "__init__.py").is_file()}
    assert listed == folders, f"docs/architecture.md, Layout: lists {sorted(listed)}, the package has {sorted(folders)}"
    for indent, names in layout_block():
        for name in names:
            assert (ROOT / name if not indent else package / name).exists(), f"docs/architecture.md, Layout: {name}"


def test_every_path_of_the_package_the_manual_names_exists():
    """A module, folder or data file named as ``endpoint_firewall/...`` in the README or the manual is there."""
    named = {
        (page.name, path.rstrip("."))
        for page in [README, *DOCS.rglob("*.md")]
        for path in re.findall(r"(?<![\w/])endpoint_firewall/[\w./*-]*", page.read_text(encoding="utf-8"))
    }
    assert len(named) >= 10
    for page, path in sorted(named):
        assert list(ROOT.glob(path.rstrip("/"))), f"{page} names {path}, which is not in the repository"


# --- the command reference and the README's command table --------------------------------------------------


def commands() -> dict[str, argparse.ArgumentParser]:
    """``"epfw import m365"`` -> its parser, for every command that runs (no sub-commands of its own)."""
    out: dict[str, argparse.ArgumentParser] = {}

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            out[path] = parser
        for action in subs:
            for name, sub in action.choices.items():
                walk(sub, f"{path} {name}")

    walk(build_parser(), "epfw")
    return out


def options(parser: argparse.ArgumentParser) -> set[str]:
    return {o for a in parser._actions for o in a.option_strings if o.startswith("--") and o != "--help"}


def reference_synopses() -> dict[str, str]:
    """docs/cli.md: each ``## epfw ...`` section's synopsis, the ``text`` block under its heading."""
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    return {
        h: " ".join(s.split()) for h, s in re.findall(r"^## (epfw [^\n]+)\n\n```text\n(.+?)\n```", text, re.M | re.S)
    }


def test_the_command_reference_has_every_command_with_every_option():
    synopses = reference_synopses()
    for command, parser in commands().items():
        sections = [heading for heading in synopses if heading == command or heading.startswith(command + " ")]
        assert len(sections) == 1, f"docs/cli.md has no section '## {command}'"
        synopsis = synopses[sections[0]]
        assert synopsis.startswith(sections[0]), synopsis
        written = set(re.findall(r"--[a-z][\w-]*", synopsis))
        assert written == options(parser), (command, written ^ options(parser))
    assert len(synopses) == len(commands())


def test_the_readme_table_has_a_row_per_command_with_real_options():
    text = README.read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(epfw [^`]+)` \|", text, re.M)
    known = commands()
    named = set()
    for row in rows:
        command = next((c for c in known if row == c or row.startswith(c + " ")), None)
        assert command is not None, row
        named.add(command)
        assert set(re.findall(r"--[a-z][\w-]*", row)) <= options(known[command]), row
    assert named == set(known)


def test_the_readme_s_picture_of_the_stacks_is_the_stack_files():
    """The text block under "What it deploys" names each stack's policy, name prefix, rule order, FQDN mode and DNS
    mode."""
    text = README.read_text(encoding="utf-8")
    block = text.split("\n## What it deploys\n", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    stacks = sorted((ROOT / "stacks").glob("Pulumi.*.yaml"))
    parts = re.split(r"^(stacks/Pulumi\.\w+\.yaml)", block, flags=re.M)[1:]
    described = dict(zip(parts[::2], parts[1::2], strict=True))
    assert sorted(described) == [str(p.relative_to(ROOT)) for p in stacks]
    for name, lines in described.items():
        config = load_stack_file(ROOT / name)
        assert config.azure is not None and config.aws is not None
        header, selection = lines.splitlines()[0], config.selection
        assert ("every service area" in header) is (selection.service_areas is None), name
        assert ("optional entries too" in header) is selection.include_optional, name
        assert all(region.replace("-", " ").title() in header for region in selection.regions or ()), name
        sources = re.search(r"devices ([\d./, ]+)", lines)
        assert sources and [s.strip() for s in sources[1].split(",")] == list(config.source_ranges), name
        azure = next(line for line in lines.splitlines() if line.strip().startswith("Azure"))
        assert f"policy {config.azure.policy_name}" in azure and f"{config.azure.name_prefix}-<area>" in azure
        assert ("created by the stack" in azure) is (config.azure.create_policy is not None), name
        aws = next(line for line in lines.splitlines() if line.strip().startswith("AWS"))
        assert f"{config.aws.name_prefix}-rules-*" in aws, name
        assert f"{config.aws.rule_order.value}, {config.aws.fqdn_mode.value}" in aws, name
        dns = next(line for line in lines.splitlines() if line.strip().startswith("DNS"))
        assert config.azure.dns is not None and config.aws.dns is not None, name  # "both clouds"
        assert config.azure.dns.mode == config.aws.dns.mode and f"mode {config.aws.dns.mode.value}" in dns, name


# --- the stack keys reference --------------------------------------------------------------------------------


def test_the_stack_keys_reference_is_generated_from_the_models():
    committed = (ROOT / keys_reference.PAGE).read_text(encoding="utf-8")
    assert committed == keys_reference.keys_reference(), (
        f"{keys_reference.PAGE} is stale: regenerate it with .venv/bin/{keys_reference.COMMAND}"
    )


def test_every_stack_key_is_in_the_reference_with_its_meaning():
    """Every field of every model under StackConfig is a row (its camelCase key), its description the meaning."""
    page = keys_reference.keys_reference()
    for section in keys_reference._sections(keys_reference.StackConfig):
        heading = section.path or f"{keys_reference.NAMESPACE}:"
        table = page.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
        for name, field in section.model.model_fields.items():
            key = field.alias or name
            row = next((r for r in table.splitlines() if re.match(rf"\| \[?`{key}`", r)), None)
            assert row is not None, f"{heading} {key}"
            assert field.description and field.description.split(" ")[0] in row, f"{heading} {key}"


def test_a_key_without_a_description_fails_the_reference():
    class Undescribed(ConfigModel):
        described: int = Field(1, description="has one")
        bare: int = 2

    section = keys_reference.Section("azure.example", Undescribed)
    with pytest.raises(keys_reference.UndescribedKey, match=r"azure.example bare \(Undescribed.bare\)"):
        keys_reference._table(section, {})


# --- console examples ------------------------------------------------------------------------------------------


def console_examples() -> list[tuple[str, str, list[str]]]:
    """``(page, command, expected lines)`` of every ``console`` block of the manual."""
    out = []
    for page in sorted(DOCS.rglob("*.md")):
        for block in re.findall(r"```console\n(.*?)```", page.read_text(encoding="utf-8"), re.S):
            for command, output in re.findall(r"^\$ ([^\n]+)\n((?:(?!\$ )[^\n]*\n)*)", block, re.M):
                out.append((str(page.relative_to(ROOT)), command, output.splitlines()))
    return out


@pytest.mark.parametrize(("page", "command", "expected"), console_examples(), ids=lambda v: str(v)[:60])
def test_the_manual_s_console_examples_print_what_they_show(page, command, expected, suricata):
    """Each ``$ command`` of a console block prints the lines under it (``...`` stands for any text)."""
    argv = shlex.split(command)
    assert argv[0] == ".venv/bin/epfw", command  # the installed command, run here as this interpreter's module
    env = {k: v for k, v in os.environ.items() if not k.startswith("EPFW_")}
    result = subprocess.run(
        [sys.executable, "-m", "endpoint_firewall.cli.main", *argv[1:]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    lines = result.stdout.splitlines()
    assert len(lines) == len(expected), (page, command, result.stdout, result.stderr)
    for line, want in zip(lines, expected, strict=True):
        assert re.fullmatch(".*".join(map(re.escape, want.split("..."))), line), (page, line, want)
