//! `govdata demo --store URL`: the platform store (Art. 8, 18, 19) in one run — two
//! nodes (an ETL job's and a service's) decide and ship their audit logs to the store,
//! the store is verified from its rows, and one query looks across both nodes as a
//! `view_audit` decision of the operator's auditor, then as a department's security
//! officer (her own department's staff: allowed; another department: denied).
//!
//! The URL's role creates or migrates the schema (`govdata store init`), ships both
//! nodes' records and reads them back, so it is the store's administrator: a demo
//! database, not the platform's. Each run's nodes get fresh ids, logs and sealing keys.

use crate::store::StoreArgs;
use govdata::audit::{AuditQuery, SealingKey, Timestamp};
use govdata::platform::{AuditConfig, PlatformConfig, SecretSource};
use govdata::store::{init_schema, verify_store, StoredRecord};
use govdata::{Platform, Request};
use serde_json::json;
use std::path::Path;
use std::time::Duration;

/// How long the demo waits for each node's records to reach the store.
const SYNC: Duration = Duration::from_secs(30);

/// A node of the demo: its id and the node itself.
struct Node {
    id: String,
    node: Platform,
}

fn missing(part: &str) -> govdata::Error {
    govdata::Error::RequestInvalid {
        message: format!("the demo's node has no {part}"),
    }
}

/// A node `id` in `dir` with its own log under a fresh sealing key, shipping to the
/// store.
fn node(dir: &Path, id: &str, url: &str, store: &StoreArgs) -> govdata::Result<Node> {
    let home = dir.join(id);
    std::fs::create_dir_all(&home).map_err(|e| govdata::Error::Io {
        path: home.display().to_string(),
        source: e,
    })?;
    let seal = home.join("seal.key");
    crate::demo::write_key(&seal)?;
    let mut config = PlatformConfig::new(id);
    config.audit = Some(AuditConfig::new(
        home.join("audit"),
        SecretSource::File(seal),
    ));
    config.store = Some(store.reading(url, &config)?);
    Ok(Node {
        id: id.to_owned(),
        node: Platform::from_config(config)?,
    })
}

fn key_of(dir: &Path, id: &str) -> govdata::Result<SealingKey> {
    SecretSource::File(dir.join(id).join("seal.key")).sealing_key()
}

/// The demo's requests: which node decides them.
fn requests() -> Vec<(usize, serde_json::Value)> {
    let channel = json!({"encrypted": true, "authenticated": true, "integrity_checked": true});
    vec![
        (
            0,
            json!({"principal": "zhang.san", "action": "query", "resource": "population-stats"}),
        ),
        (
            0,
            json!({"principal": "zhang.san", "action": "modify", "resource": "population-stats"}),
        ),
        (
            0,
            json!({"principal": "li.si", "action": "transmit", "resource": "hukou", "context": {"channel": channel}}),
        ),
        (
            1,
            json!({"principal": "wang.wu", "action": "query", "resource": "employment-stats"}),
        ),
        (
            1,
            json!({"principal": "yunwei.ops", "action": "query", "resource": "traffic-flow"}),
        ),
        (
            1,
            json!({"principal": "huzheng.analyst", "action": "query", "resource": "population-stats"}),
        ),
    ]
}

fn verdict(allowed: bool) -> &'static str {
    if allowed {
        "✔ allow"
    } else {
        "✘ deny "
    }
}

fn print_rows(records: &[StoredRecord]) {
    println!(
        "    {:<16} {:>4}  {:<24} {:<16} {:<10} {:<18} decision",
        "node", "seq", "time", "user", "action", "resource"
    );
    for r in records {
        let e = &r.record.event;
        println!(
            "    {:<16} {:>4}  {:<24} {:<16} {:<10} {:<18} {}",
            r.node_id,
            r.record.seq,
            r.record.time.to_string(),
            e.user.as_deref().unwrap_or("-"),
            e.action.map_or("-", |a| a.as_str()),
            e.resource.as_ref().map_or("-", |x| x.id.as_str()),
            e.decision.map_or(e.kind.as_str(), |d| d.as_str()),
        );
    }
}

/// Runs the demo against the store at `url`, its nodes in `dir`.
pub fn walk(dir: &Path, url: &str, store: &StoreArgs) -> govdata::Result<()> {
    let mut admin = store.connector(url)?.connect()?;
    let version = init_schema(&mut admin)?;
    println!("第八条 平台日志统一监测管理 the platform's logs in one place");
    println!("  platform store: {url} (schema version {version})");
    // Fresh node ids: a node id belongs to one log for good.
    let tag = format!(
        "{:06x}",
        Timestamp::now().unix_millis().rem_euclid(0x100_0000)
    );
    let ids = [format!("etl-{tag}"), format!("svc-{tag}")];
    let nodes = [
        node(dir, &ids[0], url, store)?,
        node(dir, &ids[1], url, store)?,
    ];
    println!(
        "  nodes: {} (an ETL job) and {} (a service), each with its own audit log and sealing key\n",
        ids[0], ids[1]
    );
    for (i, request) in requests() {
        let n = &nodes[i];
        let request = Request::from_json(&request)?;
        let d = n.node.engine().decide(&request)?;
        let what = format!(
            "{} → {} {}",
            request.principal, request.action, request.resource.id
        );
        println!(
            "  {:<16} {what:<44} {}  (record #{})",
            n.id,
            verdict(d.allowed()),
            d.audit_seq().unwrap_or(0)
        );
    }
    println!();
    for n in &nodes {
        n.node.store_sync(SYNC)?;
        let st = n.node.store_status().ok_or_else(|| missing("store"))?;
        println!(
            "  {:<16} shipped: the store holds its records through #{} (lag {} records)",
            n.id, st.shipped_seq, st.lag_records
        );
    }
    let keys = [key_of(dir, &ids[0])?, key_of(dir, &ids[1])?];
    let report = verify_store(&mut admin, &keys)?;
    for r in report.nodes.iter().filter(|r| ids.contains(&r.node_id)) {
        match &r.first_bad {
            None => println!(
                "  {:<16} verified from the rows: {} records, chain and MACs intact",
                r.node_id, r.records
            ),
            Some(b) => {
                return Err(govdata::Error::AuditTampered {
                    seq: b.seq,
                    message: format!("node `{}`: {}", r.node_id, b.message),
                })
            }
        }
    }

    // The auditor's view across both nodes, decided and recorded on the ETL node.
    let viewer_node = &nodes[0].node;
    let log = viewer_node
        .audit_log()
        .ok_or_else(|| missing("audit log"))?;
    let engine = viewer_node.engine();
    let nodes_ids = ids.to_vec();
    let views = [
        (
            "第八条",
            "yunying.auditor",
            None,
            "the operator's auditor, every department",
        ),
        (
            "第十八条",
            "gongan.officer",
            Some("gongan"),
            "the police bureau's security officer, her own department",
        ),
        (
            "第十八条",
            "gongan.officer",
            Some("renshe"),
            "the same officer, another department",
        ),
    ];
    for (article, viewer, department, title) in views {
        let query = AuditQuery {
            department: department.map(str::to_owned),
            kind: Some("decision".to_owned()),
            ..AuditQuery::default()
        };
        let view = log.view_store(engine, viewer, &query, &nodes_ids, &mut admin, &keys)?;
        println!("\n{article} {title}");
        println!(
            "  govdata audit query --store … --as {viewer}{}",
            department.map_or(String::new(), |d| format!(" --department {d}"))
        );
        let d = &view.decision;
        println!(
            "  {}  (the viewing decision is record #{} of {})",
            verdict(d.allowed()),
            d.audit_seq().unwrap_or(0),
            nodes[0].id
        );
        for r in d.reasons() {
            println!("    [{}] {} {}", r.policy(), r.article(), r.en());
        }
        if d.allowed() {
            print_rows(&view.records);
        }
    }
    for n in &nodes {
        n.node.store_sync(SYNC)?;
        n.node.close()?;
    }
    println!("\n  the viewing decisions are in the store too: every look is itself on the record");
    Ok(())
}
