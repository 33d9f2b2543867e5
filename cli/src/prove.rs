//! `govdata prove`: proves the regulation's invariants over every request with
//! Cedar's symbolic compiler and the cvc5 solver. Exit 0 when all hold, 1 with the
//! counterexamples printed, 2 on error.

use crate::output::EXIT_ERROR;
use govdata::policy::testing::default_pack_with;
use govdata::PolicyPack;
use govdata_prove::{prove, ProveError, Report};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `govdata prove`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The pack directory (schema.cedarschema and *.cedar files); the built-in default
    /// pack if omitted.
    #[arg(long)]
    pub policies: Option<PathBuf>,
    /// A directory of department policies to add to the pack (repeatable).
    #[arg(long)]
    pub extra: Vec<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// The node's configuration file (default: the file `GOVDATA_CONFIG` names, if
    /// set): its policy directories are proved unless `--policies` names a pack.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

fn load(args: &Args) -> govdata::Result<PolicyPack> {
    let extra: Vec<&Path> = args.extra.iter().map(PathBuf::as_path).collect();
    let configured = match &args.policies {
        Some(_) => Vec::new(),
        None => crate::node::layered(args.config.as_ref(), Default::default())?.policies,
    };
    match (&args.policies, configured.first()) {
        (Some(dir), _) | (None, Some(dir)) => {
            let mut dirs = vec![dir.as_path()];
            dirs.extend(configured.iter().skip(1).map(PathBuf::as_path));
            dirs.extend(extra);
            PolicyPack::from_dirs(&dirs)
        }
        (None, None) => default_pack_with(&extra),
    }
}

pub fn run(args: &Args) -> ExitCode {
    let report = load(args)
        .map_err(ProveError::from)
        .and_then(|pack| prove(&pack));
    match report {
        Ok(report) => {
            if args.json {
                println!("{}", report.to_json());
            } else {
                print!("{}", text(&report));
            }
            if report.all_hold() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("error[{}]: {e}", e.code());
            if let Some(help) = e.help() {
                eprintln!("  help: {help}");
            }
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn text(report: &Report) -> String {
    let mut out = format!(
        "证明 proving {} invariants over every request, pack {}\n",
        report.results().len(),
        report.policy_version()
    );
    for r in report.results() {
        let i = r.invariant();
        out.push_str(&format!(
            "\n{} [{}] {}  ({} {}, {} ms)\n    {}\n    {}\n",
            if r.holds() {
                "✔ 成立 holds "
            } else {
                "✘ 不成立 broken"
            },
            i.id,
            i.article,
            r.queries(),
            if r.queries() == 1 { "query" } else { "queries" },
            r.elapsed().as_millis(),
            i.zh,
            i.en
        ));
        for c in r.counterexamples() {
            let request = c.request_json();
            out.push_str(&format!(
                "    反例 counterexample for {}:\n      允许的策略 allowed by: {}\n      请求 request: {request}\n      实体 entities:\n",
                request["action"].as_str().unwrap_or("?"),
                c.allowed_by().join(", ")
            ));
            if let Some(list) = c.entities_json().as_array() {
                for e in list {
                    out.push_str(&format!("        {e}\n"));
                }
            }
        }
    }
    let broken = report.results().iter().filter(|r| !r.holds()).count();
    out.push_str(&format!(
        "\n{} invariants: {} hold, {broken} broken ({} ms)\n",
        report.results().len(),
        report.results().len() - broken,
        report.elapsed().as_millis()
    ));
    out
}
