"""What the workflows need to know about a stack, as ``key=value`` lines for ``$GITHUB_OUTPUT``.

    .venv/bin/python scripts/stack-facts.py STACK >> "$GITHUB_OUTPUT"

- ``azure``, ``aws``: ``true`` when the stack deploys that cloud (``endpoint-firewall:<cloud>`` given and enabled), so
  a workflow asks for that cloud's identity only then;
- ``aws-region``: the stack file's ``aws:region`` (what ``aws-actions/configure-aws-credentials`` is given);
- ``stack-name``: the name Pulumi selects the stack by: ``ORG/PROJECT/STACK`` when ``PULUMI_ORG`` is set (the
  project is ``Pulumi.yaml``'s ``name``), else ``STACK`` (the backend's default organisation, or a self-managed one).

Run from the repository (or ``--project DIR``); a stack file that does not validate fails here, naming file and line.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import yaml

from endpoint_firewall.config.stack_config import load_stack_file, stack_file
from endpoint_firewall.endpoints.errors import EpfwError


def facts(project: Path, stack: str, org: str = "") -> dict[str, str]:
    path = stack_file(project, stack)
    config = load_stack_file(path)
    raw = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("config") or {}
    name = (yaml.safe_load((project / "Pulumi.yaml").read_text(encoding="utf-8")) or {}).get("name", "")
    return {
        "azure": str(config.enabled_cloud("azure") is not None).lower(),
        "aws": str(config.enabled_cloud("aws") is not None).lower(),
        "aws-region": str(raw.get("aws:region") or ""),
        "stack-name": f"{org}/{name}/{stack}" if org else stack,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stack")
    parser.add_argument("--project", type=Path, default=Path.cwd())
    args = parser.parse_args(argv)
    try:
        found = facts(args.project, args.stack, os.environ.get("PULUMI_ORG", "").strip())
    except EpfwError as err:
        print(f"stack-facts: {err}", file=sys.stderr)
        return 1
    for key, value in found.items():
        print(f"{key}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
