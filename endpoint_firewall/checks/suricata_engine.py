"""Suricata itself for the AWS checks: finding the binary, the rule set of a render (every group in policy order
with its IP set variables, plus the modelled policy default action), the engine's configuration, and
``suricata -T``.

The policy side is modelled too: in ``STRICT_ORDER`` the firewall policy's stateful default actions
decide what no rule decides, so a drop default is added as final catch-all drops (:data:`POLICY_DEFAULT_MODELS`:
our reading of AWS's description of each action, expressed in Suricata). In ``DEFAULT_ACTION_ORDER`` a
policy has no stateful default action: the render's own default deny is what denies, and nothing is
added. Why Suricata's native action order then gives AWS's verdicts: docs/aws-rules.md, "Rule order". The engine's exception policies are off (``exception-policy: ignore``):
AWS does not document its own, so a verdict rests on the rules alone, never on the engine dropping a flow after
a parser error.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the renderer is pure; imported for types only
    from ..renderers.aws.render import AwsRender

SURICATA_ENV = "EPFW_SURICATA"  # path to the suricata binary, if not on PATH
HARNESS_SID = 4_200_000_001  # above every sid the renderer can allocate (base_sid + span <= 4e9)
TIMEOUT_SECONDS = 300


# The policy's drop default actions as Suricata rules (what the harness appends in STRICT_ORDER). AWS documents
# them as "the default actions to take on a packet that doesn't match any stateful rules" (API FirewallPolicy,
# StatefulDefaultActions): packets of either direction, so each model drops server-to-client packets too, except
# the ``_to_server`` variant ("server-directed only"). What they match is our reading: ``aws:drop_strict`` every
# packet no rule passed; ``aws:drop_established`` every packet of an established connection (the first segment
# of a split ClientHello included); the ``_app_layer`` actions established packets once the application layer
# has something to decide on: TLS at a complete ClientHello, HTTP at a complete request, other TCP once Suricata
# has named its protocol, other IP protocols once established (both sides have spoken); from the server, data
# of a flow whose protocol is known (not its bare ACKs: AWS made these actions for ClientHellos that span
# segments, which a dropped ACK would stall).
_APP_LAYER_TO_SERVER = (
    "drop tls any any -> any any (flow:to_server,established; ssl_state:client_hello; {opts})",
    'drop http any any -> any any (flow:to_server,established; http.start; content:"|0d 0a|"; endswith; {opts})',
    "drop tcp any any -> any any (flow:to_server,established; app-layer-protocol:!tls; app-layer-protocol:!http; {opts})",
    "drop ip any any -> any any (flow:to_server,established; ip_proto:!6; {opts})",
)


_APP_LAYER_TO_CLIENT = (
    "drop tls any any -> any any (flow:to_client,established; dsize:>0; {opts})",
    "drop http any any -> any any (flow:to_client,established; dsize:>0; {opts})",
    "drop tcp any any -> any any (flow:to_client,established; dsize:>0; app-layer-protocol:!tls; app-layer-protocol:!http; {opts})",
    "drop ip any any -> any any (flow:to_client,established; ip_proto:!6; {opts})",
)
POLICY_DEFAULT_MODELS: dict[str, tuple[str, ...]] = {
    "aws:drop_strict": (
        "drop ip any any -> any any (flow:to_server; {opts})",
        "drop ip any any -> any any (flow:to_client; {opts})",
    ),
    "aws:drop_established": (
        "drop ip any any -> any any (flow:to_server,established; {opts})",
        "drop ip any any -> any any (flow:to_client,established; {opts})",
    ),
    "aws:drop_established_app_layer": _APP_LAYER_TO_SERVER + _APP_LAYER_TO_CLIENT,
    "aws:drop_established_app_layer_to_server": _APP_LAYER_TO_SERVER,
}


class SuricataUnavailable(RuntimeError):
    """Suricata is not installed (or ``EPFW_SURICATA`` points nowhere)."""


class SuricataError(RuntimeError):
    """Suricata refused the rules or the run failed; the message carries its output."""


def find_suricata() -> str | None:
    explicit = os.environ.get(SURICATA_ENV)
    if explicit:
        return explicit if Path(explicit).exists() else None
    return shutil.which("suricata") or (str(Path("/usr/bin/suricata")) if Path("/usr/bin/suricata").exists() else None)


def require_suricata() -> str:
    binary = find_suricata()
    if not binary:
        raise SuricataUnavailable(
            "Suricata is not installed: AWS verdicts come from the real engine. Install it (Debian 12: "
            "`apt-get install -t bookworm-backports suricata`; see scripts/install-suricata.sh) or set "
            f"{SURICATA_ENV} to the binary"
        )
    return binary


def suricata_version(binary: str | None = None) -> str:
    out = subprocess.run([binary or require_suricata(), "-V"], capture_output=True, text=True, timeout=60)
    match = re.search(r"version (\S+)", out.stdout + out.stderr)
    return match.group(1) if match else "unknown"


@dataclass(frozen=True)
class RuleRef:
    sid: int
    msg: str
    group: str | None  # None: the modelled policy default action

    def __str__(self) -> str:
        where = f"{self.group} " if self.group else ""
        return f'{where}sid:{self.sid} "{self.msg}"'


@dataclass(frozen=True)
class Ruleset:
    rules: tuple[str, ...]
    address_groups: dict[str, tuple[str, ...]]
    refs: dict[int, RuleRef]
    policy_default: str | None  # the modelled policy default action, if a drop one was added


_SID = re.compile(r"\bsid:\s*(\d+)\s*;")
_MSG = re.compile(r'\bmsg:\s*"((?:[^"\\]|\\.)*)"')


def _ref(line: str, group: str | None) -> RuleRef:
    sid = int(_SID.search(line).group(1))  # type: ignore[union-attr]
    msg_match = _MSG.search(line)
    msg = re.sub(r"\\(.)", r"\1", msg_match.group(1)) if msg_match else ""
    return RuleRef(sid, msg, group)


def ruleset(render: AwsRender, policy_default_deny: bool | None = None) -> Ruleset:
    """Every group's rules (in policy order) with their variables, plus the modelled policy default."""
    from ..config.aws_config import RuleOrder

    groups = sorted(render.groups, key=lambda g: g.priority or 0)
    rules: list[str] = []
    refs: dict[int, RuleRef] = {}
    variables: dict[str, tuple[str, ...]] = {}
    for group in groups:
        for name, values in group.variables:
            if variables.setdefault(name, values) != values:
                raise SuricataError(
                    f"variable {name} has different values in two groups; one Suricata instance cannot hold both"
                )
        for line in group.rules:
            ref = _ref(line, group.name)
            if ref.sid in refs:
                raise SuricataError(f"sid {ref.sid} appears twice ({refs[ref.sid].group}, {group.name})")
            refs[ref.sid] = ref
            rules.append(line)
    variables.setdefault("HOME_NET", tuple(render.source_ranges))  # a render without groups
    strict = render.rule_order is RuleOrder.STRICT_ORDER
    actions = tuple(render.stateful_default_actions)
    drop = next((a for a in actions if a in POLICY_DEFAULT_MODELS), None)
    if policy_default_deny is None:
        policy_default_deny = strict and drop is not None
    default = None
    if policy_default_deny:
        default = drop or "aws:drop_established_app_layer"
        msg = f"policy default action {default}"
        for i, template in enumerate(POLICY_DEFAULT_MODELS[default]):
            sid = HARNESS_SID + i
            rules.append(template.format(opts=f'msg:"{msg}"; sid:{sid}; rev:1;'))
            refs[sid] = RuleRef(sid, msg, None)
    return Ruleset(tuple(rules), variables, refs, default)


def _config(address_groups: dict[str, tuple[str, ...]], log_dir: Path) -> str:
    groups = "\n".join(f'    {name}: "[{",".join(values)}]"' for name, values in sorted(address_groups.items()))
    if "EXTERNAL_NET" not in address_groups:  # every rendered group sets it; a render without groups
        groups += '\n    EXTERNAL_NET: "!$HOME_NET"'
    return f"""%YAML 1.1
---
vars:
  address-groups:
{groups}
  port-groups:
    HTTP_PORTS: "80"
default-log-dir: {log_dir}
outputs:
  - eve-log:
      enabled: yes
      filetype: regular
      filename: eve.json
      types:
        - alert
        - flow
        - drop:
            alerts: yes
            flows: all
app-layer:
  protocols:
    tls:
      enabled: yes
      detection-ports:
        dp: 443
    http:
      enabled: yes
stream:
  midstream: false
# AWS does not document its exception policies: verdicts come from the rules alone, never from the engine
# dropping a flow on a parser error or a memcap (which would hide a hole in the rules)
exception-policy: ignore
logging:
  default-log-level: notice
  outputs:
    - console:
        enabled: yes
"""


@dataclass(frozen=True)
class RulesCheck:
    loaded: int
    failed: int
    output: str


def run_engine(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)


def prepare(rules: Ruleset, folder: Path, lines: Sequence[str] | None = None) -> tuple[Path, Path, Path]:
    out = folder / "log"
    out.mkdir(parents=True, exist_ok=True)
    rules_file = folder / "rules.rules"
    rules_file.write_text("\n".join(lines if lines is not None else rules.rules) + "\n", encoding="utf-8")
    config = folder / "suricata.yaml"
    config.write_text(_config(rules.address_groups, out), encoding="utf-8")
    return config, rules_file, out


def check_rules(render: AwsRender) -> RulesCheck:
    """``suricata -T``: every rule of every group (plus the modelled policy default) must load."""
    binary = require_suricata()
    rules = ruleset(render)
    with tempfile.TemporaryDirectory(prefix="epfw-suricata-") as tmp:
        config, rules_file, out = prepare(rules, Path(tmp))
        proc = run_engine([binary, "-T", "-v", "-c", str(config), "-S", str(rules_file), "-l", str(out)])
    text = proc.stdout + proc.stderr
    match = re.search(r"(\d+) rules successfully loaded, (\d+) rules failed", text)
    loaded, failed = (int(match.group(1)), int(match.group(2))) if match else (0, len(rules.rules))
    if proc.returncode != 0 or failed or loaded != len(rules.rules):
        raise SuricataError(
            f"suricata -T refused the rules (loaded {loaded} of {len(rules.rules)}, "
            f"failed {failed}, exit {proc.returncode}):\n{text}"
        )
    return RulesCheck(loaded, failed, text)
