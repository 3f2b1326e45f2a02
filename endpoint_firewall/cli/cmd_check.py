"""``epfw check [--stack NAME] --cloud azure|aws HOST[:PORT] [--proto P] [--ip ADDR] [--source ADDR]``: allow or deny?

Azure: Azure Firewall's documented order, evaluated over the rendered rules. AWS: the rendered rules
run in the real Suricata engine on a one-flow capture (Suricata must be installed).
``epfw check [--stack NAME] --cloud azure|aws --dns NAME``: does the stack's DNS layer let the name resolve
(:mod:`.dns_check`)?
"""

from __future__ import annotations

import argparse
import ipaddress
from dataclasses import replace

from ..checks import listed
from ..checks.flow import Flow, Verdict
from ..endpoints import names
from ..planning.tenant_wildcards import check_note
from ..program.render import find_project_dir, render_stack
from ..renderers.findings import ADDRESS_RULE_KINDS, NETWORK_RULE_ON_ADDRESS
from . import dns_check
from .errors import UserError
from .stack_option import add_stack_arguments

DEFAULT_PROTO = {80: "http", 443: "https"}
DENY_EXIT = 3  # 0 allow, 1 bad input, 3 deny


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("check", help="would this flow be allowed? names the deciding rule")
    add_stack_arguments(parser)
    parser.add_argument(
        "--cloud",
        choices=("azure", "aws"),
        required=True,
        help="azure: Azure Firewall's documented rule order; aws: the rules run in Suricata",
    )
    parser.add_argument("target", metavar="HOST[:PORT]", nargs="?", help="host name or address; port defaults to 443")
    dns_check.add_argument(parser)
    parser.add_argument(
        "--proto",
        choices=("http", "https", "tls", "tcp", "udp", "icmp"),
        help="what is on the wire (default: what the catalogue lists for the host on that port, "
        "else http on 80, https on 443, tcp on others)",
    )
    parser.add_argument("--ip", metavar="ADDR", help="the destination address the host resolves to")
    parser.add_argument(
        "--source",
        metavar="ADDR",
        help="source address, checked against the rules' sources on both clouds (default: the first "
        "address of the stack's sourceRanges)",
    )
    parser.set_defaults(handler=run)


def _address(value: str | None, option: str) -> str | None:
    if value is None:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise UserError(f"{option} {value!r} is not an IPv4 or IPv6 address") from None


def _host(host: str, text: str) -> str:
    if "*" in host:
        raise UserError(f"{text!r}: check one host name, not a wildcard (e.g. {host.replace('*', 'a', 1)})")
    try:
        return names.normalise_fqdn(host)
    except ValueError as err:
        raise UserError(f"{text!r} is not a host name or address: {err}") from None


def parse_target(text: str, proto: str | None, ip: str | None) -> Flow:
    pasted = names.split_pasted(text)
    if pasted and pasted[0] != "host and port":
        what, host, port = pasted
        hint = f"{host}:{port}" if port and port != 443 else host
        raise UserError(f"{text!r} is a {what}; write HOST[:PORT], such as {hint}")
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
    return Flow(
        host=None if host_is_ip else _host(host, text),
        port=port,
        proto=proto or DEFAULT_PROTO.get(port, "tcp"),  # type: ignore[arg-type]  # argparse choices
        ip=resolved,
    )


def _with_listed_protocol(flow: Flow, found: list[listed.Listing], given: str | None) -> tuple[Flow, str]:
    """The catalogue's protocol for this host and port when ``--proto`` is not given; a note saying so."""
    where = f"{flow.host or flow.ip} on port {flow.port}"
    offered = ", ".join(sorted({f"{i.protocol}:{i.port}" for i in found}))
    if given:
        if found and not listed.lists_flow(found, given):
            return (
                flow,
                f"note: the catalogue lists {where} as {offered}, not {given} (try --proto "
                f"{listed.listed_protocol(found, given)})",
            )
        return flow, ""
    proto = listed.listed_protocol(found, flow.proto)
    if proto is None:
        return flow, ""
    return replace(flow, proto=proto), f"note: checking --proto {proto}: the catalogue lists {where} as {offered}"


def _address_note(flow: Flow, found: list[listed.Listing]) -> str:
    """A named flow to an address the catalogue lists for other names: say the address is listed, not the name."""
    by_address = listed.address_only(found, flow)
    if not by_address or listed.lists_flow(listed.of_flow(found, flow), flow.proto):
        return ""
    dests = ", ".join(sorted({i.destination for i in by_address}))
    entries = ", ".join(sorted({e for i in by_address for e in i.entries}))
    offered = ", ".join(sorted({f"{i.protocol}:{i.port}" for i in by_address}))
    return (
        f"note: the catalogue lists the address {flow.ip} ({dests}, {entries}) as {offered}, not the name "
        f"{flow.host}: an address listed for http/https/tls says nothing of the names sent to it"
    )


def _left_note(flow: Flow, by_name) -> str:
    """A flow without a name to an address the render leaves to its entries' names (addressRules names-only) on the
    flow's port; on the entries' other ports the address keeps its address rule."""
    if flow.host or not flow.ip:
        return ""
    hits = [(b, d) for b in by_name for d in b.left_at(flow.ip, flow.port)]
    if not hits:
        return ""
    entries = ", ".join(sorted({b.entry for b, _ in hits}))
    return (
        f"note: addressRules names-only leaves {', '.join(sorted({d for _, d in hits}))} ({entries}) to its entries' "
        "names, which pass at any address: check the name the device sends (HOST --ip ADDR)"
    )


def _widened(verdict: Verdict, flow: Flow, found: list[listed.Listing], findings, address_findings) -> Verdict:
    """An allow of a flow the catalogue does not list rests on a rule wider than the catalogue: say which."""
    if not verdict.allowed or listed.lists_flow(found, flow.proto):
        return verdict
    reasons = listed.widening(findings, flow.host) + listed.address_widening(address_findings, flow.ip)
    if not reasons:
        return verdict
    why = "widened: the catalogue does not list this flow; it passes because " + "; ".join(reasons)
    return Verdict(True, verdict.rule, f"{verdict.detail}; {why}" if verdict.detail else why)


def run(args: argparse.Namespace) -> int:
    if args.dns is not None or args.target is None:
        return dns_check.run(args)
    flow = parse_target(args.target, args.proto, args.ip)
    given_source = _address(args.source, "--source")
    rendered = render_stack(args.stack, args.project or find_project_dir())
    source = given_source or str(next(ipaddress.ip_network(rendered.plan.source_ranges[0]).hosts()))
    every = listed.listings(rendered.plan, flow)
    found = listed.of_flow(every, flow)  # a name is listed by its name, never by its address alone
    flow, note = _with_listed_protocol(flow, found, args.proto)
    address_note = _address_note(flow, every)
    if args.cloud == "azure":
        if rendered.azure is None:
            raise UserError(f"stack {args.stack} has no Azure configuration")
        from ..checks.azure import evaluate

        verdict = evaluate(rendered.azure, replace(flow, source=source))
        if not verdict.allowed and given_source and not _inside(source, rendered.plan.source_ranges):
            verdict = Verdict(
                False,
                None,
                f"{verdict.detail}: source {source} is outside every rule's "
                f"sourceAddresses ({', '.join(rendered.plan.source_ranges)})",
            )
        findings: tuple = ()  # Azure's application rules match names as listed; its widened addresses:
        address_findings = tuple(w for w in rendered.azure.widened if w.kind == NETWORK_RULE_ON_ADDRESS)
    else:
        if rendered.aws is None:
            raise UserError(f"stack {args.stack} has no AWS configuration")
        from ..checks.aws import evaluate as evaluate_aws
        from ..checks.suricata import SuricataError, SuricataUnavailable

        try:
            verdict = evaluate_aws(rendered.aws, flow, source)
        except (SuricataUnavailable, SuricataError) as err:
            raise UserError(f"the AWS check runs the rules in Suricata: {err}") from None
        findings = tuple(w for w in rendered.aws.widened if w.kind not in ADDRESS_RULE_KINDS)
        address_findings = tuple(w for w in rendered.aws.widened if w.kind in ADDRESS_RULE_KINDS)
    verdict = _widened(verdict, flow, found, findings, address_findings)
    shared = check_note(rendered.plan, flow.host, verdict.allowed)
    if shared:
        verdict = Verdict(verdict.allowed, verdict.rule, f"{verdict.detail}; {shared}" if verdict.detail else shared)
    cloud_render = rendered.azure if args.cloud == "azure" else rendered.aws
    for line in (note, address_note, _left_note(flow, cloud_render.by_name if cloud_render else ())):
        if line:
            print(line)
    print(f"{args.cloud}: {flow}: {verdict}")
    return 0 if verdict.allowed else DENY_EXIT


def _inside(address: str, ranges: tuple[str, ...]) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ip in ipaddress.ip_network(r) for r in ranges)
