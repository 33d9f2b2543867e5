//! Workloads shared by the benchmarks: the example city, sample requests, a city with
//! many datasets, and department policy packs of any size.

#![expect(
    clippy::expect_used,
    reason = "benchmark workloads: a setup failure ends the benchmark run with its message"
)]

use govdata::engine::{Channel, Context, Resource};
use govdata::model::{Dataset, Grade, PersonalInfo, Record, ScenarioRisk, ShareType, Stage};
use govdata::{Action, Engine, Inventory, PolicyPack, Request};
use std::path::PathBuf;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The example inventory.
pub fn example_inventory() -> Inventory {
    Inventory::from_file(root().join("policies/examples/inventory.json"))
        .expect("example inventory")
}

/// A realistic mix of requests against the example city: everyday queries, exports,
/// processing, transmissions, shares, grants and audit reviews — allowed and denied.
pub fn sample_requests() -> Vec<Request> {
    let mut out = Vec::new();
    let ch = Channel {
        encrypted: true,
        authenticated: true,
        integrity_checked: true,
    };
    let mut push = |p: &str, a: Action, r: Resource, f: &dyn Fn(&mut Context)| {
        let mut req = Request::new(p, a, r);
        f(&mut req.context);
        out.push(req);
    };
    let none = |_: &mut Context| {};
    push(
        "zhang.san",
        Action::Query,
        Resource::dataset("population-stats"),
        &none,
    );
    push(
        "zhang.san",
        Action::Query,
        Resource::dataset("hukou"),
        &|c| c.scenario_risk = Some(ScenarioRisk::Low),
    );
    push(
        "wang.wu",
        Action::Query,
        Resource::dataset("social-insurance"),
        &none,
    );
    push(
        "chen.yi",
        Action::Query,
        Resource::dataset("social-insurance"),
        &none,
    );
    push("li.si", Action::Export, Resource::dataset("hukou"), &none);
    push(
        "vendor.wang",
        Action::Export,
        Resource::dataset("population-stats"),
        &none,
    );
    push(
        "wang.wu",
        Action::Process,
        Resource::dataset("social-insurance"),
        &|c| c.purpose = Some("employment_service".into()),
    );
    push(
        "wang.wu",
        Action::Process,
        Resource::dataset("social-insurance"),
        &|c| c.purpose = Some("marketing".into()),
    );
    push(
        "li.si",
        Action::Transmit,
        Resource::dataset("hukou"),
        &|c| c.channel = Some(ch),
    );
    push("li.si", Action::Share, Resource::dataset("hukou"), &|c| {
        c.recipient_department = Some("renshe".into())
    });
    push(
        "ops.admin",
        Action::GrantSuperadmin,
        Resource::system("lake-db"),
        &|c| c.grantee = Some("vendor.li".into()),
    );
    push(
        "ops.admin",
        Action::GrantSuperadmin,
        Resource::system("lake-db"),
        &|c| c.grantee = Some("dba.chen".into()),
    );
    push(
        "gongan.officer",
        Action::ViewAudit,
        Resource::audit_log("main"),
        &|c| c.audit_department = Some("gongan".into()),
    );
    push(
        "lin.er",
        Action::Catalog,
        Resource::dataset("grid-survey"),
        &none,
    );
    push(
        "zhou.ba",
        Action::Query,
        Resource::dataset("medical-records"),
        &none,
    );
    push(
        "key.admin",
        Action::ManageKeys,
        Resource::dataset("hukou"),
        &none,
    );
    out
}

/// Adds `n` generated datasets (`ds-0` …) owned by the example's user departments.
pub fn with_datasets(mut inventory: Inventory, n: usize) -> Inventory {
    let owners = [
        "gongan", "renshe", "weijian", "minzheng", "jiaotong", "zhujian",
    ];
    for i in 0..n {
        let grade = [Grade::L1, Grade::L2, Grade::L3, Grade::L4, Grade::Important][i % 5];
        let d = Dataset {
            id: format!("ds-{i}"),
            name: format!("生成数据集{i}"),
            owner: owners[i % owners.len()].into(),
            grade: Some(grade),
            category: format!("c-{}", i % 40),
            stage: Stage::Storage,
            personal_info: if grade >= Grade::L4 {
                PersonalInfo::Sensitive
            } else {
                PersonalInfo::None
            },
            share_type: [
                ShareType::Unconditional,
                ShareType::Conditional,
                ShareType::None,
            ][i % 3],
            cataloged: true,
            allowed_purposes: vec![format!("p-{}", i % 50), "statistics".into()],
            fields: Vec::new(),
        };
        inventory
            .upsert(Record::Dataset(d))
            .expect("generated dataset");
    }
    inventory
}

/// The default pack plus `n` generated department policies of the kinds departments
/// write: grants of one action on one dataset to a department's role for a purpose,
/// department-wide rules on a category, and restrictions.
pub fn pack_with_department_policies(n: usize) -> PolicyPack {
    let dir = root().join("policies");
    let mut files: Vec<(String, String)> = Vec::new();
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("policies dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "cedar"))
        .collect();
    names.sort();
    for p in names {
        let text = std::fs::read_to_string(&p).expect("policy file");
        files.push((p.display().to_string(), text));
    }
    let depts = [
        "gongan", "renshe", "weijian", "minzheng", "jiaotong", "zhujian",
    ];
    let actions = [
        "query",
        "export",
        "process",
        "modify",
        "transmit",
        "share",
        "aggregate",
        "delete",
    ];
    let mut text = String::new();
    for i in 0..n {
        let dept = depts[i % depts.len()];
        let action = actions[i % actions.len()];
        let head = format!(
            "@id(\"dept-{i}\") @article(\"第三条\") @zh(\"部门策略{i}\") @en(\"department policy {i}\")\n"
        );
        let body = match i % 10 {
            // A department-wide rule on a category: applies to every dataset.
            0 => format!(
                "permit (principal in Department::\"{dept}\", action == Action::\"{action}\", resource is Dataset)\nwhen {{ resource.category == \"c-{}\" && principal.roles.contains(\"analyst\") && context has purpose && context.purpose == \"p-{}\" }};\n",
                i % 40,
                i % 50
            ),
            // A restriction on one dataset.
            1 => format!(
                "forbid (principal, action == Action::\"{action}\", resource == Dataset::\"ds-{i}\")\nwhen {{ context has scenario_risk && context.scenario_risk == \"high\" }};\n"
            ),
            // A grant of one action on one dataset to a department's role.
            _ => format!(
                "permit (principal in Department::\"{dept}\", action == Action::\"{action}\", resource == Dataset::\"ds-{i}\")\nwhen {{ principal.roles.contains(\"analyst\") && context has purpose && context.purpose == \"p-{}\" }};\n",
                i % 50
            ),
        };
        text.push_str(&head);
        text.push_str(&body);
    }
    files.push(("departments.cedar".into(), text));
    let schema = std::fs::read_to_string(dir.join("schema.cedarschema")).expect("schema");
    PolicyPack::from_sources(("schema.cedarschema", &schema), &files).expect("generated pack")
}

/// Requests against generated datasets, as department policies see them.
pub fn dataset_requests(n_datasets: usize, count: usize) -> Vec<Request> {
    let users = [
        "zhang.san",
        "wang.wu",
        "zheng.shi",
        "chen.yi",
        "jiaotong.analyst",
        "li.si",
    ];
    let actions = [
        Action::Query,
        Action::Export,
        Action::Process,
        Action::Modify,
    ];
    (0..count)
        .map(|i| {
            let ds = (i * 7919) % n_datasets.max(1);
            let mut r = Request::new(
                users[i % users.len()],
                actions[i % actions.len()],
                Resource::dataset(format!("ds-{ds}")),
            );
            r.context.purpose = Some(format!("p-{}", ds % 50));
            r.context.scenario_risk = Some(ScenarioRisk::Low);
            r
        })
        .collect()
}

/// An engine over the default pack and the example city.
pub fn default_engine() -> Engine {
    Engine::with_defaults().expect("default engine")
}
