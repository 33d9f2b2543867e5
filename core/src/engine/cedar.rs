//! The bridge to Cedar: a per-thread compiled copy of the pack, and the conversion of
//! a resolved request into a Cedar request and the handful of entities it touches.
//!
//! Each worker thread parses its own copy of the policy slices: a `PolicySet` shared
//! by several threads serialises them on reference counts inside Cedar. Entities are
//! built per decision from the resident inventory — only the principal, the resource,
//! the entities the context names and their departments — never a whole store.

use super::decision::ReasonText;
use super::request::{Channel, Request};
use crate::error::{Error, Result};
use crate::model::{Action, Dataset, Department, Inventory, ResourceKind, System, User};
use crate::policy::{slot, PolicyPack};
use cedar_policy::{
    Authorizer, Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, Policy, PolicyId,
    PolicySet, RestrictedExpression,
};
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
    pub(crate) text: Arc<ReasonText>,
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

/// The pack compiled for one thread.
pub(crate) struct Local {
    pub(crate) sets: Vec<Option<PolicySet>>,
    pub(crate) policies: HashMap<PolicyId, LocalPolicy>,
    pub(crate) default_deny: Arc<ReasonText>,
    pub(crate) engine_error: Arc<ReasonText>,
    pub(crate) types: TypeNames,
    pub(crate) actions: Vec<EntityUid>,
    pub(crate) authorizer: Authorizer,
    pub(crate) version: Arc<str>,
}

impl Local {
    pub(crate) fn compile(pack: &PolicyPack) -> Result<Self> {
        let infos = pack.policies();
        let mut parsed: Vec<Policy> = Vec::with_capacity(infos.len());
        let mut policies = HashMap::with_capacity(infos.len());
        for info in infos {
            let id = PolicyId::new(info.id());
            let policy = Policy::parse(Some(id.clone()), info.text()).map_err(|e| {
                Error::request(format!("internal: re-parse of `{}`: {e}", info.id()))
            })?;
            parsed.push(policy);
            policies.insert(
                id,
                LocalPolicy {
                    text: Arc::new(ReasonText {
                        policy: info.id().to_owned(),
                        article: info.article().to_owned(),
                        zh: info.zh().to_owned(),
                        en: info.en().to_owned(),
                    }),
                    forbid: info.is_forbid(),
                    obligations: info.obligations().to_vec().into(),
                },
            );
        }
        let mut sets = Vec::new();
        for &action in Action::ALL {
            for &kind in ResourceKind::ALL {
                let s = slot(action, kind);
                debug_assert_eq!(s, sets.len());
                let indices = pack.slot_indices(s);
                if indices.is_empty() {
                    sets.push(None);
                    continue;
                }
                let set = PolicySet::from_policies(indices.iter().map(|&i| parsed[i].clone()))
                    .map_err(|e| Error::request(format!("internal: policy slice: {e}")))?;
                sets.push(Some(set));
            }
        }
        let actions = Action::ALL
            .iter()
            .map(|a| {
                EntityUid::from_str(&format!("Action::\"{}\"", a.as_str()))
                    .map_err(|e| Error::request(format!("internal: action `{a}`: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Local {
            sets,
            policies,
            default_deny: Arc::new(ReasonText::default_deny()),
            engine_error: Arc::new(ReasonText::engine_error()),
            types: TypeNames::new()?,
            actions,
            authorizer: Authorizer::new(),
            version: Arc::from(pack.version()),
        })
    }
}

/// Collects the entities a decision touches, each once.
struct EntityBuilder<'a> {
    inv: &'a Inventory,
    types: &'a TypeNames,
    seen: HashSet<(u8, &'a str)>,
    out: Vec<Entity>,
}

fn s(v: &str) -> RestrictedExpression {
    RestrictedExpression::new_string(v.to_owned())
}

impl<'a> EntityBuilder<'a> {
    fn new(inv: &'a Inventory, types: &'a TypeNames) -> Self {
        EntityBuilder {
            inv,
            types,
            seen: HashSet::with_capacity(8),
            out: Vec::with_capacity(8),
        }
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
            let parents = d
                .parent
                .as_deref()
                .map(|p| self.types.uid(&self.types.department, p))
                .into_iter()
                .collect();
            let attrs = vec![
                ("name".to_owned(), s(&d.name)),
                ("kind".to_owned(), s(d.kind.as_str())),
            ];
            let e = Self::build(
                attrs,
                self.types.uid(&self.types.department, &d.id),
                parents,
            )?;
            self.out.push(e);
            next = d.parent.as_deref();
        }
        Ok(())
    }

    fn user(&mut self, u: &'a User) -> Result<()> {
        if !self.seen.insert((1, &u.id)) {
            return Ok(());
        }
        let t = self.types;
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
            if self.seen.insert((2, v)) {
                let name = self.inv.vendor(v).map(|v| v.name.as_str()).unwrap_or("");
                let e = Self::build(
                    vec![("name".to_owned(), s(name))],
                    t.uid(&t.vendor, v),
                    vec![],
                )?;
                self.out.push(e);
            }
        }
        let e = Self::build(attrs, t.uid(&t.user, &u.id), vec![dept])?;
        self.out.push(e);
        self.department(&u.department)
    }

    fn dataset(&mut self, d: &'a Dataset) -> Result<()> {
        if !self.seen.insert((3, &d.id)) {
            return Ok(());
        }
        let t = self.types;
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
        let e = Self::build(attrs, t.uid(&t.dataset, &d.id), vec![])?;
        self.out.push(e);
        self.department(&d.owner)
    }

    fn system(&mut self, sys: &'a System) -> Result<()> {
        if !self.seen.insert((4, &sys.id)) {
            return Ok(());
        }
        let t = self.types;
        let attrs = vec![
            ("name".to_owned(), s(&sys.name)),
            ("kind".to_owned(), s(sys.kind.as_str())),
            (
                "owner".to_owned(),
                RestrictedExpression::new_entity_uid(t.uid(&t.department, &sys.owner)),
            ),
        ];
        let e = Self::build(attrs, t.uid(&t.system, &sys.id), vec![])?;
        self.out.push(e);
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
    pub(crate) entities: Entities,
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
) -> Result<CedarInput> {
    let mut b = EntityBuilder::new(inv, types);
    let user = inv
        .user(&req.principal)
        .ok_or_else(|| unknown("user", &req.principal))?;
    b.user(user)?;
    let resource = match req.resource.kind {
        ResourceKind::Dataset => {
            let d = inv
                .dataset(&req.resource.id)
                .ok_or_else(|| unknown("dataset", &req.resource.id))?;
            b.dataset(d)?;
            types.uid(&types.dataset, &d.id)
        }
        ResourceKind::System => {
            let sys = inv
                .system(&req.resource.id)
                .ok_or_else(|| unknown("system", &req.resource.id))?;
            b.system(sys)?;
            types.uid(&types.system, &sys.id)
        }
        ResourceKind::AuditLog => {
            let uid = types.uid(&types.audit_log, &req.resource.id);
            b.out
                .push(Entity::new_no_attrs(uid.clone(), HashSet::new()));
            uid
        }
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
        let grantee = inv.user(g).ok_or_else(|| unknown("user", g))?;
        b.user(grantee)?;
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
            b.department(d)?;
            pairs.push((
                key.to_owned(),
                RestrictedExpression::new_entity_uid(types.uid(&types.department, d)),
            ));
        }
    }
    let context =
        Context::from_pairs(pairs).map_err(|e| Error::request(format!("context: {e}")))?;
    let principal = types.uid(&types.user, &user.id);
    let request =
        cedar_policy::Request::new(principal, action_uid.clone(), resource, context, None)
            .map_err(|e| Error::request(e.to_string()))?;
    let entities = Entities::from_entities(b.out, None)
        .map_err(|e| Error::request(format!("internal: entities: {e}")))?;
    Ok(CedarInput { request, entities })
}

/// Every entity of the inventory as one Cedar store, validated against the schema:
/// what plain Cedar would be given. Used by the differential tests and benches.
pub(crate) fn full_store(inv: &Inventory, pack: &PolicyPack) -> Result<Entities> {
    let types = TypeNames::new()?;
    let mut b = EntityBuilder::new(inv, &types);
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
