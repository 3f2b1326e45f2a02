"""Evaluate a flow against rendered Azure Firewall rules, in Azure's documented order.

Azure processes network rules before application rules, first match wins, default deny
(learn.microsoft.com/azure/firewall/rule-processing). Network rules of every rule collection group are
taken by group priority, then collection priority, then in order; application rules likewise after them.
Application rules see only HTTP (Host) and HTTPS/TLS (SNI) flows that carry a host name: ``Http`` matches
``http``, ``Https`` matches ``https`` and ``tls``, on the listed port. A target ``*.x.com`` matches the
subdomains of ``x.com``, never ``x.com`` itself. Network rules match the flow's address (in
``destinationAddresses`` or an IP Group's contents) or, with DNS proxy, its host in ``destinationFqdns``,
with the protocol and port. Classic rule collections are evaluated the same way.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

from ..endpoints.names import wildcard_matches
from ..renderers.azure.render import AzureRender
from .flow import Flow, Verdict

Collection = tuple[str, list[dict[str, Any]]]  # ("<group>/<collection>", rules)


def evaluate(render: AzureRender, flow: Flow) -> Verdict:
    network, application = _collections(render)
    members = {g.id: g.addresses for g in render.ip_groups}
    for path, rules in network:
        for rule in rules:
            if _sources(rule, flow, members) and _network(rule, flow, members):
                return Verdict(True, f"{path}/{rule['name']}", "network rule")
    if flow.proto in ("http", "https", "tls") and flow.host:
        for path, rules in application:
            for rule in rules:
                if _sources(rule, flow, members) and _application(rule, flow):
                    return Verdict(True, f"{path}/{rule['name']}", "application rule")
    return Verdict(False, None, "no rule matches")


def _collections(render: AzureRender) -> tuple[list[Collection], list[Collection]]:
    network: list[tuple[tuple[int, int], str, list]] = []
    application: list[tuple[tuple[int, int], str, list]] = []
    if render.classic is not None:
        for key, out in (("networkRuleCollections", network), ("applicationRuleCollections", application)):
            for c in render.classic[key]:
                out.append(
                    ((c["properties"]["priority"], 0), f"{render.firewall_name}/{c['name']}", c["properties"]["rules"])
                )
    else:
        for g in render.groups:
            for c in g.body["properties"]["ruleCollections"]:
                kinds = {r.get("ruleType") for r in c["rules"]}
                out = network if kinds == {"NetworkRule"} else application
                assert kinds <= {"NetworkRule"} or kinds <= {"ApplicationRule"}, kinds
                out.append(((g.priority, c["priority"]), f"{g.name}/{c['name']}", c["rules"]))
    order = lambda item: item[0]  # noqa: E731
    return ([(p, r) for _, p, r in sorted(network, key=order)], [(p, r) for _, p, r in sorted(application, key=order)])


def _in(ip: str, values: Iterator[str] | list[str]) -> bool:
    address = ipaddress.ip_address(ip)
    return any(v == "*" or address in ipaddress.ip_network(v) for v in values)


def _addresses(rule: dict[str, Any], side: str, members: dict[str, tuple[str, ...]]) -> list[str]:
    out = list(rule.get(f"{side}Addresses", []))
    for gid in rule.get(f"{side}IpGroups", []):
        out.extend(members[gid])
    return out


def _sources(rule: dict[str, Any], flow: Flow, members: dict[str, tuple[str, ...]]) -> bool:
    """A flow without a source is taken to come from a managed device (inside the rule's sources)."""
    return flow.source is None or _in(flow.source, _addresses(rule, "source", members))


def _network(rule: dict[str, Any], flow: Flow, members: dict[str, tuple[str, ...]]) -> bool:
    protocols = rule.get("ipProtocols", rule.get("protocols", []))
    wanted = "UDP" if flow.proto == "udp" else "TCP"
    if wanted not in protocols and "Any" not in protocols:
        return False
    if not any(_port_in(flow.port, p) for p in rule.get("destinationPorts", [])):
        return False
    if flow.ip and _in(flow.ip, _addresses(rule, "destination", members)):
        return True
    return bool(flow.host) and (flow.host or "").lower().rstrip(".") in {
        f.lower() for f in rule.get("destinationFqdns", [])
    }


def _port_in(port: int, spec: str) -> bool:
    if spec == "*":
        return True
    first, _, last = spec.partition("-")
    return int(first) <= port <= int(last or first)


def _application(rule: dict[str, Any], flow: Flow) -> bool:
    kind = "Http" if flow.proto == "http" else "Https"
    if not any(p.get("protocolType") == kind and p.get("port") == flow.port for p in rule.get("protocols", [])):
        return False
    assert flow.host is not None
    return any(fqdn_matches(target, flow.host) for target in rule.get("targetFqdns", []))


def fqdn_matches(target: str, host: str) -> bool:
    """Azure's target FQDN match: the catalogue's meaning (:func:`wildcard_matches`: exact, or ``*.x.com`` for
    subdomains of ``x.com`` only), and ``*`` for any."""
    if target == "*":
        return True
    if target.startswith("*") and not target.startswith("*."):
        # '*contoso.com' also matches 'evilcontoso.com' (the renderer never writes it)
        return host.lower().rstrip(".").endswith(target[1:].lower())
    return wildcard_matches(target, host)
