"""govdata.Platform: one node opened from its govdata.toml — the engine recording into
the log, the procedures on it, the vault deciding with the engine; a wrong file is
ConfigInvalidError naming the key, a missing file IoError naming the path."""

import os

import pytest

import govdata

from conftest import ROOT

QUERY = {"principal": "zhang.san", "action": "query", "resource": "population-stats", "context": {"purpose": "statistics"}}


def _key(path, byte):
    path.write_bytes(bytes([byte]) * 32)
    os.chmod(path, 0o600)
    return path


@pytest.fixture
def node_dir(tmp_path):
    _key(tmp_path / "seal.key", 5)
    _key(tmp_path / "master.key", 9)
    govdata.Vault.init(tmp_path / "vault", engine=govdata.Engine.default(), master_key=bytes([9]) * 32)
    (tmp_path / "govdata.toml").write_text(
        f'''node_id = "py-node"
[inventory]
file = "{ROOT / "policies" / "examples" / "inventory.json"}"
[audit]
dir = "audit"
key_file = "seal.key"
[vault]
dir = "vault"
master_key_file = "master.key"
''',
        encoding="utf-8",
    )
    return tmp_path


def test_a_node_opens_from_its_config_and_its_parts_are_wired(node_dir):
    with govdata.Platform(node_dir / "govdata.toml") as node:
        assert node.node_id == "py-node"
        assert node.engine.audited
        assert node.engine.decide(QUERY).audit_seq == 1
        vault = node.vault
        vault.ensure_key("key.admin", "social-insurance")
        sealed = vault.encrypt("social-insurance", "L3", b"rows")
        assert vault.decrypt("social-insurance", "L3", sealed) == b"rows"
        assert node.workflows.shares() == []
        status = node.status()
        assert status["node_id"] == "py-node"
        assert status["audit"]["last_seq"] == node.audit_log.last_seq >= 2
        assert status["vault"]["keys"] == 1
    # Closed: the log's lock is released and the node opens again at once.
    again = govdata.Platform(node_dir / "govdata.toml")
    assert again.audit_log.verify()["records"] >= 2
    again.close()


def test_a_node_without_parts_is_the_engine_alone(tmp_path):
    (tmp_path / "govdata.toml").write_text('node_id = "bare"\n', encoding="utf-8")
    node = govdata.Platform(tmp_path / "govdata.toml")
    assert node.audit_log is None and node.vault is None and node.workflows is None
    assert node.engine.decide(QUERY).audit_seq is None


@pytest.mark.parametrize(
    "text, cls, named",
    [
        ('node_id = "a"\ncolour = "red"\n', govdata.ConfigInvalidError, "colour"),
        ('node_id = "a"\n[audit]\ndir = "a"\nkey = "00"\n', govdata.ConfigInvalidError, "audit.key"),
        ('node_id = "a"\n[inventory]\nfile = "missing.json"\n', govdata.IoError, "missing.json"),
    ],
)
def test_a_wrong_config_names_the_key_or_the_path(tmp_path, text, cls, named):
    (tmp_path / "govdata.toml").write_text(text, encoding="utf-8")
    with pytest.raises(cls) as e:
        govdata.Platform(tmp_path / "govdata.toml")
    assert named in str(e.value)
