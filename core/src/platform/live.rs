//! A node that takes its inventory or its policy bundles from the platform store
//! (`source = "store"` in `[inventory]` or `[policies]`): what it loads when it opens,
//! and the adapters through which the store's feeds change what it runs — the
//! inventory swapped into the engine at once, a bundle taken by the node's bundle
//! state with every check of a bundle file.
//!
//! A node does not open when the store cannot be reached (`store_unavailable`) or
//! holds no bundle that passes (`bundle_invalid`): it never starts on an inventory or
//! a pack other than the store's. Once open, it follows the store (see
//! `crate::store::Follower`): a committed change reaches its engine within a second,
//! and while the store is away it keeps what it runs and catches up when it is back.

use super::bundle::BundleRuntime;
use super::PlatformConfig;
use crate::audit::{AuditLog, Event};
use crate::engine::Engine;
use crate::error::Result;
use crate::model::Inventory;
use crate::policy::PolicyPack;
use crate::store::{
    BundleFeed, Feed, FollowStatus, Follower, InventoryFeed, InventorySink, InventoryStatus,
    StoreConnector,
};
use postgres::Client;
use std::sync::Arc;

/// The engine as the inventory feed's sink: each version recorded in the log
/// (`inventory.loaded`), then swapped in whole, so that no decision sees half a
/// change.
#[derive(Debug)]
struct EngineInventory {
    engine: Arc<Engine>,
    log: Option<Arc<AuditLog>>,
}

impl InventorySink for EngineInventory {
    fn load(&self, version: u64, inventory: Inventory) -> Result<()> {
        if let Some(log) = &self.log {
            log.append(
                &Event::new("inventory.loaded")
                    .field("source", "store")
                    .field("version", version),
            )?;
        }
        self.engine.replace_inventory(inventory);
        Ok(())
    }
}

/// What a node loaded from the store while it opens, before it runs.
pub(super) struct Opening {
    connector: StoreConnector,
    client: Client,
    /// The inventory and its version, when the node takes it from the store.
    inventory: Option<(u64, Inventory)>,
    /// The newest bundle row offered, when the node takes its bundles from there.
    bundles_seen: Option<u64>,
}

impl Opening {
    /// Connects to the store when the node takes anything from it (`None` otherwise),
    /// and loads the inventory when it takes that.
    pub(super) fn connect(config: &PlatformConfig) -> Result<Option<Opening>> {
        let bundles = config
            .bundle
            .as_ref()
            .is_some_and(|b| b.source == super::BundleSource::Store);
        let Some(section) = config
            .store
            .as_ref()
            .filter(|_| config.inventory_from_store || bundles)
        else {
            return Ok(None);
        };
        let connector = StoreConnector::from_section(section)?;
        let mut client = connector.connect()?;
        let inventory = if config.inventory_from_store {
            Some(crate::store::load_inventory(&mut client)?)
        } else {
            None
        };
        Ok(Some(Opening {
            connector,
            client,
            inventory,
            bundles_seen: None,
        }))
    }

    /// The store's inventory, loaded at connection.
    pub(super) fn inventory(&self) -> Option<&Inventory> {
        self.inventory.as_ref().map(|(_, i)| i)
    }

    /// Offers the published bundles to `runtime`, newest first, until one passes: its
    /// pack, or the refusal of the newest when none does.
    pub(super) fn bundles(&mut self, runtime: &BundleRuntime) -> Result<PolicyPack> {
        let (seen, _) = crate::store::offer_newest(&mut self.client, 0, runtime)?;
        self.bundles_seen = Some(seen);
        runtime.opening_pack()
    }

    /// The node runs: starts following the store for what it took from there.
    pub(super) fn follow(
        self,
        node_id: &str,
        engine: &Arc<Engine>,
        log: Option<&Arc<AuditLog>>,
        runtime: Option<&Arc<BundleRuntime>>,
    ) -> Result<Live> {
        let mut feeds: Vec<Arc<dyn Feed>> = Vec::new();
        let inventory = self.inventory.map(|(version, inventory)| {
            let sink = Arc::new(EngineInventory {
                engine: engine.clone(),
                log: log.cloned(),
            });
            Arc::new(InventoryFeed::new(sink, version, &inventory))
        });
        if let Some(feed) = &inventory {
            feeds.push(feed.clone());
        }
        if let (Some(seen), Some(runtime)) = (self.bundles_seen, runtime) {
            feeds.push(Arc::new(BundleFeed::new(runtime.clone(), seen)));
        }
        let follower = Follower::start(node_id, self.connector, feeds)?;
        Ok(Live {
            follower,
            inventory,
        })
    }
}

/// What follows the store while the node runs.
#[derive(Debug)]
pub(super) struct Live {
    follower: Follower,
    inventory: Option<Arc<InventoryFeed>>,
}

impl Live {
    pub(super) fn inventory_status(&self) -> Option<InventoryStatus> {
        self.inventory.as_ref().map(|f| f.status())
    }

    pub(super) fn follow_status(&self) -> FollowStatus {
        self.follower.status()
    }

    pub(super) fn stop(&self) {
        self.follower.stop();
    }
}
