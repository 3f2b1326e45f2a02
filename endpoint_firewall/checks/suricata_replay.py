"""Replaying a capture through a render's rules in Suricata (``--simulate-ips``) and reading ``eve.json``: a flow
is dropped when any of its packets was (an alert with action ``blocked``, or a flow the engine itself dropped),
else allowed. Each packet's verdict is read (``pcap_cnt``; eve ``drop`` events list every dropped packet), so a
verdict also says how many client data packets got through before the drop and how many data packets of either
side got through after it.
"""

from __future__ import annotations

import ipaddress
import json
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .flow import Flow
from .suricata_capture import Session, write_capture
from .suricata_engine import (
    RuleRef,
    Ruleset,
    SuricataError,
    check_rules,
    prepare,
    require_suricata,
    ruleset,
    run_engine,
    suricata_version,
)

if TYPE_CHECKING:  # the renderer is pure; imported for types only
    from ..renderers.aws.render import AwsRender

ENGINE_DROP = RuleRef(0, "dropped by the engine itself, no rule (an exception policy)", "engine")


@dataclass(frozen=True)
class FlowVerdict:
    flow: Flow
    session: Session
    allowed: bool
    passed_by: tuple[RuleRef, ...] = ()  # pass rules that match the flow (from the explain run)
    dropped_by: RuleRef | None = None  # the first rule whose drop hit the flow
    delivered_before_drop: int = 0  # client data packets that got through before the first drop
    delivered_after_drop: int = 0  # data packets (either side) that got through after it (should be 0)

    @property
    def rule(self) -> RuleRef | None:
        return self.passed_by[0] if self.allowed and self.passed_by else (None if self.allowed else self.dropped_by)


@dataclass(frozen=True)
class Replay:
    verdicts: tuple[FlowVerdict, ...]
    rules_loaded: int
    policy_default: str | None
    version: str
    log: dict[str, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        allowed = sum(v.allowed for v in self.verdicts)
        return {"flows": len(self.verdicts), "allowed": allowed, "dropped": len(self.verdicts) - allowed}


def _alerts(eve: Path) -> list[dict]:
    if not eve.exists():
        return []
    out = []
    for line in eve.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if event.get("event_type") in ("alert", "flow", "drop"):
            out.append(event)
    return out


def _address(value: str) -> str:
    """eve writes IPv6 fully expanded (``2001:0db8:0000:...``): compare addresses, not strings."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return value


def _session_key(event: dict) -> tuple[str, int, str, int, str]:
    proto = str(event.get("proto", "")).upper()
    if proto in ("ICMP", "IPV6-ICMP"):
        return (_address(event.get("src_ip", "")), 0, _address(event.get("dest_ip", "")), 0, "ICMP")
    return (
        _address(event.get("src_ip", "")),
        int(event.get("src_port", 0)),
        _address(event.get("dest_ip", "")),
        int(event.get("dest_port", 0)),
        proto,
    )


def _index(sessions: Sequence[Session]) -> dict[tuple[str, int, str, int, str], int]:
    index = {}
    for i, s in enumerate(sessions):
        client, server = _address(s.client), _address(s.server)
        client_port = 0 if s.transport == "ICMP" else s.client_port
        index[(client, client_port, server, s.server_port, s.transport)] = i
        index[(server, s.server_port, client, client_port, s.transport)] = i
    return index


def _engine(binary: str, rules: Ruleset, lines: Sequence[str], pcap: Path, folder: Path) -> tuple[list[dict], str]:
    config, rules_file, out = prepare(rules, folder, lines)
    proc = run_engine(
        [
            binary,
            "-c",
            str(config),
            "--simulate-ips",
            "-r",
            str(pcap),
            "-k",
            "none",
            "--runmode",
            "single",
            "-l",
            str(out),
            "-S",
            str(rules_file),
        ]
    )
    text = proc.stdout + proc.stderr
    if proc.returncode != 0 or re.search(r"^E: ", text, re.M):
        raise SuricataError(f"suricata failed (exit {proc.returncode}):\n{text}")
    return _alerts(out / "eve.json"), text


def replay(
    render: AwsRender,
    flows: Sequence[Flow],
    source: str,
    *,
    policy_default_deny: bool | None = None,
    keep: Path | None = None,
) -> Replay:
    """Replay ``flows`` (each on its own 5-tuple, from ``source`` unless the flow names one) through
    the render's rules in Suricata, and say per flow whether it was allowed and by which rule.

    Two runs: the verdict run (rules as rendered, plus the modelled policy default); and an explain
    run in which every ``pass`` is an ``alert`` and nothing drops, to name the rules that passed a flow
    (Suricata does not log pass matches).
    """
    binary = require_suricata()
    check = check_rules(render)
    rules = ruleset(render, policy_default_deny)
    explain_lines = ["alert " + line[len("pass ") :] for line in rules.rules if line.startswith("pass ")]
    with tempfile.TemporaryDirectory(prefix="epfw-replay-") as tmp:
        folder = Path(tmp)
        pcap = folder / "flows.pcap"
        capture = write_capture(flows, source, pcap)
        sessions = capture.sessions
        verdict_events, verdict_log = _engine(binary, rules, rules.rules, pcap, folder / "verdict")
        explain_events = _engine(binary, rules, explain_lines, pcap, folder / "explain")[0] if explain_lines else []
        if keep:
            keep.mkdir(parents=True, exist_ok=True)
            for path in folder.rglob("*"):
                if path.is_file():
                    target = keep / path.relative_to(folder)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, target)
    index = _index(sessions)
    seen: set[int] = set()
    dropped: dict[int, tuple[int, RuleRef]] = {}  # session -> (pcap_cnt of its first dropped packet, rule)
    engine_dropped: set[int] = set()
    dropped_packets: set[int] = set()  # pcap_cnt of every dropped packet (eve ``drop`` events, flows: all)
    for event in verdict_events:
        i = index.get(_session_key(event))
        if i is None:
            continue
        seen.add(i)
        if event["event_type"] == "drop" and event.get("pcap_cnt"):
            dropped_packets.add(int(event["pcap_cnt"]))
        alert = event.get("alert")
        if event["event_type"] == "alert" and alert and alert.get("action") == "blocked":
            sid = int(alert["signature_id"])
            at = int(event.get("pcap_cnt") or 0)
            if i not in dropped or at < dropped[i][0]:
                dropped[i] = (at, rules.refs.get(sid, RuleRef(sid, alert.get("signature", ""), None)))
        elif event["event_type"] == "flow" and (event.get("flow") or {}).get("action") == "drop":
            engine_dropped.add(i)
    for i in engine_dropped - set(dropped):
        dropped[i] = (0, ENGINE_DROP)
    missing = [str(sessions[i].flow) for i in range(len(sessions)) if i not in seen]
    if missing:
        raise SuricataError(f"Suricata saw no flow record for {len(missing)} flow(s), e.g. {missing[:3]}")
    passed: dict[int, list[RuleRef]] = {}
    for event in explain_events:
        i = index.get(_session_key(event))
        alert = event.get("alert")
        if i is None or event["event_type"] != "alert" or not alert:
            continue
        ref = rules.refs.get(int(alert["signature_id"]))
        if ref and ref not in passed.setdefault(i, []):
            passed[i].append(ref)
    first_drop: dict[int, int] = {}
    for cnt, (i, _) in enumerate(capture.packets, start=1):
        if cnt in dropped_packets and i not in first_drop:
            first_drop[i] = cnt
    delivered: dict[int, int] = {}
    after: dict[int, int] = {}
    for cnt, (i, data) in enumerate(capture.packets, start=1):
        if i not in dropped:
            continue
        at = first_drop.get(i, dropped[i][0])
        if data and 0 < at and cnt < at:
            delivered[i] = delivered.get(i, 0) + 1
        elif capture.payload[cnt - 1] and cnt > at and cnt not in dropped_packets:
            after[i] = after.get(i, 0) + 1
    verdicts = tuple(
        FlowVerdict(
            flow=s.flow,
            session=s,
            allowed=i not in dropped,
            passed_by=tuple(passed.get(i, ())) if i not in dropped else (),
            dropped_by=dropped[i][1] if i in dropped else None,
            delivered_before_drop=delivered.get(i, 0),
            delivered_after_drop=after.get(i, 0),
        )
        for i, s in enumerate(sessions)
    )
    return Replay(verdicts, check.loaded, rules.policy_default, suricata_version(binary), {"verdict": verdict_log})
