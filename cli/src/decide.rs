//! `govdata validate` and `govdata decide`.

use crate::output::fail;
use govdata::{Engine, Inventory, PolicyPack};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The engine options that deciding commands share: the inventory, the pack and the
/// audit log that records the decisions.
#[derive(Debug, clap::Args)]
pub struct EngineArgs {
    /// The inventory JSON file.
    #[arg(long)]
    pub inventory: PathBuf,
    /// Policy directories: the first holds the schema; later ones add department policies.
    /// The default pack if omitted.
    #[arg(long = "policies")]
    pub policies: Vec<PathBuf>,
    /// Append the decision to the audit log in this directory (created if absent).
    #[arg(long, requires = "audit_key_file")]
    pub audit: Option<PathBuf>,
    /// The file holding the log's 32-byte sealing key, raw.
    #[arg(long, requires = "audit")]
    pub audit_key_file: Option<PathBuf>,
}

/// Arguments of `govdata decide`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub engine: EngineArgs,
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

impl EngineArgs {
    /// The engine over the pack and the inventory, recording its decisions in the audit
    /// log when one is given. With a log, the procedures recorded in it resolve the
    /// approvals that a request cites (Art. 14, 15); without one, every approval
    /// resolves to nothing. Keep the workflows alive while deciding.
    pub fn open(
        &self,
    ) -> govdata::Result<(std::sync::Arc<Engine>, Option<govdata::workflow::Workflows>)> {
        let pack = load_pack(&self.policies)?;
        let inventory = Inventory::from_file(&self.inventory)?;
        let engine = std::sync::Arc::new(Engine::new(pack, inventory));
        let mut flows = None;
        if let (Some(dir), Some(key_file)) = (&self.audit, &self.audit_key_file) {
            let key = govdata::audit::SealingKey::from_file(key_file)?;
            let log = std::sync::Arc::new(govdata::AuditLog::open(
                dir,
                key,
                govdata::audit::AuditOptions::default(),
            )?);
            engine.set_decision_sink(Some(log.clone()));
            flows = Some(govdata::workflow::Workflows::open(
                engine.clone(),
                log,
                govdata::workflow::WorkflowConfig::default(),
            )?);
        }
        Ok((engine, flows))
    }
}

pub fn run(args: &Args) -> ExitCode {
    let result = (|| {
        let (engine, _flows) = args.engine.open()?;
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
