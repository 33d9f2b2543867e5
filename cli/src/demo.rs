//! `govdata demo`: the default pack and the example city, one request per article of
//! the regulation, each decision printed with its reasons in Chinese and English; every
//! decision recorded in an audit log that the demo verifies at the end.

use crate::output::fail;
use govdata::audit::Timestamp;
use govdata::model::Grade;
use govdata::model::ScenarioRisk;
use govdata::platform::{AuditConfig, PlatformConfig, SecretSource, VaultSection};
use govdata::vault::{Operator, SecretKey, Suite, Vault};
use govdata::workflow::{
    DestructionMethod, ExecutionDetails, ShareApplication, Step as FlowStep, Workflows,
};
use govdata::{Decision, Engine, Platform, Request};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `govdata demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Keep the demo's audit log in this directory (a temporary one, removed at the end,
    /// if omitted).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Show the platform store instead: two nodes shipping their audit logs to the
    /// PostgreSQL store at this URL (no password in it; its role creates the schema)
    /// and one query across them.
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    #[command(flatten)]
    pub store_args: crate::store::StoreArgs,
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
    let result = match &args.store {
        Some(url) => crate::demo_store::walk(&dir, url, &args.store_args),
        None => walk(&dir),
    };
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// Writes a fresh 32-byte key to `path`, readable by its owner only.
pub(crate) fn write_key(path: &Path) -> govdata::Result<()> {
    use std::io::Write;
    let key = SecretKey::random()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let io = |e| govdata::Error::Io {
        path: path.display().to_string(),
        source: e,
    };
    let mut f = options.open(path).map_err(io)?;
    f.write_all(key.expose_secret()).map_err(io)?;
    f.sync_all().map_err(io)
}

/// The demo's node: the default pack and the example city, an audit log and a vault
/// in `dir`, each under a fresh key, opened through the core's composition root.
fn node(dir: &Path) -> govdata::Result<Platform> {
    std::fs::create_dir_all(dir).map_err(|e| govdata::Error::Io {
        path: dir.display().to_string(),
        source: e,
    })?;
    let (seal, master) = (dir.join("seal.key"), dir.join("master.key"));
    write_key(&seal)?;
    write_key(&master)?;
    let mut config = PlatformConfig::new("demo");
    config.audit = Some(AuditConfig::new(
        dir.join("audit"),
        SecretSource::File(seal),
    ));
    config.vault = Some(VaultSection::new(
        dir.join("vault"),
        SecretSource::File(master),
    ));
    Platform::init_vault(
        config,
        &Operator::new("key.admin"),
        Suite::XChaCha20Poly1305,
    )
}

fn missing(part: &str) -> govdata::Error {
    govdata::Error::RequestInvalid {
        message: format!("the demo's node has no {part}"),
    }
}

fn walk(dir: &Path) -> govdata::Result<()> {
    let node = node(dir)?;
    let engine = node.engine();
    let log = node.audit_log().ok_or_else(|| missing("audit log"))?;
    let vault = node.vault().ok_or_else(|| missing("vault"))?;
    let flows = node.workflows().ok_or_else(|| missing("procedures"))?;
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

    let audit_dir = log.dir();
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

    vault_walk(dir, vault)?;
    sharing_walk(engine, flows)?;
    destruction_walk(dir, flows, vault)?;

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

/// 第七条: a dataset's file encrypted in the vault; a vendor refused its keys.
fn vault_walk(dir: &Path, vault: &Vault) -> govdata::Result<()> {
    println!("第七条 存储加密 — the vault");
    let admin = Operator::new("key.admin");
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
        "    encrypts {n} bytes of `{dataset}` (XChaCha20-Poly1305, 64 KiB chunks) → {}",
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
    match vault.shred(&Operator::new("vendor.li"), dataset) {
        Err(e) => println!(
            "    ✘ vendor.li tries to shred its key: error[{}] {e}",
            e.code()
        ),
        Ok(_) => println!("    vendor.li shredded the key (unexpected)"),
    }
    println!();
    Ok(())
}

fn show_step<T>(who: &str, what: &str, step: &FlowStep<T>) {
    let d = step.decision();
    let verdict = if step.allowed() { "✔" } else { "✘" };
    let reasons: Vec<String> = d
        .reasons()
        .iter()
        .map(|r| format!("{} {}", r.policy(), r.article()))
        .collect();
    println!("    {verdict} {who} {what}  [{}]", reasons.join("; "));
}

/// 第十四条: a conditional share from request to provision, and the approval it grants.
fn sharing_walk(engine: &Engine, flows: &Workflows) -> govdata::Result<()> {
    println!("第十四条 数据共享 — a conditional share, requested, reviewed, provisioned");
    let app = ShareApplication {
        purpose: "social_security_check".into(),
        legal_basis: "《社会保险法》第五十八条".into(),
        fields: vec!["name".into(), "id_number".into()],
        until: Timestamp::parse("2099-12-31")?,
        scenario_risk: ScenarioRisk::Low,
        recipient_department: None,
    };
    let step = flows.request_share("wang.wu", "hukou", app)?;
    show_step(
        "wang.wu (人社)",
        "requests a share of `hukou` (公安, 有条件共享)",
        &step,
    );
    let Some(request) = step.into_record() else {
        return Ok(());
    };
    let step = flows.approve_share("wang.wu", &request.id, None)?;
    show_step("wang.wu", "tries to approve his own request", &step);
    let step = flows.approve_share("gongan.officer", &request.id, Some("符合共享条件"))?;
    show_step("gongan.officer (公安数据安全负责人)", "approves it", &step);
    let step = flows.provision_share("li.si", &request.id)?;
    show_step("li.si (公安数据专员)", "provisions the share", &step);
    let Some(shared) = step.into_record() else {
        return Ok(());
    };
    let approval = shared.approval_id().unwrap_or_default().to_owned();
    let query = |who: &str| {
        Request::from_json(
            &json!({"principal": who, "action": "query", "resource": "hukou",
            "context": {"approval": approval, "purpose": "social_security_check", "scenario_risk": "low"}}),
        )
    };
    let d = engine.decide(&query("wang.wu")?)?;
    println!("    wang.wu queries `hukou` citing approval {approval}:");
    print_decision(&d);
    let d = engine.decide(&query("chen.yi")?)?;
    println!("    chen.yi (民政) cites the same approval:");
    print_decision(&d);
    println!();
    Ok(())
}

/// 第十五条: a destruction requested, approved and executed by crypto-erasure.
fn destruction_walk(dir: &Path, flows: &Workflows, vault: &Vault) -> govdata::Result<()> {
    println!("第十五条 数据销毁 — a destruction, requested, approved, executed by crypto-erasure");
    let step = flows.request_destruction(
        "zhao.liu",
        "social-insurance",
        DestructionMethod::CryptoErase,
        "超过保存期限",
    )?;
    show_step(
        "zhao.liu (人社数据专员)",
        "requests crypto-erasure of `social-insurance`",
        &step,
    );
    let Some(request) = step.into_record() else {
        return Ok(());
    };
    let step = flows.approve_destruction("zhao.liu", &request.id, Some("ops.admin"))?;
    show_step("zhao.liu", "tries to approve his own request", &step);
    let step = flows.approve_destruction("renshe.officer", &request.id, Some("ops.admin"))?;
    show_step(
        "renshe.officer (人社数据安全负责人)",
        "approves it, ops.admin to execute",
        &step,
    );
    let details = ExecutionDetails {
        witness: Some("key.admin".into()),
        ..ExecutionDetails::default()
    };
    let step = flows.execute_destruction("ops.admin", &request.id, details)?;
    show_step("ops.admin", "executes it, key.admin witnessing", &step);
    if let Some(done) = step.into_record() {
        if let Some(exec) = &done.execution {
            println!("    destroyed keys: {}", exec.key_ids.join(", "));
        }
    }
    let sealed = dir.join("social-insurance.csv.gdv");
    match vault.decrypt_file(
        "social-insurance",
        Grade::L3,
        &sealed,
        &dir.join("after-destruction.csv"),
        None,
    ) {
        Err(e) => println!(
            "    ✘ decrypting the file afterwards: error[{}] {e}",
            e.code()
        ),
        Ok(_) => println!("    decrypting afterwards succeeded (unexpected)"),
    }
    println!();
    Ok(())
}
