"""epfw render --out: replaces only an empty folder or an earlier render; never a project, a parent or a file."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from endpoint_firewall.cli.main import main
from endpoint_firewall.program.render import RENDER_MARKER


def render(out: Path | str, *extra: str) -> int:
    return main(["render", "--project", str(ROOT), "--stack", "dev", "--out", str(out), "--quiet", *extra])


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def one_error(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("epfw: "), captured.err
    assert "Traceback" not in captured.err
    return lines[0]


def test_a_render_folder_carries_the_marker_and_normal_permissions(tmp_path):
    out = tmp_path / "new" / "dev"
    assert render(out) == 0
    assert (out / RENDER_MARKER).is_file() and (out / "summary.json").is_file()
    umask = os.umask(0)
    os.umask(umask)
    for folder in (out, out / "aws", out / "azure"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o777 & ~umask, folder


def test_an_earlier_render_and_an_empty_folder_are_replaced(tmp_path):
    out = tmp_path / "dev"
    assert render(out) == 0
    (out / "aws" / "stale.rules").write_text("left from an older render\n")
    assert render(out) == 0
    assert not (out / "aws" / "stale.rules").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert render(empty) == 0 and (empty / "summary.json").exists()


def test_a_render_from_before_the_marker_is_replaced_but_not_a_look_alike(tmp_path, capsys):
    old = tmp_path / "old"
    assert render(old) == 0
    (old / RENDER_MARKER).unlink()  # what an older epfw left: azure/, aws/, summary.json
    assert render(old) == 0 and (old / RENDER_MARKER).is_file()
    look_alike = tmp_path / "look-alike"
    look_alike.mkdir()
    (look_alike / "summary.json").write_text('{"mine": true}\n')
    assert render(look_alike) == 1
    assert "not a folder epfw render wrote" in one_error(capsys)
    assert tree(look_alike) == {"summary.json": b'{"mine": true}\n'}
    (look_alike / "summary.json").write_text('{"stack": "dev", "catalogueDigest": "x"}\n')
    (look_alike / "notes.txt").write_text("mine\n")
    assert render(look_alike) == 1
    assert "notes.txt" in one_error(capsys)
    assert set(tree(look_alike)) == {"summary.json", "notes.txt"}


def test_a_folder_epfw_did_not_write_is_left_untouched(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("my notes\n")
    assert render(out) == 1
    err = one_error(capsys)
    assert "not a folder epfw render wrote" in err and "notes.txt" in err
    assert tree(out) == {"notes.txt": b"my notes\n"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]  # no staging left behind


def test_a_plain_file_as_out_is_refused(tmp_path, capsys):
    out = tmp_path / "render.json"
    out.write_text("{}")
    assert render(out) == 1
    assert "is a file, not a folder" in one_error(capsys)
    assert out.read_text() == "{}"


def test_many_names_in_the_way_are_shown_in_part(tmp_path, capsys):
    out = tmp_path / "busy"
    out.mkdir()
    for i in range(7):
        (out / f"f{i}.txt").write_text("x")
    assert render(out) == 1
    err = one_error(capsys)
    assert "f0.txt, f1.txt, f2.txt, f3.txt and 3 more" in err


@pytest.mark.parametrize("marker", ["Pulumi.yaml", ".git"])
def test_a_project_folder_is_refused_even_with_the_marker(tmp_path, capsys, marker):
    out = tmp_path / "other-project"
    out.mkdir()
    (out / marker).mkdir() if marker == ".git" else (out / marker).write_text("name: x\n")
    (out / RENDER_MARKER).write_text("")
    assert render(out) == 1
    assert f"holds {marker}" in one_error(capsys)
    assert (out / marker).exists()


def test_the_project_root_and_its_parents_are_refused(capsys, monkeypatch):
    # From "/", neither folder is the working folder or one of its parents, whatever folder the clone sits in (a
    # clone in /tmp made ROOT.parent a parent of pytest's tmp_path, and that other refusal came first).
    monkeypatch.chdir("/")
    for out in (ROOT, ROOT.parent):
        assert render(out) == 1
        assert "project folder" in one_error(capsys)
    assert (ROOT / "Pulumi.yaml").exists()


def test_the_working_folder_and_its_parents_are_refused(tmp_path, capsys, monkeypatch):
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    for out in (".", "..", str(tmp_path)):
        assert render(out) == 1
        assert "the working folder" in one_error(capsys)
    assert work.exists()


def test_out_dot_in_a_clone_refuses_and_deletes_nothing(tmp_path):
    """As a new user would: ``epfw render --out .`` in a fresh clone, from its root."""
    clone = tmp_path / "repo"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    before = tree(clone)
    result = subprocess.run(
        [sys.executable, "-m", "endpoint_firewall.cli.main", "render", "--stack", "dev", "--out", "."],
        cwd=clone,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1, result
    assert result.stderr.startswith("epfw: ") and len(result.stderr.splitlines()) == 1, result.stderr
    assert tree(clone) == before


def test_an_unwritable_out_is_one_line(capsys):
    assert render("/proc/epfw-cannot-write-here") == 1
    assert "cannot write the render" in one_error(capsys)
