//! What the log hands to a store that keeps a copy of it: each record with the chain
//! values around it (the head before, the head after, the record's MAC), each segment's
//! seal, and the checks that re-verify them away from the log's files.
//!
//! A store keeps the records exactly as the log wrote them (the payload bytes), so
//! that [`ChainCheck`] can apply the log's own rules to its rows: the link
//! `H(0x02 || previous head || H(0x00 || seq || payload))`, the record MAC under the
//! sealing key, the seal's MAC and Merkle root. Only what is durable is handed out:
//! a record a crash could still take back must never reach a store ahead of the log.

use super::crypto::{ct_eq, Hash, HashSuite, Mac32};
use super::format::{
    key_check, read_frame, segment_name, FrameRead, Header, Seal, HEADER_LEN, KIND_RECORD,
    KIND_SEAL,
};
use super::record::{decode_payload, AuditRecord};
use super::{merkle, scan, AuditLog, SealingKey, SyncMode};
use crate::error::{Error, Result};
use std::io::{Read, Seek, SeekFrom};

/// The MAC label that binds a log to the node id it is shipped under.
const NODE_BINDING: &[u8] = b"N";

/// A record with the chain values a store needs to re-verify it.
#[derive(Debug, Clone)]
pub(crate) struct ChainedRecord {
    pub(crate) payload: Vec<u8>,
    pub(crate) prev_head: Hash,
    pub(crate) head: Hash,
    pub(crate) tag: Hash,
    pub(crate) record: AuditRecord,
}

/// A segment's seal as the log wrote it.
#[derive(Debug, Clone)]
pub(crate) struct SealFrame {
    pub(crate) segment: u64,
    pub(crate) first_seq: u64,
    pub(crate) last_seq: u64,
    pub(crate) sealed_at: i64,
    pub(crate) payload: Vec<u8>,
    pub(crate) tag: Hash,
}

/// What identifies a log to a store: its id, its hash suite and the check value of
/// its sealing key (which key of several verifies it, never the key).
#[derive(Debug, Clone)]
pub(crate) struct LogIdentity {
    pub(crate) log_id: [u8; 16],
    pub(crate) suite: HashSuite,
    pub(crate) key_check: String,
}

/// Where a reader of the chain stands: the next frame's segment and offset, the
/// sequence number it expects and the head before it. `offset` 0: the segment's
/// header is still to be read.
#[derive(Debug, Clone, Default)]
pub(crate) struct ChainCursor {
    segment: u64,
    offset: u64,
    next_seq: u64,
    head: Hash,
    valid: bool,
}

/// A batch read from the chain.
#[derive(Debug, Default)]
pub(crate) struct ChainBatch {
    pub(crate) records: Vec<ChainedRecord>,
    pub(crate) seals: Vec<SealFrame>,
}

fn tampered(seq: u64, message: String) -> Error {
    Error::AuditTampered { seq, message }
}

impl AuditLog {
    /// The log's id, suite and key check value.
    pub(crate) fn identity(&self) -> LogIdentity {
        LogIdentity {
            log_id: self.log_id,
            suite: self.suite,
            key_check: key_check(&self.mac),
        }
    }

    /// The MAC that binds this log to `node_id`.
    pub(crate) fn node_binding(&self, node_id: &str) -> Hash {
        self.mac
            .mac(&[NODE_BINDING, &self.log_id, node_id.as_bytes()])
    }

    /// The last sequence number that is durable (a crash cannot take it back). In
    /// `none` mode nothing is durable until a sync, so this syncs first when records
    /// wait.
    pub(crate) fn durable_seq(&self) -> Result<u64> {
        if self.options.sync == SyncMode::None {
            let w = self.lock();
            let pending = w.synced_seq + 1 < w.next_seq;
            drop(w);
            if pending {
                self.sync()?;
            }
        }
        Ok(self.lock().synced_seq)
    }

    /// Up to `max` durable records after `after`, in order, each checked against its
    /// chain and MAC as it is read, and the seals met on the way. `cursor` remembers
    /// where the last call stopped, so that reading on costs only the new frames.
    pub(crate) fn read_chain(
        &self,
        cursor: &mut ChainCursor,
        after: u64,
        max: usize,
    ) -> Result<ChainBatch> {
        let synced = self.durable_seq()?;
        let (seg_now, written_now) = {
            let w = self.lock();
            (w.seg_index, w.written_len)
        };
        let mut out = ChainBatch::default();
        if synced <= after {
            return Ok(out);
        }
        if !cursor.valid || cursor.next_seq != after + 1 {
            *cursor = self.locate(after + 1)?;
        }
        'segments: while out.records.len() < max && cursor.next_seq <= synced {
            let path = self.dir.join(segment_name(cursor.segment));
            if cursor.segment > seg_now {
                break;
            }
            let mut file = match std::fs::File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
                Err(e) => return Err(Error::io(&path, e)),
            };
            if cursor.offset == 0 {
                let mut head = [0u8; HEADER_LEN];
                file.read_exact(&mut head)
                    .map_err(|e| Error::io(&path, e))?;
                let h = Header::decode(&head, &self.mac).map_err(|m| {
                    tampered(cursor.next_seq, format!("segment {}: {m}", cursor.segment))
                })?;
                if h.first_seq != cursor.next_seq || !ct_eq(&h.prev_head, &cursor.head) {
                    return Err(tampered(
                        cursor.next_seq,
                        format!(
                            "segment {} does not continue the chain of the segment before it",
                            cursor.segment
                        ),
                    ));
                }
                cursor.offset = HEADER_LEN as u64;
            }
            let end = if cursor.segment == seg_now {
                written_now
            } else {
                file.metadata().map_err(|e| Error::io(&path, e))?.len()
            };
            if end <= cursor.offset {
                break;
            }
            let mut bytes = Vec::new();
            file.seek(SeekFrom::Start(cursor.offset))
                .and_then(|_| {
                    (&mut file)
                        .take(end - cursor.offset)
                        .read_to_end(&mut bytes)
                })
                .map_err(|e| Error::io(&path, e))?;
            let mut at = 0usize;
            while at < bytes.len() {
                let frame = match read_frame(&bytes[at..]) {
                    FrameRead::Ok(f) => f,
                    // Not yet complete on disk, or zeros ahead of the records: later.
                    FrameRead::Incomplete | FrameRead::BadChecksum { .. } => break 'segments,
                };
                match frame.kind {
                    KIND_RECORD => {
                        let seq = cursor.next_seq;
                        if frame.seq != seq {
                            return Err(tampered(
                                seq,
                                format!(
                                    "segment {}: record {} stands where record {seq} should be",
                                    cursor.segment, frame.seq
                                ),
                            ));
                        }
                        if seq > synced || out.records.len() >= max {
                            break 'segments;
                        }
                        let leaf = self.suite.leaf(seq, frame.payload);
                        let head = self.suite.link(&cursor.head, &leaf);
                        let tag = self.mac.record_tag(&head);
                        if !ct_eq(&tag, frame.tag) {
                            return Err(tampered(
                                seq,
                                format!(
                                    "segment {}: record {seq} does not authenticate (modified or forged)",
                                    cursor.segment
                                ),
                            ));
                        }
                        if seq > after {
                            out.records.push(ChainedRecord {
                                payload: frame.payload.to_vec(),
                                prev_head: cursor.head,
                                head,
                                tag,
                                record: decode_payload(seq, frame.payload)?,
                            });
                        }
                        cursor.head = head;
                        cursor.next_seq += 1;
                        cursor.offset += frame.len as u64;
                        at += frame.len;
                    }
                    KIND_SEAL => {
                        let seal = Seal::decode_payload(frame.payload).ok_or_else(|| {
                            tampered(
                                cursor.next_seq,
                                format!("segment {}: the seal is malformed", cursor.segment),
                            )
                        })?;
                        if !ct_eq(&seal.tag(&self.mac, &self.log_id), frame.tag)
                            || seal.last_seq + 1 != cursor.next_seq
                            || !ct_eq(&seal.head, &cursor.head)
                        {
                            return Err(tampered(
                                cursor.next_seq,
                                format!(
                                    "segment {}: the seal does not match its records",
                                    cursor.segment
                                ),
                            ));
                        }
                        let mut tag = [0u8; 32];
                        tag.copy_from_slice(frame.tag);
                        out.seals.push(SealFrame {
                            segment: seal.index,
                            first_seq: seal.first_seq,
                            last_seq: seal.last_seq,
                            sealed_at: seal.sealed_at,
                            payload: frame.payload.to_vec(),
                            tag,
                        });
                        cursor.segment += 1;
                        cursor.offset = 0;
                        continue 'segments;
                    }
                    other => {
                        return Err(tampered(
                            cursor.next_seq,
                            format!("segment {}: unknown frame kind {other}", cursor.segment),
                        ));
                    }
                }
            }
            if cursor.segment >= seg_now {
                break;
            }
            // A closed segment read to its end without a seal: the roll that seals it
            // has not finished; try again later.
            break;
        }
        Ok(out)
    }

    /// A cursor at the segment that holds record `seq`.
    fn locate(&self, seq: u64) -> Result<ChainCursor> {
        let meta = self.meta();
        let (_, base_seq, base_head) = meta.base();
        if seq < base_seq {
            return Err(tampered(
                seq,
                format!(
                    "record {seq} was purged from the local log before it was shipped (the log begins at record {base_seq})"
                ),
            ));
        }
        let mut starts: Vec<ChainCursor> = Vec::new();
        for (index, path) in scan::live_segments(&self.dir, &meta)? {
            let mut head = [0u8; HEADER_LEN];
            let read = std::fs::File::open(&path).and_then(|mut f| f.read_exact(&mut head));
            if read.is_err() {
                break;
            }
            let Ok(h) = Header::decode(&head, &self.mac) else {
                break;
            };
            if h.first_seq > seq {
                break;
            }
            starts.push(ChainCursor {
                segment: index,
                offset: 0,
                next_seq: h.first_seq,
                head: h.prev_head,
                valid: true,
            });
        }
        // A segment that begins at `seq` is read from the one before it, so that the
        // seal closing that one is handed out again (a reader that stopped between
        // the last record of a segment and its seal has not seen it).
        let pick = match starts.len() {
            0 => None,
            n if n >= 2 && starts[n - 1].next_seq == seq => starts.get(n - 2).cloned(),
            n => starts.get(n - 1).cloned(),
        };
        Ok(pick.unwrap_or(ChainCursor {
            segment: meta.base().0,
            offset: 0,
            next_seq: base_seq,
            head: base_head,
            valid: true,
        }))
    }

    /// The first record the log holds and the chain head before it (genesis, or the
    /// purge horizon).
    pub(crate) fn chain_base(&self) -> (u64, Hash) {
        let (_, seq, head) = self.meta().base();
        (seq, head)
    }
}

/// The log's rules, applied to records and seals held elsewhere (a store's rows).
#[derive(Debug, Clone)]
pub(crate) struct ChainCheck {
    suite: HashSuite,
    mac: Mac32,
    log_id: [u8; 16],
}

impl ChainCheck {
    /// The checks of log `log_id` in `suite` under `key`.
    pub(crate) fn new(key: &SealingKey, suite: HashSuite, log_id: [u8; 16]) -> Result<Self> {
        Ok(ChainCheck {
            suite,
            mac: Mac32::new(suite, key)?,
            log_id,
        })
    }

    /// The key check value of `key` in `suite` (as [`LogIdentity::key_check`]).
    pub(crate) fn key_check_of(key: &SealingKey, suite: HashSuite) -> Result<String> {
        Ok(key_check(&Mac32::new(suite, key)?))
    }

    /// The head of the log before its first record.
    pub(crate) fn genesis(&self) -> Hash {
        self.suite.genesis(&self.log_id)
    }

    /// The record's leaf hash.
    pub(crate) fn leaf(&self, seq: u64, payload: &[u8]) -> Hash {
        self.suite.leaf(seq, payload)
    }

    /// The head after a record whose leaf is `leaf`.
    pub(crate) fn link(&self, prev: &Hash, leaf: &Hash) -> Hash {
        self.suite.link(prev, leaf)
    }

    /// Whether `tag` is the record MAC of `head`.
    pub(crate) fn record_tag_ok(&self, head: &Hash, tag: &[u8]) -> bool {
        ct_eq(&self.mac.record_tag(head), tag)
    }

    /// Whether `binding` binds this log to `node_id`.
    pub(crate) fn binding_ok(&self, node_id: &str, binding: &[u8]) -> bool {
        self.mac
            .check(&[NODE_BINDING, &self.log_id, node_id.as_bytes()], binding)
    }

    /// A seal's payload checked: its MAC, and then what it states (segment, first and
    /// last record, head, Merkle root). `None` when it does not authenticate.
    pub(crate) fn seal(&self, payload: &[u8], tag: &[u8]) -> Option<(u64, u64, u64, Hash, Hash)> {
        let s = Seal::decode_payload(payload)?;
        ct_eq(&s.tag(&self.mac, &self.log_id), tag).then_some((
            s.index,
            s.first_seq,
            s.last_seq,
            s.head,
            s.root,
        ))
    }

    /// The RFC 6962 root of `leaves`.
    pub(crate) fn merkle_root(&self, leaves: &[Hash]) -> Hash {
        merkle::root(self.suite, leaves)
    }

    /// The record a payload holds.
    pub(crate) fn decode(seq: u64, payload: &[u8]) -> Result<AuditRecord> {
        decode_payload(seq, payload)
    }
}
