//! The bytes on disk: the metadata file, segment headers, record and seal frames.
//!
//! ```text
//! segment  = header frame* [seal] zero*    (zeros: padding of the open segment only)
//! header   = "GDAUDSEG" version:u16 suite:u8 flags:u8 reserved:u32 log_id:[16]
//!            index:u64 first_seq:u64 prev_head:[32] tag:[32]            (112 bytes)
//! frame    = len:u32 kind:u8 seq:u64 payload:[len] tag:[32] crc32:u32   (len + 49 bytes)
//! record   kind 1: payload = the record's JSON; tag = MAC("R" || head after it)
//! seal     kind 2: payload = index first_seq last_seq head:[32] merkle_root:[32]
//!                  sealed_at:i64 (96 bytes); tag = MAC("S" || log_id || payload)
//! ```
//!
//! Integers are little-endian. The CRC covers every byte of the frame before it and
//! only tells a torn write from a complete one; the chain and the MACs protect against
//! tampering. A frame's kind byte is never zero, so zero padding (see [`super::pad`])
//! cannot be read as a frame. A sealed segment ends with its seal.

use super::crypto::{label, parse_hash, Hash, HashSuite, Mac32};
use crate::disk;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::{Path, PathBuf};

pub(crate) const MAGIC: &[u8; 8] = b"GDAUDSEG";
pub(crate) const VERSION: u16 = 1;
pub(crate) const HEADER_LEN: usize = 112;
pub(crate) const FRAME_HEAD: usize = 13;
pub(crate) const FRAME_OVERHEAD: usize = FRAME_HEAD + 32 + 4;
pub(crate) const SEAL_PAYLOAD_LEN: usize = 96;
pub(crate) const SEAL_FRAME_LEN: usize = SEAL_PAYLOAD_LEN + FRAME_OVERHEAD;
pub(crate) const MAX_PAYLOAD: usize = 16 << 20;
pub(crate) const KIND_RECORD: u8 = 1;
pub(crate) const KIND_SEAL: u8 = 2;
pub(crate) const META_FILE: &str = "audit.meta";
/// The checkpoint a writer leaves when it closes the log (see `AuditLog::close`).
pub(crate) const HEAD_FILE: &str = "audit.head";
pub(crate) const BACKUPS_FILE: &str = "audit.backups";
pub(crate) const TORN_DIR: &str = "torn";

/// The file name of segment `index`.
pub(crate) fn segment_name(index: u64) -> String {
    format!("seg-{index:010}.log")
}

pub(crate) fn parse_segment_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("seg-")?.strip_suffix(".log")?;
    if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The segment files of a directory, sorted by index.
pub(crate) fn list_segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        if let Some(index) = entry.file_name().to_str().and_then(parse_segment_name) {
            out.push((index, entry.path()));
        }
    }
    out.sort_by_key(|(i, _)| *i);
    Ok(out)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

pub(crate) fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

fn hash_at(b: &[u8], at: usize) -> Hash {
    let mut a = [0u8; 32];
    a.copy_from_slice(&b[at..at + 32]);
    a
}

/// A segment header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) suite: HashSuite,
    pub(crate) log_id: [u8; 16],
    pub(crate) index: u64,
    pub(crate) first_seq: u64,
    pub(crate) prev_head: Hash,
}

impl Header {
    pub(crate) fn encode(&self, mac: &Mac32) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[..8].copy_from_slice(MAGIC);
        b[8..10].copy_from_slice(&VERSION.to_le_bytes());
        b[10] = self.suite.id();
        b[16..32].copy_from_slice(&self.log_id);
        b[32..40].copy_from_slice(&self.index.to_le_bytes());
        b[40..48].copy_from_slice(&self.first_seq.to_le_bytes());
        b[48..80].copy_from_slice(&self.prev_head);
        let tag = mac.mac(&[label::HEADER, &b[..80]]);
        b[80..].copy_from_slice(&tag);
        b
    }

    /// Decodes and authenticates a header; the error says what is wrong.
    pub(crate) fn decode(b: &[u8], mac: &Mac32) -> std::result::Result<Header, String> {
        if b.len() < HEADER_LEN {
            return Err("the segment header is incomplete".into());
        }
        if &b[..8] != MAGIC {
            return Err("not a govdata audit segment (bad magic)".into());
        }
        let version = u16::from_le_bytes([b[8], b[9]]);
        if version != VERSION {
            return Err(format!("unsupported segment format version {version}"));
        }
        if !mac.check(&[label::HEADER, &b[..80]], &b[80..HEADER_LEN]) {
            return Err("the segment header does not authenticate (modified, or from a log sealed under another key)".into());
        }
        let suite = HashSuite::from_id(b[10]).ok_or("unknown hash suite in the segment header")?;
        let mut log_id = [0u8; 16];
        log_id.copy_from_slice(&b[16..32]);
        Ok(Header {
            suite,
            log_id,
            index: u64_at(b, 32),
            first_seq: u64_at(b, 40),
            prev_head: hash_at(b, 48),
        })
    }
}

/// Appends a frame to `out`.
pub(crate) fn encode_frame(out: &mut Vec<u8>, kind: u8, seq: u64, payload: &[u8], tag: &Hash) {
    let start = out.len();
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.push(kind);
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(tag);
    let crc = crc32fast::hash(&out[start..]);
    out.extend_from_slice(&crc.to_le_bytes());
}

/// A frame read from a segment.
#[derive(Debug)]
pub(crate) struct Frame<'a> {
    pub(crate) kind: u8,
    pub(crate) seq: u64,
    pub(crate) payload: &'a [u8],
    pub(crate) tag: &'a [u8],
    pub(crate) len: usize,
}

/// The result of reading the frame at the start of `b`.
#[derive(Debug)]
pub(crate) enum FrameRead<'a> {
    Ok(Frame<'a>),
    /// The frame runs past the end of the data.
    Incomplete,
    /// The frame is complete but its checksum is wrong (or its length is impossible).
    BadChecksum {
        len: usize,
    },
}

pub(crate) fn read_frame(b: &[u8]) -> FrameRead<'_> {
    if b.len() < FRAME_HEAD {
        return FrameRead::Incomplete;
    }
    let len = u32_at(b, 0) as usize;
    if len > MAX_PAYLOAD {
        return FrameRead::BadChecksum { len: b.len() };
    }
    let total = len + FRAME_OVERHEAD;
    if b.len() < total {
        return FrameRead::Incomplete;
    }
    let crc = u32_at(b, total - 4);
    if crc32fast::hash(&b[..total - 4]) != crc {
        return FrameRead::BadChecksum { len: total };
    }
    FrameRead::Ok(Frame {
        kind: b[4],
        seq: u64_at(b, 5),
        payload: &b[FRAME_HEAD..FRAME_HEAD + len],
        tag: &b[FRAME_HEAD + len..total - 4],
        len: total,
    })
}

/// What a seal frame states about its segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Seal {
    pub(crate) index: u64,
    pub(crate) first_seq: u64,
    pub(crate) last_seq: u64,
    pub(crate) head: Hash,
    pub(crate) root: Hash,
    pub(crate) sealed_at: i64,
}

impl Seal {
    pub(crate) fn encode_payload(&self) -> [u8; SEAL_PAYLOAD_LEN] {
        let mut b = [0u8; SEAL_PAYLOAD_LEN];
        b[..8].copy_from_slice(&self.index.to_le_bytes());
        b[8..16].copy_from_slice(&self.first_seq.to_le_bytes());
        b[16..24].copy_from_slice(&self.last_seq.to_le_bytes());
        b[24..56].copy_from_slice(&self.head);
        b[56..88].copy_from_slice(&self.root);
        b[88..96].copy_from_slice(&self.sealed_at.to_le_bytes());
        b
    }

    pub(crate) fn decode_payload(b: &[u8]) -> Option<Seal> {
        if b.len() != SEAL_PAYLOAD_LEN {
            return None;
        }
        let mut at = [0u8; 8];
        at.copy_from_slice(&b[88..96]);
        Some(Seal {
            index: u64_at(b, 0),
            first_seq: u64_at(b, 8),
            last_seq: u64_at(b, 16),
            head: hash_at(b, 24),
            root: hash_at(b, 56),
            sealed_at: i64::from_le_bytes(at),
        })
    }

    pub(crate) fn tag(&self, mac: &Mac32, log_id: &[u8; 16]) -> Hash {
        mac.mac(&[label::SEAL, log_id, &self.encode_payload()])
    }

    pub(crate) fn encode_frame(&self, mac: &Mac32, log_id: &[u8; 16], out: &mut Vec<u8>) {
        let tag = self.tag(mac, log_id);
        encode_frame(out, KIND_SEAL, self.last_seq, &self.encode_payload(), &tag);
    }
}

/// Where the log begins after purges: the last purged segment and the chain head
/// after its last record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Horizon {
    pub(crate) segment: u64,
    pub(crate) seq: u64,
    pub(crate) head: Hash,
}

/// The metadata file `audit.meta`: which log this is, its suite, a key check value
/// and the purge horizon, under a MAC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Meta {
    pub(crate) suite: HashSuite,
    pub(crate) log_id: [u8; 16],
    pub(crate) horizon: Option<Horizon>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MetaFile {
    format: String,
    version: u16,
    suite: String,
    log_id: String,
    key_check: String,
    horizon: Option<HorizonFile>,
    mac: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HorizonFile {
    segment: u64,
    seq: u64,
    head: String,
}

pub(crate) fn key_check(mac: &Mac32) -> String {
    hex::encode(&mac.mac(&[label::KEY_CHECK])[..8])
}

impl Meta {
    fn mac_input(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(80);
        b.extend_from_slice(&VERSION.to_le_bytes());
        b.push(self.suite.id());
        b.extend_from_slice(&self.log_id);
        match &self.horizon {
            None => b.push(0),
            Some(h) => {
                b.push(1);
                b.extend_from_slice(&h.segment.to_le_bytes());
                b.extend_from_slice(&h.seq.to_le_bytes());
                b.extend_from_slice(&h.head);
            }
        }
        b
    }

    /// The head before the first record present (genesis or the purge horizon).
    pub(crate) fn base(&self) -> (u64, u64, Hash) {
        match &self.horizon {
            Some(h) => (h.segment + 1, h.seq + 1, h.head),
            None => (0, 1, self.suite.genesis(&self.log_id)),
        }
    }

    pub(crate) fn to_bytes(&self, mac: &Mac32) -> Result<Vec<u8>> {
        let file = MetaFile {
            format: "govdata-audit".into(),
            version: VERSION,
            suite: self.suite.as_str().into(),
            log_id: hex::encode(self.log_id),
            key_check: key_check(mac),
            horizon: self.horizon.map(|h| HorizonFile {
                segment: h.segment,
                seq: h.seq,
                head: hex::encode(h.head),
            }),
            mac: hex::encode(mac.mac(&[label::META, &self.mac_input()])),
        };
        let mut text = serde_json::to_vec_pretty(&file).map_err(|e| Error::AuditUnavailable {
            message: format!("cannot encode the log metadata: {e}"),
        })?;
        text.push(b'\n');
        Ok(text)
    }

    /// Reads and authenticates the metadata of `dir` under `key`.
    pub(crate) fn read(dir: &Path, key: &super::SealingKey) -> Result<(Meta, Mac32)> {
        Meta::read_inner(dir, &|suite| Mac32::new(suite, key))
    }

    /// Reads and authenticates the metadata of `dir` under an existing MAC.
    pub(crate) fn read_with(dir: &Path, mac: &Mac32, suite: HashSuite) -> Result<Meta> {
        let (meta, _) = Meta::read_inner(dir, &|s| {
            if s == suite {
                Ok(mac.clone())
            } else {
                Err(Error::AuditTampered {
                    seq: 0,
                    message: format!("`{}` holds a log of another hash suite", dir.display()),
                })
            }
        })?;
        Ok(meta)
    }

    fn read_inner(dir: &Path, make: &dyn Fn(HashSuite) -> Result<Mac32>) -> Result<(Meta, Mac32)> {
        let path = dir.join(META_FILE);
        let text = fs::read(&path).map_err(|e| Error::io(&path, e))?;
        let bad = |m: &str| Error::AuditTampered {
            seq: 0,
            message: format!("the log metadata `{}` {m}", path.display()),
        };
        let file: MetaFile =
            serde_json::from_slice(&text).map_err(|e| bad(&format!("does not parse: {e}")))?;
        if file.format != "govdata-audit" || file.version != VERSION {
            return Err(bad("is not govdata audit metadata of a known version"));
        }
        let suite: HashSuite = file
            .suite
            .parse()
            .map_err(|_| bad("names an unknown hash suite"))?;
        let mac = make(suite)?;
        if !super::crypto::ct_eq(key_check(&mac).as_bytes(), file.key_check.as_bytes()) {
            return Err(Error::KeyInvalid {
                message: format!(
                    "the sealing key is not the key of the audit log in `{}`",
                    dir.display()
                ),
            });
        }
        let mut log_id = [0u8; 16];
        hex::decode_to_slice(&file.log_id, &mut log_id).map_err(|_| bad("has a bad log id"))?;
        let horizon = match file.horizon {
            None => None,
            Some(h) => Some(Horizon {
                segment: h.segment,
                seq: h.seq,
                head: parse_hash(&h.head).ok_or_else(|| bad("has a bad horizon head"))?,
            }),
        };
        let meta = Meta {
            suite,
            log_id,
            horizon,
        };
        let tag = parse_hash(&file.mac).ok_or_else(|| bad("has a bad MAC"))?;
        if !mac.check(&[label::META, &meta.mac_input()], &tag) {
            return Err(bad("does not authenticate (modified)"));
        }
        Ok((meta, mac))
    }

    /// Writes the metadata atomically (temporary file, fsync, rename, fsync directory).
    pub(crate) fn write(&self, dir: &Path, mac: &Mac32) -> Result<()> {
        write_atomic(dir, META_FILE, &self.to_bytes(mac)?)
    }
}

/// Writes `name` in `dir` atomically and durably.
pub(crate) fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    let path = dir.join(name);
    {
        let f = disk::create_truncate(&tmp).map_err(|e| Error::io(&tmp, e))?;
        disk::write_at(&f, bytes, 0).map_err(|e| Error::io(&tmp, e))?;
        disk::sync_all(&f).map_err(|e| Error::io(&tmp, e))?;
    }
    disk::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
    sync_dir(dir)
}

/// Makes the directory's entries (created, renamed, removed files) durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    disk::sync_dir(dir).map_err(|e| Error::io(dir, e))
}
