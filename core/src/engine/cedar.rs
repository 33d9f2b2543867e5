//! The bridge to Cedar: a per-thread compiled copy of the pack, and the conversion of
//! a resolved request into a Cedar request and the handful of entities it touches.
//!
//! Each worker thread parses its own copy of the policy slices: a `PolicySet` shared
//! by several threads serialises them on reference counts inside Cedar. Entities are
//! built per decision from the resident inventory — only the principal, the resource,
//! the entities the context names and their departments — never a whole store.

use super::decision::{DEFAULT_DENY_CITATION, ENGINE_ERROR_CITATION};
use super::request::{Channel, Request};
use crate::error::{Error, Result};
use crate::model::{Action, Dataset, Department, Inventory, ResourceKind, System, User};
use crate::policy::Citation;
use crate::policy::PolicyPack;
use cedar_policy::{
    Authorizer, Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, Policy, PolicyId,
    PolicySet, RestrictedExpression,
};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::Arc;

/// A resolved approval: what the workflow records say about `context.approval`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedApproval {
    /// The approval id.
    pub id: String,
    /// The user who approved.
    pub approver: String,
}

/// What the engine knows of one policy on this thread.
pub(crate) struct LocalPolicy {
    /// The position in the pack: reasons are reported in pack order.
    pub(crate) order: usize,
    pub(crate) text: Arc<Citation>,
    pub(crate) forbid: bool,
    pub(crate) obligations: Arc<[String]>,
}

/// Entity type names, parsed once per thread.
pub(crate) struct TypeNames {
    user: EntityTypeName,
    department: EntityTypeName,
    vendor: EntityTypeName,
    dataset: EntityTypeName,
    system: EntityTypeName,
    audit_log: EntityTypeName,
}

impl TypeNames {
    pub(crate) fn new() -> Result<Self> {
        let t = |s: &str| {
            EntityTypeName::from_str(s)
                .map_err(|e| Error::request(format!("internal: type `{s}`: {e}")))
        };
        Ok(TypeNames {
            user: t("User")?,
            department: t("Department")?,
            vendor: t("Vendor")?,
            dataset: t("Dataset")?,
            system: t("System")?,
            audit_log: t("AuditLog")?,
        })
    }

    fn uid(&self, ty: &EntityTypeName, id: &str) -> EntityUid {
        EntityUid::from_type_name_and_id(ty.clone(), EntityId::new(id))
    }
}

/// Entities built for earlier decisions on this thread, valid for one inventory
/// generation. A cached entity is cloned, not rebuilt: building one evaluates every
/// attribute expression, cloning copies values.
///
/// Whole stores are kept too, by the ids they were built from: building a store
/// computes the transitive closure of its parents and copies every entity into it, which
/// costs more than the evaluation that follows, and a job decides about the same user and
/// dataset again and again.
#[derive(Default)]
pub(crate) struct EntityCache {
    generation: u64,
    map: HashMap<(u8, String), Entity>,
    stores: HashMap<StoreKey, Arc<Entities>>,
}

const ENTITY_CACHE_LIMIT: usize = 16_384;
const STORE_CACHE_LIMIT: usize = 4_096;

impl EntityCache {
    fn reset_for(&mut self, generation: u64) {
        if self.generation != generation {
            self.stores.clear();
        }
        if self.generation != generation || self.map.len() > ENTITY_CACHE_LIMIT {
            self.map.clear();
            self.generation = generation;
        }
    }
}

/// What a request's entity store is built from: the principal, the resource and the
/// users and departments its context names.
#[derive(PartialEq, Eq, Hash)]
struct StoreKey {
    principal: String,
    resource: (ResourceKind, String),
    grantee: Option<String>,
    recipient_department: Option<String>,
    audit_department: Option<String>,
}

impl StoreKey {
    fn of(req: &Request) -> Self {
        let c = &req.context;
        StoreKey {
            principal: req.principal.clone(),
            resource: (req.resource.kind, req.resource.id.clone()),
            grantee: c.grantee.clone(),
            recipient_department: c.recipient_department.clone(),
            audit_department: c.audit_department.clone(),
        }
    }
}

/// What a principal's guard said of one policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Guard {
    /// The policy has no guard: keep it as it is.
    None,
    /// The guard holds: use the residual.
    Holds,
    /// The guard is false: the policy cannot apply to this principal.
    Fails,
    /// The guard could not be evaluated: keep the original, which fails the same way.
    Errs,
}

/// Per principal, the outcome of every guard and the policy sets built from them.
#[derive(Default)]
struct PrincipalSets {
    generation: u64,
    guards: HashMap<String, Arc<Vec<Guard>>>,
    /// (principal, slot, resource id when it has its own policies) → policy set.
    sets: HashMap<(String, usize, Option<String>), Option<Arc<PolicySet>>>,
}

const PRINCIPAL_SETS_LIMIT: usize = 65_536;

/// The pack compiled for one thread.
pub(crate) struct Local {
    /// Each policy as evaluated inside its slots (see `policy::specialize::unscoped`).
    parsed: Vec<Policy>,
    /// Per policy with a principal guard, the residual policy (see `policy::specialize`).
    residuals: Vec<Option<Policy>>,
    /// The guards, as permits with id `g<index>`.
    guard_set: PolicySet,
    has_guard: Vec<bool>,
    principal_sets: RefCell<PrincipalSets>,
    pack: PolicyPack,
    pub(crate) entities: RefCell<EntityCache>,
    pub(crate) policies: HashMap<PolicyId, LocalPolicy>,
    pub(crate) default_deny: Arc<Citation>,
    pub(crate) engine_error: Arc<Citation>,
    pub(crate) types: TypeNames,
    pub(crate) actions: Vec<EntityUid>,
    pub(crate) authorizer: Authorizer,
    pub(crate) version: Arc<str>,
}

impl Local {
    pub(crate) fn compile(pack: &PolicyPack) -> Result<Self> {
        let infos = pack.policies();
        let mut parsed: Vec<Policy> = Vec::with_capacity(infos.len());
        let mut residuals = Vec::with_capacity(infos.len());
        let mut guards = Vec::new();
        let mut has_guard = Vec::with_capacity(infos.len());
        let mut policies = HashMap::with_capacity(infos.len());
        for (i, info) in infos.iter().enumerate() {
            let id = PolicyId::new(info.id());
            let policy = match info
                .unscoped
                .as_ref()
                .and_then(|u| Policy::from_json(Some(id.clone()), u.clone()).ok())
            {
                Some(p) => p,
                None => Policy::parse(Some(id.clone()), info.text()).map_err(|e| {
                    Error::request(format!("internal: re-parse of `{}`: {e}", info.id()))
                })?,
            };
            // A split that Cedar does not take back is ignored: the original policy is
            // always a correct, if slower, choice.
            let split = info.split.as_ref().and_then(|split| {
                let guard =
                    Policy::from_json(Some(PolicyId::new(format!("g{i}"))), split.guard.clone())
                        .ok()?;
                let residual = Policy::from_json(Some(id.clone()), split.residual.clone()).ok()?;
                Some((guard, residual))
            });
            has_guard.push(split.is_some());
            match split {
                Some((guard, residual)) => {
                    guards.push(guard);
                    residuals.push(Some(residual));
                }
                None => residuals.push(None),
            }
            parsed.push(policy);
            policies.insert(
                id,
                LocalPolicy {
                    order: i,
                    text: Arc::new(info.citation().clone()),
                    forbid: info.is_forbid(),
                    obligations: info.obligations().to_vec().into(),
                },
            );
        }
        let guard_set = PolicySet::from_policies(guards)
            .map_err(|e| Error::request(format!("internal: guards: {e}")))?;
        let actions = Action::ALL
            .iter()
            .map(|a| {
                EntityUid::from_str(&format!("Action::\"{}\"", a.as_str()))
                    .map_err(|e| Error::request(format!("internal: action `{a}`: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Local {
            parsed,
            residuals,
            guard_set,
            has_guard,
            principal_sets: RefCell::new(PrincipalSets::default()),
            pack: pack.clone(),
            entities: RefCell::new(EntityCache::default()),
            policies,
            default_deny: Arc::new(DEFAULT_DENY_CITATION),
            engine_error: Arc::new(ENGINE_ERROR_CITATION),
            types: TypeNames::new()?,
            actions,
            authorizer: Authorizer::new(),
            version: Arc::from(pack.version()),
        })
    }

    /// The policies that can apply to this request: those of its action and resource
    /// type (and those naming its resource), less those whose principal guard fails,
    /// with the residual of those whose guard holds. `None` when no policy can apply.
    pub(crate) fn policy_set(
        &self,
        principal: &str,
        slot: usize,
        resource_id: &str,
        input: &CedarInput,
        generation: u64,
    ) -> Result<Option<Arc<PolicySet>>> {
        let index = self.pack.slot_index(slot);
        let own = index.by_resource.get(resource_id);
        let key = (
            principal.to_owned(),
            slot,
            own.map(|_| resource_id.to_owned()),
        );
        let mut cache = self.principal_sets.borrow_mut();
        if cache.generation != generation || cache.sets.len() > PRINCIPAL_SETS_LIMIT {
            cache.guards.clear();
            cache.sets.clear();
            cache.generation = generation;
        }
        if let Some(set) = cache.sets.get(&key) {
            return Ok(set.clone());
        }
        let guards = match cache.guards.get(principal) {
            Some(g) => Arc::clone(g),
            None => {
                let g = Arc::new(self.evaluate_guards(input)?);
                cache.guards.insert(principal.to_owned(), Arc::clone(&g));
                g
            }
        };
        let mut chosen = Vec::new();
        for &i in index.generic.iter().chain(own.into_iter().flatten()) {
            match guards[i] {
                Guard::None | Guard::Errs => chosen.push(self.parsed[i].clone()),
                Guard::Holds => match &self.residuals[i] {
                    Some(r) => chosen.push(r.clone()),
                    None => chosen.push(self.parsed[i].clone()),
                },
                Guard::Fails => {}
            }
        }
        let set = if chosen.is_empty() {
            None
        } else {
            Some(Arc::new(PolicySet::from_policies(chosen).map_err(|e| {
                Error::request(format!("internal: policy slice: {e}"))
            })?))
        };
        cache.sets.insert(key, set.clone());
        Ok(set)
    }

    /// Evaluates every guard for the request's principal.
    fn evaluate_guards(&self, input: &CedarInput) -> Result<Vec<Guard>> {
        let mut out: Vec<Guard> = self
            .has_guard
            .iter()
            .map(|&g| if g { Guard::Fails } else { Guard::None })
            .collect();
        let r = &input.request;
        let (Some(p), Some(a), Some(res)) = (r.principal(), r.action(), r.resource()) else {
            return Err(Error::request(
                "internal: request without principal, action or resource",
            ));
        };
        let request =
            cedar_policy::Request::new(p.clone(), a.clone(), res.clone(), Context::empty(), None)
                .map_err(|e| Error::request(e.to_string()))?;
        let response = self
            .authorizer
            .is_authorized(&request, &self.guard_set, &input.entities);
        let index = |id: &PolicyId| {
            id.to_string()
                .strip_prefix('g')
                .and_then(|n| n.parse::<usize>().ok())
        };
        for id in response.diagnostics().reason() {
            if let Some(i) = index(id) {
                out[i] = Guard::Holds;
            }
        }
        for err in response.diagnostics().errors() {
            let cedar_policy::AuthorizationError::PolicyEvaluationError(err) = err;
            if let Some(i) = index(err.policy_id()) {
                out[i] = Guard::Errs;
            }
        }
        Ok(out)
    }
}

/// Collects the entities a decision touches, each once.
struct EntityBuilder<'a, 'c> {
    inv: &'a Inventory,
    types: &'a TypeNames,
    cache: &'c mut EntityCache,
    seen: HashSet<(u8, &'a str)>,
    out: Vec<Entity>,
}

fn s(v: &str) -> RestrictedExpression {
    RestrictedExpression::new_string(v.to_owned())
}

impl<'a, 'c> EntityBuilder<'a, 'c> {
    fn new(inv: &'a Inventory, types: &'a TypeNames, cache: &'c mut EntityCache) -> Self {
        cache.reset_for(inv.generation());
        EntityBuilder {
            inv,
            types,
            cache,
            seen: HashSet::with_capacity(8),
            out: Vec::with_capacity(8),
        }
    }

    /// Adds the entity `(tag, id)` from the cache, or builds and caches it.
    fn add(
        &mut self,
        tag: u8,
        id: &str,
        build: impl FnOnce(&Self) -> Result<Entity>,
    ) -> Result<()> {
        if let Some(e) = self.cache.map.get(&(tag, id.to_owned())) {
            self.out.push(e.clone());
            return Ok(());
        }
        let e = build(self)?;
        self.cache.map.insert((tag, id.to_owned()), e.clone());
        self.out.push(e);
        Ok(())
    }

    fn build(
        attrs: Vec<(String, RestrictedExpression)>,
        uid: EntityUid,
        parents: Vec<EntityUid>,
    ) -> Result<Entity> {
        Entity::new_with_tags(uid, attrs, parents, [])
            .map_err(|e| Error::request(format!("internal: entity attributes: {e}")))
    }

    fn department(&mut self, id: &'a str) -> Result<()> {
        let mut next = Some(id);
        while let Some(id) = next {
            if !self.seen.insert((0, id)) {
                return Ok(());
            }
            let d: &'a Department =
                self.inv
                    .department(id)
                    .ok_or_else(|| Error::UnknownEntity {
                        kind: "department",
                        id: id.to_owned(),
                    })?;
            self.add(0, id, |b| {
                let t = b.types;
                let parents = d
                    .parent
                    .as_deref()
                    .map(|p| t.uid(&t.department, p))
                    .into_iter()
                    .collect();
                let attrs = vec![
                    ("name".to_owned(), s(&d.name)),
                    ("kind".to_owned(), s(d.kind.as_str())),
                ];
                Self::build(attrs, t.uid(&t.department, &d.id), parents)
            })?;
            next = d.parent.as_deref();
        }
        Ok(())
    }

    fn user(&mut self, u: &'a User) -> Result<()> {
        if !self.seen.insert((1, &u.id)) {
            return Ok(());
        }
        self.add(1, &u.id, |b| {
            let t = b.types;
            let dept = t.uid(&t.department, &u.department);
            let mut attrs = vec![
                ("name".to_owned(), s(&u.name)),
                (
                    "department".to_owned(),
                    RestrictedExpression::new_entity_uid(dept.clone()),
                ),
                (
                    "roles".to_owned(),
                    RestrictedExpression::new_set(u.roles.iter().map(|r| s(r))),
                ),
                (
                    "designated_admin".to_owned(),
                    RestrictedExpression::new_bool(u.designated_admin),
                ),
            ];
            if let Some(v) = &u.vendor {
                attrs.push((
                    "vendor".to_owned(),
                    RestrictedExpression::new_entity_uid(t.uid(&t.vendor, v)),
                ));
            }
            Self::build(attrs, t.uid(&t.user, &u.id), vec![dept])
        })?;
        if let Some(v) = &u.vendor {
            if self.seen.insert((2, v)) {
                let inv = self.inv;
                self.add(2, v, |b| {
                    let name = inv.vendor(v).map(|v| v.name.as_str()).unwrap_or("");
                    Self::build(
                        vec![("name".to_owned(), s(name))],
                        b.types.uid(&b.types.vendor, v),
                        vec![],
                    )
                })?;
            }
        }
        self.department(&u.department)
    }

    fn dataset(&mut self, d: &'a Dataset) -> Result<()> {
        if !self.seen.insert((3, &d.id)) {
            return Ok(());
        }
        self.add(3, &d.id, |b| Self::dataset_entity(b.types, d))?;
        self.department(&d.owner)
    }

    fn dataset_entity(t: &TypeNames, d: &Dataset) -> Result<Entity> {
        let mut attrs = vec![
            ("name".to_owned(), s(&d.name)),
            (
                "owner".to_owned(),
                RestrictedExpression::new_entity_uid(t.uid(&t.department, &d.owner)),
            ),
            (
                "graded".to_owned(),
                RestrictedExpression::new_bool(d.grade.is_some()),
            ),
            (
                "level".to_owned(),
                RestrictedExpression::new_long(d.grade.map_or(0, |g| g.ordinal())),
            ),
            ("category".to_owned(), s(&d.category)),
            ("stage".to_owned(), s(d.stage.as_str())),
            ("personal_info".to_owned(), s(d.personal_info.as_str())),
            ("share_type".to_owned(), s(d.share_type.as_str())),
            (
                "cataloged".to_owned(),
                RestrictedExpression::new_bool(d.cataloged),
            ),
            (
                "allowed_purposes".to_owned(),
                RestrictedExpression::new_set(d.allowed_purposes.iter().map(|p| s(p))),
            ),
        ];
        if let Some(g) = d.grade {
            attrs.push(("grade".to_owned(), s(g.as_str())));
        }
        Self::build(attrs, t.uid(&t.dataset, &d.id), vec![])
    }

    fn system(&mut self, sys: &'a System) -> Result<()> {
        if !self.seen.insert((4, &sys.id)) {
            return Ok(());
        }
        self.add(4, &sys.id, |b| {
            let t = b.types;
            let attrs = vec![
                ("name".to_owned(), s(&sys.name)),
                ("kind".to_owned(), s(sys.kind.as_str())),
                (
                    "owner".to_owned(),
                    RestrictedExpression::new_entity_uid(t.uid(&t.department, &sys.owner)),
                ),
            ];
            Self::build(attrs, t.uid(&t.system, &sys.id), vec![])
        })?;
        self.department(&sys.owner)
    }
}

fn unknown(kind: &'static str, id: &str) -> Error {
    Error::UnknownEntity {
        kind,
        id: id.to_owned(),
    }
}

/// A request turned into Cedar's terms.
pub(crate) struct CedarInput {
    pub(crate) request: cedar_policy::Request,
    pub(crate) entities: Arc<Entities>,
}

fn channel_record(c: &Channel) -> Result<RestrictedExpression> {
    RestrictedExpression::new_record([
        (
            "encrypted".to_owned(),
            RestrictedExpression::new_bool(c.encrypted),
        ),
        (
            "authenticated".to_owned(),
            RestrictedExpression::new_bool(c.authenticated),
        ),
        (
            "integrity_checked".to_owned(),
            RestrictedExpression::new_bool(c.integrity_checked),
        ),
    ])
    .map_err(|e| Error::request(format!("internal: channel: {e}")))
}

/// Resolves a request against the inventory and builds its Cedar form: the request and
/// the entities it touches. Unknown ids are `unknown_entity`.
pub(crate) fn to_cedar(
    req: &Request,
    inv: &Inventory,
    types: &TypeNames,
    action_uid: &EntityUid,
    approval: Option<&ResolvedApproval>,
    cache: &mut EntityCache,
) -> Result<CedarInput> {
    cache.reset_for(inv.generation());
    let key = StoreKey::of(req);
    let entities = match cache.stores.get(&key) {
        // Built for this inventory generation: every id it names exists.
        Some(store) => Arc::clone(store),
        None => {
            let store = Arc::new(store(req, inv, types, cache)?);
            if cache.stores.len() >= STORE_CACHE_LIMIT {
                cache.stores.clear();
            }
            cache.stores.insert(key, Arc::clone(&store));
            store
        }
    };
    let resource = match req.resource.kind {
        ResourceKind::Dataset => types.uid(&types.dataset, &req.resource.id),
        ResourceKind::System => types.uid(&types.system, &req.resource.id),
        ResourceKind::AuditLog => types.uid(&types.audit_log, &req.resource.id),
    };

    let c = &req.context;
    let mut pairs: Vec<(String, RestrictedExpression)> = Vec::with_capacity(8);
    for (key, value) in [
        ("purpose", &c.purpose),
        ("legal_basis", &c.legal_basis),
        ("intended_use", &c.intended_use),
    ] {
        if let Some(v) = value {
            pairs.push((key.to_owned(), s(v)));
        }
    }
    if let Some(r) = c.scenario_risk {
        pairs.push(("scenario_risk".to_owned(), s(r.as_str())));
        pairs.push((
            "risk".to_owned(),
            RestrictedExpression::new_long(r.ordinal()),
        ));
    }
    if let Some(ch) = &c.channel {
        pairs.push(("channel".to_owned(), channel_record(ch)?));
    }
    if let Some(a) = approval {
        let rec = RestrictedExpression::new_record([
            ("id".to_owned(), s(&a.id)),
            ("approver".to_owned(), s(&a.approver)),
        ])
        .map_err(|e| Error::request(format!("internal: approval: {e}")))?;
        pairs.push(("approval".to_owned(), rec));
    }
    if let Some(g) = &c.grantee {
        pairs.push((
            "grantee".to_owned(),
            RestrictedExpression::new_entity_uid(types.uid(&types.user, g)),
        ));
    }
    for (key, value) in [
        ("recipient_department", &c.recipient_department),
        ("audit_department", &c.audit_department),
    ] {
        if let Some(d) = value {
            pairs.push((
                key.to_owned(),
                RestrictedExpression::new_entity_uid(types.uid(&types.department, d)),
            ));
        }
    }
    let context =
        Context::from_pairs(pairs).map_err(|e| Error::request(format!("context: {e}")))?;
    let principal = types.uid(&types.user, &req.principal);
    let request =
        cedar_policy::Request::new(principal, action_uid.clone(), resource, context, None)
            .map_err(|e| Error::request(e.to_string()))?;
    Ok(CedarInput { request, entities })
}

/// The entities a request touches, as one store: the principal, the resource, the users
/// and departments its context names, and their departments and vendors.
fn store(
    req: &Request,
    inv: &Inventory,
    types: &TypeNames,
    cache: &mut EntityCache,
) -> Result<Entities> {
    let mut b = EntityBuilder::new(inv, types, cache);
    let user = inv
        .user(&req.principal)
        .ok_or_else(|| unknown("user", &req.principal))?;
    b.user(user)?;
    match req.resource.kind {
        ResourceKind::Dataset => {
            let d = inv
                .dataset(&req.resource.id)
                .ok_or_else(|| unknown("dataset", &req.resource.id))?;
            b.dataset(d)?;
        }
        ResourceKind::System => {
            let sys = inv
                .system(&req.resource.id)
                .ok_or_else(|| unknown("system", &req.resource.id))?;
            b.system(sys)?;
        }
        ResourceKind::AuditLog => {
            let uid = types.uid(&types.audit_log, &req.resource.id);
            b.out.push(Entity::new_no_attrs(uid, HashSet::new()));
        }
    }
    let c = &req.context;
    if let Some(g) = &c.grantee {
        let grantee = inv.user(g).ok_or_else(|| unknown("user", g))?;
        b.user(grantee)?;
    }
    for d in [&c.recipient_department, &c.audit_department]
        .into_iter()
        .flatten()
    {
        b.department(d)?;
    }
    Entities::from_entities(b.out, None)
        .map_err(|e| Error::request(format!("internal: entities: {e}")))
}

/// Every entity of the inventory as one Cedar store, validated against the schema:
/// what plain Cedar would be given. Used by the differential tests and benches.
pub(crate) fn full_store(inv: &Inventory, pack: &PolicyPack) -> Result<Entities> {
    let types = TypeNames::new()?;
    let mut cache = EntityCache::default();
    let mut b = EntityBuilder::new(inv, &types, &mut cache);
    for d in inv.departments() {
        b.department(&d.id)?;
    }
    for u in inv.users() {
        b.user(u)?;
    }
    for d in inv.datasets() {
        b.dataset(d)?;
    }
    for sys in inv.systems() {
        b.system(sys)?;
    }
    Entities::from_entities(b.out, Some(pack.cedar_schema()))
        .map_err(|e| Error::inventory("store", e))
}
