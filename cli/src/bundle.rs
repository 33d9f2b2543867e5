//! `govdata bundle`: build, sign and verify a signed policy bundle (the file format is
//! described in the core's `govdata::bundle`), and publish it to the platform store
//! (`govdata::store::publish_bundle`), from which every node that takes its bundles
//! there loads it.

use crate::output::fail;
use govdata::audit::Timestamp;
use govdata::bundle::{Bundle, BundleState};
use govdata::sign::{SigningKey, VerifyingKey};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `govdata bundle …`
#[derive(Debug, clap::Subcommand)]
pub enum BundleCommand {
    /// Pack policy directories into one unsigned bundle file: a manifest of every file
    /// with its SHA-256 and SM3, the version, the pack's policy_version, the creation
    /// and expiry times.
    Build {
        /// Policy directories: the schema from the first, the *.cedar files of all.
        #[arg(long = "policies", value_name = "DIR", required = true, num_args = 1..)]
        policies: Vec<PathBuf>,
        /// The pack's release number; nodes accept only a higher one than they ran.
        #[arg(long, value_name = "N")]
        version: u64,
        /// Days until the bundle expires.
        #[arg(
            long,
            value_name = "DAYS",
            default_value_t = 90,
            conflicts_with = "expires"
        )]
        valid_days: u32,
        /// The expiry time (RFC 3339, UTC), in place of --valid-days.
        #[arg(long, value_name = "TIME")]
        expires: Option<String>,
        /// The bundle file to write.
        #[arg(short = 'o', long = "out", value_name = "FILE")]
        out: PathBuf,
    },
    /// Sign a bundle in place with a private key (PKCS#8 PEM, Ed25519 or SM2, mode 600).
    Sign {
        /// The private key file.
        #[arg(long, value_name = "KEY")]
        key: PathBuf,
        /// The bundle file.
        bundle: PathBuf,
    },
    /// Verify a bundle as a node would: intact, signed by one of the trusted keys, not
    /// expired, its pack loading to its policy_version (and, with --state, not older
    /// than the last accepted). Exit 0 when it verifies, 2 otherwise.
    Verify {
        /// A trusted public key file (SPKI PEM); repeat for more.
        #[arg(long = "trust", value_name = "PUB", required = true)]
        trust: Vec<PathBuf>,
        /// A node's bundle state file, to check the version against.
        #[arg(long, value_name = "FILE")]
        state: Option<PathBuf>,
        /// The bundle file.
        bundle: PathBuf,
    },
    /// Publish a signed bundle to the platform store, after checking it as a node
    /// would (intact, signed by a trusted key, not expired, its pack loading to its
    /// policy_version) and that its version is above every one published. The store
    /// keeps every bundle published. Exit 0 when published, 2 otherwise.
    Publish {
        /// A trusted public key file (SPKI PEM); repeat for more. Without it, the
        /// `[policies] trust_keys` of --config.
        #[arg(long = "trust", value_name = "PUB")]
        trust: Vec<PathBuf>,
        /// The bundle file.
        bundle: PathBuf,
        #[command(flatten)]
        target: crate::store::StoreTarget,
    },
}

fn print_manifest(bundle: &Bundle, extra: serde_json::Value) {
    let m = bundle.manifest();
    let mut out = serde_json::json!({
        "version": m.version,
        "policy_version": m.policy_version,
        "created": m.created,
        "expires": m.expires,
        "files": m.files.len(),
        "signatures": bundle.signatures().iter().map(|s| &s.key_id).collect::<Vec<_>>(),
    });
    if let (Some(o), serde_json::Value::Object(e)) = (out.as_object_mut(), extra) {
        o.extend(e);
    }
    println!("{out}");
}

fn build(
    policies: &[PathBuf],
    version: u64,
    valid_days: u32,
    expires: Option<&str>,
    out: &Path,
) -> govdata::Result<Bundle> {
    let created = Timestamp::now();
    let expires = match expires {
        Some(t) => Timestamp::parse(t)?,
        None => {
            Timestamp::from_unix_millis(created.unix_millis() + i64::from(valid_days) * 86_400_000)
        }
    };
    let dirs: Vec<&Path> = policies.iter().map(|p| p.as_path()).collect();
    let bundle = Bundle::build(&dirs, version, created, expires)?;
    bundle.write(out)?;
    Ok(bundle)
}

fn sign(key: &Path, path: &Path) -> govdata::Result<Bundle> {
    let key = SigningKey::from_file(key)?;
    let mut bundle = Bundle::read(path)?;
    bundle.sign(&key)?;
    bundle.write(path)?;
    Ok(bundle)
}

fn verify(
    trust: &[PathBuf],
    state: Option<&Path>,
    path: &Path,
) -> govdata::Result<(Bundle, String)> {
    let trusted = trust
        .iter()
        .map(VerifyingKey::from_file)
        .collect::<govdata::Result<Vec<_>>>()?;
    let bundle = Bundle::read(path)?;
    let key_id = bundle.verify(&trusted, Timestamp::now())?;
    if let Some(state) = state {
        if let Some(last) = BundleState::read(state)? {
            last.check(bundle.manifest())?;
        }
    }
    bundle.load_pack()?;
    Ok((bundle, key_id))
}

fn publish(
    trust: &[PathBuf],
    path: &Path,
    target: &crate::store::StoreTarget,
) -> govdata::Result<(Bundle, govdata::store::Published)> {
    let keys = if trust.is_empty() {
        target
            .node_config()?
            .and_then(|c| c.bundle)
            .map(|b| b.trust_keys)
            .unwrap_or_default()
    } else {
        trust.to_vec()
    };
    if keys.is_empty() {
        return Err(govdata::Error::ConfigInvalid {
            message: "name the trusted public keys with --trust (or a --config whose `[policies]` has `trust_keys`)".to_owned(),
        });
    }
    let trusted = keys
        .iter()
        .map(VerifyingKey::from_file)
        .collect::<govdata::Result<Vec<_>>>()?;
    let bundle = Bundle::read(path)?;
    let mut client = target.connector()?.connect()?;
    let published =
        govdata::store::publish_bundle(&mut client, &bundle, &trusted, Timestamp::now())?;
    Ok((bundle, published))
}

/// Runs one `govdata bundle` command.
pub fn run(cmd: &BundleCommand) -> ExitCode {
    let result = match cmd {
        BundleCommand::Build {
            policies,
            version,
            valid_days,
            expires,
            out,
        } => build(policies, *version, *valid_days, expires.as_deref(), out)
            .map(|b| print_manifest(&b, serde_json::json!({"bundle": out.display().to_string()}))),
        BundleCommand::Sign { key, bundle } => {
            sign(key, bundle).map(|b| print_manifest(&b, serde_json::json!({})))
        }
        BundleCommand::Verify {
            trust,
            state,
            bundle,
        } => verify(trust, state.as_deref(), bundle).map(|(b, key_id)| {
            print_manifest(&b, serde_json::json!({"verified": true, "key_id": key_id}))
        }),
        BundleCommand::Publish {
            trust,
            bundle,
            target,
        } => publish(trust, bundle, target).map(|(b, p)| {
            print_manifest(
                &b,
                serde_json::json!({"published": p.id, "published_at": p.published_at}),
            )
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}
