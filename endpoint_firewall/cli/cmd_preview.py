"""``epfw preview --stack NAME [--base GIT_REF] [--format table|markdown|json]``.

Runs the real ``__main__.py`` under Pulumi mocks and lists what it would register; with ``--base``,
the rule-level diff against the program and catalogue at that git ref (run the same way, in a
subprocess, from an exported copy of that ref).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table

import endpoint_firewall

from ..config.stack_config import load_stack_file, stack_file
from ..preview.git_tree import GitRefError, export_tree, package_root
from ..preview.resource_diff import diff, facts
from ..program.render import find_project_dir
from .diff_format import emit, short_type
from .errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("preview", help="run the Pulumi program under mocks; diff against a git ref")
    parser.add_argument("--stack", required=True)
    parser.add_argument("--base", metavar="GIT_REF", help="diff against the program and catalogue at this ref")
    parser.add_argument("--format", choices=("table", "markdown", "json"), default="table")
    parser.add_argument("--project", type=Path, default=None)
    parser.set_defaults(handler=run)


def run_tree(tree: Path, stack: str, workdir: Path, label: str) -> list[dict]:
    """Run ``tree``'s own program (its code and catalogue) under mocks in a subprocess."""
    root = package_root(tree, workdir)
    out = workdir / "resources.json"
    env = dict(os.environ, PYTHONPATH=str(root))
    from ..preview import mock_runner  # imports pulumi: only when a preview runs

    result = subprocess.run([sys.executable, mock_runner.__file__, "--project", str(tree), "--stack", stack,
                             "--out", str(out)], env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-5:])
        raise UserError(f"the program at {label} failed under mocks:\n{tail}")
    return json.loads(out.read_text(encoding="utf-8"))


def run_base(project: Path, ref: str, stack: str) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="epfw-base-") as tmp:
        workdir = Path(tmp)
        try:
            tree = export_tree(project, ref, workdir)
        except GitRefError as err:
            raise UserError(str(err)) from None
        if not (tree / "stacks" / f"Pulumi.{stack}.yaml").exists():
            return []  # the stack is new in this change: everything is added
        return run_tree(tree, stack, workdir, ref)


def run_head(project: Path, stack: str) -> list[dict]:
    """With the project's own code when it is another checkout of this repository, else in-process
    (this repository, or a consumer project that uses the installed package)."""
    installed = Path(endpoint_firewall.__file__).resolve().parents[1]
    if installed == project or not (project / "pyproject.toml").exists():
        from ..preview import mock_runner

        return mock_runner.run_program(project, stack)
    with tempfile.TemporaryDirectory(prefix="epfw-head-") as tmp:
        return run_tree(project, stack, Path(tmp), str(project))


def resources_table(resources: list[dict], stack: str) -> Table:
    table = Table(title=f"stack {stack}: resources the program registers (Pulumi mocks)", title_justify="left")
    table.add_column("type")
    table.add_column("name")
    table.add_column("rule facts", justify="right")
    for r in resources:
        size = sum(len(v) for v in facts(r).values()) if r["custom"] else 0
        table.add_row(short_type(r["type"]), r["name"], str(size) if size else "")
    return table


def run(args: argparse.Namespace) -> int:
    project = (args.project or find_project_dir()).resolve()
    load_stack_file(stack_file(project, args.stack))  # located config errors before running anything
    head = run_head(project, args.stack)
    from ..guardrails import validate_resources

    violations = validate_resources(head)  # the CrossGuard pack's checks (policy/), on the same resources
    for violation in violations:
        print(f"policy: {violation}", file=sys.stderr)
    status = 1 if any(v.mandatory for v in violations) else 0
    if args.base:
        changes = diff(run_base(project, args.base, args.stack), head)
        emit(changes, args.format, f"Rule changes of stack {args.stack} against {args.base}")
        return status
    if args.format == "json":
        print(json.dumps({"stack": args.stack, "resources": head}, indent=1, sort_keys=True))
    elif args.format == "markdown":
        kinds = Counter(short_type(r["type"]) for r in head)
        print(f"### Stack `{args.stack}` registers {len(head)} resources\n")
        print("| resource | count |\n| --- | --- |")
        for kind, n in sorted(kinds.items()):
            print(f"| {kind} | {n} |")
    else:
        Console().print(resources_table(head, args.stack))
    return status


