"""The command line: --version, help on every argument, one --stack default everywhere, diff --exit-code."""

from __future__ import annotations

import argparse
import importlib.metadata
import subprocess
import sys

import pytest
from conftest import ROOT

from endpoint_firewall.cli.main import build_parser, main


def parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ("epfw",)):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from parsers(sub, (*path, name))


def test_every_argument_and_command_has_help():
    missing = []
    for path, parser in parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if isinstance(action, argparse._SubParsersAction):
                missing += [f"{' '.join(path)} {c.dest}" for c in action._choices_actions if not c.help]
            elif not action.help:
                missing.append(f"{' '.join(path)} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []


def test_the_top_help_has_no_literal_markup(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "``" not in out and "epfw: the endpoint-firewall command line" in out


def test_version_comes_from_the_package_metadata():
    result = subprocess.run(
        [sys.executable, "-m", "endpoint_firewall.cli.main", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout == f"epfw {importlib.metadata.version('endpoint-firewall')}\n"


def _stack_defaults(parser: argparse.ArgumentParser) -> dict[str, str]:
    out = {}
    for path, sub in parsers(parser):
        for action in sub._actions:
            if "--stack" in action.option_strings:
                out[" ".join(path)] = action.default
                assert not action.required, path
    return out


def test_stack_defaults_the_same_way_on_every_command(monkeypatch):
    monkeypatch.delenv("EPFW_STACK", raising=False)
    defaults = _stack_defaults(build_parser())
    assert set(defaults) >= {"epfw render", "epfw check", "epfw preview"}
    assert set(defaults.values()) == {"dev"}
    monkeypatch.setenv("EPFW_STACK", "prod")
    assert set(_stack_defaults(build_parser()).values()) == {"prod"}


def test_diff_exit_code(tmp_path, capsys):
    base = ["render", "--project", str(ROOT), "--quiet", "--out"]
    assert main([*base, str(tmp_path / "a")]) == 0
    assert main([*base, str(tmp_path / "b")]) == 0
    assert main([*base, str(tmp_path / "c"), "--stack", "prod"]) == 0
    same = ["diff", str(tmp_path / "a"), str(tmp_path / "b"), "--format", "json"]
    other = ["diff", str(tmp_path / "a"), str(tmp_path / "c"), "--format", "json"]
    assert main([*same, "--exit-code"]) == 0
    assert main([*other, "--exit-code"]) == 1
    assert main(other) == 0  # without the option, as before


def test_a_reader_that_leaves_early_gets_no_traceback():
    catalogue = ROOT / "endpoint_firewall" / "endpoints" / "catalogue"
    code = (
        "import sys; from endpoint_firewall.cli.main import main; "
        f"sys.exit(main(['catalogue', 'diff', '{catalogue / 'archive'}', '{catalogue}', '--format', 'json']))"
    )
    reader = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert reader.stdout is not None and reader.stderr is not None
    reader.stdout.read(10)
    reader.stdout.close()  # like `| head -c 10`
    err = reader.stderr.read().decode()
    assert reader.wait() == 141, err
    assert "Traceback" not in err and "BrokenPipeError" not in err
