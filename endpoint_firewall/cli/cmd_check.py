"""``epfw check --stack NAME --cloud azure|aws HOST[:PORT] [--proto P] [--ip ADDR]``: allow or deny?

Azure: Azure Firewall's documented order, evaluated over the rendered rules. AWS: the rendered rules
run in the real Suricata engine on a one-flow capture (Suricata must be installed).
"""

from __future__ import annotations

import argparse
import ipaddress
from pathlib import Path

from ..checks.flow import Flow
from ..program.render import find_project_dir, render_stack
from .errors import UserError

DEFAULT_PROTO = {80: "http", 443: "https"}
DENY_EXIT = 3  # 0 allow, 1 bad input, 3 deny


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("check", help="would this flow be allowed? names the deciding rule")
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--cloud", choices=("azure", "aws"), required=True)
    parser.add_argument("target", metavar="HOST[:PORT]", help="host name or address; port defaults to 443")
    parser.add_argument("--proto", choices=("http", "https", "tls", "tcp", "udp", "icmp"),
                        help="what is on the wire (default: http on 80, https on 443, else tcp)")
    parser.add_argument("--ip", help="the destination address the host resolves to")
    parser.add_argument("--source", help="source address (default: the first address of the stack's sources)")
    parser.add_argument("--project", type=Path, default=None)
    parser.set_defaults(handler=run)


def _address(value: str | None, option: str) -> str | None:
    if value is None:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise UserError(f"{option} {value!r} is not an IPv4 or IPv6 address") from None


def parse_target(text: str, proto: str | None, ip: str | None) -> Flow:
    host, port = text, 443
    if text.count(":") == 1 or text.startswith("["):
        host, _, port_text = text.rpartition(":")
        host = host.strip("[]")
        try:
            port = int(port_text)
        except ValueError:
            raise UserError(f"{text!r}: the port after ':' must be a number") from None
    if not 1 <= port <= 65535:
        raise UserError(f"port {port} is outside 1-65535")
    try:
        ipaddress.ip_address(host)
        host_is_ip = True
    except ValueError:
        host_is_ip = False
    resolved = host if host_is_ip else _address(ip, "--ip")
    return Flow(host=None if host_is_ip else host.lower(), port=port,
                proto=proto or DEFAULT_PROTO.get(port, "tcp"), ip=resolved)  # type: ignore[arg-type]  # argparse choices


def run(args: argparse.Namespace) -> int:
    flow = parse_target(args.target, args.proto, args.ip)
    rendered = render_stack(args.stack, args.project or find_project_dir())
    if args.cloud == "azure":
        if rendered.azure is None:
            raise UserError(f"stack {args.stack} has no Azure configuration")
        from ..checks.azure import evaluate
        verdict = evaluate(rendered.azure, flow)
    else:
        if rendered.aws is None:
            raise UserError(f"stack {args.stack} has no AWS configuration")
        from ..checks.aws import evaluate as evaluate_aws
        from ..checks.suricata import SuricataError, SuricataUnavailable
        source = _address(args.source, "--source") or str(next(ipaddress.ip_network(rendered.plan.source_ranges[0]).hosts()))
        try:
            verdict = evaluate_aws(rendered.aws, flow, source)
        except (SuricataUnavailable, SuricataError) as err:
            raise UserError(f"the AWS check runs the rules in Suricata: {err}") from None
    print(f"{args.cloud}: {flow}: {verdict}")
    return 0 if verdict.allowed else DENY_EXIT
