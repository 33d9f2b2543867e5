//! `govdata explain`: decides one request and says why, in Chinese and English — the
//! forbids that fired, the permits that allowed, or the permits that came closest and
//! the condition each one lacked.

use crate::output::fail;
use govdata::explain::{ClauseKind, NearMiss, PolicyNote};
use govdata::{Explanation, Request};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `govdata explain`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The request JSON file, or `-` (the default) for standard input.
    pub request: Option<PathBuf>,
    /// Where the node's parts are (`--config`, `--inventory`, `--policies`, and
    /// `--audit` with `--audit-key-file` to record the decision explained).
    #[command(flatten)]
    pub node: crate::node::NodeArgs,
    /// Print the explanation as JSON.
    #[arg(long)]
    pub json: bool,
}

fn read_text(path: Option<&Path>) -> govdata::Result<String> {
    let mut text = String::new();
    match path {
        Some(p) if p != Path::new("-") => {
            text = std::fs::read_to_string(p).map_err(|e| govdata::Error::Io {
                path: p.display().to_string(),
                source: e,
            })?;
        }
        _ => {
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| govdata::Error::Io {
                    path: "-".into(),
                    source: e,
                })?;
        }
    }
    Ok(text)
}

pub fn run(args: &Args) -> ExitCode {
    let result = (|| {
        let node = args.node.open_without_vault()?;
        let request = Request::from_json_str(&read_text(args.request.as_deref())?)?;
        let explanation = node.engine().explain(&request)?;
        node.close()?;
        Ok::<_, govdata::Error>((explanation, request))
    })();
    match result {
        Ok((explanation, request)) => {
            if args.json {
                println!("{}", explanation.to_json_string());
            } else {
                print!("{}", text(&explanation, &request));
            }
            if explanation.decision().allowed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => fail(&e),
    }
}

fn note_lines(out: &mut String, indent: &str, note: &PolicyNote) {
    let place = match (note.file(), note.line()) {
        (Some(f), Some(l)) => format!("  ({f}:{l})"),
        _ => String::new(),
    };
    out.push_str(&format!(
        "{indent}[{}] {}{place}\n{indent}  {}\n{indent}  {}\n",
        note.policy(),
        note.article(),
        note.zh(),
        note.en()
    ));
    if let Some(e) = note.error() {
        out.push_str(&format!("{indent}  无法求值 could not be evaluated: {e}\n"));
    }
}

fn near_miss_lines(out: &mut String, n: usize, m: &NearMiss) {
    let p = m.policy();
    out.push_str(&format!(
        "  {n}. [{}] {}  {}/{} 条件成立 conditions held",
        p.policy(),
        p.article(),
        m.held(),
        m.total()
    ));
    if let (Some(f), Some(l)) = (p.file(), p.line()) {
        out.push_str(&format!("  ({f}:{l})"));
    }
    out.push_str(&format!("\n     {}\n     {}\n", p.zh(), p.en()));
    let c = m.failed();
    let shown = match c.kind() {
        ClauseKind::When => c.text().to_owned(),
        ClauseKind::Unless => format!("unless {{ {} }}", c.text()),
    };
    out.push_str(&format!("     缺少的条件 condition not met: {shown}\n"));
    if let Some(e) = c.error() {
        out.push_str(&format!("     无法求值 could not be evaluated: {e}\n"));
    }
}

/// The explanation as a person reads it.
fn text(x: &Explanation, request: &Request) -> String {
    let d = x.decision();
    let mut out = String::new();
    let resource = match request.resource.kind {
        govdata::model::ResourceKind::Dataset => request.resource.id.clone(),
        kind => format!("{kind} {}", request.resource.id),
    };
    out.push_str(&format!(
        "{}  {} → {} {resource}\n",
        if d.allowed() {
            "✔ 允许 allow"
        } else {
            "✘ 拒绝 deny"
        },
        request.principal,
        request.action
    ));
    if d.allowed() {
        out.push_str("\n允许的策略 permits that allowed it:\n");
        for p in x.permits() {
            note_lines(&mut out, "  ", p);
        }
        if d.obligations().is_empty() {
            out.push_str("\n义务 obligations: 无 none\n");
        } else {
            out.push_str(&format!(
                "\n义务 obligations (the host must apply each): {}\n",
                d.obligations().join(", ")
            ));
        }
        return out;
    }
    if !x.forbids().is_empty() {
        out.push_str("\n禁止策略 forbids that fired:\n");
        for p in x.forbids() {
            note_lines(&mut out, "  ", p);
        }
    }
    if !x.errors().is_empty() {
        out.push_str(
            "\n无法求值的策略（失败即拒绝）policies that could not be evaluated (fail closed):\n",
        );
        for p in x.errors() {
            note_lines(&mut out, "  ", p);
        }
    }
    if x.is_default_deny() {
        if let Some(r) = d.reasons().first() {
            out.push_str(&format!(
                "\n[{}] {}\n  {}\n  {}\n",
                r.policy(),
                r.article(),
                r.zh(),
                r.en()
            ));
        }
        if x.closest().is_empty() {
            out.push_str(
                "\n没有任何许可策略的范围与该请求相符 no permit's scope (principal, action, resource) matches this request\n",
            );
        } else {
            out.push_str(
                "\n最接近的许可策略 closest permits (scope matches; conditions checked one by one):\n",
            );
            for (n, m) in x.closest().iter().enumerate() {
                near_miss_lines(&mut out, n + 1, m);
            }
        }
    }
    out
}
