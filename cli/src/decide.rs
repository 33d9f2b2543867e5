//! `govdata validate` and `govdata decide`.

use crate::output::fail;
use govdata::{Engine, Inventory, PolicyPack};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `govdata decide`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The inventory JSON file.
    #[arg(long)]
    pub inventory: PathBuf,
    /// Policy directories: the first holds the schema; later ones add department policies.
    /// The default pack if omitted.
    #[arg(long = "policies")]
    pub policies: Vec<PathBuf>,
    /// The request JSON file, or `-` (the default) for standard input.
    pub request: Option<PathBuf>,
    /// Append the decision to the audit log in this directory (created if absent).
    #[arg(long, requires = "audit_key_file")]
    pub audit: Option<PathBuf>,
    /// The file holding the log's 32-byte sealing key, raw.
    #[arg(long, requires = "audit")]
    pub audit_key_file: Option<PathBuf>,
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

fn read_request(path: Option<&Path>) -> govdata::Result<String> {
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
        let pack = load_pack(&args.policies)?;
        let inventory = Inventory::from_file(&args.inventory)?;
        let engine = std::sync::Arc::new(Engine::new(pack, inventory));
        // With a log, the procedures recorded in it resolve the approvals that a
        // request cites (Art. 14, 15); without one, every approval resolves to nothing.
        let mut _flows = None;
        if let (Some(dir), Some(key_file)) = (&args.audit, &args.audit_key_file) {
            let key = govdata::audit::SealingKey::from_file(key_file)?;
            let log = std::sync::Arc::new(govdata::AuditLog::open(
                dir,
                key,
                crate::stores::audit_options()?,
            )?);
            engine.set_decision_sink(Some(log.clone()));
            _flows = Some(govdata::workflow::Workflows::open(
                engine.clone(),
                log,
                govdata::workflow::WorkflowConfig::default(),
            )?);
        }
        let text = read_request(args.request.as_deref())?;
        engine.decide_json(&text)
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
