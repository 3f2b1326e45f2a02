"""Guardrails: the plain validators, the same through pulumi_policy's validate functions, and epfw's record form.

Never construct ``PolicyPack`` here: it starts the analyzer server and blocks.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import pytest
from conftest import ROOT

from endpoint_firewall import guardrails as guard
from endpoint_firewall.guardrails import (
    AWS_RULE_GROUP,
    AZURE_FIREWALL,
    AZURE_GROUP,
    AZURE_IP_GROUP,
    AZURE_POLICY,
    StackResource,
    Violation,
    check_aws_capacity,
    check_network_fqdn_dns_proxy,
    check_no_allow_any,
    check_no_public_suffix_wildcard,
    check_stack_dns_proxy,
    check_stack_serialized,
    validate_resource,
    validate_resources,
)

try:  # the pack's SDK (policy/requirements.txt; the test extra): only the "through pulumi_policy" tests need it
    from pulumi_policy import (
        PolicyCustomTimeouts,
        PolicyResource,
        PolicyResourceOptions,
        ResourceValidationArgs,
        StackValidationArgs,
    )
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy
except ImportError:  # pragma: no cover
    HAVE_POLICY_SDK = False
else:
    HAVE_POLICY_SDK = True
needs_sdk = pytest.mark.skipif(not HAVE_POLICY_SDK, reason="pulumi-policy is not installed")

SOURCES = ["10.10.0.0/16"]


# --- builders of realistic inputs (camelCase, as the components register them) ----------------------------


def app_rule(fqdns: list[str], sources: list[str] | None = None, **extra: Any) -> dict:
    return {
        "ruleType": "ApplicationRule",
        "name": "intune-core-fqdn-https443",
        "protocols": [{"protocolType": "Https", "port": 443}],
        "sourceAddresses": sources or SOURCES,
        "targetFqdns": fqdns,
        **extra,
    }


def net_rule(
    *,
    addresses: list[str] | None = None,
    fqdns: list[str] | None = None,
    sources: list[str] | None = None,
    name: str = "intune-core-ip-tcp443",
) -> dict:
    rule: dict[str, Any] = {
        "ruleType": "NetworkRule",
        "name": name,
        "ipProtocols": ["TCP"],
        "sourceAddresses": sources or SOURCES,
        "destinationPorts": ["443"],
    }
    if addresses is not None:
        rule["destinationAddresses"] = addresses
    if fqdns is not None:
        rule["destinationFqdns"] = fqdns
    return rule


def group(
    *rules: dict,
    action: str = "Allow",
    policy: str = "fwpol-egress-dev",
    name: str = "epfw-dev-intune-core",
    collection_type: str = "FirewallPolicyFilterRuleCollection",
) -> dict:
    return {
        "resourceGroupName": "rg-egress-dev",
        "firewallPolicyName": policy,
        "ruleCollectionGroupName": name,
        "priority": 1000,
        "ruleCollections": [
            {
                "ruleCollectionType": collection_type,
                "name": "rules",
                "priority": 100,
                "action": {"type": action},
                "rules": list(rules),
            }
        ],
    }


def classic(
    app: Sequence[dict] = (), net: Sequence[dict] = (), dns_proxy: bool | None = None, action: str = "Allow"
) -> dict:
    props: dict[str, Any] = {
        "resourceGroupName": "rg",
        "azureFirewallName": "fw",
        "applicationRuleCollections": [
            {"name": "app", "priority": 200, "action": {"type": action}, "rules": [dict(r) for r in app]}
        ],
        "networkRuleCollections": [
            {"name": "net", "priority": 100, "action": {"type": action}, "rules": [dict(r) for r in net]}
        ],
    }
    for coll in props["applicationRuleCollections"] + props["networkRuleCollections"]:
        for rule in coll["rules"]:
            rule.pop("ruleType", None)
    if dns_proxy is not None:
        props["additionalProperties"] = {"Network.DNS.EnableProxy": "true" if dns_proxy else "false"}
    return props


def aws_group(
    *,
    targets: list[str] | None = None,
    rules: str | None = None,
    capacity: int = 100,
    ip_sets: dict[str, list[str]] | None = None,
    list_type: str = "ALLOWLIST",
    target_types: tuple[str, ...] = ("TLS_SNI", "HTTP_HOST"),
) -> dict:
    source: dict[str, Any] = {}
    if targets is not None:
        source["rulesSourceList"] = {
            "generatedRulesType": list_type,
            "targetTypes": list(target_types),
            "targets": targets,
        }
    if rules is not None:
        source["rulesString"] = rules
    variables = {
        "ipSets": [{"key": k, "ipSet": {"definitions": v}} for k, v in (ip_sets or {"HOME_NET": SOURCES}).items()]
    }
    return {
        "name": "epfw-dev-intune-core",
        "type": "STATEFUL",
        "capacity": capacity,
        "ruleGroup": {
            "rulesSource": source,
            "ruleVariables": variables,
            "statefulRuleOptions": {"ruleOrder": "DEFAULT_ACTION_ORDER"},
        },
    }


SNI_EXACT = (
    "pass tls $HOME_NET any -> $EXTERNAL_NET 443 (ssl_state:client_hello; tls.sni; "
    'content:"manage.microsoft.com"; startswith; nocase; endswith; msg:"intune"; sid:1000001; rev:1;)'
)
SNI_WILDCARD = (
    "pass tls $HOME_NET any -> $EXTERNAL_NET 443 (ssl_state:client_hello; tls.sni; "
    'content:".manage.microsoft.com"; nocase; endswith; msg:"intune"; sid:1000002; rev:1;)'
)
DROP_ANY = 'drop tls $HOME_NET any -> $EXTERNAL_NET any (ssl_state:client_hello; msg:"default"; sid:1000003; rev:1;)'


# --- no-allow-any ---------------------------------------------------------------------------------------

GOOD_ANY = [
    (
        AZURE_GROUP,
        group(app_rule(["manage.microsoft.com", "*.manage.microsoft.com"]), net_rule(addresses=["13.107.6.0/24"])),
    ),
    (AZURE_GROUP, group(app_rule(["*"]), action="Deny")),  # a deny to everything is not an allow rule
    (
        AZURE_GROUP,
        group(
            {
                "ruleType": "NatRule",
                "name": "dnat",
                "sourceAddresses": ["*"],
                "destinationAddresses": ["20.1.2.3"],
                "translatedAddress": "10.0.0.4",
            },
            collection_type="FirewallPolicyNatRuleCollection",
            action="DNAT",
        ),
    ),
    (AZURE_FIREWALL, classic(app=[app_rule(["manage.microsoft.com"])], net=[net_rule(addresses=["13.107.6.0/24"])])),
    (AZURE_IP_GROUP, {"ipGroupsName": "epfw-dev-sources", "ipAddresses": ["10.10.0.0/16", "192.168.0.0/24"]}),
    (AWS_RULE_GROUP, aws_group(targets=[".manage.microsoft.com", "login.microsoftonline.com"])),
    (AWS_RULE_GROUP, aws_group(targets=["."], list_type="DENYLIST")),
    (AWS_RULE_GROUP, aws_group(rules="\n".join([SNI_EXACT, SNI_WILDCARD, DROP_ANY]))),
    (
        AWS_RULE_GROUP,
        aws_group(
            rules='pass tcp $HOME_NET any -> $M365_NET 443 (msg:"ips"; sid:5; rev:1;)',
            ip_sets={"HOME_NET": SOURCES, "M365_NET": ["13.107.6.0/24"]},
        ),
    ),
    (
        AWS_RULE_GROUP,
        aws_group(
            rules='pass tcp $HOME_NET any <> $EXTERNAL_NET any (flow:not_established; msg:"handshake"; sid:6; rev:1;)'
        ),
    ),
    (
        AWS_RULE_GROUP,
        aws_group(
            rules='pass tcp $HOME_NET any -> $PEERS 7680 (msg:"do"; sid:7; rev:1;)',
            ip_sets={"HOME_NET": SOURCES, "PEERS": SOURCES},
        ),
    ),
]

BAD_ANY = [
    (AZURE_GROUP, group(app_rule(["*"])), "targetFqdns '*' allows every name"),
    (AZURE_GROUP, group(app_rule(["manage.microsoft.com"], sources=["*"])), "sourceAddresses '*' allows every source"),
    (AZURE_GROUP, group(net_rule(addresses=["0.0.0.0/0"])), "destinationAddresses '0.0.0.0/0'"),
    (AZURE_GROUP, group(net_rule(addresses=["::/0"])), "destinationAddresses '::/0'"),
    (AZURE_GROUP, group(net_rule(addresses=["*"])), "destinationAddresses '*'"),
    (AZURE_GROUP, group(net_rule(addresses=["Internet"])), "destinationAddresses 'Internet'"),
    (AZURE_GROUP, group(net_rule(addresses=["0.0.0.0-255.255.255.255"])), "0.0.0.0-255.255.255.255"),
    (AZURE_GROUP, group(net_rule(fqdns=["*"])), "destinationFqdns '*' allows every name"),
    (AZURE_GROUP, group(app_rule([], targetUrls=["*/path"])), "targetUrls '*/path' allows every name"),
    (AZURE_FIREWALL, classic(app=[app_rule(["*"])]), "targetFqdns '*'"),
    (AZURE_FIREWALL, classic(net=[net_rule(addresses=["0.0.0.0/0"])]), "destinationAddresses '0.0.0.0/0'"),
    (AZURE_FIREWALL, classic(net=[net_rule(addresses=["13.107.6.0/24"], sources=["*"])]), "sourceAddresses '*'"),
    (AZURE_IP_GROUP, {"ipGroupsName": "g", "ipAddresses": ["10.0.0.0/8", "0.0.0.0/0"]}, "'0.0.0.0/0' is every address"),
    (AZURE_IP_GROUP, {"ipGroupsName": "g", "ipAddresses": ["::/0"]}, "'::/0' is every address"),
    (AWS_RULE_GROUP, aws_group(targets=["."]), "domain-list target '.' allows every name"),
    (AWS_RULE_GROUP, aws_group(targets=["*"]), "domain-list target '*' allows every name"),
    (
        AWS_RULE_GROUP,
        aws_group(rules='pass tcp $HOME_NET any -> any 443 (msg:"x"; sid:9; rev:1;)'),
        "pass rule sid 9: destination any",
    ),
    (
        AWS_RULE_GROUP,
        aws_group(rules='pass ip $HOME_NET any -> 0.0.0.0/0 any (msg:"x"; sid:10; rev:1;)'),
        "destination 0.0.0.0/0",
    ),
    (
        AWS_RULE_GROUP,
        aws_group(rules="pass tcp $HOME_NET any -> [13.107.6.0/24,0.0.0.0/0] 443 (sid:11;)"),
        "destination [13.107.6.0/24,0.0.0.0/0]",
    ),
    (
        AWS_RULE_GROUP,
        aws_group(rules='pass tcp $HOME_NET any -> $EXTERNAL_NET 443 (msg:"x"; sid:12; rev:1;)'),
        "destination $EXTERNAL_NET with no host-name match",
    ),
    (AWS_RULE_GROUP, aws_group(rules="pass tcp $HOME_NET any -> !10.0.0.0/8 443 (sid:13;)"), "destination !10.0.0.0/8"),
    (
        AWS_RULE_GROUP,
        aws_group(
            rules="pass tcp $HOME_NET any -> $WIDE 443 (sid:14;)", ip_sets={"HOME_NET": SOURCES, "WIDE": ["0.0.0.0/0"]}
        ),
        "IP set variable $WIDE is defined as '0.0.0.0/0'",
    ),
    (AWS_RULE_GROUP, aws_group(rules=SNI_EXACT.replace("$HOME_NET", "any")), "source any allows every source"),
    (
        AWS_RULE_GROUP,
        aws_group(rules="pass udp $HOME_NET any -> any any (flow:not_established; sid:15;)"),
        "destination any",
    ),
]


@pytest.mark.parametrize("resource_type,props", GOOD_ANY)
def test_no_allow_any_passes_narrow_rules(resource_type, props):
    assert check_no_allow_any(resource_type, props) == []


@pytest.mark.parametrize("resource_type,props,expected", BAD_ANY)
def test_no_allow_any_refuses_every_address_or_name(resource_type, props, expected):
    messages = check_no_allow_any(resource_type, props)
    assert any(expected in m for m in messages), messages


def test_aws_structured_and_stateless_pass_rules():
    props = aws_group()
    props["ruleGroup"]["rulesSource"] = {
        "statefulRules": [
            {
                "action": "PASS",
                "header": {
                    "protocol": "TCP",
                    "source": "$HOME_NET",
                    "sourcePort": "ANY",
                    "direction": "FORWARD",
                    "destination": "ANY",
                    "destinationPort": "443",
                },
                "ruleOptions": [{"keyword": "sid", "settings": ["1"]}],
            },
            {
                "action": "DROP",
                "header": {
                    "protocol": "IP",
                    "source": "ANY",
                    "sourcePort": "ANY",
                    "direction": "ANY",
                    "destination": "ANY",
                    "destinationPort": "ANY",
                },
            },
        ]
    }
    assert [m for m in check_no_allow_any(AWS_RULE_GROUP, props)] == [
        "stateful rule 0: PASS to 'ANY' allows every destination"
    ]
    props["ruleGroup"]["rulesSource"] = {
        "statelessRulesAndCustomActions": {
            "statelessRules": [
                {
                    "priority": 1,
                    "ruleDefinition": {
                        "actions": ["aws:pass"],
                        "matchAttributes": {
                            "sources": [{"addressDefinition": "10.10.0.0/16"}],
                            "destinations": [{"addressDefinition": "0.0.0.0/0"}],
                        },
                    },
                },
                {"priority": 2, "ruleDefinition": {"actions": ["aws:forward_to_sfe"], "matchAttributes": {}}},
            ]
        }
    }
    assert check_no_allow_any(AWS_RULE_GROUP, props) == ["stateless rule 0: aws:pass to every destination"]


# --- no-public-suffix-wildcard -----------------------------------------------------------------------------

GOOD_SUFFIX = [
    (AZURE_GROUP, group(app_rule(["*.manage.microsoft.com", "login.microsoftonline.com"]))),
    (AZURE_GROUP, group(app_rule(["*.com"]), action="Deny")),
    (AZURE_FIREWALL, classic(app=[app_rule(["*.push.apple.com"])])),
    (AWS_RULE_GROUP, aws_group(targets=[".push.apple.com", "mtalk.google.com"])),
    (AWS_RULE_GROUP, aws_group(rules="\n".join([SNI_EXACT, SNI_WILDCARD]))),
    (
        AWS_RULE_GROUP,
        aws_group(
            rules='pass tls $HOME_NET any -> $EXTERNAL_NET any (tls.sni; content:"com"; startswith; endswith; sid:3;)'
        ),
    ),  # exact host "com": odd but not a wildcard
]

BAD_SUFFIX = [
    (AZURE_GROUP, group(app_rule(["*.com"])), "'*.com' is a wildcard on the public suffix 'com'"),
    (AZURE_GROUP, group(app_rule(["*.co.uk"])), "public suffix 'co.uk'"),
    (AZURE_GROUP, group(app_rule(["*.azurewebsites.net"])), "public suffix 'azurewebsites.net'"),  # private suffix
    (
        AZURE_GROUP,
        group(app_rule([], targetUrls=["*.blob.core.windows.net/x"])),
        "public suffix 'blob.core.windows.net'",
    ),
    (AZURE_FIREWALL, classic(app=[app_rule(["*.net"])]), "public suffix 'net'"),
    (AWS_RULE_GROUP, aws_group(targets=[".com"]), "domain-list target '.com'"),
    (AWS_RULE_GROUP, aws_group(targets=[".cloudfront.net"]), "public suffix 'cloudfront.net'"),
    (
        AWS_RULE_GROUP,
        aws_group(rules=SNI_WILDCARD.replace(".manage.microsoft.com", ".com")),
        "host match '.com' is a suffix match on the public suffix 'com'",
    ),
    (
        AWS_RULE_GROUP,
        aws_group(
            rules="pass http $HOME_NET any -> $EXTERNAL_NET 80 (http.host; dotprefix; "
            'content:".co.uk"; endswith; sid:4;)'
        ),
        "public suffix 'co.uk'",
    ),
    (
        AWS_RULE_GROUP,
        aws_group(rules='pass tls $HOME_NET any -> $EXTERNAL_NET 443 (content:".org"; tls_sni; endswith; sid:5;)'),
        "public suffix 'org'",
    ),  # legacy content modifier
]


@pytest.mark.parametrize("resource_type,props", GOOD_SUFFIX)
def test_public_suffix_wildcard_passes_real_domains(resource_type, props):
    assert check_no_public_suffix_wildcard(resource_type, props) == []


@pytest.mark.parametrize("resource_type,props,expected", BAD_SUFFIX)
def test_public_suffix_wildcard_refused(resource_type, props, expected):
    messages = check_no_public_suffix_wildcard(resource_type, props)
    assert any(expected in m for m in messages), messages


def test_suffix_judgement_is_the_catalogue_one():
    from endpoint_firewall.endpoints.names import is_public_suffix

    assert is_public_suffix("azurewebsites.net") and not is_public_suffix("manage.microsoft.com")


# --- network-fqdn-needs-dns-proxy (resource) --------------------------------------------------------------


def test_classic_firewall_fqdn_network_rule_needs_its_dns_proxy():
    rule = net_rule(fqdns=["time.windows.com"], name="ntp")
    assert check_network_fqdn_dns_proxy(AZURE_FIREWALL, classic(net=[rule], dns_proxy=True)) == []
    for props in (classic(net=[rule], dns_proxy=False), classic(net=[rule])):
        [message] = check_network_fqdn_dns_proxy(AZURE_FIREWALL, props)
        assert "net/ntp" in message and "DNS proxy is off" in message
    assert check_network_fqdn_dns_proxy(AZURE_FIREWALL, classic(net=[net_rule(addresses=["1.2.3.4"])])) == []


def test_group_on_a_declared_external_policy():
    props = group(net_rule(fqdns=["time.windows.com"], name="ntp"), policy="fwpol-egress-prod")
    off = {"externalPolicies": {"fwpol-egress-prod": {"dnsProxy": False}}}
    on = {"externalPolicies": {"fwpol-egress-prod": {"dnsProxy": True}}}
    [message] = check_network_fqdn_dns_proxy(AZURE_GROUP, props, off)
    assert "'fwpol-egress-prod' is declared without DNS proxy" in message
    assert check_network_fqdn_dns_proxy(AZURE_GROUP, props, on) == []
    assert check_network_fqdn_dns_proxy(AZURE_GROUP, props, None) == []  # undeclared: the stack policy decides
    assert (
        check_network_fqdn_dns_proxy(AZURE_GROUP, group(app_rule(["a.example.com"]), policy="fwpol-egress-prod"), off)
        == []
    )


# --- aws-capacity-headroom ------------------------------------------------------------------------------


def test_capacity_counts_domain_lists_and_rules():
    assert guard.rules_capacity(aws_group(targets=["a.example.com", ".b.example.com"])) == 2 * 2 + 2
    assert guard.rules_capacity(aws_group(targets=["a.example.com"], target_types=("TLS_SNI",))) == 2
    text = "# comment\n\n" + "\n".join([SNI_EXACT, SNI_WILDCARD, DROP_ANY])
    assert guard.rules_capacity(aws_group(rules=text)) == 3


@pytest.mark.parametrize(
    "capacity,config,ok",
    [
        (100, None, True),
        (7, None, True),
        (6, None, False),
        (5, None, False),
        (9, {"minHeadroom": 0.5}, True),
        (8, {"minHeadroom": 0.5}, False),
    ],
)
def test_capacity_headroom(capacity, config, ok):
    props = aws_group(targets=["a.example.com", ".b.example.com"], capacity=capacity)  # uses 6
    messages = check_aws_capacity(AWS_RULE_GROUP, props, config)
    assert (messages == []) is ok, messages
    if not ok:
        assert "the rules use 6" in messages[0]


def test_capacity_not_a_number_and_other_types_ignored():
    props = aws_group(targets=["a.example.com"])
    props["capacity"] = None
    assert "is not a number" in check_aws_capacity(AWS_RULE_GROUP, props)[0]
    assert check_aws_capacity(AZURE_GROUP, group(app_rule(["a.example.com"]))) == []


def test_validate_resource_prefixes_policy_names():
    messages = validate_resource(AZURE_GROUP, group(app_rule(["*", "*.com"])))
    assert {m.split(":")[0] for m in messages} == {"no-allow-any", "no-public-suffix-wildcard"}
    assert validate_resource(AZURE_GROUP, group(app_rule(["manage.microsoft.com"]))) == []
    assert validate_resource("azure-native:storage:StorageAccount", {"anything": "*"}) == []


# --- stack checks: DNS proxy and serialization ----------------------------------------------------------


def res(typ: str, name: str, props: dict, deps: tuple[str, ...] | None = (), **kw: Any) -> StackResource:
    return StackResource(typ, name, f"urn:{name}", props, deps, **kw)


def azure_policy(name: str = "fwpol-egress-dev", proxy: bool = True) -> dict:
    return {"resourceGroupName": "rg-egress-dev", "firewallPolicyName": name, "dnsSettings": {"enableProxy": proxy}}


def test_stack_dns_proxy_on_a_policy_in_the_stack():
    fqdn_group = group(net_rule(fqdns=["time.windows.com"], name="ntp"))
    ok = [res(AZURE_POLICY, "policy", azure_policy(proxy=True)), res(AZURE_GROUP, "g1", fqdn_group, ("urn:policy",))]
    assert check_stack_dns_proxy(ok) == []
    bad = [res(AZURE_POLICY, "policy", azure_policy(proxy=False)), res(AZURE_GROUP, "g1", fqdn_group, ("urn:policy",))]
    [(urn, message)] = check_stack_dns_proxy(bad)
    assert urn == "urn:g1" and "dnsSettings.enableProxy off" in message
    no_settings = [
        res(AZURE_POLICY, "policy", {"firewallPolicyName": "fwpol-egress-dev"}),
        res(AZURE_GROUP, "g1", fqdn_group),
    ]
    assert len(check_stack_dns_proxy(no_settings)) == 1
    no_fqdns = [
        res(AZURE_POLICY, "policy", azure_policy(proxy=False)),
        res(AZURE_GROUP, "g1", group(net_rule(addresses=["1.2.3.4"]))),
    ]
    assert check_stack_dns_proxy(no_fqdns) == []


def test_stack_dns_proxy_matches_policies_by_outputs_or_dependency():
    # Stack analysis sees outputs: the group has no firewallPolicyName, only an id (or a property dependency).
    outputs = group(net_rule(fqdns=["time.windows.com"]))
    del outputs["firewallPolicyName"], outputs["resourceGroupName"]
    with_id = dict(
        outputs,
        id="/subscriptions/s/resourceGroups/rg-egress-dev/providers/Microsoft.Network/"
        "firewallPolicies/fwpol-egress-dev/ruleCollectionGroups/g1",
    )
    policy_outputs = {"name": "fwpol-egress-dev", "dnsSettings": {"enableProxy": False}}
    assert len(check_stack_dns_proxy([res(AZURE_POLICY, "p", policy_outputs), res(AZURE_GROUP, "g1", with_id)])) == 1
    linked = res(AZURE_GROUP, "g1", outputs, ("urn:p",), property_dependencies={"firewallPolicyName": ("urn:p",)})
    on = dict(policy_outputs, dnsSettings={"enableProxy": True})
    assert check_stack_dns_proxy([res(AZURE_POLICY, "p", on), linked]) == []
    assert len(check_stack_dns_proxy([res(AZURE_POLICY, "p", policy_outputs), linked])) == 1


def test_stack_dns_proxy_external_policy_must_be_declared():
    fqdn_group = group(net_rule(fqdns=["time.windows.com"]), policy="fwpol-egress-prod")
    [(_, message)] = check_stack_dns_proxy([res(AZURE_GROUP, "g1", fqdn_group)])
    assert "not in this stack and not declared" in message
    declared = {"externalPolicies": {"fwpol-egress-prod": {"dnsProxy": True}}}
    assert check_stack_dns_proxy([res(AZURE_GROUP, "g1", fqdn_group)], declared) == []


def chain(deps: list[tuple[str, ...]], ip_first: bool = True) -> list[StackResource]:
    ip = res(
        AZURE_IP_GROUP,
        "ip",
        {"resourceGroupName": "rg-egress-dev", "ipGroupsName": "epfw-dev-sources", "ipAddresses": SOURCES},
        deps[0],
    )
    rule = app_rule(["manage.microsoft.com"], sources=None)
    del rule["sourceAddresses"]
    rule["sourceIpGroups"] = [
        "/subscriptions/s/resourceGroups/rg-egress-dev/providers/Microsoft.Network/ipGroups/epfw-dev-sources"
    ]
    groups = [res(AZURE_GROUP, f"g{i}", group(rule, name=f"g{i}"), deps[i]) for i in (1, 2, 3)]
    return [res(AZURE_POLICY, "policy", azure_policy()), ip, *groups]


def test_serialized_chain_passes():
    resources = chain([("urn:policy",), ("urn:policy", "urn:ip"), ("urn:g1",), ("urn:g2",)])
    assert check_stack_serialized(resources) == []
    members = guard.policy_members(resources)
    assert [m.name for m in members["policy"]] == ["ip", "g1", "g2", "g3"]


def test_serialized_transitively_through_other_resources():
    resources = chain([(), ("urn:ip",), ("urn:x",), ("urn:g2",)])
    resources.insert(3, res("random:index:RandomId", "x", {}, ("urn:g1",)))
    assert check_stack_serialized(resources) == []


def test_unserialized_groups_refused():
    # g2 and g3 both depend on g1 only: Azure would be asked to write g2 and g3 at once.
    resources = chain([(), ("urn:ip",), ("urn:g1",), ("urn:g1",)])
    [(urn, message)] = check_stack_serialized(resources)
    assert urn == "urn:g3" and "g3 does not depend on g2" in message
    # the IP Group referenced by the groups is a member too: g1 must come after it
    resources = chain([(), (), ("urn:g1",), ("urn:g2",)])
    [(urn, message)] = check_stack_serialized(resources)
    assert urn == "urn:g1" and "g1 does not depend on ip" in message


def test_groups_on_different_policies_are_independent():
    a = res(AZURE_GROUP, "a", group(app_rule(["x.example.com"]), policy="p1"))
    b = res(AZURE_GROUP, "b", group(app_rule(["x.example.com"]), policy="p2"))
    assert check_stack_serialized([a, b]) == []
    c = res(AZURE_GROUP, "c", group(app_rule(["x.example.com"]), policy="p1"))
    assert len(check_stack_serialized([a, b, c])) == 1


# --- the same through pulumi_policy --------------------------------------------------------------------


def policies_by_name() -> dict[str, Any]:
    return {p.name: p for p in guard.pulumi_policies()}


def options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def run_resource_policy(name: str, resource_type: str, props: dict, config: dict | None = None) -> list[str]:
    policy = policies_by_name()[name]
    args = ResourceValidationArgs(
        resource_type, unknown_checking_proxy(copy.deepcopy(props)), f"urn:{name}", "r", options(), None, config
    )
    reported: list[str] = []
    result = policy.validate(args, lambda message, urn=None: reported.append(message))
    assert result is None
    return reported


@needs_sdk
def test_pack_policies_are_mandatory_by_default_and_named():
    from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

    policies = policies_by_name()
    assert set(policies) == set(guard.RESOURCE_CHECKS) | set(guard.STACK_CHECKS)
    assert all(isinstance(policies[n], ResourceValidationPolicy) for n in guard.RESOURCE_CHECKS)
    assert all(isinstance(policies[n], StackValidationPolicy) for n in guard.STACK_CHECKS)
    # None: the pack's enforcement level (MANDATORY in policy/__main__.py) applies; the declared allow_any
    # exceptions are reported by the one advisory policy
    from pulumi_policy import EnforcementLevel

    assert {n: p.enforcement_level for n, p in policies.items() if p.enforcement_level is not None} == {
        "allow-any-exception": EnforcementLevel.ADVISORY,
        "dns-alert-only": EnforcementLevel.ADVISORY,  # a DNS layer in its rollout (mode alert) blocks nothing yet
    }
    main = ROOT / "policy" / "__main__.py"
    assert "enforcement_level=EnforcementLevel.MANDATORY" in main.read_text()


@needs_sdk
@pytest.mark.parametrize("resource_type,props,expected", BAD_ANY)
def test_pack_no_allow_any_bad(resource_type, props, expected):
    assert any(expected in m for m in run_resource_policy("no-allow-any", resource_type, props))


@needs_sdk
@pytest.mark.parametrize("resource_type,props", GOOD_ANY)
def test_pack_no_allow_any_good(resource_type, props):
    assert run_resource_policy("no-allow-any", resource_type, props) == []


@needs_sdk
@pytest.mark.parametrize("resource_type,props,expected", BAD_SUFFIX)
def test_pack_public_suffix_bad(resource_type, props, expected):
    assert any(expected in m for m in run_resource_policy("no-public-suffix-wildcard", resource_type, props))


@needs_sdk
@pytest.mark.parametrize("resource_type,props", GOOD_SUFFIX)
def test_pack_public_suffix_good(resource_type, props):
    assert run_resource_policy("no-public-suffix-wildcard", resource_type, props) == []


@needs_sdk
def test_pack_dns_proxy_and_capacity():
    rule = net_rule(fqdns=["time.windows.com"])
    assert run_resource_policy("network-fqdn-needs-dns-proxy", AZURE_FIREWALL, classic(net=[rule], dns_proxy=False))
    assert not run_resource_policy("network-fqdn-needs-dns-proxy", AZURE_FIREWALL, classic(net=[rule], dns_proxy=True))
    props = group(rule, policy="ext")
    assert run_resource_policy(
        "network-fqdn-needs-dns-proxy", AZURE_GROUP, props, {"externalPolicies": {"ext": {"dnsProxy": False}}}
    )
    assert run_resource_policy("aws-capacity-headroom", AWS_RULE_GROUP, aws_group(targets=["a.b.com"], capacity=4))
    assert not run_resource_policy("aws-capacity-headroom", AWS_RULE_GROUP, aws_group(targets=["a.b.com"], capacity=5))
    assert run_resource_policy(
        "aws-capacity-headroom", AWS_RULE_GROUP, aws_group(targets=["a.b.com"], capacity=5), {"minHeadroom": 1.0}
    )


@needs_sdk
def test_pack_resource_policy_ignores_other_types_and_surfaces_unknowns():
    assert run_resource_policy("no-allow-any", "aws:s3/bucket:Bucket", {"acl": "public-read"}) == []
    props = group(app_rule([UNKNOWN_STRING_VALUE]))
    with pytest.raises(UnknownValueError):  # pulumi_policy reports these as "can't run during preview"
        run_resource_policy("no-allow-any", AZURE_GROUP, props)
    # an unknown in a field no check reads does not stop the check
    rule = app_rule(["*"])
    rule["sourceIpGroups"] = UNKNOWN_STRING_VALUE
    assert run_resource_policy("no-allow-any", AZURE_GROUP, group(rule))


def policy_resources(items: list[tuple[str, str, dict, list[str], dict[str, list[str]]]]) -> list[PolicyResource]:
    out = [
        PolicyResource(t, unknown_checking_proxy(copy.deepcopy(p)), f"urn:{n}", n, options(), None, None, [], {})
        for t, n, p, _, _ in items
    ]
    by = {r.urn: r for r in out}
    for resource, (_, _, _, deps, prop_deps) in zip(out, items, strict=False):
        resource.dependencies = [by[d] for d in deps]
        resource.property_dependencies = {k: [by[d] for d in v] for k, v in prop_deps.items()}
    return out


def run_stack_policy(name: str, resources: list[PolicyResource], config: dict | None = None) -> list[tuple[str, Any]]:
    reported: list[tuple[str, Any]] = []
    policies_by_name()[name].validate(
        StackValidationArgs(resources, config), lambda message, urn=None: reported.append((message, urn))
    )
    return reported


@needs_sdk
def test_pack_stack_policies_use_policy_resource_dependencies():
    rule = app_rule(["manage.microsoft.com"])
    serial = policy_resources(
        [
            (AZURE_POLICY, "policy", azure_policy(), [], {}),
            (AZURE_GROUP, "g1", group(rule, name="g1"), ["urn:policy"], {"firewallPolicyName": ["urn:policy"]}),
            (AZURE_GROUP, "g2", group(rule, name="g2"), ["urn:policy", "urn:g1"], {}),
        ]
    )
    assert run_stack_policy("rule-groups-serialized", serial) == []
    parallel = policy_resources(
        [
            (AZURE_POLICY, "policy", azure_policy(), [], {}),
            (AZURE_GROUP, "g1", group(rule, name="g1"), ["urn:policy"], {}),
            (AZURE_GROUP, "g2", group(rule, name="g2"), ["urn:policy"], {}),
        ]
    )
    [(message, urn)] = run_stack_policy("rule-groups-serialized", parallel)
    assert urn == "urn:g2" and "g2 does not depend on g1" in message


@needs_sdk
def test_pack_stack_dns_proxy():
    rule = net_rule(fqdns=["time.windows.com"])
    resources = policy_resources(
        [
            (AZURE_POLICY, "policy", azure_policy(proxy=False), [], {}),
            (AZURE_GROUP, "g1", group(rule), ["urn:policy"], {}),
        ]
    )
    [(message, urn)] = run_stack_policy("network-fqdn-needs-dns-proxy-stack", resources)
    assert urn == "urn:g1" and "enableProxy off" in message
    resources = policy_resources([(AZURE_GROUP, "g1", group(rule, policy="ext"), [], {})])
    assert run_stack_policy("network-fqdn-needs-dns-proxy-stack", resources)
    assert not run_stack_policy(
        "network-fqdn-needs-dns-proxy-stack", resources, {"externalPolicies": {"ext": {"dnsProxy": True}}}
    )


# --- review gaps: glued wildcards, address unions, unanchored Suricata host matches ------------------------
# (policy, resource type, props, expected message part); each is checked directly (the check function and
# validate_resource) and through pulumi_policy's ResourceValidationArgs.

ANY_PORT = {"ipProtocols": ["Any"], "destinationPorts": ["*"]}
HALVES_V4 = ["0.0.0.0/1", "128.0.0.0/1"]
HALVES_V6 = ["::/1", "8000::/1"]


def any_port_rule(addresses: list[str], sources: list[str] | None = None) -> dict:
    return {**net_rule(addresses=addresses, sources=sources, name="everything"), **ANY_PORT}


def sni(match: str, sid: int = 20, dst: str = "$EXTERNAL_NET") -> str:
    return f'pass tls $HOME_NET any -> {dst} 443 (ssl_state:client_hello; {match} msg:"x"; sid:{sid}; rev:1;)'


SFX = "no-public-suffix-wildcard"
ANY = "no-allow-any"

BAD_GAPS = [
    # (1) a wildcard that is not the whole left-most label
    (
        SFX,
        AZURE_GROUP,
        group(app_rule(["*contoso.com"])),
        "targetFqdns '*contoso.com' has a wildcard that is not the whole left-most label (it also matches "
        "'evilcontoso.com'); write it as '*.contoso.com'",
    ),
    (SFX, AZURE_GROUP, group(app_rule(["api*.contoso.com"])), "'api*.contoso.com' has a wildcard that is not"),
    (SFX, AZURE_GROUP, group(app_rule(["*.*.contoso.com"])), "'*.*.contoso.com' has a wildcard that is not"),
    (SFX, AZURE_GROUP, group(app_rule(["www.*.contoso.com"])), "'www.*.contoso.com' has a wildcard that is not"),
    (SFX, AZURE_GROUP, group(app_rule([], targetUrls=["*contoso.com/path"])), "targetUrls '*contoso.com/path'"),
    (SFX, AZURE_GROUP, group(net_rule(fqdns=["*contoso.com"])), "destinationFqdns '*contoso.com'"),
    (SFX, AZURE_FIREWALL, classic(app=[app_rule(["*contoso.com"])]), "also matches 'evilcontoso.com'"),
    (SFX, AWS_RULE_GROUP, aws_group(targets=["*contoso.com"]), "domain-list target '*contoso.com'"),
    # (2) addresses that only together cover every address
    (
        ANY,
        AZURE_GROUP,
        group(any_port_rule(HALVES_V4)),
        "rule rules/everything: destinationAddresses ['0.0.0.0/1', '128.0.0.0/1'] together cover every IPv4 address, "
        "so the rule allows every destination",
    ),
    (ANY, AZURE_GROUP, group(any_port_rule(HALVES_V6)), "together cover every IPv6 address"),
    (ANY, AZURE_GROUP, group(net_rule(addresses=["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/1"])), "every IPv4 address"),
    (ANY, AZURE_GROUP, group(net_rule(addresses=["0.0.0.0-127.255.255.255", "128.0.0.0/1"])), "every IPv4 address"),
    (
        ANY,
        AZURE_GROUP,
        group(net_rule(addresses=["13.107.6.0/24"], sources=HALVES_V4)),
        "sourceAddresses ['0.0.0.0/1', '128.0.0.0/1'] together cover every IPv4 address, so the rule allows every source",
    ),
    (ANY, AZURE_FIREWALL, classic(net=[any_port_rule(HALVES_V4)]), "together cover every IPv4 address"),
    (
        ANY,
        AZURE_IP_GROUP,
        {"ipGroupsName": "g", "ipAddresses": HALVES_V6},
        "ipAddresses ['::/1', '8000::/1'] together cover every IPv6 address",
    ),
    (
        ANY,
        AWS_RULE_GROUP,
        aws_group(
            rules="pass ip $HOME_NET any -> $HALVES any (sid:21;)", ip_sets={"HOME_NET": SOURCES, "HALVES": HALVES_V4}
        ),
        "IP set variable $HALVES: its definitions ['0.0.0.0/1', '128.0.0.0/1'] together cover every IPv4 address",
    ),
    (
        ANY,
        AWS_RULE_GROUP,
        aws_group(
            rules="pass ip $HOME_NET any -> $HALVES any (sid:21;)", ip_sets={"HOME_NET": SOURCES, "HALVES": HALVES_V4}
        ),
        "pass rule sid 21: destination $HALVES with no host-name match allows every destination",
    ),
    (
        ANY,
        AWS_RULE_GROUP,
        aws_group(rules="pass ip $HOME_NET any -> [0.0.0.0/1,128.0.0.0/1] any (sid:22;)"),
        "pass rule sid 22: destination [0.0.0.0/1,128.0.0.0/1] with no host-name match",
    ),
    (
        ANY,
        AWS_RULE_GROUP,
        aws_group(
            rules="pass ip $HOME_NET any -> [$LOW,128.0.0.0/1] any (sid:23;)",
            ip_sets={"HOME_NET": SOURCES, "LOW": ["0.0.0.0/1"]},
        ),
        "pass rule sid 23: destination [$LOW,128.0.0.0/1]",
    ),
    # (3) Suricata host matches with no anchor (exact name, or a suffix starting with a dot)
    (
        SFX,
        AWS_RULE_GROUP,
        aws_group(rules=sni('tls.sni; content:"microsoft.com"; endswith;')),
        "pass rule sid 20: host match 'microsoft.com': a suffix match without a leading dot also matches "
        "'evilmicrosoft.com'",
    ),
    (
        SFX,
        AWS_RULE_GROUP,
        aws_group(rules=sni('tls.sni; content:"microsoft.com"; nocase; endswith;')),
        "also matches 'evilmicrosoft.com'",
    ),
    (
        SFX,
        AWS_RULE_GROUP,
        aws_group(rules=sni('tls.sni; dotprefix; content:"microsoft.com"; endswith;')),
        "also matches 'evilmicrosoft.com'",
    ),
    (
        SFX,
        AWS_RULE_GROUP,
        aws_group(rules=sni('content:"microsoft.com"; tls_sni; endswith;')),
        "also matches 'evilmicrosoft.com'",
    ),  # legacy content modifier
    (
        SFX,
        AWS_RULE_GROUP,
        aws_group(rules=sni('tls.sni; content:"microsoft.com";')),
        "not anchored at the end of the name and also matches 'microsoft.com.evil.example'",
    ),
    (
        SFX,
        AWS_RULE_GROUP,
        aws_group(rules=sni('tls.sni; content:"login.microsoft.com"; startswith;')),
        "also matches 'login.microsoft.com.evil.example'",
    ),
    (
        SFX,
        AWS_RULE_GROUP,
        aws_group(
            rules='pass http $HOME_NET any -> $EXTERNAL_NET 80 (http.host; content:"microsoft.com"; endswith; sid:24;)'
        ),
        "pass rule sid 24",
    ),
]

GOOD_GAPS = [
    (SFX, AZURE_GROUP, group(app_rule(["*.contoso.com", "contoso.com"]))),
    (SFX, AZURE_GROUP, group(app_rule(["*contoso.com"]), action="Deny")),
    (SFX, AZURE_GROUP, group(app_rule([], targetUrls=["www.contoso.com/*"]))),  # a path wildcard, not a name one
    (SFX, AWS_RULE_GROUP, aws_group(targets=[".contoso.com", "contoso.com"])),
    (ANY, AZURE_GROUP, group(any_port_rule(["0.0.0.0/1"]))),
    (ANY, AZURE_GROUP, group(any_port_rule(["0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/3", "224.0.0.0/4"]))),  # no 240/4
    (ANY, AZURE_GROUP, group(any_port_rule(["0.0.0.0/1", "8000::/1"]))),  # half of each family is not every address
    (ANY, AZURE_GROUP, group(any_port_rule(HALVES_V4), action="Deny")),
    (ANY, AZURE_IP_GROUP, {"ipGroupsName": "g", "ipAddresses": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]}),
    (
        ANY,
        AWS_RULE_GROUP,
        aws_group(
            rules="pass ip $HOME_NET any -> $PEERS any (sid:25;)",
            ip_sets={"HOME_NET": SOURCES, "PEERS": ["10.0.0.0/9", "10.128.0.0/9"]},
        ),
    ),
    (SFX, AWS_RULE_GROUP, aws_group(rules="\n".join([SNI_EXACT, SNI_WILDCARD]))),
    (SFX, AWS_RULE_GROUP, aws_group(rules=sni('tls.sni; dotprefix; content:".microsoft.com"; nocase; endswith;'))),
    (SFX, AWS_RULE_GROUP, aws_group(rules=sni('tls.sni; content:"microsoft.com"; startswith; endswith;'))),
    (
        SFX,
        AWS_RULE_GROUP,
        aws_group(rules=sni('tls.sni; content:"login.microsoft.com"; startswith; content:".microsoft.com"; endswith;')),
    ),  # anchored by the 2nd
    (SFX, AWS_RULE_GROUP, aws_group(rules=sni('tls.sni; content:"microsoft.com"; endswith;').replace("pass", "drop"))),
]


@pytest.mark.parametrize("policy_name,resource_type,props,expected", BAD_GAPS)
def test_review_gaps_refused(policy_name, resource_type, props, expected):
    check = guard.RESOURCE_CHECKS[policy_name]
    messages = check(resource_type, props)
    assert any(expected in m for m in messages), messages
    assert any(m.startswith(f"{policy_name}: ") and expected in m for m in validate_resource(resource_type, props))


@pytest.mark.parametrize("policy_name,resource_type,props", GOOD_GAPS)
def test_review_gaps_narrow_rules_pass(policy_name, resource_type, props):
    assert validate_resource(resource_type, props) == []


@needs_sdk
@pytest.mark.parametrize("policy_name,resource_type,props,expected", BAD_GAPS)
def test_pack_review_gaps_refused(policy_name, resource_type, props, expected):
    assert any(expected in m for m in run_resource_policy(policy_name, resource_type, props))


@needs_sdk
@pytest.mark.parametrize("policy_name,resource_type,props", GOOD_GAPS)
def test_pack_review_gaps_narrow_rules_pass(policy_name, resource_type, props):
    for name in guard.RESOURCE_CHECKS:
        assert run_resource_policy(name, resource_type, props) == [], name


def test_review_gaps_reported_once_and_under_one_policy():
    # a glued wildcard or unanchored host match is not also "every name"; a whole-family value is not repeated
    # as a union; an anchored rule's extra contents only narrow it
    assert check_no_allow_any(AZURE_GROUP, group(app_rule(["*contoso.com"]))) == []
    assert check_no_allow_any(AWS_RULE_GROUP, aws_group(rules=sni('tls.sni; content:"microsoft.com"; endswith;'))) == []
    assert check_no_allow_any(AZURE_GROUP, group(net_rule(addresses=["0.0.0.0/0", "128.0.0.0/1"]))) == [
        "rule rules/intune-core-ip-tcp443: destinationAddresses '0.0.0.0/0' allows every destination"
    ]
    assert len(check_no_allow_any(AZURE_GROUP, group(net_rule(addresses=["0.0.0.0/0", *HALVES_V6])))) == 2
    # with no anchor in the rule, each loose host content is reported
    messages = check_no_public_suffix_wildcard(
        AWS_RULE_GROUP,
        aws_group(rules=sni('tls.sni; content:"microsoft.com"; endswith; content:"login.microsoft.com"; startswith;')),
    )
    assert len(messages) == 2 and "'evilmicrosoft.com'" in messages[0] and ".evil.example'" in messages[1]


def test_address_union_helpers():
    assert guard.union_only_families(HALVES_V4 + HALVES_V6) == ["IPv4", "IPv6"]
    assert guard.union_only_families(["0.0.0.0/0"]) == [] and guard.union_only_families(["*", "::/1"]) == []
    assert guard.union_only_families(["0.0.0.0-127.255.255.255", "128.0.0.0-255.255.255.255"]) == ["IPv4"]
    assert guard.union_only_families(["10.0.0.1/1", "200.0.0.0/1"]) == ["IPv4"]  # host bits ignored, as Azure does
    assert guard.union_only_families(["0.0.0.0/1", "not-an-address", "128.0.0.0/2"]) == []
    # a big IP Group is summarised, not printed in full
    many = [f"{i}.0.0.0/8" for i in range(256)]
    [message] = check_no_allow_any(AZURE_IP_GROUP, {"ipAddresses": many})
    assert message == "ipAddresses (256 values) together cover every IPv4 address"


# --- epfw preview's form: mock records ------------------------------------------------------------------


def record(typ: str, name: str, inputs: dict, custom: bool = True, **extra: Any) -> dict:
    return {"type": typ, "name": name, "inputs": inputs, "custom": custom, **extra}


def test_validate_resources_over_mock_records():
    records = [
        record("endpoint-firewall:azure:FirewallRules", "azure", {}, custom=False),
        record(AZURE_POLICY, "policy", azure_policy(proxy=False)),
        record(AZURE_GROUP, "g1", group(app_rule(["*.com"]), net_rule(fqdns=["time.windows.com"]))),
        record(AWS_RULE_GROUP, "aws-core", aws_group(targets=["a.example.com"], capacity=3)),
        record(AZURE_IP_GROUP, "ok", {"ipAddresses": SOURCES}),
    ]
    violations = validate_resources(records)
    assert all(isinstance(v, Violation) for v in violations)
    got = {(v.policy, v.resource_name) for v in violations if v.mandatory}
    assert got == {
        ("no-public-suffix-wildcard", "g1"),
        ("network-fqdn-needs-dns-proxy-stack", "g1"),
        ("aws-capacity-headroom", "aws-core"),
    }
    assert "[mandatory] aws-capacity-headroom: RuleGroup aws-core: capacity 3" in str(
        next(v for v in violations if v.policy == "aws-capacity-headroom")
    )
    assert validate_resources(records[:1] + records[4:]) == []


def test_validate_resources_config_levels_and_missing_dependencies():
    records = [record(AZURE_GROUP, f"g{i}", group(app_rule(["*"]), name=f"g{i}")) for i in (1, 2)]
    violations = validate_resources(records)
    assert {v.policy for v in violations if v.mandatory} == {"no-allow-any"}
    [note] = [v for v in violations if not v.mandatory]
    assert note.policy == "rule-groups-serialized" and "not checked" in note.message
    advisory = validate_resources(records, {"no-allow-any": "advisory", "rule-groups-serialized": "disabled"})
    assert advisory and not any(v.mandatory for v in advisory)
    assert (
        validate_resources(
            records, {"no-allow-any": {"enforcementLevel": "disabled"}, "rule-groups-serialized": "disabled"}
        )
        == []
    )
    # with urn/dependencies recorded, the chain is checked for real
    linked = [dict(records[0], urn="urn:g1", dependencies=[]), dict(records[1], urn="urn:g2", dependencies=["urn:g1"])]
    assert {v.policy for v in validate_resources(linked)} == {"no-allow-any"}
    unlinked = [dict(records[0], urn="urn:g1", dependencies=[]), dict(records[1], urn="urn:g2", dependencies=[])]
    assert "rule-groups-serialized" in {v.policy for v in validate_resources(unlinked) if v.mandatory}


# --- the shipped stacks, registered under mocks with their dependencies, pass every guardrail -------------


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_shipped_stacks_pass_the_guardrails(stack, tmp_path):
    import json
    import subprocess
    import sys

    root = ROOT
    out = tmp_path / f"{stack}.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "endpoint_firewall.preview.mock_runner",
            "--project",
            str(root),
            "--stack",
            stack,
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    records = json.loads(out.read_text(encoding="utf-8"))
    assert all("dependencies" in r for r in records)
    found = validate_resources(records)
    # dev's DNS layer is in its rollout (mode alert) on both clouds: the advisory says so; prod blocks
    expected = ["aws-dns-rule-everything-else", "azure-dns-rule-everything-else"] if stack == "dev" else []
    assert sorted(v.resource_name for v in found if v.policy == "dns-alert-only" and not v.mandatory) == expected
    assert [v for v in found if v.policy != "dns-alert-only"] == []
    members = guard.policy_members([StackResource.from_record(r) for r in records])
    assert members and all(len(m) >= 2 for m in members.values())  # the ordering check had something to check
    # and cutting one link of the chain is caught
    broken = [dict(r, dependencies=[]) if r["urn"] == members[next(iter(members))][-1].urn else r for r in records]
    assert [v.policy for v in validate_resources(broken) if v.mandatory] == ["rule-groups-serialized"]


# --- the pack itself, served the way the Pulumi CLI runs it (in a child process: PolicyPack blocks) --------


@needs_sdk
def test_policy_pack_served_over_grpc():
    import subprocess
    import sys

    import grpc
    from google.protobuf import empty_pb2, struct_pb2
    from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

    def struct(value: dict) -> struct_pb2.Struct:
        s = struct_pb2.Struct()
        s.update(value)
        return s

    pack_dir = ROOT / "policy"
    proc = subprocess.Popen(
        [sys.executable, str(pack_dir / "__main__.py")],
        cwd=pack_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = proc.stdout.readline().strip()
        assert port.isdigit(), proc.stderr.read()[-3000:] if proc.poll() is not None else port
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        stub = analyzer_pb2_grpc.AnalyzerStub(channel)
        info = stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=60)
        assert info.name == "endpoint-firewall-guardrails"
        mandatory = analyzer_pb2.EnforcementLevel.Value("MANDATORY")
        advisory = analyzer_pb2.EnforcementLevel.Value("ADVISORY")
        assert {p.name: p.enforcementLevel for p in info.policies} == {
            name: advisory if name in ("allow-any-exception", "dns-alert-only") else mandatory
            for name in [*guard.RESOURCE_CHECKS, *guard.STACK_CHECKS]
        }

        bad = stub.Analyze(
            analyzer_pb2.AnalyzeRequest(
                type=AZURE_GROUP, properties=struct(group(app_rule(["*.com"]))), urn="urn:g", name="g"
            ),
            timeout=60,
        )
        assert [(d.policyName, d.enforcementLevel) for d in bad.diagnostics] == [
            ("no-public-suffix-wildcard", mandatory)
        ]
        good = stub.Analyze(
            analyzer_pb2.AnalyzeRequest(
                type=AZURE_GROUP, properties=struct(group(app_rule(["api.example.com"]))), urn="urn:g", name="g"
            ),
            timeout=60,
        )
        assert list(good.diagnostics) == []

        rule = app_rule(["api.example.com"])
        resources = [
            analyzer_pb2.AnalyzerResource(
                type=AZURE_GROUP, properties=struct(group(rule, name=n)), urn=f"urn:{n}", name=n, dependencies=deps
            )
            for n, deps in (("g1", []), ("g2", []))
        ]
        stack = stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources), timeout=60)
        assert [(d.policyName, d.urn) for d in stack.diagnostics] == [("rule-groups-serialized", "urn:g2")]
        resources[1].dependencies.append("urn:g1")
        assert (
            list(stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources), timeout=60).diagnostics) == []
        )
        channel.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
