//! Proofs of the regulation's invariants over every request, with Cedar's symbolic
//! compiler (`cedar-policy-symcc`) and the cvc5 solver.
//!
//! A test shows that some requests are decided as they should be; a proof shows that
//! *no* request breaks a rule, whatever its principal, resource, context and entity
//! attributes. [`prove`] checks a policy pack — the default pack plus any department
//! policies — against the [`INVARIANTS`]:
//!
//! - 第十七条: vendor staff are never granted a super-administrator right;
//! - 第十条: an ungraded dataset is never catalogued;
//! - 第十四条: a dataset marked not for sharing is never requested, reviewed or shared;
//! - 第八条: no request ever purges the audit log.
//!
//! Each invariant is a small spec policy that describes the allowed space; for every
//! request environment of the schema that the invariant covers, the pack must imply
//! the spec (every request the pack allows, the spec allows). When it does not, the
//! solver gives a concrete counterexample: a request and an entity store that the
//! pack allows, which [`Counterexample::replay`] turns back into a govdata inventory
//! and request.
//!
//! The requests considered are those the engine can pose: entity stores built from a
//! valid inventory (departments, systems and datasets of known kinds, a grade that
//! agrees with its level, a user inside their own department, a declared risk that
//! agrees with its ordinal — see [`WELL_FORMED`]), with any attribute values and
//! context otherwise. The solver is found as Cedar's symbolic compiler finds it: the
//! `CVC5` environment variable, else `cvc5` on `PATH`.
//!
//! This crate keeps the core free of the solver and of an async runtime: the proofs
//! run on a single-threaded tokio runtime of their own.

use cedar_policy::{
    Authorizer, Entities, Policy, PolicyId, PolicySet, Request, RequestEnv, Schema,
};
use cedar_policy_symcc::solver::LocalSolver;
use cedar_policy_symcc::{CedarSymCompiler, CompiledPolicySet};
use govdata::PolicyPack;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::{Duration, Instant};

/// One invariant of the regulation that the pack must keep for every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invariant {
    /// A short stable id, such as `art17-no-vendor-superadmin`.
    pub id: &'static str,
    /// The article, such as `第十七条`.
    pub article: &'static str,
    /// The invariant in Chinese.
    pub zh: &'static str,
    /// The invariant in English.
    pub en: &'static str,
    /// The actions it covers.
    pub actions: &'static [&'static str],
    /// The condition every allowed request of those actions must meet (Cedar).
    pub safe: &'static str,
}

/// The invariants [`prove`] checks.
pub const INVARIANTS: &[Invariant] = &[
    Invariant {
        id: "art17-no-vendor-superadmin",
        article: "第十七条",
        zh: "数据库、操作系统最高管理员权限永不授予供应商人员",
        en: "vendor staff are never granted a database or OS super-administrator right",
        actions: &["grant_superadmin"],
        safe: "!(context has grantee && context.grantee has vendor)",
    },
    Invariant {
        id: "art10-no-catalog-ungraded",
        article: "第十条",
        zh: "未分类分级的数据永不编目",
        en: "an ungraded dataset is never catalogued",
        actions: &["catalog"],
        safe: "resource.graded",
    },
    Invariant {
        id: "art14-no-share-none",
        article: "第十四条",
        zh: "不予共享类数据永不被申请共享、审核共享或共享",
        en: "a dataset marked not for sharing is never requested, reviewed or shared",
        actions: &["request_share", "review_share", "share"],
        safe: "resource.share_type != \"none\"",
    },
    Invariant {
        id: "art8-no-purge",
        article: "第八条",
        zh: "任何请求都不能清除审计日志",
        en: "no request ever purges the audit log",
        actions: &["purge_audit"],
        safe: "false",
    },
];

const DEPARTMENT_KINDS: &str = r#"["management", "operator", "maintainer", "user"]"#;

/// What every entity store the engine builds from a valid inventory satisfies, per
/// variable (Cedar conditions; `$` stands for the entity). The proofs range over the
/// requests that meet them, and so every counterexample can be replayed as a real
/// inventory and request.
pub const WELL_FORMED: &[(&str, &str)] = &[
    ("User", r#"$ in $.department && !$.roles.contains("")"#),
    (
        "Department",
        r#"["management", "operator", "maintainer", "user"].contains($.kind)"#,
    ),
    (
        "Dataset",
        r#"["aggregation", "transmission", "storage", "use_processing", "sharing", "destruction"].contains($.stage) &&
        ["none", "personal", "sensitive"].contains($.personal_info) &&
        ["unconditional", "conditional", "none"].contains($.share_type) &&
        $.graded == ($ has grade) &&
        (if $ has grade then
           ($.grade == "L1" && $.level == 1) || ($.grade == "L2" && $.level == 2) ||
           ($.grade == "L3" && $.level == 3) || ($.grade == "L4" && $.level == 4) ||
           ($.grade == "important" && $.level == 5) || ($.grade == "core" && $.level == 6)
         else $.level == 0) &&
        ($.personal_info != "sensitive" || !$.graded || $.level >= 4) &&
        (!$.cataloged || $.graded)"#,
    ),
    (
        "System",
        r#"["database", "os", "platform"].contains($.kind)"#,
    ),
    (
        "Context",
        r#"(if context has scenario_risk then
           context has risk &&
           ((context.scenario_risk == "low" && context.risk == 1) ||
            (context.scenario_risk == "medium" && context.risk == 2) ||
            (context.scenario_risk == "high" && context.risk == 3))
         else !(context has risk))"#,
    ),
];

fn well_formed(kind: &str, var: &str) -> String {
    let rule = WELL_FORMED
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or("true", |(_, r)| r);
    format!("({})", rule.replace('$', var))
}

/// The well-formedness condition of a request environment (Cedar): what every
/// request the engine builds in that environment satisfies, following
/// [`WELL_FORMED`] from the principal, the resource and the context.
pub fn well_formed_condition(env: &RequestEnv) -> String {
    let dept = |var: &str| format!("{DEPARTMENT_KINDS}.contains({var}.kind)");
    let user = |var: &str| {
        format!(
            "{} && {}",
            well_formed("User", var),
            dept(&format!("{var}.department"))
        )
    };
    let mut parts = vec![user("principal"), well_formed("Context", "context")];
    match env.resource().to_string().as_str() {
        "Dataset" => {
            parts.push(well_formed("Dataset", "resource"));
            parts.push(dept("resource.owner"));
        }
        "System" => {
            parts.push(well_formed("System", "resource"));
            parts.push(dept("resource.owner"));
        }
        _ => {}
    }
    parts.push(format!(
        "(if context has grantee then {} else true)",
        user("context.grantee")
    ));
    for d in ["recipient_department", "audit_department"] {
        parts.push(format!(
            "(if context has {d} then {} else true)",
            dept(&format!("context.{d}"))
        ));
    }
    parts.join(" &&\n  ")
}

/// Why a proof could not be run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProveError {
    /// The pack could not be loaded.
    #[error(transparent)]
    Pack(#[from] govdata::Error),
    /// The cvc5 solver could not be started or failed.
    #[error("solver: {message}")]
    Solver {
        /// What went wrong.
        message: String,
    },
    /// The symbolic compiler rejected the pack or a spec.
    #[error("symbolic compilation of `{what}`: {message}")]
    Compile {
        /// The pack or spec that failed.
        what: String,
        /// What went wrong.
        message: String,
    },
}

impl ProveError {
    /// A stable code: the core's code for a pack error, `solver` or `symbolic_compile`.
    pub fn code(&self) -> &'static str {
        match self {
            ProveError::Pack(e) => e.code(),
            ProveError::Solver { .. } => "solver",
            ProveError::Compile { .. } => "symbolic_compile",
        }
    }

    /// Advice for a person reading the error, where there is some.
    pub fn help(&self) -> Option<&'static str> {
        match self {
            ProveError::Solver { .. } => Some(
                "install cvc5 (`apt-get install cvc5`), or point the CVC5 variable at its executable",
            ),
            ProveError::Pack(e) => e.help(),
            ProveError::Compile { .. } => None,
        }
    }
}

fn solver_error(e: impl fmt::Display) -> ProveError {
    ProveError::Solver {
        message: e.to_string(),
    }
}

/// A request and an entity store that the pack allows and the invariant forbids.
#[derive(Debug, Clone)]
pub struct Counterexample {
    request: Request,
    entities: Entities,
    allowed_by: Vec<String>,
}

impl Counterexample {
    /// The Cedar request.
    pub fn request(&self) -> &Request {
        &self.request
    }
    /// The Cedar entities.
    pub fn entities(&self) -> &Entities {
        &self.entities
    }
    /// The permits of the pack that allow it (plain Cedar's determining policies).
    pub fn allowed_by(&self) -> &[String] {
        &self.allowed_by
    }

    /// The request in Cedar's JSON terms: entity uids as strings, context as JSON.
    pub fn request_json(&self) -> Value {
        let uid = |u: Option<&cedar_policy::EntityUid>| {
            u.map_or(Value::Null, |u| Value::String(u.to_string()))
        };
        json!({
            "principal": uid(self.request.principal()),
            "action": uid(self.request.action()),
            "resource": uid(self.request.resource()),
            "context": self
                .request
                .context()
                .and_then(|c| c.to_json_value().ok())
                .unwrap_or_else(|| json!({})),
        })
    }

    /// The entities in Cedar's entities JSON format, without the action entities.
    pub fn entities_json(&self) -> Value {
        let all = self.entities.to_json_value().unwrap_or(Value::Null);
        Value::Array(
            all.as_array()
                .map(|a| {
                    a.iter()
                        .filter(|e| {
                            e.pointer("/uid/type").and_then(Value::as_str) != Some("Action")
                        })
                        .cloned()
                        .collect()
                })
                .unwrap_or_default(),
        )
    }

    /// The counterexample as govdata sees requests: an inventory, a wire-format
    /// request, and the approval a resolver must vouch for when the request cites one.
    pub fn replay(&self) -> Replay {
        replay(&self.entities_json(), &self.request_json())
    }
}

/// A counterexample in govdata's terms.
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    /// The inventory (JSON), with every entity of the counterexample.
    pub inventory: Value,
    /// The request in the wire format.
    pub request: Value,
    /// The approval the request cites and the workflow records must resolve.
    pub approval: Option<govdata::engine::ResolvedApproval>,
}

/// The outcome of one invariant.
#[derive(Debug, Clone)]
pub struct InvariantResult {
    invariant: Invariant,
    counterexamples: Vec<Counterexample>,
    queries: usize,
    elapsed: Duration,
}

impl InvariantResult {
    /// The invariant.
    pub fn invariant(&self) -> &Invariant {
        &self.invariant
    }
    /// Whether the pack keeps it for every request.
    pub fn holds(&self) -> bool {
        self.counterexamples.is_empty()
    }
    /// One counterexample per request environment (action) where it is broken.
    pub fn counterexamples(&self) -> &[Counterexample] {
        &self.counterexamples
    }
    /// How many solver queries it took.
    pub fn queries(&self) -> usize {
        self.queries
    }
    /// How long the solver queries took.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }
}

/// The outcome of [`prove`].
#[derive(Debug, Clone)]
pub struct Report {
    results: Vec<InvariantResult>,
    policy_version: String,
    elapsed: Duration,
}

impl Report {
    /// One result per invariant, in the order of [`INVARIANTS`].
    pub fn results(&self) -> &[InvariantResult] {
        &self.results
    }
    /// Whether every invariant holds.
    pub fn all_hold(&self) -> bool {
        self.results.iter().all(InvariantResult::holds)
    }
    /// The version of the pack proved.
    pub fn policy_version(&self) -> &str {
        &self.policy_version
    }
    /// The time taken, compilation and solving.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }
    /// The report as JSON.
    pub fn to_json(&self) -> Value {
        let results: Vec<Value> = self
            .results
            .iter()
            .map(|r| {
                let i = r.invariant();
                json!({
                    "invariant": i.id,
                    "article": i.article,
                    "zh": i.zh,
                    "en": i.en,
                    "holds": r.holds(),
                    "queries": r.queries(),
                    "millis": r.elapsed().as_millis() as u64,
                    "counterexamples": r.counterexamples().iter().map(|c| json!({
                        "request": c.request_json(),
                        "entities": c.entities_json(),
                        "allowed_by": c.allowed_by(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({
            "policy_version": self.policy_version,
            "all_hold": self.all_hold(),
            "millis": self.elapsed.as_millis() as u64,
            "invariants": results,
        })
    }
}

/// Checks `pack` against every invariant of [`INVARIANTS`] over every request.
pub fn prove(pack: &PolicyPack) -> Result<Report, ProveError> {
    prove_invariants(pack, INVARIANTS)
}

/// Checks `pack` against the given invariants over every request.
pub fn prove_invariants(pack: &PolicyPack, invariants: &[Invariant]) -> Result<Report, ProveError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| solver_error(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(prove_async(pack, invariants))
}

async fn prove_async(pack: &PolicyPack, invariants: &[Invariant]) -> Result<Report, ProveError> {
    let start = Instant::now();
    let schema: &Schema = pack.cedar_schema();
    let set: &PolicySet = pack.cedar_policy_set();
    let solver =
        LocalSolver::cvc5().map_err(|e| solver_error(format!("cannot start cvc5: {e}")))?;
    let mut compiler = CedarSymCompiler::new(solver).map_err(solver_error)?;
    let envs: Vec<RequestEnv> = schema.request_envs().collect();
    let mut compiled: HashMap<String, CompiledPolicySet> = HashMap::new();
    let mut results = Vec::new();
    for invariant in invariants {
        let mut counterexamples = Vec::new();
        let mut queries = 0;
        let mut elapsed = Duration::ZERO;
        for env in &envs {
            let action = env.action().id().unescaped().to_owned();
            if !invariant.actions.contains(&action.as_str()) {
                continue;
            }
            let key = env_key(env);
            if !compiled.contains_key(&key) {
                let c = CompiledPolicySet::compile(set, env, schema).map_err(|e| {
                    ProveError::Compile {
                        what: format!("the pack for {key}"),
                        message: e.to_string(),
                    }
                })?;
                compiled.insert(key.clone(), c);
            }
            let Some(pack_c) = compiled.get(&key) else {
                continue;
            };
            let spec = spec_set(invariant, env)?;
            validate_spec(&spec, schema, invariant.id)?;
            let spec_c = CompiledPolicySet::compile(&spec, env, schema).map_err(|e| {
                ProveError::Compile {
                    what: format!("the spec of `{}` for {key}", invariant.id),
                    message: e.to_string(),
                }
            })?;
            let t = Instant::now();
            let found = compiler
                .check_implies_with_counterexample_opt(pack_c, &spec_c)
                .await
                .map_err(solver_error)?;
            elapsed += t.elapsed();
            queries += 1;
            if let Some(env) = found {
                let response = Authorizer::new().is_authorized(&env.request, set, &env.entities);
                let mut allowed_by: Vec<String> = response
                    .diagnostics()
                    .reason()
                    .map(ToString::to_string)
                    .collect();
                allowed_by.sort();
                counterexamples.push(Counterexample {
                    request: env.request,
                    entities: env.entities,
                    allowed_by,
                });
            }
        }
        results.push(InvariantResult {
            invariant: *invariant,
            counterexamples,
            queries,
            elapsed,
        });
    }
    Ok(Report {
        results,
        policy_version: pack.version().to_owned(),
        elapsed: start.elapsed(),
    })
}

fn env_key(env: &RequestEnv) -> String {
    format!("{} {} {}", env.principal(), env.action(), env.resource())
}

/// The spec of `invariant` in `env`: allow every request that is not well formed
/// or that meets the invariant's condition.
fn spec_set(invariant: &Invariant, env: &RequestEnv) -> Result<PolicySet, ProveError> {
    let text = format!(
        "permit (principal, action == {}, resource is {}) when {{\n  !(\n  {}\n  ) || ({})\n}};",
        env.action(),
        env.resource(),
        well_formed_condition(env),
        invariant.safe
    );
    let policy = Policy::parse(Some(PolicyId::new(invariant.id)), &text).map_err(|e| {
        ProveError::Compile {
            what: format!("the spec of `{}`", invariant.id),
            message: e.to_string(),
        }
    })?;
    let set = PolicySet::from_policies([policy]).map_err(|e| ProveError::Compile {
        what: format!("the spec of `{}`", invariant.id),
        message: e.to_string(),
    })?;
    Ok(set)
}

/// Strict validation of a spec against the schema, for a readable error.
fn validate_spec(spec: &PolicySet, schema: &Schema, id: &str) -> Result<(), ProveError> {
    let result = cedar_policy::Validator::new(schema.clone())
        .validate(spec, cedar_policy::ValidationMode::Strict);
    let first = result.validation_errors().next().map(ToString::to_string);
    match first {
        None => Ok(()),
        Some(message) => Err(ProveError::Compile {
            what: format!("the spec of `{id}`"),
            message,
        }),
    }
}

/// Turns Cedar entities and a Cedar request (JSON) into a govdata inventory and
/// request. Empty ids, which an inventory does not take, are renamed.
fn replay(entities: &Value, request: &Value) -> Replay {
    let list: &[Value] = entities.as_array().map_or(&[], Vec::as_slice);
    let key = |t: &str, id: &str| (t.to_owned(), id.to_owned());
    let mut names: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut counter = 0usize;
    let mut name_of = |t: &str, id: &str| -> String {
        names
            .entry(key(t, id))
            .or_insert_with(|| {
                if id.is_empty() {
                    counter += 1;
                    format!("{}-{counter}", t.to_lowercase())
                } else {
                    id.to_owned()
                }
            })
            .clone()
    };
    let uid_of = |v: &Value| -> Option<(String, String)> {
        let u = v.get("__entity").unwrap_or(v);
        Some((
            u.get("type")?.as_str()?.to_owned(),
            u.get("id")?.as_str()?.to_owned(),
        ))
    };
    let by_uid: HashMap<(String, String), &Value> = list
        .iter()
        .filter_map(|e| Some((uid_of(e.get("uid")?)?, e)))
        .collect();
    let attr_str = |e: &Value, a: &str| -> Option<String> {
        e.pointer(&format!("/attrs/{a}"))?
            .as_str()
            .map(str::to_owned)
    };
    let attr_bool = |e: &Value, a: &str| -> bool {
        e.pointer(&format!("/attrs/{a}"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    let attr_set = |e: &Value, a: &str| -> Vec<String> {
        e.pointer(&format!("/attrs/{a}"))
            .and_then(Value::as_array)
            .map(|s| {
                s.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let attr_uid = |e: &Value, a: &str| e.pointer(&format!("/attrs/{a}")).and_then(uid_of);
    let parents = |e: &Value| -> Vec<(String, String)> {
        e.get("parents")
            .and_then(Value::as_array)
            .map(|p| p.iter().filter_map(uid_of).collect())
            .unwrap_or_default()
    };
    let kinds = ["management", "operator", "maintainer", "user"];

    let mut departments: BTreeMap<String, Value> = BTreeMap::new();
    let mut vendors: BTreeMap<String, Value> = BTreeMap::new();
    let mut users = Vec::new();
    let mut datasets = Vec::new();
    let mut systems = Vec::new();
    // Every department named anywhere exists in the inventory.
    let mut dept_ids: Vec<(String, String)> = Vec::new();
    for e in list {
        let Some((t, id)) = e.get("uid").and_then(uid_of) else {
            continue;
        };
        for a in ["department", "owner"] {
            if let Some(u) = attr_uid(e, a) {
                dept_ids.push(u);
            }
        }
        if t == "Department" {
            dept_ids.push((t.clone(), id.clone()));
        }
        for p in parents(e) {
            if p.0 == "Department" {
                dept_ids.push(p);
            }
        }
    }
    if let Some(ctx) = request.get("context") {
        for a in ["recipient_department", "audit_department"] {
            if let Some(u) = ctx.get(a).and_then(uid_of) {
                dept_ids.push(u);
            }
        }
    }
    for (t, id) in dept_ids {
        let name = name_of(&t, &id);
        if departments.contains_key(&name) {
            continue;
        }
        let e = by_uid.get(&(t.clone(), id.clone())).copied();
        let kind = e
            .and_then(|e| attr_str(e, "kind"))
            .filter(|k| kinds.contains(&k.as_str()))
            .unwrap_or_else(|| "user".to_owned());
        // The nearest parent: the ancestor with the most ancestors of its own.
        let parent = e.and_then(|e| {
            parents(e)
                .into_iter()
                .filter(|p| p.0 == "Department")
                .max_by_key(|p| by_uid.get(p).map_or(0, |pe| parents(pe).len()))
        });
        departments.insert(
            name.clone(),
            json!({
                "id": name,
                "name": e.and_then(|e| attr_str(e, "name")).unwrap_or_default(),
                "kind": kind,
                "parent": parent.map(|(t, id)| name_of(&t, &id)),
            }),
        );
    }
    for e in list {
        let Some((t, id)) = e.get("uid").and_then(uid_of) else {
            continue;
        };
        let name = name_of(&t, &id);
        match t.as_str() {
            "User" => {
                let vendor = attr_uid(e, "vendor").map(|(vt, vid)| {
                    let v = name_of(&vt, &vid);
                    vendors.entry(v.clone()).or_insert_with(|| {
                        let vname = by_uid
                            .get(&(vt.clone(), vid.clone()))
                            .and_then(|ve| attr_str(ve, "name"))
                            .unwrap_or_default();
                        json!({"id": v, "name": vname})
                    });
                    v
                });
                users.push(json!({
                    "id": name,
                    "name": attr_str(e, "name").unwrap_or_default(),
                    "department": attr_uid(e, "department").map(|(dt, did)| name_of(&dt, &did)),
                    "roles": attr_set(e, "roles"),
                    "vendor": vendor,
                    "designated_admin": attr_bool(e, "designated_admin"),
                }));
            }
            "Dataset" => datasets.push(json!({
                "id": name,
                "name": attr_str(e, "name").unwrap_or_default(),
                "owner": attr_uid(e, "owner").map(|(dt, did)| name_of(&dt, &did)),
                "grade": attr_str(e, "grade"),
                "category": attr_str(e, "category").unwrap_or_default(),
                "stage": attr_str(e, "stage"),
                "personal_info": attr_str(e, "personal_info"),
                "share_type": attr_str(e, "share_type"),
                "cataloged": attr_bool(e, "cataloged"),
                "allowed_purposes": attr_set(e, "allowed_purposes"),
            })),
            "System" => systems.push(json!({
                "id": name,
                "name": attr_str(e, "name").unwrap_or_default(),
                "kind": attr_str(e, "kind"),
                "owner": attr_uid(e, "owner").map(|(dt, did)| name_of(&dt, &did)),
            })),
            _ => {}
        }
    }
    let inventory = json!({
        "departments": departments.into_values().collect::<Vec<_>>(),
        "vendors": vendors.into_values().collect::<Vec<_>>(),
        "users": users,
        "datasets": datasets,
        "systems": systems,
    });

    let parse_uid = |v: Option<&Value>| -> Option<(String, String)> {
        let s = v?.as_str()?;
        let (t, rest) = s.split_once("::")?;
        let id: String = serde_json::from_str(rest).ok()?;
        Some((t.to_owned(), id))
    };
    let action = parse_uid(request.get("action")).map(|(_, a)| a);
    let resource = parse_uid(request.get("resource")).map(|(t, id)| {
        let n = name_of(&t, &id);
        if t == "Dataset" {
            Value::String(n)
        } else {
            json!({"type": t, "id": n})
        }
    });
    let principal = parse_uid(request.get("principal")).map(|(t, id)| name_of(&t, &id));
    let mut context = Map::new();
    let mut approval = None;
    if let Some(ctx) = request.get("context").and_then(Value::as_object) {
        for (k, v) in ctx {
            match k.as_str() {
                "purpose" | "legal_basis" | "intended_use" | "scenario_risk" | "channel" => {
                    context.insert(k.clone(), v.clone());
                }
                "approval" => {
                    let id = v.get("id").and_then(Value::as_str).unwrap_or("").to_owned();
                    let id = if id.is_empty() {
                        "approval-1".to_owned()
                    } else {
                        id
                    };
                    approval = Some(govdata::engine::ResolvedApproval {
                        id: id.clone(),
                        approver: v
                            .get("approver")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned(),
                    });
                    context.insert(k.clone(), Value::String(id));
                }
                "grantee" | "recipient_department" | "audit_department" => {
                    if let Some((t, id)) = uid_of(v) {
                        context.insert(k.clone(), Value::String(name_of(&t, &id)));
                    }
                }
                // `risk` is the engine's own ordinal of `scenario_risk`.
                _ => {}
            }
        }
    }
    Replay {
        inventory,
        request: json!({
            "principal": principal,
            "action": action,
            "resource": resource,
            "context": context,
        }),
        approval,
    }
}
