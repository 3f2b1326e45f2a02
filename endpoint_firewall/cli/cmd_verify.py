"""``epfw verify aws [--stack NAME] [--project DIR] [--region R] [--profile P]``: AWS's own verdict on every rendered rule group.

Each group goes to ``CreateRuleGroup`` with ``DryRun=True`` under the user's AWS credentials (boto3's standard
chain: environment, profile, SSO, instance or task role): AWS validates it and computes its capacity, and creates
nothing. One line per group: valid (AWS's capacity next to ours) or AWS's error. Exit 0 when every group is
valid, 1 when AWS refused one, 2 when it could not ask (no boto3, no credentials, no region). Run it before the
first ``pulumi up``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from ..checks.aws_verify import verify_groups
from ..config.stack_config import stack_file
from ..program.render import find_project_dir, render_stack
from .stack_option import add_stack_arguments

NO_BOTO3 = "epfw verify aws needs boto3: pip install 'endpoint-firewall[aws]'"
NO_CREDENTIALS = (
    "epfw: no AWS credentials found (boto3's standard chain: AWS_* variables, ~/.aws profiles, SSO, "
    "instance or task role); nothing was sent"
)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("verify", help="ask the cloud itself: AWS CreateRuleGroup dry runs (needs credentials)")
    parser.add_argument("cloud", choices=("aws",), help="the cloud to ask (aws)")
    parser.add_argument("--region", default=None, help="default: the stack's aws:region, else boto3's default")
    parser.add_argument("--profile", default=None, help="an AWS profile (default: boto3's standard chain)")
    add_stack_arguments(parser)
    parser.set_defaults(handler=run)


def stack_region(path: Path) -> str | None:
    """``aws:region`` of a stack file (the Pulumi AWS provider's setting), if it has one."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    region = (data.get("config") or {}).get("aws:region") if isinstance(data, dict) else None
    return region if isinstance(region, str) else None


def make_client(region: str | None, profile: str | None) -> Any:
    """A network-firewall client, or a string saying in one line why there is none."""
    try:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError
    except ImportError:
        return NO_BOTO3
    try:
        session = boto3.session.Session(profile_name=profile, region_name=region)
        if session.get_credentials() is None:
            return NO_CREDENTIALS
        if not session.region_name:
            return "epfw: no AWS region: set aws:region in the stack, --region or AWS_REGION"
        # one attempt per call: checks/aws_verify.py retries throttling itself, bounded (and testable)
        return session.client("network-firewall", config=Config(retries={"total_max_attempts": 1}))
    except BotoCoreError as err:
        return f"epfw: {err}"


def run(args: argparse.Namespace, client: Any = None) -> int:
    project = args.project or find_project_dir()
    rendered = render_stack(args.stack, project, cloud="aws")
    region = args.region or stack_region(stack_file(project, args.stack))
    if client is None:
        client = make_client(region, args.profile)
    if isinstance(client, str):
        print(client, file=sys.stderr)
        return 2
    verdicts = verify_groups(client, rendered.aws.groups)  # type: ignore[union-attr]
    for verdict in verdicts:
        print(verdict.line())
    refused = sum(not v.valid for v in verdicts)
    print(
        f"{len(verdicts) - refused} of {len(verdicts)} groups valid (CreateRuleGroup DryRun"
        f"{', region ' + region if region else ''}); nothing was created"
    )
    return 1 if refused else 0
