"""Stack files: found through Pulumi.yaml's stackConfigDir; a missing stack names the stacks there are; a key of
an unknown namespace (a typo of ours) is refused, naming what was probably meant. Also validate on folders."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import ROOT

from endpoint_firewall.cli.main import main
from endpoint_firewall.config.stack_config import ConfigError, load_stack_file, stack_file

STACK = """config:
  azure-native:location: westeurope
  aws:region: eu-west-1
  azure:location: westeurope
  pulumi:tags: {team: net}
  endpoint-firewall:sourceRanges: [10.0.0.0/16]
  endpoint-firewall:aws:
    namePrefix: t
"""


def project(tmp_path: Path, folder: str | None, stacks: dict[str, str]) -> Path:
    settings = "name: endpoint-firewall\nruntime: python\n" + (f"stackConfigDir: {folder}\n" if folder else "")
    (tmp_path / "Pulumi.yaml").write_text(settings)
    where = tmp_path / (folder or ".")
    where.mkdir(parents=True, exist_ok=True)
    for name, body in stacks.items():
        (where / f"Pulumi.{name}.yaml").write_text(body)
    return tmp_path


@pytest.mark.parametrize("folder", ["config/stacks", None])
def test_the_stack_folder_comes_from_pulumi_yaml(tmp_path, folder):
    root = project(tmp_path, folder, {"t": STACK})
    assert stack_file(root, "t") == root / (folder or ".") / "Pulumi.t.yaml"
    out = tmp_path / "out"
    assert main(["render", "--project", str(root), "--stack", "t", "--out", str(out), "--quiet"]) == 0
    assert (out / "summary.json").exists()
    shutil.copy(ROOT / "__main__.py", root / "__main__.py")  # the program under mocks finds the same file
    assert main(["preview", "--project", str(root), "--stack", "t", "--format", "json"]) == 0


def test_a_malformed_pulumi_yaml_is_a_located_error(tmp_path, capsys):
    (tmp_path / "Pulumi.yaml").write_text("name: x\nstackConfigDir: [unclosed\n")
    assert main(["render", "--project", str(tmp_path), "--stack", "t", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{tmp_path / 'Pulumi.yaml'}:") and "Traceback" not in err, err


def test_the_shipped_project_keeps_its_stacks_in_stacks():
    assert stack_file(ROOT, "dev") == ROOT / "stacks" / "Pulumi.dev.yaml"


@pytest.mark.parametrize(
    "command", [["render", "--out", "OUT", "--quiet"], ["check", "--cloud", "azure", "a.example.org"], ["preview"]]
)
def test_a_missing_stack_names_the_stacks_there_are(tmp_path, capsys, command):
    root = project(tmp_path, "stacks", {"dev": STACK, "prod": STACK})
    argv = [str(tmp_path / "out") if a == "OUT" else a for a in command]
    assert main([*argv, "--project", str(root), "--stack", "nosuch"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("epfw: no such stack 'nosuch' (stacks: dev, prod; looked for "), err
    assert len(err.splitlines()) == 1 and ":1:" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "key, guess",
    [
        ("endpoint-firewal:selection", "did you mean 'endpoint-firewall:selection'?"),
        ("endpointfirewall:sourceRanges", "did you mean 'endpoint-firewall:sourceRanges'?"),
        ("azure-nativ:location", "did you mean 'azure-native:location'?"),
        ("someone-else:key", ""),
    ],
)
def test_a_key_of_an_unknown_namespace_is_refused_with_its_line(tmp_path, capsys, key, guess):
    root = project(tmp_path, "stacks", {"t": STACK + f"  {key}: {{includeOptional: true}}\n"})
    with pytest.raises(ConfigError) as err:
        load_stack_file(stack_file(root, "t"))
    [problem] = err.value.problems
    assert (problem.line, problem.field) == (9, key)
    namespace = key.split(":")[0]
    assert problem.message.startswith(f"unknown namespace {namespace!r}; {guess}")
    assert main(["render", "--project", str(root), "--stack", "t", "--out", str(tmp_path / "o")]) == 1
    assert f":9: {key}: unknown namespace" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "key, field", [("endpoint-firewal:selection", "endpoint-firewal:selection"), ("endpoint-firewall:selction", None)]
)
def test_the_pulumi_program_refuses_unknown_keys_with_the_stack_files_line(tmp_path, key, field):
    """The program reads values through pulumi.Config (which cannot list keys) and checks the keys in the stack
    file, with its lines: a typo in a namespace or in one of our keys registers nothing."""
    from endpoint_firewall.preview.mock_runner import RecordingMocks, run_program

    root = project(tmp_path, "stacks", {"t": STACK + f"  {key}: {{includeOptional: true}}\n"})
    shutil.copy(ROOT / "__main__.py", root / "__main__.py")
    mocks = RecordingMocks()
    with pytest.raises(ConfigError) as err:
        run_program(root, "t", mocks=mocks)
    [problem] = err.value.problems
    assert (problem.file, problem.line, problem.field) == (str(stack_file(root, "t")), 9, field or key)
    assert ("did you mean 'endpoint-firewall:selection'?" if field else "unknown key") in problem.message
    assert mocks.resources == []


def test_the_pulumi_program_reads_values_through_pulumi_config_without_a_stack_file(tmp_path):
    """Config given only to Pulumi (ESC, --config: no stack file) is read and validated as values."""
    import pulumi

    from endpoint_firewall.program.pulumi_config import read_stack_config

    pulumi.runtime.set_all_config(
        {"endpoint-firewall:sourceRanges": '["10.1.0.0/16"]', "endpoint-firewall:aws": '{"namePrefx": "x"}'}
    )
    try:
        with pytest.raises(ConfigError) as err:
            read_stack_config("nofile", project(tmp_path, "stacks", {}))
        assert [p.field for p in err.value.problems] == ["endpoint-firewall:aws.namePrefx"]
        pulumi.runtime.set_all_config(
            {"endpoint-firewall:sourceRanges": '["10.1.0.0/16"]', "endpoint-firewall:aws": "{}"}
        )
        assert read_stack_config("nofile", tmp_path).source_ranges == ("10.1.0.0/16",)
    finally:
        pulumi.runtime.set_all_config({})


def test_validate_takes_folders_and_loads_the_files_directly_inside(tmp_path, capsys):
    folder = tmp_path / "catalogue"
    (folder / "archive").mkdir(parents=True)
    for f in sorted((ROOT / "endpoint_firewall" / "endpoints" / "catalogue").glob("*.yaml")):
        shutil.copy(f, folder / f.name)
    (folder / "archive" / "old.yaml").write_text("not: a catalogue\n")  # a sub-folder is not loaded
    assert main(["validate", str(folder)]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out.startswith("ok: ")
    assert main(["validate", str(folder / "archive")]) == 1  # named on its own, it is loaded (and refused)
    assert "old.yaml" in capsys.readouterr().err


def test_validate_loads_a_file_named_twice_once(capsys):
    folder = ROOT / "endpoint_firewall" / "endpoints" / "catalogue"
    assert main(["validate", str(folder), str(sorted(folder.glob("*.yaml"))[0])]) == 0, capsys.readouterr().err
