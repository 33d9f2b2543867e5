//! `govdata inventory push|pull`: the live inventory of the platform store.
//!
//! `push FILE` makes the store's inventory the file's (records the file does not hold
//! are removed), or with `--merge` adds and replaces the file's records and removes
//! those named by `--remove KIND:ID`; either way in one transaction, after validating
//! the inventory it leaves as an inventory file is validated — nothing of an invalid
//! change is written. It prints what changed as JSON. `pull` prints the store's
//! inventory in the inventory file's format (or writes it to `-o FILE`).
//!
//! Exit status: 0 success; 2 an error (an invalid inventory, an unreachable store).

use crate::output::fail;
use crate::store::StoreTarget;
use govdata::model::RecordKind;
use govdata::store::{load_inventory, push_inventory, InventoryChange};
use govdata::Inventory;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `govdata inventory …`
#[derive(Debug, clap::Subcommand)]
pub enum InventoryCommand {
    /// Replace (or with --merge, update) the store's inventory in one transaction,
    /// after the same validation as an inventory file; print what changed as JSON.
    Push {
        /// The inventory file (JSON); with --merge, the records to add or replace
        /// (none: only the removals).
        #[arg(required_unless_present = "merge")]
        file: Option<PathBuf>,
        /// Add and replace the file's records, keep the others (the file may refer to
        /// records the store holds).
        #[arg(long)]
        merge: bool,
        /// With --merge: a record to remove, as KIND:ID (department, vendor, user,
        /// dataset, system); repeat for more.
        #[arg(long, value_name = "KIND:ID", requires = "merge")]
        remove: Vec<String>,
        #[command(flatten)]
        target: StoreTarget,
    },
    /// Print the store's inventory in the inventory file's format.
    Pull {
        /// Write it to this file instead of standard output.
        #[arg(short = 'o', long = "out", value_name = "FILE")]
        out: Option<PathBuf>,
        #[command(flatten)]
        target: StoreTarget,
    },
}

fn removal(text: &str) -> govdata::Result<(RecordKind, String)> {
    let (kind, id) = text
        .split_once(':')
        .ok_or_else(|| govdata::Error::RequestInvalid {
            message: format!(
                "--remove `{}`: expected KIND:ID, as `user:zhang.san`",
                text.escape_debug()
            ),
        })?;
    Ok((kind.parse()?, id.to_owned()))
}

fn read_json(path: &Path) -> govdata::Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).map_err(|e| govdata::Error::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    serde_json::from_str(&text).map_err(|e| govdata::Error::InventoryInvalid {
        record: "document".to_owned(),
        message: format!("malformed: {e}"),
    })
}

fn push(
    file: Option<&Path>,
    merge: bool,
    remove: &[String],
    target: &StoreTarget,
) -> govdata::Result<()> {
    // Validated before the store is even reached: a file that is not a valid
    // inventory changes nothing anywhere.
    let report = if merge {
        let records = match file {
            Some(f) => read_json(f)?,
            None => serde_json::json!({}),
        };
        let remove = remove
            .iter()
            .map(|r| removal(r))
            .collect::<govdata::Result<Vec<_>>>()?;
        let mut client = target.connector()?.connect()?;
        push_inventory(
            &mut client,
            InventoryChange::Merge {
                records: &records,
                remove: &remove,
            },
        )?
    } else {
        let Some(file) = file else {
            return Err(govdata::Error::RequestInvalid {
                message: "name the inventory file to push".to_owned(),
            });
        };
        let inventory = Inventory::from_file(file)?;
        let mut client = target.connector()?.connect()?;
        push_inventory(&mut client, InventoryChange::Replace(&inventory))?
    };
    println!(
        "{}",
        serde_json::to_string(&report).unwrap_or_else(|_| "{}".into())
    );
    Ok(())
}

fn pull(out: Option<&Path>, target: &StoreTarget) -> govdata::Result<()> {
    let mut client = target.connector()?.connect()?;
    let (_, inventory) = load_inventory(&mut client)?;
    let mut text = serde_json::to_string_pretty(&inventory.to_json()).unwrap_or_default();
    text.push('\n');
    match out {
        Some(path) => std::fs::write(path, text).map_err(|e| govdata::Error::Io {
            path: path.display().to_string(),
            source: e,
        }),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

/// Runs one `govdata inventory` command.
pub fn run(cmd: &InventoryCommand) -> ExitCode {
    let result = match cmd {
        InventoryCommand::Push {
            file,
            merge,
            remove,
            target,
        } => push(file.as_deref(), *merge, remove, target),
        InventoryCommand::Pull { out, target } => pull(out.as_deref(), target),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}
