//! Helpers of the masking and watermark tests: an engine whose decisions carry an
//! audit sequence number, keys, and generated rows of the household register.
#![allow(dead_code, reason = "each test binary uses a different part")]
#![allow(
    clippy::unwrap_used,
    reason = "test set-up outside #[test] functions fails loudly"
)]

use govdata::audit::HashSuite;
use govdata::engine::DecisionSink;
use govdata::mask::{MaskKeys, Plan, PseudonymKey, WatermarkKey};
use govdata::{Decision, Engine, Inventory, PolicyPack, Request, Result};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use zeroize::Zeroizing;

pub const SCHEMA: &str = include_str!("../../../policies/schema.cedarschema");
pub const INVENTORY: &str = include_str!("../../../policies/examples/inventory.json");

/// Numbers decisions as an audit log would, starting at 1000.
pub struct Counter(AtomicU64);

impl DecisionSink for Counter {
    fn record(&self, _: &Request, _: &Inventory, _: &Decision) -> Result<Option<u64>> {
        Ok(Some(self.0.fetch_add(1, Ordering::SeqCst)))
    }
}

fn numbered(engine: Engine) -> Engine {
    engine.set_decision_sink(Some(Arc::new(Counter(AtomicU64::new(1000)))));
    engine
}

/// The default pack and the example city, decisions numbered.
pub fn default_engine() -> Engine {
    numbered(Engine::with_defaults().unwrap())
}

/// A pack of one permit for `query` on datasets carrying `obligations`, over the example city.
pub fn engine_with(obligations: &str) -> Result<Engine> {
    let policy = format!(
        r#"@id("q") @article("第十三条") @zh("查询") @en("query") @obligations("{obligations}")
permit (principal, action == Action::"query", resource is Dataset);"#
    );
    let pack = PolicyPack::from_sources(
        ("schema.cedarschema", SCHEMA),
        &[("q.cedar".into(), policy)],
    )?;
    Ok(numbered(Engine::new(
        pack,
        Inventory::from_json_str(INVENTORY)?,
    )))
}

pub fn query(principal: &str, dataset: &str) -> Request {
    let mut r = Request::new(
        principal,
        govdata::Action::Query,
        govdata::Resource::dataset(dataset),
    );
    r.context.scenario_risk = Some(govdata::model::ScenarioRisk::Low);
    r
}

pub fn watermark_key(byte: u8) -> WatermarkKey {
    WatermarkKey::from_bytes(&Zeroizing::new(vec![byte; 32]), HashSuite::Sha256).unwrap()
}

pub fn pseudonym_key(byte: u8) -> PseudonymKey {
    PseudonymKey::from_bytes(&Zeroizing::new(vec![byte; 32]), HashSuite::Sha256).unwrap()
}

pub fn keys(byte: u8) -> MaskKeys {
    MaskKeys {
        pseudonym: Some(pseudonym_key(byte)),
        watermark: Some(watermark_key(byte)),
    }
}

/// The household register's columns used in the tests.
pub const COLUMNS: &[&str] = &["sfzh", "xm", "sjhm", "zz", "csrq", "hjlb"];

/// A plausible row of the household register.
pub fn person(rng: &mut StdRng) -> Vec<String> {
    let digits = |rng: &mut StdRng, n: usize| -> String {
        (0..n)
            .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
            .collect()
    };
    let year = rng.gen_range(1940..2010);
    let (m, d) = (rng.gen_range(1..13), rng.gen_range(1..29));
    let id = format!(
        "{}{}{year}{m:02}{d:02}{}",
        rng.gen_range(11..66),
        digits(rng, 4),
        digits(rng, 4)
    );
    let surnames = ["王", "李", "张", "刘", "陈", "欧阳"];
    let given = ["伟", "芳", "娜", "敏", "静", "强", "磊"];
    let name = format!(
        "{}{}{}",
        surnames[rng.gen_range(0..surnames.len())],
        given[rng.gen_range(0..given.len())],
        given[rng.gen_range(0..given.len())]
    );
    let mobile = format!("1{}{}", rng.gen_range(3..10), digits(rng, 9));
    let address = format!("北京市朝阳区建国路{}号", rng.gen_range(1..500));
    vec![
        id,
        name,
        mobile,
        address,
        format!("{year}-{m:02}-{d:02}"),
        ["城镇", "农村"][rng.gen_range(0..2)].to_owned(),
    ]
}

pub fn people(seed: u64, n: usize) -> Vec<Vec<String>> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|_| person(&mut rng)).collect()
}

/// Releases `rows` through `plan`: the masked rows with the canary rows among them.
pub fn release(plan: &Plan, rows: &[Vec<String>]) -> Vec<Vec<Option<String>>> {
    let mut out = Vec::new();
    let mut r = plan.release();
    for row in rows {
        let cells: Vec<Option<&str>> = row.iter().map(|s| Some(s.as_str())).collect();
        r.push(&cells, &mut |row| {
            out.push(row);
            Ok(())
        })
        .unwrap();
    }
    out
}
