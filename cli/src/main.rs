//! `govdata`: the command line of the govdata policy engine.

mod assess;
mod audit;
mod bundle;
mod decide;
mod demo;
mod demo_store;
mod explain;
mod inventory;
mod keygen;
mod mask;
mod node;
mod output;
mod prove;
mod store;
mod store_proofs;
mod stores;
mod test_cmd;
mod vault;
mod workflow;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// govdata — the government-data security measures of the city big-data platform as code.
#[derive(Debug, Parser)]
#[command(name = "govdata", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Load and validate a policy pack (strict Cedar validation and annotations).
    Validate {
        /// The pack directory (schema.cedarschema and *.cedar files); the default pack if omitted.
        dir: Option<PathBuf>,
    },
    /// Decide one request and print the decision JSON: exit 0 allow, 1 deny, 2 error.
    Decide(decide::Args),
    /// Run policy test files against a pack: exit 0 all pass, 1 any fails, 2 error.
    Test(test_cmd::Args),
    /// Decide one request and explain why: the forbids that fired, the permits that
    /// allowed, or the permits that came closest and the condition each lacked.
    Explain(explain::Args),
    /// Prove the regulation's invariants over every request (needs cvc5): exit 0 all
    /// hold, 1 with counterexamples, 2 error.
    Prove(prove::Args),
    /// Walk through one request per article of the regulation with the default pack
    /// (`--store URL`: two nodes shipping to the platform store and one query across them).
    Demo(demo::Args),
    /// The audit log: verify, query, backup, restore, purge, tail, and the platform
    /// store's watch.
    #[command(subcommand)]
    Audit(Box<audit::AuditCommand>),
    /// The platform store on PostgreSQL: init (schema, roles), sync (ship a node's log),
    /// checkpoint (sign its state), prove (inclusion, consistency).
    #[command(subcommand)]
    Store(Box<store::StoreCommand>),
    /// Encryption at rest: init, encrypt, decrypt, rotate, shred, status (Art. 7, 15).
    Vault(vault::Args),
    /// Sharing (Art. 14): request, review, provision, revoke, expire, list.
    #[command(subcommand)]
    Share(Box<workflow::ShareCommand>),
    /// Destruction (Art. 15): request, approve, execute, list.
    #[command(subcommand)]
    Destroy(Box<workflow::DestroyCommand>),
    /// Carry out a decision's obligations on a CSV or JSON Lines stream: masks,
    /// pseudonyms and a watermark; nothing is written when the decision denies or an
    /// obligation cannot be carried out.
    Mask(Box<mask::Args>),
    /// Traceable watermarks: detect.
    #[command(subcommand)]
    Watermark(mask::WatermarkCommand),
    /// Compliance self-assessment (Art. 20): findings per article as JSON and HTML; exit 1
    /// when one is at or above --fail-on.
    Assess(Box<assess::Args>),
    /// Make a signing key pair (Ed25519 or SM2) for policy bundles and audit checkpoints.
    Keygen(keygen::Args),
    /// Signed policy bundles: build, sign, verify, publish (to the platform store).
    #[command(subcommand)]
    Bundle(bundle::BundleCommand),
    /// The live inventory of the platform store: push (replace or update it in one
    /// transaction), pull (export it as an inventory file).
    #[command(subcommand)]
    Inventory(Box<inventory::InventoryCommand>),
    /// Store checkpoints and proofs: verify with public keys alone.
    #[command(subcommand)]
    Proof(store_proofs::ProofCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Validate { dir } => decide::validate(dir.as_deref()),
        Command::Decide(args) => decide::run(&args),
        Command::Test(args) => test_cmd::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Prove(args) => prove::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Audit(cmd) => audit::run(&cmd),
        Command::Store(cmd) => store::run(&cmd),
        Command::Vault(args) => vault::run(&args),
        Command::Share(cmd) => workflow::run_share(&cmd),
        Command::Destroy(cmd) => workflow::run_destroy(&cmd),
        Command::Assess(args) => assess::run(&args),
        Command::Mask(args) => mask::run(&args),
        Command::Watermark(cmd) => mask::run_watermark(&cmd),
        Command::Keygen(args) => keygen::run(&args),
        Command::Bundle(cmd) => bundle::run(&cmd),
        Command::Inventory(cmd) => inventory::run(&cmd),
        Command::Proof(cmd) => store_proofs::run_proof(&cmd),
    }
}
