"""The sharing (Art. 14) and destruction (Art. 15) procedures from Python: each step a
decision of the engine and a record in the audit log, approvals the engine resolves,
crypto-erasure through the vault, the state rebuilt from the log."""

import pytest

import govdata

AUDIT_KEY = bytes(range(32))
MASTER = bytes(range(100, 132))
APPLICATION = dict(
    purpose="social_security_check",
    legal_basis="社会保险法第五十八条",
    fields=["name", "id_number"],
    until="2099-12-31",
    scenario_risk="low",
)


@pytest.fixture
def node(tmp_path):
    """A node opened from a govdata.toml with an audit log: its engine records into the
    log and its procedures are rebuilt from it, as a deployment opens them."""
    key = tmp_path / "audit.key"
    key.write_bytes(AUDIT_KEY)
    key.chmod(0o600)
    config = tmp_path / "govdata.toml"
    config.write_text(
        'node_id = "procedures"\n[audit]\ndir = "audit"\nkey_file = "audit.key"\n',
        encoding="utf-8",
    )
    node = govdata.Platform(config)
    yield node
    node.close()


@pytest.fixture
def log(node):
    return node.audit_log


@pytest.fixture
def engine(node):
    return node.engine


@pytest.fixture
def flows(node):
    return node.workflows


def _query(engine, user, approval):
    return engine.decide(principal=user, action="query", resource="hukou", context={"approval": approval})


def _share(flows):
    step = flows.request_share("wang.wu", "hukou", **APPLICATION)
    assert isinstance(step, govdata.StepResult)
    assert step.done and step.decision.allowed
    assert step.record["status"] == "submitted"
    return step.record["id"]


def test_a_conditional_share_from_request_to_query(engine, flows):
    share_id = _share(flows)

    # The requester may not review their own request: refused, and nothing changed.
    own = flows.approve_share("wang.wu", share_id)
    assert not own.done
    assert own.record is None
    assert isinstance(own.decision, govdata.Decision) and own.decision.decision == "deny"
    assert own.decision.audit_seq is not None
    assert flows.share(share_id)["status"] == "submitted"

    approved = flows.approve_share("gongan.officer", share_id, "同意")
    assert approved.done and approved.record["status"] == "approved"
    approval = approved.record["approval"]["id"]
    assert approval == "apr-" + share_id

    # Approved is not yet provisioned: the approval resolves for no query.
    assert not _query(engine, "wang.wu", approval).allowed

    provisioned = flows.provision_share("li.si", share_id)
    assert provisioned.done and provisioned.record["status"] == "provisioned"

    assert _query(engine, "wang.wu", approval).allowed
    assert not _query(engine, "chen.yi", approval).allowed

    listed = flows.shares()
    assert [s["id"] for s in listed] == [share_id]
    assert listed[0]["status"] == "provisioned"


def test_revoking_a_share_ends_its_approval(engine, flows):
    share_id = _share(flows)
    approval = flows.approve_share("gongan.officer", share_id).record["approval"]["id"]
    flows.provision_share("li.si", share_id)
    revoked = flows.revoke_share("gongan.officer", share_id, "用途已完成")
    assert revoked.done and revoked.record["status"] == "revoked"
    assert not _query(engine, "wang.wu", approval).allowed


def test_a_rejected_share(flows):
    share_id = _share(flows)
    with pytest.raises(govdata.RequestInvalidError):
        flows.reject_share("gongan.officer", share_id, " ")
    rejected = flows.reject_share("gongan.officer", share_id, "字段超出用途")
    assert rejected.done and rejected.record["status"] == "rejected"


def test_data_not_for_sharing_is_refused(flows):
    step = flows.request_share("wang.wu", "criminal-records", **APPLICATION)
    assert not step.done
    assert step.record is None
    assert step.decision.decision == "deny"
    assert flows.shares() == []


def test_arguments_are_read_by_the_core(flows):
    with pytest.raises(govdata.RequestInvalidError):
        flows.request_share("wang.wu", "hukou", **{**APPLICATION, "scenario_risk": "extreme"})
    with pytest.raises(govdata.RequestInvalidError):
        flows.request_share("wang.wu", "hukou", **{**APPLICATION, "until": "not a date"})
    with pytest.raises(govdata.RequestInvalidError):
        flows.request_destruction("zhao.liu", "social-insurance", "burn", "到期")
    with pytest.raises(govdata.UnknownEntityError):
        flows.request_share("wang.wu", "no-such-dataset", **APPLICATION)
    with pytest.raises(govdata.UnknownEntityError):
        flows.approve_share("gongan.officer", "shr-999999")


def test_a_crypto_erasure_from_request_to_execution(tmp_path, engine, log):
    vault = govdata.Vault.init(tmp_path / "vault", master_key=MASTER, engine=engine, audit=log)
    vault.rotate_key("key.admin", "social-insurance")
    sealed = vault.encrypt("social-insurance", "L3", "张某,3200".encode())

    flows = govdata.Workflows(engine, log)
    flows.set_vault(vault)

    requested = flows.request_destruction("zhao.liu", "social-insurance", "crypto_erase", "保存期限届满")
    assert requested.done
    d = requested.record
    assert d["status"] == "requested" and d["method"] == "crypto_erase"

    own = flows.approve_destruction("zhao.liu", d["id"], "ops.admin")
    assert not own.done and own.record is None

    approved = flows.approve_destruction("renshe.officer", d["id"], "ops.admin")
    assert approved.done and approved.record["status"] == "approved"
    assert approved.record["approval"]["executor"] == "ops.admin"

    executed = flows.execute_destruction("ops.admin", d["id"], witness="key.admin", note="证书 001")
    assert executed.done and executed.record["status"] == "executed"
    assert executed.record["execution"]["witness"] == "key.admin"
    assert executed.record["execution"]["key_ids"]

    with pytest.raises(govdata.KeyDestroyedError):
        vault.decrypt("social-insurance", "L3", sealed)

    # The log is the only store: reopened over it, the procedures stand where they did.
    again = govdata.Workflows(engine, log)
    assert again.destructions() == flows.destructions()
    assert again.destruction(d["id"])["status"] == "executed"
    assert again.rebuild_report["skipped"] == []


def test_reopening_over_the_log_shows_the_same_state(engine, log, flows):
    share_id = _share(flows)
    flows.approve_share("gongan.officer", share_id)
    flows.provision_share("li.si", share_id)
    before = flows.shares()
    again = govdata.Workflows(engine, log)
    assert again.shares() == before
    assert again.rebuild_report["shares"] == 1
    approval = before[0]["approval"]["id"]
    assert _query(engine, "wang.wu", approval).allowed


def test_a_step_out_of_order_is_workflow_invalid(flows):
    share_id = _share(flows)
    with pytest.raises(govdata.WorkflowInvalidError) as info:
        flows.provision_share("li.si", share_id)
    assert info.value.code == "workflow_invalid"
    assert flows.request_destruction("zhao.liu", "social-insurance", "overwrite", "到期").done
    with pytest.raises(govdata.WorkflowInvalidError):
        flows.request_destruction("zhao.liu", "social-insurance", "overwrite", "重复申请")


def test_crypto_erasure_without_a_vault_is_workflow_invalid(flows):
    d = flows.request_destruction("zhao.liu", "social-insurance", "crypto_erase", "到期").record
    flows.approve_destruction("renshe.officer", d["id"], "ops.admin")
    with pytest.raises(govdata.WorkflowInvalidError):
        flows.execute_destruction("ops.admin", d["id"], witness="key.admin")
    assert flows.destruction(d["id"])["status"] == "approved"


def test_destruction_methods_are_listed():
    assert set(govdata.DESTRUCTION_METHODS) == {"crypto_erase", "logical_delete", "overwrite", "physical_destroy"}
