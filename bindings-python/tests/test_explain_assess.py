"""`Engine.explain`, `govdata.assess` and `Platform.assess` give the very JSON the command
line prints for the same inputs, byte for byte: the core writes it in one place."""

import json
import os
import pathlib
import subprocess

import pytest

import govdata

ROOT = pathlib.Path(__file__).resolve().parents[2]
INVENTORY = ROOT / "policies" / "examples" / "inventory.json"
NOW = "2026-12-01"

REQUESTS = [
    # allowed, with obligations
    {"principal": "zhang.san", "action": "query", "resource": "hukou", "context": {"scenario_risk": "low"}},
    # a forbid fired
    {
        "principal": "ops.admin",
        "action": "grant_superadmin",
        "resource": {"type": "System", "id": "lake-db"},
        "context": {"grantee": "vendor.li"},
    },
    # a default deny, with the permits that came closest
    {"principal": "zhang.san", "action": "modify", "resource": "hukou"},
    {"principal": "yunwei.ops", "action": "query", "resource": "traffic-flow"},
]


@pytest.fixture(scope="module")
def cli() -> str:
    """The `govdata` binary of this checkout (`GOVDATA_CLI`, or built with cargo)."""
    given = os.environ.get("GOVDATA_CLI")
    if given:
        return given
    subprocess.run(["cargo", "build", "--quiet", "-p", "govdata-cli"], cwd=ROOT, check=True)
    meta = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return str(pathlib.Path(json.loads(meta.stdout)["target_directory"]) / "debug" / "govdata")


def run(cli, *args, stdin=None):
    env = {k: v for k, v in os.environ.items() if k != "GOVDATA_CONFIG"}
    return subprocess.run([cli, *args], cwd=ROOT, input=stdin, capture_output=True, env=env, timeout=120)


def private_key(path: pathlib.Path, byte: int) -> pathlib.Path:
    path.write_bytes(bytes([byte]) * 32)
    path.chmod(0o600)
    return path


@pytest.fixture
def node(tmp_path, cli):
    """A node with an inventory, an audit log holding a few decisions, and a vault."""
    private_key(tmp_path / "seal.key", 5)
    private_key(tmp_path / "master.key", 7)
    config = tmp_path / "govdata.toml"
    config.write_text(
        'node_id = "py-assess"\n'
        f'[inventory]\nfile = "{INVENTORY}"\n'
        '[audit]\ndir = "audit"\nkey_file = "seal.key"\n'
        '[vault]\ndir = "vault"\nmaster_key_file = "master.key"\n',
        encoding="utf-8",
    )
    assert run(cli, "vault", "init", "--config", str(config)).returncode == 0
    for request in REQUESTS:
        out = run(cli, "decide", "--config", str(config), stdin=json.dumps(request).encode())
        assert out.returncode in (0, 1), out
    return config


@pytest.mark.parametrize("request_", REQUESTS, ids=lambda r: f"{r['principal']}-{r['action']}")
def test_explain_is_the_command_lines_json_byte_for_byte(cli, request_):
    text = json.dumps(request_, ensure_ascii=False)
    out = run(cli, "explain", "--inventory", str(INVENTORY), "--json", stdin=text.encode())
    assert out.returncode in (0, 1), out
    engine = govdata.Engine(None, str(INVENTORY))
    explanation = engine.explain(request_)
    assert out.stdout == (explanation.to_json() + "\n").encode("utf-8")
    assert engine.explain_json(text).to_json() == explanation.to_json()
    # Typed: the decision and the policies behind it.
    assert isinstance(explanation.decision, govdata.Decision)
    assert explanation.decision.allowed == (out.returncode == 0)
    assert explanation.to_dict() == json.loads(out.stdout)
    if explanation.is_default_deny:
        assert explanation.closest and all("failed" in c for c in explanation.closest)
    if explanation.forbids:
        assert explanation.forbids[0]["policy"] in explanation.decision.reason_ids


def test_explain_through_a_platform_is_the_command_lines_too(cli, tmp_path):
    config = tmp_path / "govdata.toml"
    config.write_text(f'node_id = "py-explain"\n[inventory]\nfile = "{INVENTORY}"\n', encoding="utf-8")
    with govdata.Platform(config) as node:
        for request in REQUESTS:
            out = run(cli, "explain", "--config", str(config), "--json", stdin=json.dumps(request).encode())
            assert out.stdout == (node.engine.explain(request).to_json() + "\n").encode("utf-8")


def test_explain_keywords_and_errors():
    engine = govdata.Engine(None, str(INVENTORY))
    x = engine.explain(principal="zhang.san", action="modify", resource="hukou")
    assert x.is_default_deny and x.decision.decision == "deny"
    with pytest.raises(govdata.UnknownEntityError):
        engine.explain(principal="nobody", action="query", resource="hukou")
    with pytest.raises(govdata.RequestInvalidError):
        engine.explain_json("{")


def test_assess_from_a_file_is_the_command_lines_json_byte_for_byte(cli, node):
    out = run(cli, "assess", "--config", str(node), "--now", NOW, "--json", "-", "--fail-on", "none")
    assert out.returncode == 0, out
    report = govdata.assess(node, now=NOW)
    assert out.stdout == (report.to_json() + "\n").encode("utf-8")
    # The same through the opened node (whose log it reads without writing).
    with govdata.Platform(node) as platform:
        assert platform.assess(now=NOW).to_json() == report.to_json()
    # Typed: the findings and their counts.
    doc = json.loads(out.stdout)
    assert report.now == doc["now"]
    assert report.summary == doc["summary"]
    assert [f["id"] for f in report.findings] == [f["id"] for f in doc["findings"]]
    assert report.findings_at_or_above("info") == len(doc["findings"])
    assert report.to_dict()["sources"]["audit"] is not None
    assert "<html" in report.to_html()


def test_assess_with_keywords_is_the_command_line_with_flags(cli, node):
    d = node.parent
    flags = [
        "--inventory", str(INVENTORY),
        "--audit-dir", str(d / "audit"),
        "--audit-key-file", str(d / "seal.key"),
        "--vault-dir", str(d / "vault"),
        "--master-key-file", str(d / "master.key"),
        "--now", NOW,
        "--gap-days", "0",
        "--backup-days", "3",
    ]  # fmt: skip
    out = run(cli, "assess", *flags, "--json", "-", "--fail-on", "none")
    assert out.returncode == 0, out
    report = govdata.assess(
        inventory=INVENTORY,
        audit_dir=d / "audit",
        audit_key_file=d / "seal.key",
        vault_dir=d / "vault",
        master_key_file=d / "master.key",
        now=NOW,
        gap_days=0,
        backup_days=3,
    )
    assert out.stdout == (report.to_json() + "\n").encode("utf-8")
    # A keyword overrides the file, as a flag does.
    out = run(cli, "assess", "--config", str(node), "--policies", str(ROOT / "policies"), "--now", NOW, "--json", "-", "--fail-on", "none")
    report = govdata.assess(node, policies=ROOT / "policies", now=NOW)
    assert out.stdout == (report.to_json() + "\n").encode("utf-8")


def test_assess_refuses_a_key_file_others_may_read(node):
    d = node.parent
    loose = d / "loose.key"
    loose.write_bytes(bytes([5]) * 32)
    loose.chmod(0o644)
    with pytest.raises(govdata.ConfigInvalidError):
        govdata.assess(node, audit_key_file=loose, now=NOW)
    with pytest.raises(govdata.RequestInvalidError):
        govdata.assess(audit_dir=d / "audit", now=NOW)
