//! Retention, backup, restore and inclusion proofs.
//!
//! Records are kept at least six calendar months (Art. 8; Cybersecurity Law art. 21).
//! A purge removes only whole sealed segments, oldest first, whose every record is
//! older than the cut-off, and only when a verified backup holds an identical copy;
//! the purge is recorded in the log and the purge horizon (the last purged record and
//! the chain head after it) is kept under the MAC in the metadata, so that a segment
//! deleted any other way is tampering.
//!
//! Records marked to be kept (`"retain": true`: the sharing and destruction records
//! of Art. 14 and 15) outlive the segments that held them: before a purge removes a
//! segment it appends a copy of each such record ([`super::RETAINED_KIND`]), in the
//! same batch as the record of the purge.

use super::crypto::{ct_eq, label, parse_hash, Hash, HashSuite, Mac32};
use super::format::{
    list_segments, segment_name, sync_dir, write_atomic, Horizon, Meta, Seal, BACKUPS_FILE,
    META_FILE,
};
use super::merkle;
use super::record::{self, AuditRecord, Event};
use super::scan::{self, live_segments, Ctx};
use super::{AuditLog, AuditOptions, SealingKey, VerifyReport};
use crate::engine::Resource;
use crate::error::{Error, Result};
use crate::model::Action;
use crate::time::Date;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// How long records are kept at least: six calendar months.
pub const RETENTION_MONTHS: u32 = 6;

/// What a backup did.
#[derive(Debug, Clone)]
pub struct BackupReport {
    /// The backup directory.
    pub dest: PathBuf,
    /// Segments copied now.
    pub copied: Vec<u64>,
    /// Sealed segments the backup already held, identical.
    pub already_present: Vec<u64>,
    /// The verification of the backup after copying.
    pub verified: VerifyReport,
    /// The sequence number of the record of the backup in the log.
    pub event_seq: Option<u64>,
}

/// What a purge removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgeReport {
    /// The cut-off date.
    pub before: Date,
    /// The segments removed.
    pub segments: Vec<u64>,
    /// The last record removed.
    pub through_seq: Option<u64>,
    /// The sequence number of the record of the purge in the log.
    pub event_seq: Option<u64>,
}

/// What a restore brought back.
#[derive(Debug, Clone)]
pub struct RestoreReport {
    /// Segments copied from the backup.
    pub restored: Vec<u64>,
    /// The verification of the log after restoring.
    pub verified: VerifyReport,
    /// The sequence number of the record of the restore in the log.
    pub event_seq: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BackupEntry {
    dest: String,
    segments: BTreeMap<u64, String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Registry {
    backups: Vec<BackupEntry>,
    mac: String,
}

fn registry_mac(mac: &Mac32, backups: &[BackupEntry]) -> Result<Hash> {
    let body = serde_json::to_vec(backups).map_err(|e| Error::request(e.to_string()))?;
    Ok(mac.mac(&[label::BACKUPS, &body]))
}

fn read_registry(dir: &Path, mac: &Mac32) -> Result<Vec<BackupEntry>> {
    let path = dir.join(BACKUPS_FILE);
    let Ok(text) = fs::read(&path) else {
        return Ok(Vec::new());
    };
    let bad = || Error::AuditTampered {
        seq: 0,
        message: format!(
            "the backup registry `{}` does not authenticate (modified)",
            path.display()
        ),
    };
    let reg: Registry = serde_json::from_slice(&text).map_err(|_| bad())?;
    let tag = parse_hash(&reg.mac).ok_or_else(bad)?;
    if !ct_eq(&registry_mac(mac, &reg.backups)?, &tag) {
        return Err(bad());
    }
    Ok(reg.backups)
}

fn write_registry(dir: &Path, mac: &Mac32, backups: Vec<BackupEntry>) -> Result<()> {
    let tag = registry_mac(mac, &backups)?;
    let reg = Registry {
        backups,
        mac: hex::encode(tag),
    };
    let text = serde_json::to_vec_pretty(&reg).map_err(|e| Error::request(e.to_string()))?;
    write_atomic(dir, BACKUPS_FILE, &text)
}

fn copy_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    write_atomic(dir, name, bytes)
}

fn lower_horizon(a: Option<Horizon>, b: Option<Horizon>) -> Option<Horizon> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if x.seq <= y.seq { x } else { y }),
        _ => None,
    }
}

/// A scanned sealed segment.
struct Sealed {
    bytes: Vec<u8>,
    seal: Seal,
    tag: Hash,
    leaves: Vec<Hash>,
    max_time: Option<super::Timestamp>,
}

fn scan_sealed(
    path: &Path,
    ctx: &Ctx<'_>,
    index: u64,
    mut want: Option<(u64, &mut Vec<u8>)>,
) -> Result<Sealed> {
    let bytes = fs::read(path).map_err(|e| Error::io(path, e))?;
    let mut max_time = None;
    let s = scan::scan_segment(&bytes, ctx, index, false, None, true, &mut |seq, p| {
        let t = record::decode_payload(seq, p)?.time;
        max_time = Some(max_time.map_or(t, |m: super::Timestamp| m.max(t)));
        if let Some((w, out)) = want.as_mut() {
            if *w == seq {
                out.extend_from_slice(p);
            }
        }
        Ok(())
    })
    .map_err(|e| e.into_error(0))?;
    let Some((seal, tag)) = s.seal else {
        return Err(Error::AuditTampered {
            seq: s.next_seq,
            message: format!("segment {index} is not sealed"),
        });
    };
    Ok(Sealed {
        bytes,
        seal,
        tag,
        leaves: s.leaves,
        max_time,
    })
}

/// The records of a segment that are kept through purges.
fn retained_records(path: &Path, ctx: &Ctx<'_>, index: u64) -> Result<Vec<AuditRecord>> {
    let bytes = fs::read(path).map_err(|e| Error::io(path, e))?;
    let mut out = Vec::new();
    scan::scan_segment(&bytes, ctx, index, false, None, false, &mut |seq, p| {
        let r = record::decode_payload(seq, p)?;
        if r.is_retained() {
            out.push(r);
        }
        Ok(())
    })
    .map_err(|e| e.into_error(0))?;
    Ok(out)
}

impl AuditLog {
    fn ctx<'a>(&'a self, meta: &Meta) -> Ctx<'a> {
        Ctx {
            suite: meta.suite,
            mac: &self.mac,
            log_id: meta.log_id,
        }
    }

    fn sealed_segments(&self, meta: &Meta) -> Result<Vec<(u64, PathBuf)>> {
        let open = self.lock().seg_index;
        Ok(live_segments(&self.dir, meta)?
            .into_iter()
            .filter(|(i, _)| *i < open)
            .collect())
    }

    /// Copies every sealed segment to `dest` (a directory, created if absent, that
    /// becomes a verifiable log of its own), verifies the copy, remembers it for
    /// [`AuditLog::purge`] and records the backup. Segments the backup already holds
    /// are checked to be identical, not copied again.
    pub fn backup(&self, dest: impl AsRef<Path>) -> Result<BackupReport> {
        let _m = self.maintenance.lock().unwrap_or_else(|p| p.into_inner());
        let dest = dest.as_ref();
        fs::create_dir_all(dest).map_err(|e| Error::io(dest, e))?;
        let dest = dest.canonicalize().map_err(|e| Error::io(dest, e))?;
        if dest
            == self
                .dir
                .canonicalize()
                .map_err(|e| Error::io(&self.dir, e))?
        {
            return Err(Error::request(
                "a backup must go to another directory than the log",
            ));
        }
        // One backup writes a backup directory at a time, as one writer writes a log.
        let _dest_lock = super::recovery::lock_dir(&dest, self.options.lock_wait)?;
        let meta = self.meta();
        let ctx = self.ctx(&meta);
        let mut horizon = meta.horizon;
        if dest.join(META_FILE).exists() {
            let dmeta = Meta::read_with(&dest, &self.mac, meta.suite)?;
            if dmeta.log_id != meta.log_id {
                return Err(Error::request(format!(
                    "`{}` holds the backup of another audit log",
                    dest.display()
                )));
            }
            horizon = lower_horizon(horizon, dmeta.horizon);
        }
        let mut copied = Vec::new();
        let mut present = Vec::new();
        let mut tags = BTreeMap::new();
        let mut through = None;
        for (i, path) in self.sealed_segments(&meta)? {
            let s = scan_sealed(&path, &ctx, i, None)?;
            let name = segment_name(i);
            let target = dest.join(&name);
            if fs::read(&target).ok().as_deref() == Some(&s.bytes[..]) {
                present.push(i);
            } else {
                copy_atomic(&dest, &name, &s.bytes)?;
                copied.push(i);
            }
            tags.insert(i, hex::encode(s.tag));
            through = Some(s.seal.last_seq);
        }
        Meta {
            suite: meta.suite,
            log_id: meta.log_id,
            horizon,
        }
        .write(&dest, &self.mac)?;
        let dmeta = Meta::read_with(&dest, &self.mac, meta.suite)?;
        let verified = scan::walk(
            &scan::Walk {
                dir: &dest,
                meta: &dmeta,
                mac: &self.mac,
                limit: None,
                checkpoint: None,
            },
            None,
        )?;
        if verified.torn_tail.is_some() || verified.sealed_segments != verified.segments {
            return Err(Error::AuditTampered {
                seq: verified.torn_tail.as_ref().map_or(0, |t| t.first_lost_seq),
                message: format!(
                    "the backup in `{}` does not verify as complete sealed segments",
                    dest.display()
                ),
            });
        }
        let mut reg = read_registry(&self.dir, &self.mac)?;
        let key = dest.display().to_string();
        match reg.iter_mut().find(|e| e.dest == key) {
            Some(e) => e.segments.extend(tags.clone()),
            None => reg.push(BackupEntry {
                dest: key.clone(),
                segments: tags.clone(),
            }),
        }
        write_registry(&self.dir, &self.mac, reg)?;
        let event_seq = if tags.is_empty() {
            None
        } else {
            let seq = self.append(
                &Event::new("audit.backup")
                    .action(Action::Backup)
                    .resource(Resource::audit_log("main"))
                    .field("dest", key)
                    .field("segments", tags.keys().copied().collect::<Vec<u64>>())
                    .field("through_seq", through),
            )?;
            self.sync()?;
            Some(seq)
        };
        Ok(BackupReport {
            dest,
            copied,
            already_present: present,
            verified,
            event_seq,
        })
    }

    /// Removes whole sealed segments, oldest first, whose records are all older than
    /// `before` (midnight UTC), each only when a remembered backup holds an identical,
    /// verified copy; records the purge. `before` must be at least six calendar months
    /// ago (`audit_retention` otherwise, and when the oldest eligible segment has no
    /// verified backup).
    pub fn purge(&self, before: Date) -> Result<PurgeReport> {
        let _m = self.maintenance.lock().unwrap_or_else(|p| p.into_inner());
        let today = self.now().date();
        let floor = today.minus_months(super::RETENTION_MONTHS);
        if before > floor {
            return Err(Error::AuditRetention {
                message: format!(
                    "refusing to purge records before {before}: records are kept six calendar months, so today ({today}) nothing from {floor} on may be purged"
                ),
            });
        }
        let meta = self.meta();
        let ctx = self.ctx(&meta);
        let reg = read_registry(&self.dir, &self.mac)?;
        let cutoff = before.start();
        let mut purged: Vec<(u64, PathBuf, Seal)> = Vec::new();
        let mut backups: Vec<String> = Vec::new();
        for (i, path) in self.sealed_segments(&meta)? {
            let s = scan_sealed(&path, &ctx, i, None)?;
            let newest = s.max_time.map_or(s.seal.sealed_at, |t| t.unix_millis());
            if newest >= cutoff.unix_millis() {
                break;
            }
            let tag = hex::encode(s.tag);
            let held = reg.iter().find(|e| {
                e.segments.get(&i) == Some(&tag)
                    && fs::read(Path::new(&e.dest).join(segment_name(i)))
                        .ok()
                        .as_deref()
                        == Some(&s.bytes[..])
            });
            match held {
                Some(e) => {
                    if !backups.contains(&e.dest) {
                        backups.push(e.dest.clone());
                    }
                    purged.push((i, path, s.seal));
                }
                None if purged.is_empty() => {
                    return Err(Error::AuditRetention {
                        message: format!(
                            "segment {i} (records {}..={}) is past retention but no verified backup holds it; back the log up first",
                            s.seal.first_seq, s.seal.last_seq
                        ),
                    });
                }
                None => break,
            }
        }
        let Some((last_i, _, last_seal)) = purged.last().cloned() else {
            return Ok(PurgeReport {
                before,
                segments: Vec::new(),
                through_seq: None,
                event_seq: None,
            });
        };
        let segments: Vec<u64> = purged.iter().map(|(i, _, _)| *i).collect();
        let mut events = Vec::new();
        for (i, path, _) in &purged {
            for r in retained_records(path, &ctx, *i)? {
                let copy = r.retained_copy().ok_or_else(|| Error::AuditTampered {
                    seq: r.seq,
                    message: "a retained record's copy does not parse".into(),
                })?;
                events.push(copy);
            }
        }
        let retained = events.len();
        events.push(
            Event::new("audit.purge")
                .action(Action::PurgeAudit)
                .resource(Resource::audit_log("main"))
                .field("before", before.to_string())
                .field("segments", segments.clone())
                .field("through_seq", last_seal.last_seq)
                .field("backups", backups)
                .field("retained", retained),
        );
        let event_seq = *self.append_batch(&events)?.end();
        self.sync()?;
        let new_meta = Meta {
            suite: meta.suite,
            log_id: meta.log_id,
            horizon: Some(Horizon {
                segment: last_i,
                seq: last_seal.last_seq,
                head: last_seal.head,
            }),
        };
        new_meta.write(&self.dir, &self.mac)?;
        *self.meta.lock().unwrap_or_else(|p| p.into_inner()) = new_meta;
        for (_, path, _) in &purged {
            fs::remove_file(path).map_err(|e| Error::io(path, e))?;
        }
        sync_dir(&self.dir)?;
        Ok(PurgeReport {
            before,
            segments,
            through_seq: Some(last_seal.last_seq),
            event_seq: Some(event_seq),
        })
    }

    /// Brings segments back from a backup into the log in `dir` (which must not be
    /// open for writing): segments that are missing (purged, deleted) or differ
    /// (tampered) are replaced by the backup's verified copies. The log is then
    /// verified, and the restore recorded in it.
    pub fn restore(
        backup: impl AsRef<Path>,
        dir: impl AsRef<Path>,
        key: SealingKey,
        options: AuditOptions,
    ) -> Result<RestoreReport> {
        let (backup, dir) = (backup.as_ref(), dir.as_ref());
        let (bmeta, mac) = Meta::read(backup, &key)?;
        scan::walk(
            &scan::Walk {
                dir: backup,
                meta: &bmeta,
                mac: &mac,
                limit: None,
                checkpoint: None,
            },
            None,
        )?;
        let lock = super::recovery::lock_dir(dir, options.lock_wait)?;
        let mut meta = if dir.join(META_FILE).exists() {
            let m = Meta::read_with(dir, &mac, bmeta.suite)?;
            if m.log_id != bmeta.log_id {
                return Err(Error::request(format!(
                    "`{}` is the backup of another audit log",
                    backup.display()
                )));
            }
            m
        } else {
            bmeta.clone()
        };
        let mut restored = Vec::new();
        for (i, path) in list_segments(backup)? {
            let bytes = fs::read(&path).map_err(|e| Error::io(&path, e))?;
            let name = segment_name(i);
            if fs::read(dir.join(&name)).ok().as_deref() != Some(&bytes[..]) {
                copy_atomic(dir, &name, &bytes)?;
                restored.push(i);
            }
        }
        meta.horizon = lower_horizon(meta.horizon, bmeta.horizon);
        meta.write(dir, &mac)?;
        let log = AuditLog::open_locked(dir.to_path_buf(), key, options, lock)?;
        let verified = log.verify()?;
        let event_seq = log.append(
            &Event::new("audit.restore")
                .action(Action::Restore)
                .resource(Resource::audit_log("main"))
                .field("from", backup.display().to_string())
                .field("segments", restored.clone()),
        )?;
        log.sync()?;
        Ok(RestoreReport {
            restored,
            verified,
            event_seq,
        })
    }

    /// An inclusion proof for record `seq`, which must be in a sealed segment.
    pub fn prove(&self, seq: u64) -> Result<InclusionProof> {
        let meta = self.meta();
        let ctx = self.ctx(&meta);
        let segs = self.sealed_segments(&meta)?;
        let not_found = || Error::UnknownEntity {
            kind: "sealed audit record",
            id: seq.to_string(),
        };
        let mut found = None;
        for (i, path) in &segs {
            if let Some(seal) = scan::read_tail_seal(path, &ctx, *i) {
                if seal.first_seq <= seq && seq <= seal.last_seq {
                    found = Some((*i, path.clone()));
                    break;
                }
            }
        }
        let (index, path) = found.ok_or_else(not_found)?;
        let mut payload = Vec::new();
        let s = scan_sealed(&path, &ctx, index, Some((seq, &mut payload)))?;
        let m = usize::try_from(seq - s.seal.first_seq).map_err(|_| not_found())?;
        let leaf_path = merkle::path(meta.suite, m, &s.leaves);
        Ok(InclusionProof {
            suite: meta.suite.as_str().into(),
            log_id: hex::encode(meta.log_id),
            segment: index,
            seq,
            payload: String::from_utf8(payload).map_err(|_| not_found())?,
            leaf_index: m as u64,
            tree_size: s.leaves.len() as u64,
            path: leaf_path.iter().map(hex::encode).collect(),
            seal: ProofSeal {
                first_seq: s.seal.first_seq,
                last_seq: s.seal.last_seq,
                head: hex::encode(s.seal.head),
                root: hex::encode(s.seal.root),
                sealed_at: s.seal.sealed_at,
                tag: hex::encode(s.tag),
            },
        })
    }
}

/// Proof that one record is in a sealed segment of a log (RFC 6962 audit path to
/// the segment's Merkle root, and the segment's seal). Serializable as JSON; check it
/// with [`InclusionProof::verify`] and the sealing key, without the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionProof {
    /// The hash suite.
    pub suite: String,
    /// The log's id (hex).
    pub log_id: String,
    /// The segment.
    pub segment: u64,
    /// The record's sequence number.
    pub seq: u64,
    /// The record's payload (its JSON text).
    pub payload: String,
    /// The leaf's index in the segment's tree.
    pub leaf_index: u64,
    /// The number of leaves.
    pub tree_size: u64,
    /// The audit path, bottom-up (hex).
    pub path: Vec<String>,
    /// The segment's seal.
    pub seal: ProofSeal,
}

/// The seal an [`InclusionProof`] ends in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofSeal {
    /// The segment's first record.
    pub first_seq: u64,
    /// The segment's last record.
    pub last_seq: u64,
    /// The chain head after the last record (hex).
    pub head: String,
    /// The Merkle root (hex).
    pub root: String,
    /// When the segment was sealed (ms since the epoch).
    pub sealed_at: i64,
    /// The seal's MAC (hex).
    pub tag: String,
}

impl InclusionProof {
    /// Checks the proof under the sealing key and returns the record it proves.
    pub fn verify(&self, key: &SealingKey) -> Result<AuditRecord> {
        let bad = |m: &str| Error::AuditTampered {
            seq: self.seq,
            message: format!("the inclusion proof does not verify: {m}"),
        };
        let suite: HashSuite = self.suite.parse()?;
        let mac = Mac32::new(suite, key)?;
        let mut log_id = [0u8; 16];
        hex::decode_to_slice(&self.log_id, &mut log_id).map_err(|_| bad("bad log id"))?;
        let h = |s: &str| parse_hash(s).ok_or_else(|| bad("bad hash"));
        let seal = Seal {
            index: self.segment,
            first_seq: self.seal.first_seq,
            last_seq: self.seal.last_seq,
            head: h(&self.seal.head)?,
            root: h(&self.seal.root)?,
            sealed_at: self.seal.sealed_at,
        };
        if !ct_eq(&seal.tag(&mac, &log_id), &h(&self.seal.tag)?) {
            return Err(bad("the seal does not authenticate"));
        }
        if self.seq < seal.first_seq
            || self.seq > seal.last_seq
            || self.leaf_index != self.seq - seal.first_seq
            || self.tree_size != seal.last_seq + 1 - seal.first_seq
        {
            return Err(bad("the record is not in the sealed range"));
        }
        let path = self
            .path
            .iter()
            .map(|p| h(p))
            .collect::<Result<Vec<Hash>>>()?;
        let leaf = suite.leaf(self.seq, self.payload.as_bytes());
        if merkle::root_from_path(suite, self.leaf_index, self.tree_size, &leaf, &path)
            != Some(seal.root)
        {
            return Err(bad("the audit path does not lead to the sealed root"));
        }
        record::decode_payload(self.seq, self.payload.as_bytes())
    }
}
