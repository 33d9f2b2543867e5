//! `govdata demo`: the default pack and the example city, one request per article of
//! the regulation, each decision printed with its reasons in Chinese and English; every
//! decision recorded in an audit log that the demo verifies at the end.

use crate::output::fail;
use govdata::audit::{AuditLog, AuditOptions, SealingKey};
use govdata::model::Grade;
use govdata::vault::{MasterKey, Operator, SecretKey, Suite, Vault, VaultConfig};
use govdata::{Decision, Engine, Request};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// Arguments of `govdata demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Keep the demo's audit log in this directory (a temporary one, removed at the end,
    /// if omitted).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

struct Step {
    article: &'static str,
    title: &'static str,
    request: serde_json::Value,
}

fn steps() -> Vec<Step> {
    let channel = json!({"encrypted": true, "authenticated": true, "integrity_checked": true});
    let audit_log = json!({"type": "AuditLog", "id": "main"});
    let step = |article, title, request| Step {
        article,
        title,
        request,
    };
    vec![
        step(
            "第三条",
            "最小授权 least privilege: an analyst queries her department's statistics",
            json!({"principal": "zhang.san", "action": "query", "resource": "population-stats"}),
        ),
        step(
            "第三条",
            "最小授权 least privilege: an analyst may not modify them",
            json!({"principal": "zhang.san", "action": "modify", "resource": "population-stats"}),
        ),
        step(
            "第五条",
            "运维单位 the maintainer's staff have no business reading data",
            json!({"principal": "yunwei.ops", "action": "query", "resource": "traffic-flow"}),
        ),
        step(
            "第六条",
            "传输安全 transmission over a channel that is not authenticated",
            json!({"principal": "li.si", "action": "transmit", "resource": "hukou",
                   "context": {"channel": {"encrypted": true, "authenticated": false, "integrity_checked": true}}}),
        ),
        step(
            "第十一条",
            "传输安全 the same transmission over a secure channel",
            json!({"principal": "li.si", "action": "transmit", "resource": "hukou", "context": {"channel": channel}}),
        ),
        step(
            "第七条",
            "存储加密 the operator's key administrator manages a dataset's keys",
            json!({"principal": "key.admin", "action": "manage_keys", "resource": "medical-records"}),
        ),
        step(
            "第八条",
            "审计日志 no request may purge the audit log",
            json!({"principal": "ops.admin", "action": "purge_audit", "resource": audit_log}),
        ),
        step(
            "第九条",
            "数据汇聚 aggregation without a stated legal basis and intended use",
            json!({"principal": "zhao.liu", "action": "aggregate", "resource": "employment-stats",
                   "context": {"purpose": "employment_statistics"}}),
        ),
        step(
            "第九条",
            "数据汇聚 the same aggregation with purpose, legal basis and intended use",
            json!({"principal": "zhao.liu", "action": "aggregate", "resource": "employment-stats",
                   "context": {"purpose": "employment_statistics", "legal_basis": "《统计法》第七条",
                               "intended_use": "monthly employment report"}}),
        ),
        step(
            "第十条",
            "分类分级 an ungraded dataset cannot be catalogued",
            json!({"principal": "lin.er", "action": "catalog", "resource": "grid-survey"}),
        ),
        step(
            "第十条",
            "分级管控 L4 data in a low-risk scenario: masked and watermarked",
            json!({"principal": "zhang.san", "action": "query", "resource": "hukou",
                   "context": {"scenario_risk": "low"}}),
        ),
        step(
            "第十条",
            "分级管控 core data in a medium-risk scenario",
            json!({"principal": "weijian.officer", "action": "query", "resource": "epidemic-core",
                   "context": {"scenario_risk": "medium"}}),
        ),
        step(
            "第十二条",
            "备份恢复 the operator backs data up, encrypted at rest",
            json!({"principal": "ops.engineer", "action": "backup", "resource": "hukou"}),
        ),
        step(
            "第十三条",
            "使用加工 processing for a purpose the dataset does not allow",
            json!({"principal": "wang.wu", "action": "process", "resource": "social-insurance",
                   "context": {"purpose": "marketing"}}),
        ),
        step(
            "第十四条",
            "数据共享 conditional data is shared only with the provider's approval",
            json!({"principal": "li.si", "action": "share", "resource": "hukou",
                   "context": {"recipient_department": "renshe", "approval": "apr-000123"}}),
        ),
        step(
            "第十四条",
            "数据共享 data marked not for sharing cannot even be requested",
            json!({"principal": "wang.wu", "action": "request_share", "resource": "criminal-records"}),
        ),
        step(
            "第十五条",
            "数据销毁 destruction without an approved, recorded procedure",
            json!({"principal": "li.si", "action": "destroy", "resource": "population-stats"}),
        ),
        step(
            "第十六条",
            "供应商 vendor staff may not touch sensitive personal information",
            json!({"principal": "vendor.wang", "action": "query", "resource": "hukou",
                   "context": {"scenario_risk": "low"}}),
        ),
        step(
            "第十七条",
            "最高权限 a database super-administrator right for vendor staff",
            json!({"principal": "ops.admin", "action": "grant_superadmin",
                   "resource": {"type": "System", "id": "lake-db"}, "context": {"grantee": "vendor.li"}}),
        ),
        step(
            "第十七条",
            "最高权限 the same right for the department's designated administrator",
            json!({"principal": "ops.admin", "action": "grant_superadmin",
                   "resource": {"type": "System", "id": "lake-db"}, "context": {"grantee": "dba.chen"}}),
        ),
        step(
            "第十八条",
            "监督检查 a security officer reviews another department's staff",
            json!({"principal": "gongan.officer", "action": "view_audit", "resource": audit_log,
                   "context": {"audit_department": "renshe"}}),
        ),
        step(
            "第十九条",
            "安全审计 the management department's auditor reviews any department",
            json!({"principal": "audit.he", "action": "view_audit", "resource": audit_log,
                   "context": {"audit_department": "renshe"}}),
        ),
    ]
}

fn describe(request: &Request) -> String {
    let mut s = format!(
        "{} → {} {}",
        request.principal, request.action, request.resource.id
    );
    let ctx = serde_json::to_value(&request.context).unwrap_or_default();
    if let Some(map) = ctx.as_object() {
        if !map.is_empty() {
            s.push_str(&format!("  {}", serde_json::Value::Object(map.clone())));
        }
    }
    s
}

fn print_decision(d: &Decision) {
    let verdict = if d.allowed() {
        "✔ 允许 allow"
    } else {
        "✘ 拒绝 deny"
    };
    match d.audit_seq() {
        Some(seq) => println!("    {verdict}    (audit record #{seq})"),
        None => println!("    {verdict}"),
    }
    for r in d.reasons() {
        println!("      [{}] {}", r.policy(), r.article());
        println!("        {}", r.zh());
        println!("        {}", r.en());
    }
    if !d.obligations().is_empty() {
        println!("      obligations 义务: {}", d.obligations().join(", "));
    }
}

pub fn run(args: &Args) -> ExitCode {
    let (dir, temporary) = match &args.dir {
        Some(d) => (d.clone(), false),
        None => (
            std::env::temp_dir().join(format!("govdata-demo-{}", std::process::id())),
            true,
        ),
    };
    let result = walk(&dir);
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn walk(dir: &Path) -> govdata::Result<()> {
    let engine = Arc::new(Engine::with_defaults()?);
    let pack = engine.pack();
    println!("govdata — 大数据平台（一期）政务数据安全管理办法, as code");
    println!(
        "policy pack: {} policies, version {}",
        pack.policies().len(),
        pack.version()
    );
    let inv = engine.inventory();
    println!(
        "example city: {} departments, {} users ({} vendor staff), {} datasets, {} systems",
        inv.departments().count(),
        inv.users().count(),
        inv.users().filter(|u| u.is_vendor_staff()).count(),
        inv.datasets().count(),
        inv.systems().count()
    );

    let audit_dir = dir.join("audit");
    let log = Arc::new(AuditLog::open(
        &audit_dir,
        SealingKey::generate()?,
        AuditOptions::default(),
    )?);
    engine.set_decision_sink(Some(log.clone()));
    println!("audit log: {}\n", audit_dir.display());

    let mut last_article = "";
    for step in steps() {
        if step.article != last_article {
            println!("{}", step.article);
            last_article = step.article;
        }
        let request = Request::from_json(&step.request)?;
        println!("  {}", step.title);
        println!("    {}", describe(&request));
        let decision = engine.decide(&request)?;
        print_decision(&decision);
        println!();
    }

    vault_walk(dir, &engine, &log)?;

    let checkpoint = log.checkpoint();
    let report = log.verify_with(&checkpoint)?;
    println!("第八条 审计日志校验 audit log verification");
    println!(
        "    ✔ intact: {} records in {} segment(s), hash chain and seals verified up to record #{}",
        report.records,
        report.segments,
        checkpoint.seq()
    );
    Ok(())
}

/// 第七条 and 第十五条: a dataset's file encrypted in the vault, its key shredded, and the
/// file unreadable afterwards.
fn vault_walk(dir: &Path, engine: &Arc<Engine>, log: &Arc<AuditLog>) -> govdata::Result<()> {
    println!("第七条 存储加密 / 第十五条 销毁 — the vault");
    let master = SecretKey::random()?;
    let config = VaultConfig::new(dir.join("vault")).with_sink(log.clone());
    let admin = Operator::new("key.admin");
    let vault = Vault::init(
        config,
        Box::new(MasterKey::from_bytes(master.expose_secret())?),
        engine.clone(),
        &admin,
    )?;
    let dataset = "social-insurance";
    let key = vault.rotate_key(&admin, dataset)?;
    println!(
        "    key.admin creates the data key of `{dataset}`: {}",
        key.id
    );

    let plain = dir.join("social-insurance.csv");
    let sealed = dir.join("social-insurance.csv.gdv");
    let back = dir.join("social-insurance.decrypted.csv");
    let rows = "id,name,insured_since\n1,张某,2015-03\n2,李某,2019-11\n";
    std::fs::write(&plain, rows.repeat(2000)).map_err(|e| govdata::Error::Io {
        path: plain.display().to_string(),
        source: e,
    })?;
    let n = vault.encrypt_file(
        dataset,
        Grade::L3,
        Suite::XChaCha20Poly1305,
        &plain,
        &sealed,
        None,
    )?;
    println!(
        "    encrypts {} bytes of `{dataset}` (XChaCha20-Poly1305, 64 KiB chunks) → {}",
        n,
        sealed.display()
    );
    vault.decrypt_file(dataset, Grade::L3, &sealed, &back, None)?;
    let same = std::fs::read(&back).ok() == std::fs::read(&plain).ok();
    println!(
        "    {} decrypts it again{}",
        if same { "✔" } else { "✘" },
        if same {
            ", byte for byte"
        } else {
            ", but the bytes differ"
        }
    );
    match vault.decrypt_file(
        dataset,
        Grade::L4,
        &sealed,
        &back.with_extension("l4"),
        None,
    ) {
        Err(e) => println!("    ✘ read as another grade: error[{}] {e}", e.code()),
        Ok(_) => println!("    read as another grade succeeded (unexpected)"),
    }

    let vendor = Operator::new("vendor.li");
    match vault.shred(&vendor, dataset) {
        Err(e) => println!(
            "    ✘ vendor.li tries to shred the key: error[{}] {e}",
            e.code()
        ),
        Ok(_) => println!("    vendor.li shredded the key (unexpected)"),
    }
    let report = vault.shred(&admin, dataset)?;
    println!(
        "    key.admin crypto-shreds `{dataset}`: keys {} destroyed, {} key-store backup(s) scrubbed (audit record #{})",
        report.key_ids.join(", "),
        report.backups_scrubbed,
        report.event_seq.map_or_else(|| "-".to_owned(), |s| s.to_string())
    );
    match vault.decrypt_file(
        dataset,
        Grade::L3,
        &sealed,
        &dir.join("after-shred.csv"),
        None,
    ) {
        Err(e) => println!("    ✘ decrypting afterwards: error[{}] {e}", e.code()),
        Ok(_) => println!("    decrypting afterwards succeeded (unexpected)"),
    }
    println!();
    Ok(())
}
