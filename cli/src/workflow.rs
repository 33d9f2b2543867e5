//! `govdata share request|review|provision|revoke|expire|list` and
//! `govdata destroy request|approve|execute|list`: the sharing (Art. 14) and
//! destruction (Art. 15) procedures over an audit log.
//!
//! Every command opens the node: the audit log, and the procedures rebuilt from it — or,
//! with a `[store]` in the configuration, the procedures every node shares through the
//! platform store — takes one step as the user given with `--as` and records it.
//! A step prints `{"step": …, "decision": …, "request": …}` as JSON. `list` prints a
//! table, or JSON with `--json`. Exit status: 0 done, 1 refused by the policies or a
//! rule of the procedure, 2 any error (bad input, a step the request's state does not
//! allow, an unreadable log). Do not run these against a log that a running service
//! holds open for writing.

use crate::node::{NodeArgs, VaultFlags};
use crate::output::fail;
use clap::{Args, Subcommand};
use govdata::audit::Timestamp;
use govdata::model::ScenarioRisk;
use govdata::workflow::{
    DestructionMethod, ExecutionDetails, ShareApplication, ShareStatus, Step, Workflows,
};
use govdata::{DestructionRequest, Engine, Platform, SharingRequest};
use serde::Serialize;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;

/// What every workflow command needs: the log, the organisation and who acts.
#[derive(Debug, Args)]
pub struct Common {
    /// Where the node's parts are: the procedures need its audit log (`--audit` and
    /// `--audit-key-file`, or the configuration's `[audit]` section), their only store.
    #[command(flatten)]
    node: NodeArgs,
}

/// The acting user of a step.
#[derive(Debug, Args)]
pub struct Actor {
    /// The user taking the step (the principal of its decision).
    #[arg(long = "as", value_name = "USER")]
    user: String,
}

/// `govdata share …`
#[derive(Debug, Subcommand)]
pub enum ShareCommand {
    /// Submit a sharing request for another department's dataset.
    Request {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        actor: Actor,
        /// The dataset wanted.
        dataset: String,
        /// What the data is for.
        #[arg(long)]
        purpose: String,
        /// The law or regulation that allows the use.
        #[arg(long)]
        legal_basis: String,
        /// A field wanted (repeat for each).
        #[arg(long = "field", required = true)]
        fields: Vec<String>,
        /// When the share ends (YYYY-MM-DD or RFC 3339 UTC).
        #[arg(long)]
        until: String,
        /// The scenario's risk level: low, medium or high.
        #[arg(long, value_parser = parse_risk)]
        risk: ScenarioRisk,
        /// The receiving department (the requester's own if omitted).
        #[arg(long)]
        recipient: Option<String>,
    },
    /// Review a submitted request as the providing department: approve or reject.
    Review {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        actor: Actor,
        /// The request id (`shr-…`).
        id: String,
        /// Approve the request.
        #[arg(long, conflicts_with = "reject", required_unless_present = "reject")]
        approve: bool,
        /// Reject the request (needs `--reason`).
        #[arg(long, requires = "reason")]
        reject: bool,
        /// Why (required to reject; a comment on an approval).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Provision an approved share to its receiving department.
    Provision {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        actor: Actor,
        /// The request id.
        id: String,
    },
    /// Revoke an approved or provisioned share before its term ends.
    Revoke {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        actor: Actor,
        /// The request id.
        id: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Record the expiry of every share whose term has ended.
    Expire {
        #[command(flatten)]
        common: Common,
    },
    /// List the sharing requests, overdue reviews flagged.
    List {
        #[command(flatten)]
        common: Common,
        /// Only requests whose recipient or provider is this user's department.
        #[arg(long = "as", value_name = "USER")]
        user: Option<String>,
        /// Only requests in this state.
        #[arg(long)]
        status: Option<String>,
        /// Only requests waiting past their review deadline.
        #[arg(long)]
        overdue: bool,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// `govdata destroy …`
#[derive(Debug, Subcommand)]
pub enum DestroyCommand {
    /// Request the destruction of a dataset of one's own department.
    Request {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        actor: Actor,
        /// The dataset.
        dataset: String,
        /// crypto_erase, logical_delete, overwrite or physical_destroy.
        #[arg(long, value_parser = parse_method)]
        method: DestructionMethod,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Approve (or reject) a requested destruction as the owning department's
    /// security officer.
    Approve {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        actor: Actor,
        /// The request id (`dst-…`).
        id: String,
        /// The user who will execute it (the requester if omitted).
        #[arg(long, conflicts_with = "reject")]
        executor: Option<String>,
        /// Reject instead (needs `--reason`).
        #[arg(long, requires = "reason")]
        reject: bool,
        /// Why it is rejected.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Carry out an approved destruction (crypto-erasure through the vault) and
    /// record it.
    Execute {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        actor: Actor,
        /// The request id.
        id: String,
        /// The second person present (dual control; physical destruction).
        #[arg(long)]
        witness: Option<String>,
        /// The external operator who destroyed the media (physical destruction).
        #[arg(long)]
        operator: Option<String>,
        /// A note: a certificate number, the place.
        #[arg(long)]
        note: Option<String>,
        /// The vault directory (crypto-erasure).
        #[arg(long, value_name = "DIR", requires = "master_key_file")]
        vault: Option<PathBuf>,
        /// The file holding the vault's 32-byte master key, raw, readable by its
        /// owner only.
        #[arg(long, value_name = "FILE", requires = "vault")]
        master_key_file: Option<PathBuf>,
    },
    /// List the destruction requests and records.
    List {
        #[command(flatten)]
        common: Common,
        /// Only requests of datasets this user's department owns.
        #[arg(long = "as", value_name = "USER")]
        user: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

fn parse_risk(s: &str) -> Result<ScenarioRisk, String> {
    s.parse()
}

fn parse_method(s: &str) -> Result<DestructionMethod, String> {
    s.parse().map_err(|e: govdata::Error| e.to_string())
}

/// The node a command works on, with its procedures.
struct Opened {
    node: Platform,
}

impl Opened {
    fn flows(&self) -> govdata::Result<&Workflows> {
        self.node.workflows().map(|w| &**w).ok_or_else(|| govdata::Error::RequestInvalid {
            message: "the procedures need an audit log: give `--audit` and `--audit-key-file`, or a configuration with an [audit] section".into(),
        })
    }
}

fn open_with(common: &Common, vault: &VaultFlags) -> govdata::Result<Opened> {
    let o = Opened {
        node: common.node.open(vault)?,
    };
    o.flows()?;
    Ok(o)
}

fn open(common: &Common) -> govdata::Result<Opened> {
    open_with(common, &VaultFlags::default())
}

/// Prints a step and returns its exit status.
fn report<T: Serialize>(step: &str, result: govdata::Result<Step<T>>) -> ExitCode {
    match result {
        Ok(s) => {
            let (allowed, request) = match &s {
                Step::Done { record, .. } => (true, serde_json::to_value(record).ok()),
                Step::Refused { .. } => (false, None),
            };
            let out = json!({
                "step": step,
                "done": allowed,
                "decision": s.decision().to_json(),
                "request": request,
            });
            println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
            if allowed {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => fail(&e),
    }
}

/// Runs `govdata share …`.
pub fn run_share(cmd: &ShareCommand) -> ExitCode {
    match cmd {
        ShareCommand::Request {
            common,
            actor,
            dataset,
            purpose,
            legal_basis,
            fields,
            until,
            risk,
            recipient,
        } => report(
            "request",
            (|| {
                let o = open(common)?;
                let application = ShareApplication {
                    purpose: purpose.clone(),
                    legal_basis: legal_basis.clone(),
                    fields: fields.clone(),
                    until: Timestamp::parse(until)?,
                    scenario_risk: *risk,
                    recipient_department: recipient.clone(),
                };
                o.flows()?.request_share(&actor.user, dataset, application)
            })(),
        ),
        ShareCommand::Review {
            common,
            actor,
            id,
            approve,
            reject: _,
            reason,
        } => report(
            if *approve { "approve" } else { "reject" },
            open(common).and_then(|o| {
                if *approve {
                    o.flows()?.approve_share(&actor.user, id, reason.as_deref())
                } else {
                    o.flows()?
                        .reject_share(&actor.user, id, reason.as_deref().unwrap_or(""))
                }
            }),
        ),
        ShareCommand::Provision { common, actor, id } => report(
            "provision",
            open(common).and_then(|o| o.flows()?.provision_share(&actor.user, id)),
        ),
        ShareCommand::Revoke {
            common,
            actor,
            id,
            reason,
        } => report(
            "revoke",
            open(common).and_then(|o| o.flows()?.revoke_share(&actor.user, id, reason)),
        ),
        ShareCommand::Expire { common } => {
            match open(common).and_then(|o| o.flows()?.expire_shares()) {
                Ok(expired) => {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&expired).unwrap_or_default()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
        ShareCommand::List {
            common,
            user,
            status,
            overdue,
            json,
        } => match list_shares(common, user.as_deref(), status.as_deref(), *overdue) {
            Ok(shares) => {
                if *json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&shares).unwrap_or_default()
                    );
                } else {
                    print_shares(&shares);
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        },
    }
}

fn user_department(engine: &Engine, user: &str) -> govdata::Result<String> {
    engine
        .inventory()
        .user(user)
        .map(|u| u.department.clone())
        .ok_or_else(|| govdata::Error::UnknownEntity {
            kind: "user",
            id: user.to_owned(),
        })
}

fn list_shares(
    common: &Common,
    user: Option<&str>,
    status: Option<&str>,
    overdue: bool,
) -> govdata::Result<Vec<SharingRequest>> {
    let status: Option<ShareStatus> = status.map(str::parse).transpose()?;
    let o = open(common)?;
    let dept = user
        .map(|u| user_department(o.node.engine(), u))
        .transpose()?;
    Ok(o.flows()?
        .shares()
        .into_iter()
        .filter(|s| status.is_none_or(|st| s.status == st))
        .filter(|s| !overdue || s.overdue)
        .filter(|s| {
            dept.as_ref()
                .is_none_or(|d| &s.recipient_department == d || &s.provider == d)
        })
        .collect())
}

fn print_shares(shares: &[SharingRequest]) {
    println!(
        "{:<11} {:<18} {:<12} {:<16} {:<10} {:<20} {:<10} {:<14} until",
        "id", "dataset", "provider", "requester", "recipient", "status", "reply due", "approval"
    );
    for s in shares {
        let status = if s.overdue {
            format!("{} OVERDUE", s.status)
        } else {
            s.status.to_string()
        };
        println!(
            "{:<11} {:<18} {:<12} {:<16} {:<10} {:<20} {:<10} {:<14} {}",
            s.id,
            s.dataset,
            s.provider,
            s.requester,
            s.recipient_department,
            status,
            s.deadlines.provider_reply.to_string(),
            s.approval_id().unwrap_or("-"),
            s.until
        );
    }
    println!("{} request(s)", shares.len());
}

/// Runs `govdata destroy …`.
pub fn run_destroy(cmd: &DestroyCommand) -> ExitCode {
    match cmd {
        DestroyCommand::Request {
            common,
            actor,
            dataset,
            method,
            reason,
        } => report(
            "request",
            open(common).and_then(|o| {
                o.flows()?
                    .request_destruction(&actor.user, dataset, *method, reason)
            }),
        ),
        DestroyCommand::Approve {
            common,
            actor,
            id,
            executor,
            reject,
            reason,
        } => report(
            if *reject { "reject" } else { "approve" },
            open(common).and_then(|o| {
                if *reject {
                    o.flows()?
                        .reject_destruction(&actor.user, id, reason.as_deref().unwrap_or(""))
                } else {
                    o.flows()?
                        .approve_destruction(&actor.user, id, executor.as_deref())
                }
            }),
        ),
        DestroyCommand::Execute {
            common,
            actor,
            id,
            witness,
            operator,
            note,
            vault,
            master_key_file,
        } => report(
            "execute",
            (|| {
                let o = open_with(
                    common,
                    &VaultFlags {
                        dir: vault.clone(),
                        master_key_file: master_key_file.clone(),
                    },
                )?;
                o.flows()?.execute_destruction(
                    &actor.user,
                    id,
                    ExecutionDetails {
                        witness: witness.clone(),
                        operator: operator.clone(),
                        note: note.clone(),
                    },
                )
            })(),
        ),
        DestroyCommand::List { common, user, json } => {
            let result = (|| {
                let o = open(common)?;
                let dept = user
                    .as_deref()
                    .map(|u| user_department(o.node.engine(), u))
                    .transpose()?;
                Ok::<_, govdata::Error>(
                    o.flows()?
                        .destructions()
                        .into_iter()
                        .filter(|d| dept.as_ref().is_none_or(|x| &d.owner == x))
                        .collect::<Vec<_>>(),
                )
            })();
            match result {
                Ok(list) => {
                    if *json {
                        println!(
                            "{}",
                            serde_json::to_string_pretty(&list).unwrap_or_default()
                        );
                    } else {
                        print_destructions(&list);
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
    }
}

fn print_destructions(list: &[DestructionRequest]) {
    println!(
        "{:<11} {:<18} {:<9} {:<17} {:<10} {:<16} {:<16} {:<16} keys",
        "id", "dataset", "grade", "method", "status", "requester", "approver", "executor"
    );
    for d in list {
        let approver = d.approval.as_ref().map_or("-", |a| a.approver.as_str());
        let (executor, keys) = match &d.execution {
            Some(x) => (x.executor.as_str(), x.key_ids.join(",")),
            None => ("-", String::new()),
        };
        println!(
            "{:<11} {:<18} {:<9} {:<17} {:<10} {:<16} {:<16} {:<16} {}",
            d.id,
            d.dataset,
            d.grade.map_or("-", |g| g.as_str()),
            d.method.as_str(),
            d.status.as_str(),
            d.requester,
            approver,
            executor,
            if keys.is_empty() { "-" } else { &keys }
        );
    }
    println!("{} request(s)", list.len());
}
