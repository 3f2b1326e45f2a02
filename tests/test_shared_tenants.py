"""Shared-tenant wildcards (issue 17, section 2): suffixes under which anyone can create an instance.

The sourced list (endpoints/shared_tenants.py), the planner (never folds a listed instance into such a wildcard;
``selection.sharedTenantWildcards: exact | allow``; ``selection.tenantInstances``), the stack settings and their
located errors, what the render and ``epfw check`` say, and a flow set of instances under each shared-tenant suffix
replayed on both clouds: Azure by its documented order, AWS in Suricata in both rule orders and both FQDN modes.
"""

from __future__ import annotations

import ipaddress
import json
import re
from functools import cache
from pathlib import Path

import pytest
from conftest import ROOT

from endpoint_firewall.checks import azure as azure_check
from endpoint_firewall.checks.flow import Flow
from endpoint_firewall.checks.suricata import replay
from endpoint_firewall.cli.main import main
from endpoint_firewall.cli.tables import print_render
from endpoint_firewall.config.aws_config import FqdnMode, RuleOrder
from endpoint_firewall.config.stack_config import ConfigError, load_stack_file
from endpoint_firewall.endpoints import names
from endpoint_firewall.endpoints.loader import load_catalogue, load_sources
from endpoint_firewall.endpoints.shared_tenants import (
    REVIEWED_NOT_SHARED,
    SHARED_TENANT_SUFFIXES,
    is_shared_tenant_wildcard,
    shared_tenant_suffix,
)
from endpoint_firewall.planning.planner import build_plan
from endpoint_firewall.planning.rules import RuleKind
from endpoint_firewall.planning.selection import Selection, SharedTenantMode
from endpoint_firewall.planning.tenant_wildcards import instance_problems
from endpoint_firewall.program.render import render_stack
from endpoint_firewall.renderers.aws.render import render_aws
from endpoint_firewall.renderers.azure.render import render_azure

SOURCES = ["10.10.0.0/16"]
PUBSUB = "amsua0101-remoteassistservice-pubsub.webpubsub.azure.com"  # the one instance Microsoft's page names
OURS = "contoso-remotehelp.webpubsub.azure.com"  # a tenant's own instance, named in tenantInstances

# --- the sourced list -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, suffix",
    [
        ("*.webpubsub.azure.com", "webpubsub.azure.com"),  # on the suffix
        ("attacker-hub.webpubsub.azure.com", "webpubsub.azure.com"),  # one instance
        ("ATTACKER-HUB.WebPubSub.azure.com.", "webpubsub.azure.com"),  # case and a trailing dot
        ("*.monitor.azure.com", "ingest.monitor.azure.com"),  # above suffixes: matches their instances
        ("*.eastus-1.ingest.monitor.azure.com", "ingest.monitor.azure.com"),  # under a suffix: still anyone's
        ("x-a1.eastus-1.handler.control.monitor.azure.com", "control.monitor.azure.com"),
        ("*.core.windows.net", "blob.core.windows.net"),
        ("acct.queue.core.windows.net", "queue.core.windows.net"),
        ("*.z01.azurefd.net", "azurefd.net"),  # not a public suffix: the loader accepts this wildcard
        ("my-app.azurewebsites.net", "azurewebsites.net"),
        ("d111111abcdef8.cloudfront.net", "cloudfront.net"),
    ],
)
def test_names_under_or_over_a_shared_tenant_suffix_are_found(name, suffix):
    found = shared_tenant_suffix(name)
    assert found is not None and found.suffix == suffix
    assert is_shared_tenant_wildcard(name) is name.startswith("*.")


@pytest.mark.parametrize(
    "name",
    [
        "js.monitor.azure.com",  # Microsoft's script host, under monitor.azure.com but no instance of a listed suffix
        "webpubsub.azure.com",  # the suffix itself is nobody's instance
        "*.powershellgallery.com",  # reviewed: one Microsoft service (REVIEWED_NOT_SHARED)
        "*.manage.microsoft.com",
        "*.azure.com.evil.example",
        "evilwebpubsub.azure.com",  # glued to the suffix, not under it
    ],
)
def test_other_names_are_not_shared_tenant(name):
    assert shared_tenant_suffix(name) is None
    assert not is_shared_tenant_wildcard(name)


def test_every_listed_suffix_is_a_valid_name_with_its_vendor_page_and_the_version_read():
    suffixes = [s.suffix for s in SHARED_TENANT_SUFFIXES]
    assert len(set(suffixes)) == len(suffixes)
    for entry in SHARED_TENANT_SUFFIXES:
        assert names.normalise_fqdn(entry.suffix) == entry.suffix
        assert entry.source.startswith(("https://learn.microsoft.com/", "https://docs.aws.amazon.com/")), entry
        assert "read 20" in entry.version and entry.suffix.split(".")[-2] in entry.instance, entry
        assert entry.suffix in entry.why() and entry.source in entry.why()
    assert "powershellgallery.com" in REVIEWED_NOT_SHARED
    assert "learn.microsoft.com/powershell/gallery" in REVIEWED_NOT_SHARED["powershellgallery.com"]
    assert not any(s.endswith("powershellgallery.com") for s in suffixes)


def test_the_shipped_catalogue_has_exactly_two_shared_tenant_wildcards():
    found = {
        (e.id, d.value) for e in load_catalogue().entries for d in e.destinations if is_shared_tenant_wildcard(d.value)
    }
    assert found == {("intune-181", "*.monitor.azure.com"), ("intune-187", "*.webpubsub.azure.com")}


# --- the plan -------------------------------------------------------------------------------------------------


@cache
def plan_of(mode: str = "exact", instances: tuple[str, ...] = ()):
    selection = Selection(shared_tenant_wildcards=SharedTenantMode(mode), tenant_instances=instances)
    return build_plan(load_catalogue(), selection, SOURCES, SOURCES)


def remote_help_rule(plan):
    [rule] = [r for r in plan.rules if r.name == "remote-help-fqdn-https443"]
    return rule


def test_exact_mode_deploys_the_listed_instances_and_leaves_the_wildcards_out():
    plan = plan_of()
    rule = remote_help_rule(plan)
    assert PUBSUB in rule.destinations and "js.monitor.azure.com" in rule.destinations
    assert not any(is_shared_tenant_wildcard(d) for r in plan.rules for d in r.destinations)
    assert rule.origin_of(PUBSUB) == ("intune-187",)
    left_out = {s.destination: s for s in plan.skipped if s.destination and is_shared_tenant_wildcard(s.destination)}
    assert set(left_out) == {"*.webpubsub.azure.com", "*.monitor.azure.com"}
    pubsub = left_out["*.webpubsub.azure.com"].reason
    assert "https://learn.microsoft.com/azure/azure-web-pubsub/" in pubsub  # the vendor page
    assert f"Deployed instead: {PUBSUB} (listed by intune-187)" in pubsub
    # what Remote Help needs when the stack names no instance of its own
    assert "Remote Help web pubsub (intune-187)" in pubsub and "name it in selection.tenantInstances" in pubsub
    assert plan.widened == ()


def test_allow_mode_deploys_the_wildcard_open_to_any_tenant_and_never_folds_the_listed_instance_into_it():
    plan = plan_of("allow")
    rule = remote_help_rule(plan)
    assert {"*.webpubsub.azure.com", PUBSUB, "*.monitor.azure.com", "js.monitor.azure.com"} <= set(rule.destinations)
    assert not [c for c in rule.covered if is_shared_tenant_wildcard(c[1])]  # nothing folded into them
    assert {(w.entry, w.destination) for w in plan.widened} == {
        ("intune-181", "*.monitor.azure.com"),
        ("intune-187", "*.webpubsub.azure.com"),
    }
    assert all(w.reason.startswith("open to any tenant (selection.sharedTenantWildcards: allow)") for w in plan.widened)
    assert not [s for s in plan.skipped if s.destination and is_shared_tenant_wildcard(s.destination)]


def test_other_wildcards_still_cover_the_exact_names_under_them():
    rule = [r for r in plan_of().rules if r.name == "intune-core-fqdn-http80-https443"][0]
    assert ("swda01-mscdn.manage.microsoft.com", "*.manage.microsoft.com") in rule.covered


@pytest.mark.parametrize("mode", ["exact", "allow"])
def test_a_tenant_instance_is_deployed_with_the_wildcards_services_and_entries(mode):
    plan = plan_of(mode, (OURS,))
    rule = remote_help_rule(plan)
    assert OURS in rule.destinations and rule.origin_of(OURS) == ("intune-187",)
    assert [s.port.first for s in rule.services] == [443]
    if mode == "exact":
        [reason] = [s.reason for s in plan.skipped if s.destination == "*.webpubsub.azure.com"]
        assert f"{OURS} (selection.tenantInstances)" in reason and "name it in" not in reason


TENANT_CATALOGUE = """schema_version: 1
sources: [{id: s, title: t, url: "https://example.org/", date: 2020-01-01}]
service_areas: [{id: a, title: A, priority: 100}, {id: b, title: B, priority: 200}]
entries:
  - {id: hub, service_area: a, description: d, destinations: ["*.webpubsub.azure.com"],
     services: [{protocol: https, port: 443}, {protocol: tcp, port: 8443}], provenance: {source: s, section: x}}
  - {id: other, service_area: b, description: d, destinations: ["*.example.com"],
     services: [{protocol: https, port: 443}], provenance: {source: s, section: x}}
"""


def tenant_catalogue():
    return load_sources([("t.yaml", lambda: TENANT_CATALOGUE)])


def test_a_tenant_instance_takes_plain_services_too_as_an_exact_name():
    plan = build_plan(tenant_catalogue(), Selection(tenant_instances=(OURS,)), SOURCES)
    kinds = {(r.kind, tuple(str(s) for s in r.services)) for r in plan.rules if OURS in r.destinations}
    assert kinds == {(RuleKind.HOSTNAME, ("https:443",)), (RuleKind.HOST_NETWORK, ("tcp:8443",))}


def test_an_instance_under_no_selected_shared_tenant_wildcard_is_a_problem():
    catalogue = tenant_catalogue()
    chosen = Selection(service_areas=frozenset({"b"}), tenant_instances=("x.example.com", OURS))
    assert [i for i, _ in instance_problems(catalogue, chosen)] == [0, 1]  # *.example.com is no shared one
    assert instance_problems(catalogue, Selection(tenant_instances=(OURS,))) == []
    [(_, message)] = instance_problems(catalogue, Selection(tenant_instances=("a.blob.core.windows.net",)))
    assert "under no shared-tenant wildcard" in message and "*.webpubsub.azure.com" in message


# --- the stack settings ---------------------------------------------------------------------------------------

STACK = """config:
  endpoint-firewall:sourceRanges: [10.10.0.0/16]
  endpoint-firewall:selection:
    serviceAreas: [remote-help]
{extra}  endpoint-firewall:azure:
    resourceGroupName: rg
    policyName: pol
    dnsProxy: true
  endpoint-firewall:aws:
    namePrefix: t
"""


def project(tmp_path: Path, extra: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "Pulumi.yaml").write_text("name: t\nruntime: python\nstackConfigDir: stacks\n")
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.t.yaml").write_text(STACK.format(extra=extra))
    return tmp_path


def test_the_default_is_exact_and_allow_is_the_other_value(tmp_path):
    root = project(tmp_path, "")
    assert (
        load_stack_file(root / "stacks" / "Pulumi.t.yaml").selection.shared_tenant_wildcards is SharedTenantMode.EXACT
    )
    again = project(tmp_path / "b", "    sharedTenantWildcards: allow\n")
    assert load_stack_file(again / "stacks" / "Pulumi.t.yaml").selection.to_selection().shared_tenant_wildcards == (
        SharedTenantMode.ALLOW
    )


@pytest.mark.parametrize(
    "extra, line, field, fragment",
    [
        ("    sharedTenantWildcards: open\n", 5, "selection.sharedTenantWildcards", "'exact' or 'allow'"),
        ("    tenantInstances: [ok.webpubsub.azure.com, '*.webpubsub.azure.com']\n", 5, "tenantInstances[1]", "not a wildcard"),
        ("    tenantInstances:\n      - ok.webpubsub.azure.com\n      - https://x.webpubsub.azure.com/\n", 7,
         "tenantInstances[1]", "is a URL; write the host name 'x.webpubsub.azure.com'"),
        ("    tenantInstances: [bad_-.webpubsub.azure.com]\n", 5, "tenantInstances[0]", "label"),
        ("    tenantInstances: [a.webpubsub.azure.com, A.webpubsub.azure.com.]\n", 5, "tenantInstances", "more than once"),
    ],
)  # fmt: skip
def test_bad_values_are_refused_with_file_line_and_field(tmp_path, extra, line, field, fragment):
    path = project(tmp_path, extra) / "stacks" / "Pulumi.t.yaml"
    with pytest.raises(ConfigError) as err:
        load_stack_file(path)
    [problem] = err.value.problems
    assert (problem.file, problem.line) == (str(path), line)
    assert problem.field.startswith("endpoint-firewall:selection") and problem.field.endswith(field), problem
    assert fragment in problem.message, problem


def test_an_instance_under_no_selected_wildcard_fails_the_render_naming_its_line(tmp_path, capsys):
    extra = "    tenantInstances:\n      - contoso.webpubsub.azure.com\n      - mystore.blob.core.windows.net\n"
    root = project(tmp_path, extra)
    out = tmp_path / "out"
    assert main(["render", "--project", str(root), "--stack", "t", "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"{root / 'stacks' / 'Pulumi.t.yaml'}:7: endpoint-firewall:selection.tenantInstances[1]: "
        "'mystore.blob.core.windows.net' is under no shared-tenant wildcard of the selected entries (the selection "
        "lists *.monitor.azure.com, *.webpubsub.azure.com): a tenant instance stands in for such a wildcard, "
        "deployed with its services and entries"
    ]
    assert not out.exists()


def test_the_shipped_stacks_deploy_no_shared_tenant_wildcard():
    for stack in ("dev", "prod"):
        rendered = render_stack(stack, ROOT)
        assert rendered.plan.widened == ()
        assert not [d for r in rendered.plan.rules for d in r.destinations if is_shared_tenant_wildcard(d)]
        assert rendered.azure is not None and rendered.aws is not None
        targets = [
            t
            for g in rendered.azure.groups
            for c in g.body["properties"]["ruleCollections"]
            for r in c["rules"]
            for t in r.get("targetFqdns", []) + r.get("destinationFqdns", [])
        ]
        # AWS: domain-list targets (".x.com" is the wildcard) and the Suricata rules' name suffixes
        suffixes = [t for g in rendered.aws.groups for t in g.targets if t.startswith(".")]
        suffixes += [
            m
            for g in rendered.aws.groups
            for m in re.findall(r'content:"(\.[^"]+)"; (?:nocase; )?endswith', g.rules_text)
        ]
        assert targets and suffixes and ".powershellgallery.com" in suffixes
        assert not [t for t in targets if is_shared_tenant_wildcard(t)]
        assert not [d for d in suffixes if is_shared_tenant_wildcard("*" + d)]


def test_the_render_reports_left_out_and_open_to_any_tenant(tmp_path, capsys):
    shipped = render_stack("dev", ROOT).summary()
    assert {s["destination"] for s in shipped["skipped"] if "shared-tenant wildcard, left out" in s["reason"]} == {
        "*.monitor.azure.com",
        "*.webpubsub.azure.com",
    }
    assert not [w for cloud in ("azure", "aws") for w in shipped[cloud]["widened"] if "any tenant" in w["reason"]]
    opened = render_stack("t", project(tmp_path, "    sharedTenantWildcards: allow\n"))
    summary = opened.summary()
    for cloud in ("azure", "aws"):
        found = {
            (w["entry"], w["destination"]) for w in summary[cloud]["widened"] if "open to any tenant" in w["reason"]
        }
        assert found == {("intune-181", "*.monitor.azure.com"), ("intune-187", "*.webpubsub.azure.com")}, cloud
    print_render(opened.files())
    printed = capsys.readouterr().out
    assert "widened" in printed and "open to any tenant" in " ".join(printed.split())


# --- the flow set: instances under each shared-tenant suffix, on both clouds -----------------------------------

LISTED = {
    # exact names the catalogue lists under (or beside) a shared-tenant wildcard, and the entry's area
    PUBSUB: "remote-help",
    "js.monitor.azure.com": "remote-help",
    "amsua0101lmsas.blob.core.windows.net": "autopilot",
    "www.powershellgallery.com": "intune-consolidated",  # under *.powershellgallery.com: reviewed, not shared
}
# instances anyone could create: (host, the shipped wildcard that would pass them, if any)
FOREIGN = {
    "attacker-hub.webpubsub.azure.com": "*.webpubsub.azure.com",
    "attacker-dce-x1y2.eastus-1.ingest.monitor.azure.com": "*.monitor.azure.com",
    "attacker-dce-x1y2.eastus-1.handler.control.monitor.azure.com": "*.monitor.azure.com",
    "x7k2q.monitor.azure.com": "*.monitor.azure.com",
    "attackerstore01.blob.core.windows.net": None,
    "attackerstore01.queue.core.windows.net": None,
    "attacker-ep-a1b2c3d4e5f6g7h8.z01.azurefd.net": None,
    "attacker-app.azurewebsites.net": None,
    "d111111abcdef8.cloudfront.net": None,
}
AWS_VARIANTS = [
    (order, mode) for order in (RuleOrder.DEFAULT_ACTION_ORDER, RuleOrder.STRICT_ORDER) for mode in FqdnMode
]
SELECTIONS = {  # name: (stack, selection changes)
    "dev": ("dev", {}),
    "dev-tenant-instance": ("dev", {"tenant_instances": (OURS,)}),
    "dev-allow": ("dev", {"shared_tenant_wildcards": SharedTenantMode.ALLOW}),
    "prod": ("prod", {}),
    "prod-allow": ("prod", {"shared_tenant_wildcards": SharedTenantMode.ALLOW}),
}


def flows() -> list[tuple[str, Flow]]:
    hosts = [*LISTED, OURS, *FOREIGN]
    return [(h, Flow(h, 443, "https")) for h in hosts] + [
        ("attacker-hub.webpubsub.azure.com", Flow("attacker-hub.webpubsub.azure.com", 80, "http"))
    ]


def expected(host: str, flow: Flow, areas: frozenset[str], changes: dict) -> bool:
    """The catalogue's meaning: a listed name of a selected area passes on its https:443, a tenant instance when
    named, a stranger's instance only through a wildcard the stack opened to any tenant; never HTTP on 80."""
    if flow.port != 443:
        return False
    opened = changes.get("shared_tenant_wildcards") is SharedTenantMode.ALLOW and "remote-help" in areas
    if host in LISTED:
        return LISTED[host] in areas
    if host == OURS:
        return "remote-help" in areas and (OURS in changes.get("tenant_instances", ()) or opened)
    return opened and FOREIGN[host] is not None


@pytest.mark.usefixtures("suricata")
@pytest.mark.parametrize("name", list(SELECTIONS))
def test_the_flow_set_on_both_clouds(name, capsys):
    stack, changes = SELECTIONS[name]
    config = load_stack_file(ROOT / "stacks" / f"Pulumi.{stack}.yaml")
    selection = config.selection.model_copy(update=changes).to_selection()
    catalogue = load_catalogue()
    plan = build_plan(catalogue, selection, config.source_ranges, config.peer_ranges)
    areas = frozenset(e.service_area for e in catalogue.entries if e.id in plan.selected_entries)
    cases = flows()
    want = [expected(h, f, areas, changes) for h, f in cases]
    assert any(want) and not all(want)
    assert config.azure is not None and config.aws is not None
    azure = render_azure(plan, config.azure)
    got = {"azure": [azure_check.evaluate(azure, f).allowed for _, f in cases]}
    source = str(next(ipaddress.ip_network(config.source_ranges[0]).hosts()))
    for order, mode in AWS_VARIANTS:
        render = render_aws(plan, config.aws.model_copy(update={"rule_order": order, "fqdn_mode": mode}))
        got[f"aws {order.value} {mode.value}"] = [
            v.allowed for v in replay(render, [f for _, f in cases], source).verdicts
        ]
    wrong = [
        f"{variant}: {flow} expected {'allow' if w else 'deny'}"
        for variant, verdicts in got.items()
        for (_, flow), w, v in zip(cases, want, verdicts, strict=True)
        if w != v
    ]
    assert wrong == []
    allowed = [str(f) for (_, f), w in zip(cases, want, strict=True) if w]
    with capsys.disabled():
        print(
            f"\n[shared tenants] {name}: {len(cases)} flows x {len(got)} variants ({', '.join(got)}): "
            f"{len(allowed)} allowed in each, the rest denied; allowed: {json.dumps(allowed)}"
        )


# --- epfw check -----------------------------------------------------------------------------------------------


def check(capsys, root: Path, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["check", "--project", str(root), *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_check_denies_a_strangers_instance_and_says_how_to_name_the_tenants(capsys):
    code, out = check(capsys, ROOT, "--cloud", "azure", "attacker-hub.webpubsub.azure.com")
    assert code == 3, out
    assert "*.webpubsub.azure.com (entry intune-187) is a shared-tenant wildcard, left out by " in out
    assert "name it in selection.tenantInstances" in out
    code, out = check(capsys, ROOT, "--cloud", "azure", PUBSUB)
    assert code == 0 and "shared-tenant" not in out, out


def test_check_says_open_to_any_tenant_under_allow_on_azure(tmp_path, capsys):
    open_to_any_tenant(tmp_path, capsys, "azure")


@pytest.mark.usefixtures("suricata")
def test_check_says_open_to_any_tenant_under_allow_on_aws(tmp_path, capsys):
    open_to_any_tenant(tmp_path, capsys, "aws")


def open_to_any_tenant(tmp_path: Path, capsys, cloud: str) -> None:
    root = project(tmp_path, "    sharedTenantWildcards: allow\n")
    code, out = check(capsys, root, "--stack", "t", "--cloud", cloud, "attacker-hub.webpubsub.azure.com")
    assert code == 0, out
    assert (
        "open to any tenant: attacker-hub.webpubsub.azure.com passes as *.webpubsub.azure.com (entry intune-187)" in out
    )
    code, out = check(capsys, root, "--stack", "t", "--cloud", cloud, PUBSUB)
    assert code == 0 and "any tenant" not in out, out  # the listed instance is a rule's own target


def test_check_is_unchanged_for_names_under_no_shared_tenant_wildcard(capsys):
    code, out = check(capsys, ROOT, "--cloud", "azure", "evil.example.com")
    assert code == 3 and "shared-tenant" not in out, out


def test_the_components_take_both_settings_and_refuse_a_stray_instance():
    from endpoint_firewall.components.consumer_args import plan_from_args

    args = {"source_ranges": SOURCES, "aws": {"namePrefix": "c"}, "selection": {"service_areas": ["remote-help"]}}
    opened, _ = plan_from_args(
        {**args, "selection": {**args["selection"], "shared_tenant_wildcards": "allow"}}, "aws", "c"
    )
    assert {w.destination for w in opened.widened} == {"*.monitor.azure.com", "*.webpubsub.azure.com"}
    named, _ = plan_from_args({**args, "selection": {**args["selection"], "tenant_instances": [OURS]}}, "aws", "c")
    assert OURS in remote_help_rule(named).destinations
    with pytest.raises(ConfigError) as err:
        plan_from_args({**args, "selection": {**args["selection"], "tenant_instances": ["x.example.com"]}}, "aws", "c")
    [problem] = err.value.problems
    assert (
        problem.field == "endpoint-firewall:selection.tenantInstances[0]"
        and "under no shared-tenant" in problem.message
    )


@pytest.mark.parametrize("extra, left_out", [("", True), ("    sharedTenantWildcards: allow\n", False)])
def test_render_with_catalogue_files_keeps_the_stacks_shared_tenant_setting(tmp_path, extra, left_out):
    root = project(tmp_path, extra)
    (root / "c.yaml").write_text(TENANT_CATALOGUE)
    plan = render_stack("t", root, catalogue_files=[root / "c.yaml"]).plan
    assert set(plan.selected_entries) == {"hub", "other"}
    skipped = {s.destination for s in plan.skipped if s.reason.startswith("shared-tenant wildcard, left out")}
    assert (skipped == {"*.webpubsub.azure.com"}) is left_out
    assert ({w.destination for w in plan.widened} == {"*.webpubsub.azure.com"}) is not left_out
