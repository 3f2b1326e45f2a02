"""``epfw check --cloud azure|aws --dns NAME``: resolve (exit 0) or block (exit 3) at the stack's DNS layer, and the
rule that decided (:mod:`..checks.dns`). The firewall's verdict on a flow to the name: ``epfw check HOST[:PORT]``."""

from __future__ import annotations

import argparse

from ..endpoints import names
from ..program.render import find_project_dir, render_stack
from .errors import UserError

BLOCK_EXIT = 3


def add_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dns",
        metavar="NAME",
        help="check a name at the stack's DNS layer instead of a flow: resolve or block, and which rule decided",
    )


def run(args: argparse.Namespace) -> int:
    if args.dns is None:
        raise UserError("give HOST[:PORT] to check a flow, or --dns NAME to check a name at the DNS layer")
    if args.target is not None or args.proto or args.ip or args.source:
        raise UserError("--dns checks a name: give no HOST[:PORT], --proto, --ip or --source with it")
    try:
        name = names.normalise_fqdn(args.dns)
    except ValueError as err:
        raise UserError(f"--dns {args.dns!r} is not a host name: {err}") from None
    rendered = render_stack(args.stack, args.project or find_project_dir(), cloud=args.cloud)
    cloud = rendered.azure if args.cloud == "azure" else rendered.aws
    layer = cloud.dns if cloud is not None else None
    if layer is None:
        raise UserError(
            f"stack {args.stack} has no enabled DNS layer on {args.cloud} (endpoint-firewall:{args.cloud}.dns)"
        )
    from ..checks import dns

    verdict = dns.evaluate_azure(layer, name) if args.cloud == "azure" else dns.evaluate_aws(layer, name)  # type: ignore[arg-type]
    print(f"{args.cloud} dns: {name}: {verdict}")
    return 0 if verdict.resolves else BLOCK_EXIT
