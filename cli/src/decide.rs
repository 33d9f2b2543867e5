//! `govdata validate` and `govdata decide`.

use crate::output::fail;
use govdata::PolicyPack;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `govdata decide`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where the node's parts are (`--config`, `--inventory`, `--policies`, `--audit`,
    /// `--audit-key-file`).
    #[command(flatten)]
    pub node: crate::node::NodeArgs,
    /// The request JSON file, or `-` (the default) for standard input.
    pub request: Option<PathBuf>,
}

pub fn load_pack(dirs: &[PathBuf]) -> govdata::Result<PolicyPack> {
    if dirs.is_empty() {
        return PolicyPack::default_pack();
    }
    let dirs: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
    PolicyPack::from_dirs(&dirs)
}

pub fn validate(dir: Option<&Path>) -> ExitCode {
    let pack = match dir {
        Some(d) => PolicyPack::from_dir(d),
        None => PolicyPack::default_pack(),
    };
    match pack {
        Ok(pack) => {
            let forbids = pack.policies().iter().filter(|p| p.is_forbid()).count();
            println!(
                "ok: {} policies ({} permit, {} forbid), version {}",
                pack.policies().len(),
                pack.policies().len() - forbids,
                forbids,
                pack.version()
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

pub fn read_request(path: Option<&Path>) -> govdata::Result<String> {
    let mut text = String::new();
    match path {
        None => {
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| govdata::Error::Io {
                    path: "-".into(),
                    source: e,
                })?;
        }
        Some(p) if p == Path::new("-") => {
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| govdata::Error::Io {
                    path: "-".into(),
                    source: e,
                })?;
        }
        Some(p) => {
            text = std::fs::read_to_string(p).map_err(|e| govdata::Error::Io {
                path: p.display().to_string(),
                source: e,
            })?;
        }
    }
    Ok(text)
}

pub fn run(args: &Args) -> ExitCode {
    let result = (|| {
        // With a log, the procedures recorded in it resolve the approvals that a
        // request cites (Art. 14, 15); without one, every approval resolves to nothing.
        let node = args.node.open_without_vault()?;
        let text = read_request(args.request.as_deref())?;
        node.engine().decide_json(&text)
    })();
    match result {
        Ok(decision) => {
            println!("{}", decision.to_json_string());
            if decision.allowed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => fail(&e),
    }
}
