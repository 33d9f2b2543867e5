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
    /// Read JSON Lines: one request a line (blank lines skipped), each decided and
    /// recorded in turn by this one process, one decision printed a line. Exit 0 when
    /// every line is decided (allowed or denied), 2 at the first that cannot be.
    #[arg(long)]
    pub jsonl: bool,
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

/// `decide --jsonl`: every line of the input decided by one node.
fn run_lines(args: &Args) -> ExitCode {
    use std::io::{BufRead, Write};
    let result = (|| {
        let node = args.node.open_without_vault()?;
        let input: Box<dyn BufRead> = match args.request.as_deref() {
            None => Box::new(std::io::stdin().lock()),
            Some(p) if p == Path::new("-") => Box::new(std::io::stdin().lock()),
            Some(p) => Box::new(std::io::BufReader::new(std::fs::File::open(p).map_err(
                |e| govdata::Error::Io {
                    path: p.display().to_string(),
                    source: e,
                },
            )?)),
        };
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        let io = |e: std::io::Error| govdata::Error::Io {
            path: "-".into(),
            source: e,
        };
        for (n, line) in input.lines().enumerate() {
            let line = line.map_err(io)?;
            if line.trim().is_empty() {
                continue;
            }
            let decision = node.engine().decide_json(&line).inspect_err(|_| {
                eprintln!("line {}: not decided", n + 1);
            })?;
            writeln!(out, "{}", decision.to_json_string()).map_err(io)?;
        }
        out.flush().map_err(io)?;
        drop(out);
        node.close()
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

pub fn run(args: &Args) -> ExitCode {
    if args.jsonl {
        return run_lines(args);
    }
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
