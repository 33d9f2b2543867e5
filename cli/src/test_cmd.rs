//! `govdata test`: runs policy test files against a pack, like `opa test`.
//!
//! One line per failing case (the file, the case, expected against actual, and the
//! policy ids and obligations that differ), then `N passed, M failed`. Exit 0 when
//! every case passes, 1 when any fails, 2 when a file cannot be run.

use crate::decide::load_pack;
use crate::output::{fail, EXIT_ERROR};
use govdata::policy::testing::{run_files, test_files, TestReport};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `govdata test`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A directory of test files (`*.json`) or one test file.
    #[arg(default_value = "policies/tests")]
    pub dir: PathBuf,
    /// Policy directories: the first holds the schema; later ones add department policies.
    /// The configuration's, or the built-in default pack, if omitted.
    #[arg(long = "policies")]
    pub policies: Vec<PathBuf>,
    /// The node's configuration file (default: the file `GOVDATA_CONFIG` names, if
    /// set): its policy directories are tested unless `--policies` names others.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// List the cases that pass too.
    #[arg(long, short)]
    pub verbose: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &Args) -> ExitCode {
    let config = crate::node::layered(
        args.config.as_ref(),
        govdata::platform::Overrides {
            policies: args.policies.clone(),
            ..Default::default()
        },
    );
    let pack = match config.and_then(|c| load_pack(&c.policies)) {
        Ok(p) => p,
        Err(e) => return fail(&e),
    };
    let files = if args.dir.is_file() {
        vec![args.dir.clone()]
    } else {
        match test_files(&args.dir) {
            Ok(f) => f,
            Err(e) => return fail(&e),
        }
    };
    let report = match run_files(&pack, &files, Path::new(".")) {
        Ok(r) => r,
        Err(e) => {
            // Name the file once: most messages already do.
            let file = e.file().display().to_string();
            let message = e.error().to_string();
            if message.contains(&file) {
                eprintln!("error[{}]: {message}", e.error().code());
            } else {
                eprintln!("error[{}]: test file `{file}`: {message}", e.error().code());
            }
            return ExitCode::from(EXIT_ERROR);
        }
    };
    if args.json {
        println!("{}", report.to_json());
    } else {
        print_text(&report, args.verbose);
    }
    if report.failed() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn print_text(report: &TestReport, verbose: bool) {
    for (file, case) in report.cases() {
        if case.passed() {
            if verbose {
                println!("PASS {}: {}", file.display(), case.name);
            }
        } else {
            println!("FAIL {}: {}: {}", file.display(), case.name, case.message());
        }
    }
    if verbose || report.failed() > 0 {
        println!();
    }
    println!("{} passed, {} failed", report.passed(), report.failed());
}
