//! Helpers shared by the self-assessment tests: an audit log on a clock the test moves,
//! with an engine and the procedures over it; hand-made records for what the engine
//! would refuse; key stores as the vault reports them; and the planted-problem
//! scenario (`tests/assess/README.md`) next to its clean counterpart.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

use govdata::assess::{assess, AssessOptions, Assessment, AuditEvidence, Inputs};
use govdata::audit::{
    AuditLog, AuditOptions, Clock, Event, Outcome, SealingKey, SyncMode, Timestamp, Verdict,
};
use govdata::engine::Resource;
use govdata::model::{Action, ScenarioRisk};
use govdata::vault::{KeyInfo, KeyStatus, VaultStatus};
use govdata::workflow::{
    DestructionMethod, ExecutionDetails, ShareApplication, WorkflowConfig, Workflows,
};
use govdata::{Engine, Inventory, PolicyPack, Request};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

pub const DAY: i64 = 86_400_000;
/// The time every scenario is assessed at.
pub const NOW: &str = "2026-01-15T00:00:00Z";
pub const SEALING_KEY: [u8; 32] = [9; 32];

pub fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

pub fn example_inventory() -> Inventory {
    Inventory::from_json_str(govdata::engine::EXAMPLE_INVENTORY).unwrap()
}

pub fn planted_inventory() -> Inventory {
    Inventory::from_file(repo_path("tests/assess/inventory-planted.json")).unwrap()
}

/// A directory under the system's temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!(
            "govdata-assess-{tag}-{}-{n}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An engine over an inventory, with an audit log and the procedures on one clock.
pub struct Timeline {
    pub dir: TempDir,
    pub clock: Arc<AtomicI64>,
    pub engine: Arc<Engine>,
    pub log: Arc<AuditLog>,
    pub flows: Workflows,
}

impl Timeline {
    pub fn new(inventory: Inventory, start: &str) -> Self {
        let dir = TempDir::new("log");
        let clock = Arc::new(AtomicI64::new(ts(start).unix_millis()));
        let c = clock.clone();
        let tick: Clock = Arc::new(move || Timestamp::from_unix_millis(c.load(Ordering::SeqCst)));
        let options = AuditOptions::default()
            .sync(SyncMode::None)
            .clock(tick.clone());
        let engine = Arc::new(Engine::new(PolicyPack::default_pack().unwrap(), inventory));
        let log = Arc::new(
            AuditLog::open(
                dir.path().join("audit"),
                SealingKey::from_bytes(SEALING_KEY),
                options,
            )
            .unwrap(),
        );
        engine.set_decision_sink(Some(log.clone()));
        let flows = govdata::platform::open_procedures(
            engine.clone(),
            log.clone(),
            None,
            WorkflowConfig::default().clock(tick),
        )
        .unwrap();
        Timeline {
            dir,
            clock,
            engine,
            log,
            flows,
        }
    }

    pub fn log_dir(&self) -> PathBuf {
        self.dir.path().join("audit")
    }

    pub fn at(&self, t: &str) {
        self.clock.store(ts(t).unix_millis(), Ordering::SeqCst);
    }

    pub fn now(&self) -> Timestamp {
        Timestamp::from_unix_millis(self.clock.load(Ordering::SeqCst))
    }

    pub fn append(&self, e: Event) -> u64 {
        self.log.append(&e).unwrap()
    }

    /// A decision of the engine (recorded in the log); returns whether it allowed.
    pub fn decide(&self, request: Value) -> bool {
        let r = Request::from_json(&request).unwrap();
        self.engine.decide(&r).unwrap().allowed()
    }

    /// An allowed query that the engine records: routine activity that keeps the log
    /// free of gaps (`jiaotong.analyst` on `traffic-flow`, allowed by `art3-query-own-general`).
    pub fn routine(&self) {
        assert!(self.decide(json!({
            "principal": "jiaotong.analyst", "action": "query", "resource": "traffic-flow"
        })));
    }

    /// Routine activity every `every` days from the clock's time up to `until` (excluded).
    pub fn routine_until(&self, until: &str, every: i64) {
        let end = ts(until).unix_millis();
        while self.clock.load(Ordering::SeqCst) < end {
            self.routine();
            self.clock.fetch_add(every * DAY, Ordering::SeqCst);
        }
        self.clock.store(end, Ordering::SeqCst);
    }

    pub fn evidence(&self) -> AuditEvidence {
        self.log.sync().unwrap();
        AuditEvidence::read_dir(self.log_dir(), &SealingKey::from_bytes(SEALING_KEY), None).unwrap()
    }
}

/// The record of a decision made elsewhere (a host that decided without the engine,
/// or another pack): what the engine would have refused is planted this way.
pub fn decision(
    user: &str,
    department: &str,
    action: Action,
    resource: Resource,
    allow: bool,
    policies: &[&str],
    fields: Value,
) -> Event {
    let mut e = Event::new("decision")
        .user(user)
        .department(department)
        .action(action)
        .resource(resource)
        .outcome(if allow {
            Outcome::Success
        } else {
            Outcome::Failure
        });
    e.decision = Some(if allow { Verdict::Allow } else { Verdict::Deny });
    e.policies = policies.iter().map(|p| (*p).to_owned()).collect();
    e.policy_version = Some("sha256:planted".into());
    if let Value::Object(m) = fields {
        e.fields = m;
    }
    e
}

/// A workflow step's record as a host that skipped the procedure would write it.
pub fn step(kind: &str, user: &str, dataset: &str, action: Action, fields: Value) -> Event {
    let mut e = Event::new(kind)
        .user(user)
        .action(action)
        .resource(Resource::dataset(dataset))
        .field("retain", true);
    e.decision = Some(Verdict::Allow);
    if let Value::Object(m) = fields {
        e.fields.extend(m);
    }
    e
}

pub fn key(id: &str, dataset: &str, version: u32, status: KeyStatus, created: &str) -> KeyInfo {
    KeyInfo {
        id: id.into(),
        dataset: dataset.into(),
        version,
        status,
        created: created.into(),
        retired: None,
        destroyed: (status == KeyStatus::Destroyed).then(|| "2025-12-06T03:00:00Z".to_owned()),
        destroyed_by: (status == KeyStatus::Destroyed).then(|| "key.admin".to_owned()),
    }
}

pub fn vault_status(keys: Vec<KeyInfo>) -> VaultStatus {
    VaultStatus {
        master_key_id: "mk-assess".into(),
        master_algorithm: "xchacha20poly1305".into(),
        default_suite: "xchacha20poly1305".into(),
        generation: 1,
        backups: 1,
        keys,
    }
}

/// The active keys of every graded dataset in the lake, made on 2025-09-01.
pub fn clean_keys() -> Vec<KeyInfo> {
    [
        "traffic-flow",
        "population-stats",
        "employment-stats",
        "social-insurance",
        "subsidy-list",
        "hukou",
        "housing-registry",
        "medical-records",
        "criminal-records",
        "epidemic-core",
    ]
    .iter()
    .map(|d| {
        key(
            &format!("dk-{d}-1"),
            d,
            1,
            KeyStatus::Active,
            "2025-09-01T00:00:00Z",
        )
    })
    .collect()
}

pub fn options() -> AssessOptions {
    AssessOptions::at(ts(NOW))
}

pub fn run(
    inventory: &Inventory,
    audit: Option<&AuditEvidence>,
    vault: Option<&VaultStatus>,
) -> Assessment {
    run_with(inventory, audit, vault, &options())
}

pub fn run_with(
    inventory: &Inventory,
    audit: Option<&AuditEvidence>,
    vault: Option<&VaultStatus>,
    options: &AssessOptions,
) -> Assessment {
    let mut inputs = Inputs::new(inventory);
    if let Some(a) = audit {
        inputs = inputs.audit(a);
    }
    if let Some(v) = vault {
        inputs = inputs.vault(v);
    }
    assess(&inputs, options).unwrap()
}

pub fn ids(a: &Assessment) -> Vec<String> {
    let mut v: Vec<String> = a.findings.iter().map(|f| f.id.clone()).collect();
    v.sort();
    v
}

pub fn sorted(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| (*s).to_owned()).collect();
    v.sort();
    v
}

/// The scenario of the planted-problem tests, or its clean counterpart.
pub struct Scenario {
    pub timeline: Timeline,
    pub inventory: Inventory,
    pub vault: VaultStatus,
    /// The sequence numbers and request ids the planted findings name.
    pub marks: BTreeMap<&'static str, String>,
}

impl Scenario {
    pub fn mark(&self, name: &str) -> &str {
        self.marks
            .get(name)
            .unwrap_or_else(|| panic!("no mark `{name}`"))
    }

    pub fn evidence(&self) -> AuditEvidence {
        self.timeline.evidence()
    }

    /// The options the scenario is assessed with: the defaults at [`NOW`], with an
    /// unused-permission window longer than the log (the unused-permission checks
    /// have a scenario of their own).
    pub fn options(&self) -> AssessOptions {
        AssessOptions {
            unused_window_days: 200,
            ..options()
        }
    }

    pub fn assess(&self) -> Assessment {
        let evidence = self.evidence();
        run_with(
            &self.inventory,
            Some(&evidence),
            Some(&self.vault),
            &self.options(),
        )
    }
}

fn application(until: &str) -> ShareApplication {
    ShareApplication {
        purpose: "social_security_check".into(),
        legal_basis: "社会保险法第五十八条".into(),
        fields: vec!["name".into(), "id_number".into()],
        until: ts(until),
        scenario_risk: ScenarioRisk::Low,
        recipient_department: None,
    }
}

/// Builds the scenario: a log from 2025-10-01 to 2026-01-14 with routine activity,
/// sharing and destruction procedures run properly, and — when `planted` — the
/// problems of `tests/assess/README.md` and these:
///
/// - a silence of 19 days (2025-11-01 to 2025-11-20);
/// - allowed uses of the uncatalogued `legacy-archive` and of `shadow-copy`, which the
///   inventory does not hold;
/// - super-administrator grants to vendor staff (`vendor.li` on `lake-db`) and to a
///   user not designated (`zhang.san` on `gongan-db`);
/// - a share provisioned without review, a `share` allowed without an approval, and a
///   share past its term;
/// - a destruction executed without approval (`employment-stats`) and a key shredded
///   outside the procedure (`subsidy-list`, also destroyed in the key store);
/// - a purge recorded inside the six months; the last backup 26 days old, and
///   modified since;
/// - in the key store: no key for `hukou` (sensitive) nor `traffic-flow`, and the key
///   of `medical-records` made in 2024.
pub fn scenario(planted: bool) -> Scenario {
    let inventory = if planted {
        planted_inventory()
    } else {
        example_inventory()
    };
    let t = Timeline::new(inventory.clone(), "2025-10-01T01:00:00Z");
    let mut marks = BTreeMap::new();
    t.append(
        Event::new("key.init_store")
            .user("key.admin")
            .action(Action::ManageKeys)
            .field("master_key_id", "mk-assess"),
    );
    t.routine_until("2025-10-02T02:00:00Z", 4);

    // A conditional share, reviewed and provisioned (clean in both), and one whose
    // term ends on 2025-12-31.
    let flows = &t.flows;
    let open = |until: &str| {
        let s = flows
            .request_share("wang.wu", "hukou", application(until))
            .unwrap()
            .into_record()
            .unwrap();
        assert!(flows
            .approve_share("gongan.officer", &s.id, None)
            .unwrap()
            .allowed());
        assert!(flows.provision_share("li.si", &s.id).unwrap().allowed());
        s.id
    };
    open("2099-12-31");
    let past = open(if planted { "2025-12-31" } else { "2026-06-30" });
    marks.insert("past_share", past);

    // A destruction done properly: requested, approved, executed with a witness.
    t.routine_until("2025-10-06T02:00:00Z", 4);
    let d = flows
        .request_destruction(
            "li.si",
            "population-stats",
            DestructionMethod::LogicalDelete,
            "superseded by the 2025 census tables",
        )
        .unwrap()
        .into_record()
        .unwrap();
    assert!(flows
        .approve_destruction("gongan.officer", &d.id, Some("li.si"))
        .unwrap()
        .allowed());
    let done = flows
        .execute_destruction(
            "li.si",
            &d.id,
            ExecutionDetails {
                witness: Some("zhang.san".into()),
                ..ExecutionDetails::default()
            },
        )
        .unwrap();
    assert!(done.allowed(), "{:?}", done.decision());

    // A grant of a super-administrator right to designated staff (clean in both).
    t.routine_until("2025-10-15T02:00:00Z", 4);
    t.append(decision(
        "ops.admin",
        "yunying",
        Action::GrantSuperadmin,
        Resource::system("lake-db"),
        true,
        &["art17-grant-superadmin"],
        json!({"grantee": "dba.chen"}),
    ));
    // Classifying a dataset that is not catalogued yet is not a use of it.
    t.append(decision(
        "lin.er",
        "minzheng",
        Action::Classify,
        Resource::dataset("grid-survey"),
        true,
        &["art10-classify-own"],
        json!({}),
    ));
    if planted {
        t.append(decision(
            "ops.admin",
            "yunying",
            Action::GrantSuperadmin,
            Resource::system("lake-db"),
            true,
            &["department-override"],
            json!({"grantee": "vendor.li"}),
        ));
        t.append(decision(
            "gongan.officer",
            "gongan",
            Action::GrantSuperadmin,
            Resource::system("gongan-db"),
            true,
            &["art17-grant-superadmin"],
            json!({"grantee": "zhang.san"}),
        ));
    }
    t.routine_until("2025-11-01T02:00:00Z", 4);
    if planted {
        for _ in 0..3 {
            t.append(decision(
                "zhang.san",
                "gongan",
                Action::Query,
                Resource::dataset("legacy-archive"),
                true,
                &["department-override"],
                json!({"purpose": "statistics"}),
            ));
        }
        t.append(decision(
            "li.si",
            "gongan",
            Action::Export,
            Resource::dataset("shadow-copy"),
            true,
            &["department-override"],
            json!({}),
        ));
        t.routine();
        let before = t.log.last_seq();
        marks.insert("gap_from", before.to_string());
        // Nothing is recorded from 2025-11-01 to 2025-11-20.
        t.at("2025-11-20T02:00:00Z");
        t.routine();
        marks.insert("gap_to", (before + 1).to_string());
    }
    t.routine_until("2025-12-01T02:00:00Z", 4);
    if planted {
        // A conditional share provisioned without review.
        let s = flows
            .request_share("chen.yi", "hukou", application("2026-12-31"))
            .unwrap()
            .into_record()
            .unwrap();
        let seq = t.append(step(
            "sharing.provisioned",
            "li.si",
            "hukou",
            Action::Share,
            json!({"request": s.id, "at": t.now().to_string(), "approval": format!("apr-{}", s.id),
                   "recipient_department": "minzheng", "obligations": []}),
        ));
        marks.insert("unreviewed_provision", seq.to_string());
        // A `share` allowed without citing an approval.
        let seq = t.append(decision(
            "li.si",
            "gongan",
            Action::Share,
            Resource::dataset("hukou"),
            true,
            &["department-override"],
            json!({"recipient_department": "weijian"}),
        ));
        marks.insert("unapproved_share", seq.to_string());
    }
    t.routine_until("2025-12-05T02:00:00Z", 4);
    if planted {
        // A destruction executed without its approval.
        let d = flows
            .request_destruction(
                "zhao.liu",
                "employment-stats",
                DestructionMethod::LogicalDelete,
                "duplicate of the provincial statistics",
            )
            .unwrap()
            .into_record()
            .unwrap();
        t.append(step(
            "destruction.executed",
            "zhao.liu",
            "employment-stats",
            Action::Destroy,
            json!({"request": d.id, "at": t.now().to_string(), "approval": format!("apr-{}", d.id),
                   "method": "logical_delete", "grade": "L2", "owner": "renshe",
                   "requester": "zhao.liu", "approver": "zhao.liu", "executor": "zhao.liu",
                   "obligations": []}),
        ));
        // A key shredded outside the procedure.
        t.at("2025-12-06T03:00:00Z");
        t.append(
            Event::new("key.shred")
                .user("key.admin")
                .action(Action::ManageKeys)
                .resource(Resource::dataset("subsidy-list"))
                .field("key_ids", vec!["dk-subsidy-list-1".to_owned()])
                .field("master_key_id", "mk-assess"),
        );
    }
    // The last backup: on 2025-12-20 (planted, and modified afterwards) or 2026-01-12.
    let backup_day = if planted {
        "2025-12-20T02:00:00Z"
    } else {
        "2026-01-12T02:00:00Z"
    };
    t.routine_until(backup_day, 4);
    t.log.seal().unwrap();
    let backup_dir = t.dir.path().join("backup");
    let report = t.log.backup(&backup_dir).unwrap();
    marks.insert("backup", report.event_seq.unwrap().to_string());
    if planted {
        let seg = std::fs::read_dir(&backup_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .min()
            .unwrap();
        let mut bytes = std::fs::read(&seg).unwrap();
        let i = bytes.len() / 2;
        bytes[i] ^= 0x20;
        std::fs::write(&seg, bytes).unwrap();
    }
    t.routine_until("2026-01-05T02:00:00Z", 4);
    if planted {
        // A purge recorded inside the retention period.
        let seq = t.append(
            Event::new("audit.purge")
                .action(Action::PurgeAudit)
                .resource(Resource::audit_log("main"))
                .field("before", "2025-12-01")
                .field("segments", Vec::<u64>::new())
                .field("through_seq", 0u64)
                .field("backups", Vec::<String>::new())
                .field("retained", 0u64),
        );
        marks.insert("purge", seq.to_string());
    }
    t.routine_until("2026-01-14T02:00:00Z", 4);

    let mut keys = clean_keys();
    if planted {
        keys.retain(|k| k.dataset != "hukou" && k.dataset != "traffic-flow");
        for k in &mut keys {
            if k.dataset == "medical-records" {
                k.created = "2024-10-01T00:00:00Z".into();
            }
            if k.dataset == "subsidy-list" {
                *k = key(&k.id, &k.dataset, 1, KeyStatus::Destroyed, &k.created);
            }
        }
    }
    Scenario {
        timeline: t,
        inventory,
        vault: vault_status(keys),
        marks,
    }
}
