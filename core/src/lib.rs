#![doc = include_str!("../../README.md")]
#![deny(missing_docs)]

pub mod alerts;
pub mod assess;
pub mod audit;
pub mod bundle;
pub mod checkpoint;
#[cfg(feature = "testing")]
pub mod disk;
#[cfg(not(feature = "testing"))]
mod disk;
pub mod engine;
pub mod error;
pub mod explain;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod lock;
pub mod mask;
pub mod model;
pub mod platform;
pub mod policy;
pub mod proof;
pub mod quote;
pub mod sign;
pub mod store;
pub mod time;
pub mod vault;
pub mod workflow;

pub use assess::Assessment;
pub use audit::AuditLog;
pub use engine::{Decision, Engine, Reason, Request, Resource};
pub use error::{Error, Result};
pub use explain::Explanation;
pub use model::{Action, Inventory};
pub use platform::Platform;
pub use policy::PolicyPack;
pub use time::{Date, Timestamp};
pub use vault::Vault;
pub use workflow::{DestructionRequest, SharingRequest, Workflows};

/// The version of govdata (the crate, the wheel, the npm package and the C header agree).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
