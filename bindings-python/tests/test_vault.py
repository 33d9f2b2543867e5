"""The vault from Python: envelope encryption in both suites, files, key rotation,
crypto-shredding, key operations decided by the engine and recorded in the audit log."""

import os

import pytest

import govdata

MASTER = bytes(range(100, 132))
AUDIT_KEY = bytes(range(32))
ADMIN = "key.admin"
DATASET, GRADE = "social-insurance", "L3"


@pytest.fixture
def log(tmp_path):
    log = govdata.AuditLog(tmp_path / "audit", key=AUDIT_KEY)
    yield log
    log.close()


@pytest.fixture
def vault(tmp_path, fresh_engine, log):
    """A vault whose engine records its decisions, and whose key events, in `log`."""
    fresh_engine.attach_audit(log)
    vault = govdata.Vault.init(tmp_path / "vault", master_key=MASTER, engine=fresh_engine, audit=log)
    vault.rotate_key(ADMIN, DATASET)
    return vault


def _flip(data: bytes, at: int) -> bytes:
    b = bytearray(data)
    b[at] ^= 0x01
    return bytes(b)


@pytest.mark.parametrize("suite", govdata.VAULT_SUITES)
def test_a_record_round_trips_in_both_suites(vault, suite):
    plain = "张某,330102197001013456,3200".encode()
    sealed = vault.encrypt(DATASET, GRADE, plain, suite=suite)
    assert isinstance(sealed, bytes) and plain not in sealed
    assert vault.decrypt(DATASET, GRADE, sealed) == plain
    assert vault.decrypt(DATASET, GRADE, bytearray(sealed)) == plain
    assert vault.encrypt(DATASET, GRADE, b"") != vault.encrypt(DATASET, GRADE, b"")


@pytest.mark.parametrize("suite", govdata.VAULT_SUITES)
def test_a_vault_on_the_national_algorithms_throughout(tmp_path, fresh_engine, suite):
    vault = govdata.Vault.init(tmp_path / "v", master_key=MASTER, engine=fresh_engine, suite=suite)
    assert vault.default_suite == suite
    assert vault.status()["master_algorithm"] == suite
    vault.rotate_key(ADMIN, DATASET)
    sealed = vault.encrypt(DATASET, GRADE, b"record")
    # Reopened, the master key wraps with the algorithm the store records.
    again = govdata.Vault.open(tmp_path / "v", master_key=MASTER, engine=fresh_engine)
    assert again.decrypt(DATASET, GRADE, sealed) == b"record"


def test_tampered_or_misplaced_ciphertext_is_crypto_auth_failed(vault):
    sealed = vault.encrypt(DATASET, GRADE, b"an insured person")
    for at in (len(sealed) // 2, len(sealed) - 1):
        with pytest.raises(govdata.CryptoAuthFailedError) as info:
            vault.decrypt(DATASET, GRADE, _flip(sealed, at))
        assert info.value.code == "crypto_auth_failed"
    with pytest.raises(govdata.CryptoAuthFailedError):
        vault.decrypt(DATASET, "L4", sealed)              # another grade
    with pytest.raises(govdata.CryptoAuthFailedError):
        vault.decrypt(DATASET, GRADE, sealed[:-1])         # truncated
    vault.rotate_key(ADMIN, "subsidy-list")
    with pytest.raises(govdata.CryptoAuthFailedError):
        vault.decrypt("subsidy-list", GRADE, sealed)       # another dataset


def test_a_file_round_trips_and_a_tampered_file_leaves_no_output(tmp_path, vault):
    src = tmp_path / "rows.csv"
    src.write_bytes(b"id,name\n1,\xe5\xbc\xa0\n" * 20_000)
    enc, out = tmp_path / "rows.csv.gdv", tmp_path / "rows.out.csv"
    n = vault.encrypt_file(DATASET, GRADE, src, enc, suite="sm4-gcm")
    assert n == src.stat().st_size
    assert vault.decrypt_file(DATASET, GRADE, str(enc), str(out)) == n
    assert out.read_bytes() == src.read_bytes()

    out.unlink()
    bad = tmp_path / "bad.gdv"
    bad.write_bytes(_flip(enc.read_bytes(), enc.stat().st_size // 2))
    with pytest.raises(govdata.CryptoAuthFailedError):
        vault.decrypt_file(DATASET, GRADE, bad, out)
    assert not out.exists()
    # A record is not a stream, and a stream is not a record.
    with pytest.raises(govdata.CryptoAuthFailedError):
        vault.decrypt(DATASET, GRADE, enc.read_bytes())
    with pytest.raises(govdata.IoError):
        vault.encrypt_file(DATASET, GRADE, tmp_path / "missing.csv", enc)


def test_rotation_keeps_old_data_readable(vault):
    old = vault.encrypt(DATASET, GRADE, b"before")
    info = vault.rotate_key(ADMIN, DATASET)
    assert info["version"] == 2 and info["status"] == "active" and info["dataset"] == DATASET
    assert [k["status"] for k in vault.keys(DATASET)] == ["retired", "active"]
    assert vault.decrypt(DATASET, GRADE, old) == b"before"
    assert vault.ensure_key(ADMIN, DATASET)["id"] == info["id"]


def test_shredding_destroys_the_key_for_good(vault, log):
    sealed = vault.encrypt(DATASET, GRADE, b"to be destroyed")
    report = vault.shred(ADMIN, DATASET)
    assert report["dataset"] == DATASET and len(report["key_ids"]) == 1
    assert report["event_seq"] is not None
    with pytest.raises(govdata.KeyDestroyedError) as info:
        vault.decrypt(DATASET, GRADE, sealed)
    assert info.value.code == "key_destroyed"
    with pytest.raises(govdata.KeyDestroyedError):
        vault.encrypt(DATASET, GRADE, b"new data")
    with pytest.raises(govdata.KeyDestroyedError):
        vault.shred(ADMIN, DATASET)
    assert [k["status"] for k in vault.keys(DATASET)] == ["destroyed"]
    (shred,) = log.query(kind="key.shred")
    assert shred["user"] == ADMIN and shred["resource"] == DATASET
    assert shred["fields"]["key_ids"] == report["key_ids"]
    assert shred["seq"] == report["event_seq"]


def test_key_operations_are_decided_by_the_engine(vault, log):
    with pytest.raises(govdata.AccessDeniedError) as info:
        vault.shred("vendor.li", DATASET)
    assert info.value.code == "access_denied"
    with pytest.raises(govdata.AccessDeniedError):
        vault.rotate_key("zhang.san", DATASET)
    # Important data needs dual control: a witness whom the policies also allow.
    with pytest.raises(govdata.AccessDeniedError):
        vault.rotate_key(ADMIN, "medical-records")
    with pytest.raises(govdata.AccessDeniedError):
        vault.rotate_key(ADMIN, "medical-records", witness="vendor.li")
    info = vault.rotate_key(ADMIN, "medical-records", witness="ops.admin")
    assert info["version"] == 1
    # Every key event, and every decision on one, is in the log.
    kinds = [r["kind"] for r in log.records()]
    assert kinds.count("key.init_store") == 1 and kinds.count("key.create_key") == 2
    denials = log.query(action="manage_keys", decision="deny")
    assert {r["user"] for r in denials} >= {"vendor.li", "zhang.san"}
    (create,) = log.query(kind="key.create_key", dataset="medical-records")
    assert create["fields"]["witness"] == "ops.admin"
    assert create["fields"]["decision_seq"] < create["seq"]
    assert log.verify()["ok"]


def test_vendor_staff_cannot_create_a_key_store(tmp_path, engine):
    with pytest.raises(govdata.AccessDeniedError):
        govdata.Vault.init(tmp_path / "v", master_key=MASTER, engine=engine, operator="vendor.li")


def test_no_key_yet_is_key_not_found(vault):
    with pytest.raises(govdata.KeyNotFoundError) as info:
        vault.encrypt("subsidy-list", GRADE, b"x")
    assert info.value.code == "key_not_found"
    with pytest.raises(govdata.KeyNotFoundError):
        vault.shred(ADMIN, "subsidy-list")


@pytest.mark.parametrize("bad", [b"", MASTER[:31], MASTER + b"\0"])
def test_a_master_key_of_the_wrong_length_is_key_invalid(tmp_path, engine, bad):
    with pytest.raises(govdata.KeyInvalidError) as info:
        govdata.Vault.init(tmp_path / "v", master_key=bad, engine=engine)
    assert info.value.code == "key_invalid"
    key_file = tmp_path / "master.key"
    key_file.write_bytes(bad)
    with pytest.raises(govdata.KeyInvalidError):
        govdata.Vault.init(tmp_path / "v", master_key=key_file, engine=engine)


def test_master_keys_from_a_file_or_the_environment(tmp_path, engine, vault, monkeypatch):
    sealed = vault.encrypt(DATASET, GRADE, b"record")
    key_file = tmp_path / "master.key"
    key_file.write_bytes(MASTER)
    by_file = govdata.Vault.open(tmp_path / "vault", master_key=key_file, engine=engine)
    assert by_file.decrypt(DATASET, GRADE, sealed) == b"record"
    monkeypatch.setenv("GOVDATA_TEST_MASTER_KEY", MASTER.hex())
    by_env = govdata.Vault.open(tmp_path / "vault", master_key_env="GOVDATA_TEST_MASTER_KEY", engine=engine)
    assert by_env.decrypt(DATASET, GRADE, sealed) == b"record"
    with pytest.raises(govdata.KeyInvalidError):
        govdata.Vault.open(tmp_path / "vault", master_key_env="GOVDATA_TEST_NO_SUCH_VARIABLE", engine=engine)
    with pytest.raises(TypeError):
        govdata.Vault.open(tmp_path / "vault", engine=engine)
    with pytest.raises(TypeError):
        govdata.Vault.open(tmp_path / "vault", master_key=MASTER, master_key_env="X", engine=engine)
    with pytest.raises(TypeError):
        govdata.Vault.open(tmp_path / "vault", master_key=1234, engine=engine)


def test_another_master_key_is_key_invalid_and_rotation_rewraps(tmp_path, engine, vault):
    sealed = vault.encrypt(DATASET, GRADE, b"record")
    with pytest.raises(govdata.KeyInvalidError):
        govdata.Vault.open(tmp_path / "vault", master_key=os.urandom(32), engine=engine)
    new = os.urandom(32)
    vault.rotate_master_key(ADMIN, master_key=new)
    reopened = govdata.Vault.open(tmp_path / "vault", master_key=new, engine=engine)
    assert reopened.decrypt(DATASET, GRADE, sealed) == b"record"
    with pytest.raises(govdata.KeyInvalidError):
        govdata.Vault.open(tmp_path / "vault", master_key=MASTER, engine=engine)


def test_an_altered_key_store_is_crypto_auth_failed(tmp_path, engine, vault):
    store = [p for p in (tmp_path / "vault").iterdir() if p.is_file()]
    assert store
    for p in store:
        p.write_bytes(p.read_bytes().replace(b'"social-insurance"', b'"subsidy-list\\u0000\\u0000\\u0000\\u0000"'))
    with pytest.raises(govdata.CryptoAuthFailedError):
        govdata.Vault.open(tmp_path / "vault", master_key=MASTER, engine=engine)


def test_status_and_repr_never_show_key_material(vault):
    status = vault.status()
    assert status["master_key_id"].startswith("mk-")
    assert status["default_suite"] == "xchacha20poly1305"
    assert [k["dataset"] for k in status["keys"]] == [DATASET]
    text = repr(vault) + repr(status)
    assert MASTER.hex() not in text and str(MASTER) not in text
    assert "Vault(" in repr(vault)


def test_bad_arguments(vault):
    with pytest.raises(govdata.RequestInvalidError):
        vault.encrypt(DATASET, "L9", b"x")
    with pytest.raises(govdata.RequestInvalidError):
        vault.encrypt(DATASET, GRADE, b"x", suite="rot13")
    with pytest.raises(TypeError):
        vault.encrypt(DATASET, GRADE, "text is not bytes")
    with pytest.raises(govdata.IoError):
        govdata.Vault.init(vault.dir, master_key=MASTER, engine=govdata.Engine.default())
