"""The built wheel, installed in a fresh virtual environment, is all a consumer needs.

A copy of the repository is built with ``pip wheel``; the wheel goes into a new ``venv --without-pip``
whose only view of the dependencies (pulumi, the providers, pydantic...) is a ``.pth`` line naming this
repository's ``.venv`` site-packages. Such a line adds the folder to ``sys.path`` without processing the
``.pth`` files inside it, so the editable install's finder (``__editable__*.pth``) stays out: whatever
``endpoint_firewall`` the fresh environment imports is the wheel's. Then ``examples/consumer`` runs there
under Pulumi mocks.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow  # builds a wheel and a virtual environment
CONSUMER = ROOT / "examples" / "consumer"
SKIP_DIRS = {
    ".git",
    ".venv",
    "venv",
    "build",
    "dist",
    "bench",
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    "node_modules",
}


def _ignore(folder: str, names: list[str]) -> set[str]:
    return {n for n in names if n in SKIP_DIRS or n.endswith(".egg-info")}


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=240, **kw)
    assert result.returncode == 0, f"{' '.join(map(str, cmd))}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def fresh_env(tmp_path_factory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    shutil.copytree(ROOT, src, ignore=_ignore)  # build from a copy: no build/ or egg-info in the repository
    archive = src / "endpoint_firewall" / "endpoints" / "catalogue" / "archive"
    archive.mkdir(exist_ok=True)
    (archive / "zz-probe.yaml").write_text("schema_version: 1\n", encoding="utf-8")  # a superseded catalogue file
    build = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(work / "dist"), str(src)], cwd=work)
    [wheel] = list((work / "dist").glob("endpoint_firewall-*.whl"))

    venv = work / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    purelib = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    dependencies = Path(sysconfig.get_paths()["purelib"])  # this .venv's site-packages: pulumi, providers, ...
    assert any(dependencies.glob("__editable__*endpoint_firewall*.pth")), "expected the dev editable install"
    (purelib / "zz_dependencies.pth").write_text(f"{dependencies}\n", encoding="utf-8")
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            "--target",
            str(purelib),
            str(wheel),
        ]
    )
    return {
        "venv": venv,
        "python": python,
        "purelib": purelib,
        "work": work,
        "wheel": wheel,
        "src": src,
        "build_output": build.stdout + build.stderr,
    }


def in_env(env: dict[str, Path], code: str) -> str:
    script = env["work"] / "probe.py"
    script.write_text(textwrap.dedent(code), encoding="utf-8")
    return run([str(env["python"]), str(script)], cwd=env["work"]).stdout


def test_the_wheel_has_one_top_level_package(fresh_env):
    import zipfile

    names = zipfile.ZipFile(fresh_env["wheel"]).namelist()
    assert {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")} == {"endpoint_firewall"}
    assert "endpoint_firewall/endpoints/catalogue/intune.yaml" in names
    assert "endpoint_firewall/guardrails/__init__.py" in names and "endpoint_firewall/components/provider.py" in names


def test_the_catalogue_and_its_archive_ship_as_data_without_a_build_warning(fresh_env):
    import zipfile

    names = set(zipfile.ZipFile(fresh_env["wheel"]).namelist())
    catalogue = fresh_env["src"] / "endpoint_firewall" / "endpoints" / "catalogue"
    shipped = {
        f"endpoint_firewall/endpoints/{p.relative_to(catalogue.parent)}"
        for p in [*catalogue.glob("*.yaml"), *catalogue.glob("archive/*.yaml")]
    }
    assert "endpoint_firewall/endpoints/catalogue/archive/zz-probe.yaml" in shipped
    assert shipped <= names, shipped - names
    assert "absent from the `packages` configuration" not in fresh_env["build_output"]
    assert "warning" not in fresh_env["build_output"].lower(), fresh_env["build_output"][-3000:]


def test_components_catalogue_and_no_generic_modules_from_the_wheel(fresh_env):
    out = in_env(
        fresh_env,
        """
        import importlib, json, sys
        import endpoint_firewall
        import endpoint_firewall.components.azure_firewall
        import endpoint_firewall.components.aws_network_firewall
        import endpoint_firewall.components.provider
        from endpoint_firewall.endpoints.loader import load_catalogue, shipped_catalogue_files
        catalogue = load_catalogue()
        failed = {}
        for name in ("endpoints", "components", "planning", "renderers", "program", "cli", "checks"):
            try:
                importlib.import_module(name)
                failed[name] = False
            except ModuleNotFoundError:
                failed[name] = True
        print(json.dumps({"package": endpoint_firewall.__file__,
                          "files": [str(p) for p in shipped_catalogue_files()],
                          "entries": len(catalogue.entries), "areas": sorted(catalogue.service_areas),
                          "generic_missing": failed, "editable": [m for m in sys.modules if "__editable__" in m]}))
    """,
    )
    facts = json.loads(out.strip().splitlines()[-1])
    venv = str(fresh_env["venv"].resolve())
    assert facts["package"].startswith(venv), facts["package"]
    assert facts["files"] and all(f.startswith(venv) and f.endswith(".yaml") for f in facts["files"])
    assert facts["entries"] > 10 and "intune-core" in facts["areas"]
    assert all(facts["generic_missing"].values()), facts["generic_missing"]
    assert facts["editable"] == []


def test_example_consumer_under_mocks_from_the_wheel(fresh_env):
    out_file = fresh_env["work"] / "consumer.json"
    run(
        [
            str(fresh_env["python"]),
            "-m",
            "endpoint_firewall.preview.mock_runner",
            "--project",
            str(CONSUMER),
            "--stack",
            "dev",
            "--out",
            str(out_file),
        ],
        cwd=fresh_env["work"],
    )
    resources = json.loads(out_file.read_text(encoding="utf-8"))
    by_type: dict[str, list[dict]] = {}
    for r in resources:
        by_type.setdefault(r["type"], []).append(r)

    [azure] = by_type["endpoint-firewall:azure:FirewallRules"]
    [aws] = by_type["endpoint-firewall:aws:NetworkFirewallRules"]
    assert (azure["name"], aws["name"]) == ("lob-azure", "lob-aws")
    [policy] = by_type["azure-native:network:FirewallPolicy"]
    assert policy["inputs"]["firewallPolicyName"] == "fwpol-lob" and policy["inputs"]["dnsSettings"]["enableProxy"]
    [group] = by_type["azure-native:network:FirewallPolicyRuleCollectionGroup"]
    assert group["inputs"]["firewallPolicyName"] == "fwpol-lob"
    assert group["inputs"]["resourceGroupName"] == "rg-lob-egress"
    assert group["inputs"]["priority"] == 2000
    rules = [rule for coll in group["inputs"]["ruleCollections"] for rule in coll["rules"]]
    text = json.dumps(rules)
    for expected in ("api.lob.example.com", "*.cdn.lob.example.com", "203.0.113.0/28", "10.50.0.0/16", "8443"):
        assert expected in text
    assert "manage.microsoft.com" not in text  # its own catalogue, not the shipped one

    aws_groups = by_type["aws:networkfirewall/ruleGroup:RuleGroup"]
    aws_text = json.dumps([g["inputs"] for g in aws_groups])
    assert "api.lob.example.com" in aws_text and "203.0.113.0/28" in aws_text and "10.50.0.0/16" in aws_text
    assert {g["inputs"]["ruleGroup"]["statefulRuleOptions"]["ruleOrder"] for g in aws_groups} == {"STRICT_ORDER"}
    [aws_policy] = by_type["aws:networkfirewall/firewallPolicy:FirewallPolicy"]
    assert aws_policy["inputs"]["name"].startswith("lob-egress-")  # STRICT_ORDER: the rule order's hash in the name

    # every cloud resource is a child of one of the two components, but the consumer's own resource group, whose name
    # (an Output) places the Azure rules: each depends on it
    [rg] = by_type["azure-native:resources:ResourceGroup"]
    component_urns = {azure["urn"], aws["urn"]}
    assert all(r["parent"] in component_urns for r in resources if r["custom"] and r is not rg)
    azure_children = [r for r in resources if r["type"].startswith("azure-native:network:")]
    assert azure_children and all(rg["urn"] in r["dependencies"] for r in azure_children)
    assert all(r["inputs"]["tags"] == {"team": "lob"} for r in azure_children if "RuleCollectionGroup" not in r["type"])
    # and the guardrails (from the wheel too) pass, the ordering check included
    check = in_env(
        fresh_env,
        f"""
        import json
        from endpoint_firewall.guardrails import validate_resources
        records = json.load(open({str(out_file)!r}))
        print(json.dumps([v.to_json() for v in validate_resources(records)]))
    """,
    )
    assert json.loads(check.strip().splitlines()[-1]) == []
