//! `govdata keygen`: a signing key pair for policy bundles and audit checkpoints.

use crate::output::fail;
use govdata::sign::{Algorithm, SigningKey};
use std::path::PathBuf;
use std::process::ExitCode;

/// `govdata keygen --alg ed25519|sm2 -o KEY`
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The signature algorithm: `ed25519` or `sm2` (SM2 with SM3, the national algorithm).
    #[arg(long, value_parser = parse_alg, default_value = "ed25519")]
    alg: Algorithm,
    /// The private key file to write (PKCS#8 PEM, mode 600, never over an existing
    /// file); the public key goes to the same path with `.pub` appended (SPKI PEM).
    #[arg(short = 'o', long = "out", value_name = "KEY")]
    out: PathBuf,
}

fn parse_alg(s: &str) -> Result<Algorithm, String> {
    s.parse().map_err(|e: govdata::Error| e.to_string())
}

/// Writes the key pair and prints its algorithm, key id and files as JSON.
pub fn run(args: &Args) -> ExitCode {
    let written = SigningKey::generate(args.alg).and_then(|key| {
        let public = key.write_files(&args.out)?;
        Ok((key.key_id().to_owned(), public))
    });
    match written {
        Ok((key_id, public)) => {
            println!(
                "{}",
                serde_json::json!({
                    "algorithm": args.alg.as_str(),
                    "key_id": key_id,
                    "private": args.out.display().to_string(),
                    "public": public.display().to_string(),
                })
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}
