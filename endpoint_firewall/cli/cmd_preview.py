"""``epfw preview [--stack NAME] [--project DIR] [--base GIT_REF] [--cloud azure|aws] [--format table|markdown|json]``.

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

from ..components.resource_types import AWS_FIREWALL_POLICY, AWS_RULE_GROUP, cloud_of
from ..config.stack_config import load_stack_file, stack_file
from ..preview.git_tree import GitRefError, export_tree, package_root
from ..preview.resource_diff import diff, facts
from ..program.allow_any import allow_any_exceptions, policy_config
from ..program.render import find_project_dir, require_cloud
from ..program.stack_plan import load_selected
from .diff_format import add_format_argument, emit, short_type
from .errors import UserError
from .stack_option import add_stack_arguments
from .tables import name_cell, name_column, new_table


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("preview", help="run the Pulumi program under mocks; diff against a git ref")
    add_stack_arguments(parser)
    parser.add_argument("--base", metavar="GIT_REF", help="diff against the program and catalogue at this ref")
    add_format_argument(parser)
    parser.add_argument(
        "--cloud",
        choices=("azure", "aws"),
        default=None,
        help="this cloud's resources only (guardrails and diff included)",
    )
    parser.set_defaults(handler=run)


def run_tree(tree: Path, stack: str, workdir: Path, label: str) -> list[dict]:
    """Run ``tree``'s own program (its code and catalogue) under mocks in a subprocess."""
    root = package_root(tree, workdir)
    out = workdir / "resources.json"
    env = dict(os.environ, PYTHONPATH=str(root))
    from ..preview import mock_runner  # imports pulumi: only when a preview runs

    result = subprocess.run(
        [sys.executable, mock_runner.__file__, "--project", str(tree), "--stack", stack, "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
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
        if not stack_file(tree, stack).exists():
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


RULE_FACTS = (
    "rule facts: how many values the resource's rules carry (names, addresses, ports, protocols, "
    "priorities, settings), the values a rule-level diff (--base) compares"
)


def display_order(resources: list[dict]) -> list[dict]:
    """Components first, then by type and name: the same order on every run (registration order is not)."""
    return sorted(resources, key=lambda r: (bool(r.get("custom")), short_type(r["type"]), r["name"]))


def resources_table(resources: list[dict], stack: str) -> Table:
    table = new_table(
        f"stack {stack}: resources the program registers (Pulumi mocks)",
        f"under each name: its resource type. {RULE_FACTS}",
    )
    name_column(table, "resource")
    table.add_column("rule\nfacts", justify="right")
    ordered = display_order(resources)
    width = max((len(r["name"]) for r in ordered), default=0)
    for r in ordered:
        size = sum(len(v) for v in facts(r).values()) if r["custom"] else 0
        table.add_row(name_cell(r["name"], [short_type(r["type"])], width), str(size) if size else "")
    return table


def guardrails_summary(violations: list, resources: list[dict], policies: int) -> str:
    checked = sum(1 for r in resources if r.get("custom", True))
    mandatory = sum(1 for v in violations if v.mandatory)
    advisory = len(violations) - mandatory
    notes = f" ({advisory} advisory finding{'s' if advisory != 1 else ''} above)" if advisory else ""
    verdict = f"failed: {mandatory} mandatory violation{'s' if mandatory != 1 else ''} above" if mandatory else "passed"
    return f"guardrails: {policies} policies over {checked} resources: {verdict}{notes}"


LIFECYCLE = (
    ("protect", "protected (pulumi preview and up refuse to delete or replace them)"),
    ("retainOnDelete", "kept on delete (pulumi forgets them, the cloud keeps them)"),
)


def lifecycle_lines(resources: list[dict]) -> list[str]:
    """What the lifecycle options of the registered resources mean for a delete or a replacement, per kind."""
    counts = Counter(
        (option, short_type(r["type"]))
        for r in resources
        for option, _ in LIFECYCLE
        if (r.get("options") or {}).get(option)
    )
    lines = []
    for option, meaning in LIFECYCLE:
        kinds = [f"{n} {kind}{'s' if n != 1 else ''}" for (o, kind), n in sorted(counts.items()) if o == option]
        if kinds:
            lines.append(f"{meaning}: {', '.join(kinds)}")
    types = {r["type"] for r in resources}
    retained_aws = any(
        r["type"] == AWS_RULE_GROUP and (r.get("options") or {}).get("retainOnDelete") for r in resources
    )
    if retained_aws and AWS_FIREWALL_POLICY not in types:
        lines.append(
            "the AWS firewall policy is outside this stack: a replaced rule group is created anew and the old one kept "
            "and still enforced until that policy references the new one; epfw preview --base <deployed ref> names "
            "both, and the stack output aws.outsidePolicy says the two steps"
        )
    return lines


def _only(resources: list[dict], cloud: str | None) -> list[dict]:
    """The resources of ``cloud`` (all of them without one); the stack itself belongs to every cloud."""
    return resources if cloud is None else [r for r in resources if cloud_of(r["type"]) in (cloud, None)]


def run(args: argparse.Namespace) -> int:
    project = (args.project or find_project_dir()).resolve()
    config = load_stack_file(stack_file(project, args.stack))  # located config errors before running anything
    require_cloud(args.stack, config, args.cloud)
    catalogue, plan = load_selected(config, project, str(stack_file(project, args.stack)))
    head = _only(run_head(project, args.stack), args.cloud)
    from ..guardrails import validate_resources

    # the CrossGuard pack's checks (policy/), on the same resources, with the stack's allow_any exceptions
    violations = validate_resources(head, policy_config(allow_any_exceptions(catalogue, plan)))
    for violation in violations:
        print(f"policy: {violation}", file=sys.stderr)
    from ..guardrails import RESOURCE_CHECKS, STACK_CHECKS

    guardrails = guardrails_summary(violations, head, len(RESOURCE_CHECKS) + len(STACK_CHECKS))
    status = 1 if any(v.mandatory for v in violations) else 0
    if args.format != "table" or args.base:  # the output is for a machine or a comment: the line goes to stderr
        print(guardrails, file=sys.stderr)
    if args.base:
        changes = diff(_only(run_base(project, args.base, args.stack), args.cloud), head)
        emit(changes, args.format, f"Rule changes of stack {args.stack} against {args.base}")
        return status
    if args.format == "json":
        clouds = [args.cloud] if args.cloud else ["azure", "aws"]
        print(
            json.dumps(
                {"stack": args.stack, "clouds": clouds, "resources": display_order(head)}, indent=1, sort_keys=True
            )
        )
    elif args.format == "markdown":
        kinds = Counter(short_type(r["type"]) for r in head)
        print(f"### Stack `{args.stack}` registers {len(head)} resources\n")
        print("| resource | count |\n| --- | --- |")
        for kind, n in sorted(kinds.items()):
            print(f"| {kind} | {n} |")
        lifecycle = lifecycle_lines(head)
        if lifecycle:
            print()
            print("\n".join(f"- {line}" for line in lifecycle))
    else:
        Console().print(resources_table(head, args.stack))
        print(guardrails)
        for line in lifecycle_lines(head):
            print(f"lifecycle: {line}")
    return status
