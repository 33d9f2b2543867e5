//! Checkpoints of the chain, kept outside the log to find truncation and rollback, and
//! the one a log's last writer leaves in its directory at close (`audit.head`).

use super::crypto::{ct_eq, label, parse_hash, Hash, Mac32};
use super::format::{Meta, HEAD_FILE};
use super::VerifyReport;
use crate::error::{Error, Result};
use std::fmt;
use std::fs;
use std::path::Path;
use std::str::FromStr;

/// A checkpoint of the chain: a sequence number, the chain head after it and a MAC
/// over both. Keep it outside the log (another host, a ticket, a print-out):
/// `verify_with` against it finds truncation and rollback, which no log can find in
/// itself. Text form: `gdaudit1:<log id>:<seq>:<head>:<mac>` (hex).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Checkpoint {
    pub(super) log_id: [u8; 16],
    pub(super) seq: u64,
    pub(super) head: Hash,
    pub(super) mac: Hash,
}

impl Checkpoint {
    pub(super) fn new(mac: &Mac32, log_id: [u8; 16], seq: u64, head: Hash) -> Self {
        let tag = mac.mac(&[label::CHECKPOINT, &log_id, &seq.to_le_bytes(), &head]);
        Checkpoint {
            log_id,
            seq,
            head,
            mac: tag,
        }
    }

    /// The last sequence number the checkpoint covers (0: an empty log).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The chain head after that record, in hex.
    pub fn head_hex(&self) -> String {
        hex::encode(self.head)
    }

    /// The id of the log, in hex.
    pub fn log_id_hex(&self) -> String {
        hex::encode(self.log_id)
    }

    pub(super) fn check(&self, mac: &Mac32, log_id: &[u8; 16]) -> Result<()> {
        if &self.log_id != log_id {
            return Err(Error::request(
                "the checkpoint belongs to another audit log",
            ));
        }
        let expect = mac.mac(&[
            label::CHECKPOINT,
            &self.log_id,
            &self.seq.to_le_bytes(),
            &self.head,
        ]);
        if !ct_eq(&expect, &self.mac) {
            return Err(Error::CryptoAuthFailed {
                message: "the checkpoint does not authenticate under this sealing key".into(),
            });
        }
        Ok(())
    }
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gdaudit1:{}:{}:{}:{}",
            hex::encode(self.log_id),
            self.seq,
            hex::encode(self.head),
            hex::encode(self.mac)
        )
    }
}

impl FromStr for Checkpoint {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            Error::request(format!(
                "invalid checkpoint `{s}`: expected gdaudit1:<log id>:<seq>:<head>:<mac>"
            ))
        };
        let parts: Vec<&str> = s.trim().split(':').collect();
        let [tag, id, seq, head, mac] = parts[..] else {
            return Err(bad());
        };
        if tag != "gdaudit1" {
            return Err(bad());
        }
        let mut log_id = [0u8; 16];
        hex::decode_to_slice(id, &mut log_id).map_err(|_| bad())?;
        Ok(Checkpoint {
            log_id,
            seq: seq.parse().map_err(|_| bad())?,
            head: parse_hash(head).ok_or_else(bad)?,
            mac: parse_hash(mac).ok_or_else(bad)?,
        })
    }
}

/// The checkpoint the log's last writer left at close, if any, authenticated.
pub(super) fn stored_head(dir: &Path, meta: &Meta, mac: &Mac32) -> Result<Option<Checkpoint>> {
    let path = dir.join(HEAD_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(&path, e)),
    };
    let damaged = || Error::AuditTampered {
        seq: 0,
        message: format!(
            "the checkpoint its writer left at close (`{HEAD_FILE}`) is damaged or not this log's"
        ),
    };
    let cp: Checkpoint = text.parse().map_err(|_| damaged())?;
    cp.check(mac, &meta.log_id).map_err(|_| damaged())?;
    Ok(Some(cp))
}

/// A walk's outcome against the stored head, saying where the checkpoint came from.
pub(super) fn against_stored(r: Result<VerifyReport>) -> Result<VerifyReport> {
    r.map_err(|e| match e {
        Error::AuditTampered { seq, message } => Error::AuditTampered {
            seq,
            message: format!(
                "{message} (against the checkpoint its writer left at close in `{HEAD_FILE}`)"
            ),
        },
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{HashSuite, SealingKey};

    #[test]
    fn checkpoint_text_round_trips() {
        let mac = Mac32::new(HashSuite::Sha256, &SealingKey::from_bytes([1; 32])).unwrap();
        let c = Checkpoint::new(&mac, [3; 16], 42, [9; 32]);
        assert_eq!(c.to_string().parse::<Checkpoint>().unwrap(), c);
    }
}
