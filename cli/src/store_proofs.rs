//! `govdata store checkpoint`, `govdata store prove inclusion|consistency` and
//! `govdata proof verify`: signed checkpoints of the platform store, the proofs served
//! from it, and their check with a public key alone (formats in the core's
//! `govdata::store::proofs`).
//!
//! Exit status: 0 success; 1 the store or a proof shows tampering (`audit_tampered`,
//! `crypto_auth_failed`); 2 any other error.

use crate::output::fail;
use crate::store::StoreArgs;
use clap::{Args, Subcommand};
use govdata::sign::{SigningKey, VerifyingKey};
use govdata::store::proofs::{
    ConsistencyProof, InclusionProof, NodeTree, StoreCheckpoint, StoreEvidence,
};
use govdata::store::{checkpoint_store, latest_checkpoint, prove_consistency, prove_inclusion};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The store's checkpoint and proof subcommands (under `govdata store`).
#[derive(Debug, Subcommand)]
pub enum CheckpointCommand {
    /// Sign a checkpoint of every node's records in the store (each node's RFC 6962
    /// tree), store it, and print it as JSON. Needs the `govdata_checkpointer` role;
    /// refuses a store whose rows since the last checkpoint do not continue every
    /// node's chain (exit 1).
    Checkpoint {
        /// The store's URL (no password in it).
        url: String,
        /// The private signing key (PKCS#8 PEM, Ed25519 or SM2, mode 600).
        #[arg(long = "sign-key", value_name = "KEY")]
        sign_key: PathBuf,
        /// The store's name in its checkpoints (default: the last checkpoint's, or the
        /// database's name for the first).
        #[arg(long)]
        origin: Option<String>,
        #[command(flatten)]
        out: Out,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Prove from the store that a record is in a checkpoint, or that the store only
    /// grew between two checkpoints; prints the proof as JSON for `govdata proof
    /// verify`. Exit 1 when the store's rows or tiles no longer match the checkpoint.
    #[command(subcommand)]
    Prove(ProveCommand),
}

/// `govdata store prove …`
#[derive(Debug, Subcommand)]
pub enum ProveCommand {
    /// That record SEQ of node NODE is in a checkpoint (the last one stored unless
    /// --checkpoint names one).
    Inclusion {
        /// The store's URL.
        url: String,
        /// The node.
        node: String,
        /// The record's sequence number.
        seq: u64,
        /// A checkpoint file of this store.
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
        #[command(flatten)]
        out: Out,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// That the store only grew from the checkpoint in --from to the one in --to (the
    /// last one stored unless given).
    Consistency {
        /// The store's URL.
        url: String,
        /// The older checkpoint file.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// The newer checkpoint file.
        #[arg(long, value_name = "FILE")]
        to: Option<PathBuf>,
        #[command(flatten)]
        out: Out,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Where the JSON goes.
#[derive(Debug, Args)]
pub struct Out {
    /// Write the JSON to this file (and a summary to standard output) instead of
    /// printing it.
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    out: Option<PathBuf>,
}

impl Out {
    fn emit(&self, json: &str, summary: &str) -> govdata::Result<()> {
        match &self.out {
            Some(path) => {
                std::fs::write(path, format!("{json}\n")).map_err(|e| govdata::Error::Io {
                    path: path.display().to_string(),
                    source: e,
                })?;
                println!("{summary}");
            }
            None => println!("{json}"),
        }
        Ok(())
    }
}

/// `govdata proof …`
#[derive(Debug, Subcommand)]
pub enum ProofCommand {
    /// Check a store checkpoint, inclusion proof or consistency proof with public keys
    /// alone (no store, no sealing key): exit 0 it verifies, 1 it does not (or is
    /// signed by no trusted key), 2 an error.
    Verify {
        /// A trusted public key file (SPKI PEM); repeat for more.
        #[arg(long = "trust", value_name = "PUB", required = true)]
        trust: Vec<PathBuf>,
        /// The checkpoint or proof file (JSON).
        file: PathBuf,
    },
}

fn read(path: &Path) -> govdata::Result<String> {
    std::fs::read_to_string(path).map_err(|e| govdata::Error::Io {
        path: path.display().to_string(),
        source: e,
    })
}

fn read_checkpoint(path: &Path) -> govdata::Result<StoreCheckpoint> {
    StoreCheckpoint::from_json(&read(path)?)
}

fn no_checkpoint() -> govdata::Error {
    govdata::Error::RequestInvalid {
        message: "the store holds no checkpoint yet: make one with `govdata store checkpoint`"
            .to_owned(),
    }
}

fn records(nodes: &[NodeTree]) -> u64 {
    nodes.iter().map(|n| n.size).sum()
}

/// Exit 1 for what shows tampering, 2 for any other error.
fn outcome(r: govdata::Result<()>) -> ExitCode {
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = fail(&e);
            if matches!(e.code(), "audit_tampered" | "crypto_auth_failed") {
                ExitCode::from(1)
            } else {
                code
            }
        }
    }
}

pub fn run(cmd: &CheckpointCommand) -> ExitCode {
    outcome(match cmd {
        CheckpointCommand::Checkpoint {
            url,
            sign_key,
            origin,
            out,
            store,
        } => (|| {
            let key = SigningKey::from_file(sign_key)?;
            let mut client = store.connector(url)?.connect()?;
            let cp = checkpoint_store(&mut client, &key, origin.as_deref())?;
            out.emit(
                &cp.to_json(),
                &format!(
                    "ok: checkpoint of `{}`: {} nodes, {} records, signed by {} key {}",
                    cp.origin(),
                    cp.nodes().len(),
                    records(cp.nodes()),
                    key.algorithm(),
                    key.key_id()
                ),
            )
        })(),
        CheckpointCommand::Prove(ProveCommand::Inclusion {
            url,
            node,
            seq,
            checkpoint,
            out,
            store,
        }) => (|| {
            let mut client = store.connector(url)?.connect()?;
            let cp = match checkpoint {
                Some(path) => read_checkpoint(path)?,
                None => latest_checkpoint(&mut client)?.ok_or_else(no_checkpoint)?,
            };
            let p = prove_inclusion(&mut client, &cp, node, *seq)?;
            out.emit(
                &p.to_json(),
                &format!(
                    "ok: inclusion proof of record {seq} of node `{node}` in the checkpoint of {}",
                    cp.checkpoint().time()
                ),
            )
        })(),
        CheckpointCommand::Prove(ProveCommand::Consistency {
            url,
            from,
            to,
            out,
            store,
        }) => (|| {
            let old = read_checkpoint(from)?;
            let mut client = store.connector(url)?.connect()?;
            let new = match to {
                Some(path) => read_checkpoint(path)?,
                None => latest_checkpoint(&mut client)?.ok_or_else(no_checkpoint)?,
            };
            let p = prove_consistency(&mut client, &old, &new)?;
            out.emit(
                &p.to_json(),
                &format!(
                    "ok: consistency proof from the checkpoint of {} ({} records) to that of {} ({} records)",
                    old.checkpoint().time(),
                    records(old.nodes()),
                    new.checkpoint().time(),
                    records(new.nodes())
                ),
            )
        })(),
    })
}

fn print_checkpoint(cp: &StoreCheckpoint) {
    let c = cp.checkpoint();
    println!(
        "checkpoint of `{}` at {}, signed by {} key {}: {} nodes",
        c.origin(),
        c.time(),
        c.algorithm(),
        c.key_id(),
        cp.nodes().len()
    );
}

fn verify(trust: &[PathBuf], file: &Path) -> govdata::Result<()> {
    let trusted = trust
        .iter()
        .map(VerifyingKey::from_file)
        .collect::<govdata::Result<Vec<_>>>()?;
    match StoreEvidence::from_json(&read(file)?)? {
        StoreEvidence::Checkpoint(cp) => {
            cp.verify(&trusted)?;
            print_checkpoint(&cp);
            for n in cp.nodes() {
                println!(
                    "  {}: {} records from {}, {} root {}",
                    n.node_id,
                    n.size,
                    n.first_seq,
                    n.suite,
                    hex(&n.root)
                );
            }
            println!("ok: the checkpoint verifies");
        }
        StoreEvidence::Inclusion(p) => {
            let InclusionProof {
                checkpoint,
                node_id,
                seq,
                payload,
                ..
            } = &p;
            p.verify(&trusted)?;
            print_checkpoint(checkpoint);
            println!("record {seq} of node `{node_id}`: {payload}");
            println!("ok: the record is in the checkpointed store");
        }
        StoreEvidence::Consistency(p) => {
            let ConsistencyProof { old, new, .. } = &p;
            let growth = p.verify(&trusted)?;
            print_checkpoint(old);
            print_checkpoint(new);
            for g in &growth {
                println!("  {}: {} → {} records", g.node_id, g.old_size, g.new_size);
            }
            println!("ok: the store only grew between the two checkpoints");
        }
    }
    Ok(())
}

fn hex(h: &[u8]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn run_proof(cmd: &ProofCommand) -> ExitCode {
    match cmd {
        ProofCommand::Verify { trust, file } => outcome(verify(trust, file)),
    }
}
