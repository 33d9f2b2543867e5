//! Helpers shared by the workflow tests: an engine over the example inventory, an
//! audit log and the procedures over both, on a clock the test moves.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use govdata::audit::{AuditLog, AuditOptions, Clock, SealingKey, SyncMode, Timestamp};
use govdata::model::{Record, RecordKind, ScenarioRisk};
use govdata::platform::open_procedures;
use govdata::workflow::{ShareApplication, WorkflowConfig, Workflows};
use govdata::{Decision, Engine, Request};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

pub const DAY: i64 = 86_400_000;

/// A directory under the system's temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!(
            "govdata-{tag}-{}-{n}-{}",
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

/// An engine, a log and the procedures, on a clock that starts on Monday
/// 2025-03-03 at 10:00 Beijing time.
pub struct Fixture {
    pub dir: TempDir,
    pub now: Arc<AtomicI64>,
    pub engine: Arc<Engine>,
    pub log: Arc<AuditLog>,
    pub flows: Workflows,
    pub options: AuditOptions,
    pub config: WorkflowConfig,
}

pub fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

impl Fixture {
    pub fn new() -> Self {
        Fixture::with(
            AuditOptions::default().sync(SyncMode::None),
            WorkflowConfig::default(),
        )
    }

    pub fn with(options: AuditOptions, config: WorkflowConfig) -> Self {
        let dir = TempDir::new("workflow");
        let now = Arc::new(AtomicI64::new(ts("2025-03-03T02:00:00Z").unix_millis()));
        let c = now.clone();
        let clock: Clock = Arc::new(move || Timestamp::from_unix_millis(c.load(Ordering::SeqCst)));
        let options = options.clock(clock.clone());
        let config = config.clock(clock);
        let engine = Arc::new(Engine::with_defaults().unwrap());
        let log = Arc::new(
            AuditLog::open(
                dir.path().join("audit"),
                SealingKey::from_bytes([9; 32]),
                options.clone(),
            )
            .unwrap(),
        );
        engine.set_decision_sink(Some(log.clone()));
        let flows = open_procedures(engine.clone(), log.clone(), None, config.clone()).unwrap();
        Fixture {
            dir,
            now,
            engine,
            log,
            flows,
            options,
            config,
        }
    }

    /// Closes everything and opens it again from the log alone: a restart.
    pub fn restart(&mut self) {
        self.engine.set_decision_sink(None);
        self.engine.set_approval_resolver(None);
        let engine = Arc::new(Engine::with_defaults().unwrap());
        let inventory = (*self.engine.inventory()).clone();
        engine.replace_inventory(inventory);
        // The old log refuses appends from now on; the new one reads it all back.
        self.log.close().unwrap();
        let log = Arc::new(
            AuditLog::open(
                self.dir.path().join("audit"),
                SealingKey::from_bytes([9; 32]),
                self.options.clone(),
            )
            .unwrap(),
        );
        engine.set_decision_sink(Some(log.clone()));
        self.flows =
            open_procedures(engine.clone(), log.clone(), None, self.config.clone()).unwrap();
        self.engine = engine;
        self.log = log;
    }

    pub fn advance_days(&self, days: i64) {
        self.now.fetch_add(days * DAY, Ordering::SeqCst);
    }

    pub fn set_time(&self, t: &str) {
        self.now.store(ts(t).unix_millis(), Ordering::SeqCst);
    }

    /// Decides a request given as JSON.
    pub fn decide(&self, json: serde_json::Value) -> Decision {
        self.engine
            .decide(&Request::from_json(&json).unwrap())
            .unwrap()
    }

    /// Adds or replaces a user of the inventory.
    pub fn upsert_user(&self, json: serde_json::Value) {
        self.engine
            .upsert(Record::from_json(RecordKind::User, &json).unwrap())
            .unwrap();
    }

    pub fn kinds(&self) -> Vec<String> {
        self.log
            .records()
            .unwrap()
            .into_iter()
            .map(|r| r.event.kind)
            .collect()
    }
}

/// A request for `social_security_check` with a term of one year.
pub fn application() -> ShareApplication {
    ShareApplication {
        purpose: "social_security_check".into(),
        legal_basis: "《社会保险法》第五十八条".into(),
        fields: vec!["name".into(), "id_number".into(), "address".into()],
        until: ts("2026-03-03"),
        scenario_risk: ScenarioRisk::Low,
        recipient_department: None,
    }
}

pub fn reasons(d: &Decision) -> Vec<&str> {
    d.reason_ids()
}
