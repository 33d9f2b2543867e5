//! Signed policy bundles published through the store: `govdata bundle publish` keeps
//! each one (the history) after checking it as a node would, and every node that takes
//! its pack from the store loads the newest that passes its own checks.
//!
//! The store is not trusted to vouch for a bundle: it keeps the text as published, and
//! each node verifies it under its own trusted keys, its expiry and the last version it
//! accepted (`crate::bundle`). The database only keeps the published versions rising
//! (a bundle not above every one published is refused) and announces each on the
//! channel `govdata_bundles` when it commits.

use super::connect::{describe, unavailable};
use super::follow::Feed;
use crate::bundle::{reason, Bundle};
use crate::error::{Error, Result};
use crate::sign::VerifyingKey;
use crate::time::Timestamp;
use postgres::Client;
use serde::Serialize;
use std::sync::{Arc, Mutex};

/// The channel on which the store announces a published bundle.
pub const BUNDLE_CHANNEL: &str = "govdata_bundles";

fn db(e: &postgres::Error) -> Error {
    if let Some(d) = e.as_db_error() {
        if d.code().code() == "GD111" {
            return Error::BundleInvalid {
                reason: reason::ROLLBACK,
                message: format!("the store refuses the bundle: {}", d.message()),
            };
        }
    }
    unavailable(format!("bundles: {}", describe(e)))
}

/// A bundle published in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Published {
    /// Its row in the store (rising with every publication).
    pub id: u64,
    /// The bundle's version.
    pub version: u64,
    /// Its pack's hash.
    pub policy_version: String,
    /// The ids of the keys that signed it.
    pub key_ids: Vec<String>,
    /// When it was published.
    pub published_at: Timestamp,
}

/// Publishes `bundle` in the store after checking it as a node would: intact, signed
/// by one of `trusted`, not expired at `now`, its pack loading to its
/// `policy_version`, and its version above every one published (`bundle_invalid`
/// otherwise, with the reason; nothing is stored). Needs the `govdata_publisher`
/// role.
pub fn publish_bundle(
    client: &mut Client,
    bundle: &Bundle,
    trusted: &[VerifyingKey],
    now: Timestamp,
) -> Result<Published> {
    bundle.verify(trusted, now)?;
    bundle.load_pack()?;
    let m = bundle.manifest();
    let text = bundle.to_json();
    let sha256 = hex::encode(crate::audit::HashSuite::Sha256.hash(&[text.as_bytes()]));
    let key_ids: Vec<String> = bundle
        .signatures()
        .iter()
        .map(|s| s.key_id.clone())
        .collect();
    let version = i64::try_from(m.version).map_err(|_| Error::BundleInvalid {
        reason: reason::MALFORMED,
        message: format!("version {} is too large for the store", m.version),
    })?;
    let mut tx = client.transaction().map_err(|e| db(&e))?;
    let newest: Option<i64> = tx
        .query_one("SELECT max(version) FROM govdata.policy_bundles", &[])
        .map_err(|e| db(&e))?
        .get(0);
    if let Some(newest) = newest.filter(|n| *n >= version) {
        return Err(Error::BundleInvalid {
            reason: reason::ROLLBACK,
            message: format!(
                "version {} is not above version {newest}, the newest published",
                m.version
            ),
        });
    }
    let row = tx
        .query_one(
            "INSERT INTO govdata.policy_bundles (version, policy_version, created, expires, key_ids, sha256, bundle)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, published_at",
            &[
                &version,
                &m.policy_version,
                &super::rows::system_time(m.created),
                &super::rows::system_time(m.expires),
                &key_ids,
                &sha256,
                &text,
            ],
        )
        .map_err(|e| db(&e))?;
    tx.commit().map_err(|e| db(&e))?;
    Ok(Published {
        id: u64::try_from(row.get::<_, i64>(0)).unwrap_or(0),
        version: m.version,
        policy_version: m.policy_version.clone(),
        key_ids,
        published_at: super::rows::timestamp(row.get(1)),
    })
}

/// Every bundle published, oldest first (without their text).
pub fn published(client: &mut Client) -> Result<Vec<Published>> {
    let rows = client
        .query(
            "SELECT id, version, policy_version, key_ids, published_at FROM govdata.policy_bundles ORDER BY id",
            &[],
        )
        .map_err(|e| db(&e))?;
    Ok(rows
        .iter()
        .map(|r| Published {
            id: u64::try_from(r.get::<_, i64>(0)).unwrap_or(0),
            version: u64::try_from(r.get::<_, i64>(1)).unwrap_or(0),
            policy_version: r.get(2),
            key_ids: r.get(3),
            published_at: super::rows::timestamp(r.get(4)),
        })
        .collect())
}

/// Where a node's bundle feed offers a published bundle: the composition root checks
/// it with the node's trusted keys and state, and runs it or refuses it (recording
/// either).
pub trait BundleSink: Send + Sync + std::fmt::Debug {
    /// Offers the bundle published as row `id`, its text `text` as the store holds it.
    /// `Ok` when the node now runs it; the refusal otherwise (`bundle_invalid` with
    /// its reason for the bundle's own faults).
    fn offer(&self, id: u64, text: &str) -> Result<()>;
}

/// Offers the bundles published after row `after` to `sink`, newest first, until one
/// is taken: an older one is offered only when every newer one was refused. Returns
/// the newest row seen (`after` when none) and whether one was taken.
pub fn offer_newest(client: &mut Client, after: u64, sink: &dyn BundleSink) -> Result<(u64, bool)> {
    let after_id = i64::try_from(after).unwrap_or(i64::MAX);
    let ids: Vec<i64> = client
        .query(
            "SELECT id FROM govdata.policy_bundles WHERE id > $1 ORDER BY id DESC",
            &[&after_id],
        )
        .map_err(|e| db(&e))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let newest = ids
        .first()
        .map_or(after, |id| u64::try_from(*id).unwrap_or(after));
    for id in ids {
        let text: String = client
            .query_one(
                "SELECT bundle FROM govdata.policy_bundles WHERE id = $1",
                &[&id],
            )
            .map_err(|e| db(&e))?
            .get(0);
        match sink.offer(u64::try_from(id).unwrap_or(0), &text) {
            Ok(()) => return Ok((newest, true)),
            Err(e @ Error::StoreUnavailable { .. }) => return Err(e),
            Err(_) => {}
        }
    }
    Ok((newest, false))
}

/// The feed that keeps a node on the newest good bundle the store holds.
#[derive(Debug)]
pub struct BundleFeed {
    sink: Arc<dyn BundleSink>,
    /// The newest row offered.
    seen: Mutex<u64>,
}

impl BundleFeed {
    /// The feed of a node that was offered the rows up to `seen` at open.
    pub fn new(sink: Arc<dyn BundleSink>, seen: u64) -> BundleFeed {
        BundleFeed {
            sink,
            seen: Mutex::new(seen),
        }
    }
}

impl Feed for BundleFeed {
    fn channel(&self) -> &'static str {
        BUNDLE_CHANNEL
    }

    fn refresh(&self, client: &mut Client) -> Result<()> {
        let newest: Option<i64> = client
            .query_one("SELECT max(id) FROM govdata.policy_bundles", &[])
            .map_err(|e| db(&e))?
            .get(0);
        let newest = newest.map_or(0, |n| u64::try_from(n).unwrap_or(0));
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if newest <= *seen {
            return Ok(());
        }
        let (newest, _) = offer_newest(client, *seen, &*self.sink)?;
        *seen = newest;
        Ok(())
    }
}
