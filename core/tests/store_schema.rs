//! The store's schema against the real server: `store init` twice changes nothing;
//! the shipping role may only insert; UPDATE, DELETE and TRUNCATE are refused even for
//! the owner; retention drops only a whole month older than six calendar months with
//! a verified backup recorded; the reader reads and writes nothing; a plain-text
//! connection to a network address is refused by the client, and a server whose
//! certificate does not verify is not talked to.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::expect_used,
    reason = "test helpers fail the test loudly"
)]

mod store_support;

use govdata::audit::{SealingKey, Timestamp};
use govdata::store::{init_schema, verify_store, StoreConnector};
use store_support::*;

const KEY: [u8; 32] = [5; 32];

#[test]
fn init_is_idempotent() {
    let (_db, url) = fresh_db("init");
    let mut c = StoreConnector::new(&url, None, None)
        .unwrap()
        .connect()
        .unwrap();
    assert_eq!(init_schema(&mut c).unwrap(), 1);
    assert_eq!(init_schema(&mut c).unwrap(), 1);
    let mut tables = |like: &str| -> i64 {
        c.query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'govdata' AND tablename LIKE $1",
            &[&like],
        )
        .unwrap()
        .get(0)
    };
    // The audit log's (with schema_version), the live inventory's, the bundles'.
    assert_eq!(tables("audit%") + tables("schema_version"), 6);
    assert_eq!(tables("inventory%"), 6);
    assert_eq!(tables("policy_bundles"), 1);
    let names: Vec<String> = c
        .query(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = 'govdata'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for t in ["store_checkpoints", "checkpoint_nodes", "checkpoint_tiles"] {
        assert!(names.iter().any(|have| have == t), "{t} in {names:?}");
    }
}

#[test]
fn the_shipping_role_may_only_insert() {
    let scratch = Scratch::new("roles");
    let (db, _url) = fresh_db("roles");
    let log = log_with(scratch.path(), KEY, 5, None, None);
    let _shipper = ship(&db, "n1", &log, scratch.path(), 10);
    let mut c = connect_as(&db, SHIPPER.0, SHIPPER.1);
    for sql in [
        "UPDATE govdata.audit_records SET user_id = 'x' WHERE seq = 1",
        "DELETE FROM govdata.audit_records WHERE seq = 1",
        "TRUNCATE govdata.audit_records",
        "UPDATE govdata.audit_nodes SET head_seq = 1",
        "DELETE FROM govdata.audit_nodes",
        "DELETE FROM govdata.audit_seals",
        "SELECT govdata.drop_month('2000-01-01')",
        "SELECT payload FROM govdata.audit_records",
    ] {
        let e = c.batch_execute(sql).unwrap_err();
        assert_eq!(sqlstate(&e), "42501", "{sql}: {e}");
    }
    // A partition directly: no privilege at all.
    let month = c
        .query_one("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYYMM')", &[])
        .unwrap()
        .get::<_, String>(0);
    let e = c
        .batch_execute(&format!("DELETE FROM govdata.audit_records_{month}"))
        .unwrap_err();
    assert_eq!(sqlstate(&e), "42501");
}

#[test]
fn the_owner_too_cannot_update_delete_or_truncate() {
    let scratch = Scratch::new("owner");
    let (db, url) = fresh_db("owner");
    let log = log_with(scratch.path(), KEY, 3, None, None);
    let _shipper = ship(&db, "n1", &log, scratch.path(), 10);
    let mut c = StoreConnector::new(&url, None, None)
        .unwrap()
        .connect()
        .unwrap();
    let month = c
        .query_one("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYYMM')", &[])
        .unwrap()
        .get::<_, String>(0);
    for sql in [
        "UPDATE govdata.audit_records SET user_id = 'x' WHERE seq = 1".to_owned(),
        "DELETE FROM govdata.audit_records WHERE seq = 3".to_owned(),
        "TRUNCATE govdata.audit_records".to_owned(),
        format!("TRUNCATE govdata.audit_records_{month}"),
        format!("DELETE FROM govdata.audit_records_{month}"),
        "UPDATE govdata.audit_nodes SET head_seq = 1".to_owned(),
        "DELETE FROM govdata.audit_nodes".to_owned(),
        "TRUNCATE govdata.audit_nodes CASCADE".to_owned(),
    ] {
        let e = c.batch_execute(&sql).unwrap_err();
        assert_eq!(sqlstate(&e), "GD100", "{sql}: {e}");
    }
    // A row that does not continue the node's chain is refused, even from the owner.
    let e = c
        .batch_execute(
            "INSERT INTO govdata.audit_records (node_id, seq, month, time, kind, policies, outcome, fields, payload, prev_head, head, tag)
             SELECT node_id, seq + 10, month, time, kind, policies, outcome, fields, payload, prev_head, head, tag
             FROM govdata.audit_records WHERE seq = 3",
        )
        .unwrap_err();
    assert_eq!(sqlstate(&e), "GD103", "{e}");
    let e = c
        .batch_execute(
            "INSERT INTO govdata.audit_records (node_id, seq, month, time, kind, policies, outcome, fields, payload, prev_head, head, tag)
             SELECT node_id, seq + 1, month, time, kind, policies, outcome, fields, payload, prev_head, head, tag
             FROM govdata.audit_records WHERE seq = 3",
        )
        .unwrap_err();
    assert_eq!(sqlstate(&e), "GD102", "{e}");
    // Within one statement too: each row must continue the row before it.
    let two = |second_seq: i64, second_prev: &str| {
        format!(
            "INSERT INTO govdata.audit_records (node_id, seq, month, time, kind, policies, outcome, fields, payload, prev_head, head, tag)
             SELECT node_id, seq + 1, month, time, kind, policies, outcome, fields, payload, head, sha256(head), tag
             FROM govdata.audit_records WHERE seq = 3
             UNION ALL
             SELECT node_id, {second_seq}, month, time, kind, policies, outcome, fields, payload, {second_prev}, sha256(sha256(head)), tag
             FROM govdata.audit_records WHERE seq = 3"
        )
    };
    let e = c.batch_execute(&two(6, "sha256(head)")).unwrap_err();
    assert_eq!(sqlstate(&e), "GD103", "{e}");
    let e = c.batch_execute(&two(5, "head")).unwrap_err();
    assert_eq!(sqlstate(&e), "GD102", "{e}");
    let n: i64 = c
        .query_one("SELECT count(*) FROM govdata.audit_records", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 3);
    // Rows that do continue it (the trigger checks links, not MACs: verify does) move
    // the node's head once, to the last of them.
    c.batch_execute(&two(5, "sha256(head)")).unwrap();
    let (head_seq, ok): (i64, bool) = {
        let r = c
            .query_one(
                "SELECT n.head_seq, n.head = r.head FROM govdata.audit_nodes n
                 JOIN govdata.audit_records r ON r.node_id = n.node_id AND r.seq = 5",
                &[],
            )
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!((head_seq, ok), (5, true));
}

#[test]
fn the_reader_reads_and_writes_nothing() {
    let scratch = Scratch::new("reader");
    let (db, _url) = fresh_db("reader");
    let log = log_with(scratch.path(), KEY, 2, None, None);
    let _shipper = ship(&db, "n1", &log, scratch.path(), 10);
    login("gd_test_reader", "govdata_reader", "reader-pw");
    let mut c = connect_as(&db, "gd_test_reader", "reader-pw");
    let n: i64 = c
        .query_one("SELECT count(*) FROM govdata.audit_records", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 2);
    for sql in [
        "INSERT INTO govdata.audit_nodes (node_id, log_id, suite, key_check, binding, first_seq, base_head, head_seq, head) SELECT 'x', log_id, suite, key_check, binding, first_seq, base_head, head_seq, head FROM govdata.audit_nodes",
        "DELETE FROM govdata.audit_records",
        "SELECT govdata.record_backup('2000-01-01', 'x', 'y', now())",
    ] {
        let e = c.batch_execute(sql).unwrap_err();
        assert_eq!(sqlstate(&e), "42501", "{sql}: {e}");
    }
}

#[test]
fn retention_drops_only_an_old_backed_up_month_whole() {
    let scratch = Scratch::new("retention");
    let (db, url) = fresh_db("retention");
    // Records of a month more than six calendar months ago, then of this month.
    let old = Timestamp::now().date().minus_months(8);
    let old_month = format!("{:04}-{:02}-01", old.year(), old.month());
    let old_log = log_with(scratch.path(), KEY, 4, Some(old.start()), None);
    let shipper = ship(&db, "n1", &old_log, scratch.path(), 10);
    shipper.stop();
    drop(shipper);
    drop(old_log);
    // The same log reopened with the real clock goes on this month.
    let log = log_with(scratch.path(), KEY, 3, None, None);
    let _shipper = ship(&db, "n1", &log, scratch.path(), 10);
    let this_month = Timestamp::now().date();
    let this_month = format!("{:04}-{:02}-01", this_month.year(), this_month.month());

    login("gd_test_retention", "govdata_retention", "retention-pw");
    let mut r = connect_as(&db, "gd_test_retention", "retention-pw");
    let drop_month = |r: &mut postgres::Client, m: &str| {
        r.execute("SELECT govdata.drop_month(CAST($1::text AS date))", &[&m])
    };
    // No verified backup yet.
    let e = drop_month(&mut r, &old_month).unwrap_err();
    assert_eq!(sqlstate(&e), "GD104", "{e}");
    // This month is too young, backup or not.
    r.execute(
        "SELECT govdata.record_backup(CAST($1::text AS date), 's3://backups/audit', 'sha256:00', now())",
        &[&this_month],
    )
    .unwrap();
    let e = drop_month(&mut r, &this_month).unwrap_err();
    assert_eq!(sqlstate(&e), "GD104", "{e}");
    // The retention role cannot delete rows one by one.
    let e = r
        .batch_execute("DELETE FROM govdata.audit_records")
        .unwrap_err();
    assert_eq!(sqlstate(&e), "42501");
    // With a verified backup, the old month goes, whole.
    r.execute(
        "SELECT govdata.record_backup(CAST($1::text AS date), 's3://backups/audit', 'sha256:00', now())",
        &[&old_month],
    )
    .unwrap();
    drop_month(&mut r, &old_month).unwrap();
    let mut su = StoreConnector::new(&url, None, None)
        .unwrap()
        .connect()
        .unwrap();
    let left: Vec<i64> = su
        .query("SELECT seq FROM govdata.audit_records ORDER BY seq", &[])
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(left, vec![5, 6, 7]);
    // What is left continues from the horizon retention recorded: still clean.
    let report = verify_store(&mut su, &[SealingKey::from_bytes(KEY)]).unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.nodes[0].first_seq, Some(5));
}

#[test]
fn plain_text_to_a_network_address_is_refused_by_the_client() {
    let s = server();
    let url = format!(
        "postgresql://postgres@{}:{}/postgres?sslmode=disable",
        s.host, s.port
    );
    let e = StoreConnector::new(&url, None, None).unwrap_err();
    assert_eq!(e.code(), "config_invalid");
    assert!(e.to_string().contains("plain-text"), "{e}");
    // A unix socket may go without TLS.
    assert!(!StoreConnector::new(&s.url, None, None).unwrap().uses_tls());
    // A password in the URL is refused.
    let e = StoreConnector::new(
        &format!(
            "postgresql://postgres:secret@{}:{}/postgres",
            s.host, s.port
        ),
        None,
        None,
    )
    .unwrap_err();
    assert_eq!(e.code(), "config_invalid");
}

#[test]
fn a_server_whose_certificate_does_not_verify_is_not_talked_to() {
    let s = server();
    // The roles are the cluster's, made by the schema: on a new cluster this test may
    // run before any other has made them.
    let _db = fresh_db("certs");
    login(SHIPPER.0, "govdata_shipper", SHIPPER.1);
    // The system's roots do not know the test CA.
    let url = format!("postgresql://{}@localhost:{}/postgres", SHIPPER.0, s.port);
    match StoreConnector::new(&url, None, Some(zeroize::Zeroizing::new(SHIPPER.1.into()))) {
        Err(e) => assert_eq!(e.code(), "config_invalid"),
        Ok(c) => {
            let Err(e) = c.connect() else {
                panic!("connected to a server that no root vouches for")
            };
            assert_eq!(e.code(), "store_unavailable");
            assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");
        }
    }
    // A name the certificate does not hold.
    let url = format!("postgresql://{}@127.0.0.2:{}/postgres", SHIPPER.0, s.port);
    let c = StoreConnector::new(
        &url,
        Some(std::path::Path::new(&s.ca)),
        Some(zeroize::Zeroizing::new(SHIPPER.1.into())),
    )
    .unwrap();
    assert!(c.connect().is_err());
    // And with the test CA, over TLS, it works.
    let mut ok = connect_as("postgres", SHIPPER.0, SHIPPER.1);
    let ssl: bool = ok
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(ssl);
}
