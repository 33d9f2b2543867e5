//! The ciphertext formats: one header, then one sealed record or a STREAM of chunks.
//!
//! ```text
//! header   magic "GDVT" | format version (1) | kind (1 record, 2 stream) | suite
//!          | log2 chunk size (0 for a record) | key version (u32 BE)
//!          | key id length (u8) | key id (ASCII) | seed (24 random bytes)
//! record   header | ciphertext | tag (16)
//! stream   header | chunk 0 | chunk 1 | … | chunk n-1
//! chunk    ciphertext of chunk-size bytes (the last one: 0..=chunk-size) | tag (16)
//! ```
//!
//! Associated data of every seal: the whole header, the dataset id, the grade, the
//! chunk index (u32 BE) and the last-chunk flag (a record is chunk 0, last). The nonce
//! carries the chunk index and the flag too (the STREAM construction of Hoang,
//! Reyhanitabar, Rogaway and Vizár): a truncated, extended, reordered or spliced stream
//! fails to authenticate.
//!
//! Keys and nonces: XChaCha20-Poly1305 uses the data key's suite subkey; a record's
//! nonce is the 192-bit random seed, a stream's chunk nonce is the first 19 bytes of
//! the seed, the chunk index and the flag. SM4-GCM's 96-bit nonces are too short to
//! draw at random for long-lived keys, so every SM4-GCM message gets its own key,
//! derived with HMAC-SM3 from the data key and the 192-bit seed; its nonces are then
//! the chunk index and the flag alone. Either way no (key, nonce) pair repeats.

use super::keys::{fill_random, SecretKey};
use super::suite::{Cipher, Suite, TAG_LEN};
use crate::error::{Error, Result};
use crate::model::Grade;
use rayon::prelude::*;
use std::io::{self, Read, Write};
use zeroize::Zeroize;

const MAGIC: &[u8; 4] = b"GDVT";
/// The current format version.
pub const FORMAT_VERSION: u8 = 1;
const KIND_RECORD: u8 = 1;
const KIND_STREAM: u8 = 2;
const SEED_LEN: usize = 24;
const MAX_KEY_ID: usize = 64;
/// The default chunk size of streams: 64 KiB.
pub const DEFAULT_CHUNK_SIZE: usize = 1 << 16;
/// The smallest chunk size: 4 KiB.
pub const MIN_CHUNK_LOG2: u8 = 12;
/// The largest chunk size: 16 MiB.
pub const MAX_CHUNK_LOG2: u8 = 24;

/// What a ciphertext header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub(crate) kind: u8,
    pub(crate) suite: Suite,
    pub(crate) chunk_log2: u8,
    pub(crate) key_version: u32,
    pub(crate) key_id: String,
    pub(crate) seed: [u8; SEED_LEN],
}

impl Header {
    /// The suite the data was encrypted with.
    pub fn suite(&self) -> Suite {
        self.suite
    }
    /// The id of the data key.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }
    /// The version of the data key within its dataset.
    pub fn key_version(&self) -> u32 {
        self.key_version
    }
    /// Whether this is a stream (a file) rather than a record.
    pub fn is_stream(&self) -> bool {
        self.kind == KIND_STREAM
    }
    /// The chunk size of a stream (0 for a record).
    pub fn chunk_size(&self) -> usize {
        if self.kind == KIND_STREAM {
            1usize << self.chunk_log2
        } else {
            0
        }
    }

    pub(crate) fn new(
        stream: bool,
        suite: Suite,
        chunk_size: usize,
        key_version: u32,
        key_id: &str,
    ) -> Result<Header> {
        let chunk_log2 = if stream {
            if !chunk_size.is_power_of_two() {
                return Err(Error::request(format!(
                    "chunk size {chunk_size} is not a power of two"
                )));
            }
            let log2 = chunk_size.trailing_zeros();
            if log2 < u32::from(MIN_CHUNK_LOG2) || log2 > u32::from(MAX_CHUNK_LOG2) {
                return Err(Error::request(format!(
                    "chunk size {chunk_size} is outside 4 KiB..=16 MiB"
                )));
            }
            log2 as u8
        } else {
            0
        };
        let mut seed = [0u8; SEED_LEN];
        fill_random(&mut seed)?;
        Ok(Header {
            kind: if stream { KIND_STREAM } else { KIND_RECORD },
            suite,
            chunk_log2,
            key_version,
            key_id: key_id.to_owned(),
            seed,
        })
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(13 + self.key_id.len() + SEED_LEN);
        out.extend_from_slice(MAGIC);
        out.push(FORMAT_VERSION);
        out.push(self.kind);
        out.push(self.suite.code());
        out.push(self.chunk_log2);
        out.extend_from_slice(&self.key_version.to_be_bytes());
        out.push(self.key_id.len() as u8);
        out.extend_from_slice(self.key_id.as_bytes());
        out.extend_from_slice(&self.seed);
        out
    }

    /// Parses a header from the start of `bytes`; returns it and its length.
    pub fn parse(bytes: &[u8]) -> Result<(Header, usize)> {
        let bad = |what: &str| Error::CryptoAuthFailed {
            message: format!("not a vault ciphertext: {what}"),
        };
        if bytes.len() < 13 || &bytes[..4] != MAGIC {
            return Err(bad("no header"));
        }
        if bytes[4] != FORMAT_VERSION {
            return Err(bad("unknown format version"));
        }
        let kind = bytes[5];
        if kind != KIND_RECORD && kind != KIND_STREAM {
            return Err(bad("unknown kind"));
        }
        let suite = Suite::from_code(bytes[6]).ok_or_else(|| bad("unknown suite"))?;
        let chunk_log2 = bytes[7];
        let chunk_ok = if kind == KIND_STREAM {
            (MIN_CHUNK_LOG2..=MAX_CHUNK_LOG2).contains(&chunk_log2)
        } else {
            chunk_log2 == 0
        };
        if !chunk_ok {
            return Err(bad("bad chunk size"));
        }
        let key_version = u32::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        let id_len = usize::from(bytes[12]);
        if id_len == 0 || id_len > MAX_KEY_ID {
            return Err(bad("bad key id"));
        }
        let end = 13 + id_len + SEED_LEN;
        if bytes.len() < end {
            return Err(bad("truncated header"));
        }
        let key_id = std::str::from_utf8(&bytes[13..13 + id_len])
            .ok()
            .filter(|s| s.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or_else(|| bad("bad key id"))?
            .to_owned();
        let mut seed = [0u8; SEED_LEN];
        seed.copy_from_slice(&bytes[13 + id_len..end]);
        Ok((
            Header {
                kind,
                suite,
                chunk_log2,
                key_version,
                key_id,
                seed,
            },
            end,
        ))
    }

    /// Reads a header from a stream.
    pub(crate) fn read_from(reader: &mut dyn Read) -> Result<Header> {
        let mut fixed = [0u8; 13];
        let n = read_full(reader, &mut fixed).map_err(|e| Error::io("<input>", e))?;
        if n < fixed.len() {
            return Header::parse(&fixed[..n]).map(|(h, _)| h);
        }
        let id_len = usize::from(fixed[12]);
        let mut rest = vec![0u8; id_len + SEED_LEN];
        let m = read_full(reader, &mut rest).map_err(|e| Error::io("<input>", e))?;
        let mut all = fixed.to_vec();
        all.extend_from_slice(&rest[..m]);
        Header::parse(&all).map(|(h, _)| h)
    }
}

/// The keyed state of one message: the cipher, the nonce prefix and the associated
/// data that every chunk shares.
pub(crate) struct Sealer {
    cipher: Cipher,
    suite: Suite,
    seed: [u8; SEED_LEN],
    stream: bool,
    aad_prefix: Vec<u8>,
}

impl Sealer {
    /// `data_key` is the dataset's data key (the root of the suite subkeys).
    pub(crate) fn new(
        header: &Header,
        data_key: &SecretKey,
        dataset: &str,
        grade: Grade,
    ) -> Result<Sealer> {
        let suite = header.suite;
        let subkey = suite.derive(data_key, &format!("data/{}", suite.as_str()), &[])?;
        let cipher = match suite {
            Suite::XChaCha20Poly1305 => Cipher::new(suite, &subkey)?,
            Suite::Sm4Gcm => {
                let message_key = suite.derive(&subkey, "message", &header.seed)?;
                Cipher::new(suite, &message_key)?
            }
        };
        let mut aad_prefix = header.encode();
        aad_prefix.extend_from_slice(&(dataset.len() as u32).to_be_bytes());
        aad_prefix.extend_from_slice(dataset.as_bytes());
        let grade = grade.as_str();
        aad_prefix.push(grade.len() as u8);
        aad_prefix.extend_from_slice(grade.as_bytes());
        Ok(Sealer {
            cipher,
            suite,
            seed: header.seed,
            stream: header.kind == KIND_STREAM,
            aad_prefix,
        })
    }

    fn nonce(&self, index: u32, last: bool) -> ([u8; 24], usize) {
        let mut nonce = [0u8; 24];
        let n = self.suite.nonce_len();
        match (self.suite, self.stream) {
            (Suite::XChaCha20Poly1305, false) => nonce.copy_from_slice(&self.seed),
            (Suite::XChaCha20Poly1305, true) => {
                nonce[..19].copy_from_slice(&self.seed[..19]);
                nonce[19..23].copy_from_slice(&index.to_be_bytes());
                nonce[23] = u8::from(last);
            }
            // A per-message key: the nonce needs only to be unique within the message.
            (Suite::Sm4Gcm, _) => {
                nonce[7..11].copy_from_slice(&index.to_be_bytes());
                nonce[11] = u8::from(last);
            }
        }
        (nonce, n)
    }

    fn aad(&self, index: u32, last: bool) -> Vec<u8> {
        let mut aad = Vec::with_capacity(self.aad_prefix.len() + 5);
        aad.extend_from_slice(&self.aad_prefix);
        aad.extend_from_slice(&index.to_be_bytes());
        aad.push(u8::from(last));
        aad
    }

    /// Seals chunk `index` from `input` into `out` (input length + 16).
    pub(crate) fn seal_chunk(
        &self,
        index: u32,
        last: bool,
        input: &[u8],
        out: &mut [u8],
    ) -> Result<()> {
        let (nonce, n) = self.nonce(index, last);
        let (body, tag) = out.split_at_mut(input.len());
        let t = self
            .cipher
            .seal_to(&nonce[..n], &self.aad(index, last), input, body)?;
        tag.copy_from_slice(&t);
        Ok(())
    }

    /// Opens chunk `index` (ciphertext and tag in `input`) into `out` (input length - 16).
    pub(crate) fn open_chunk(
        &self,
        index: u32,
        last: bool,
        input: &[u8],
        out: &mut [u8],
    ) -> Result<()> {
        let Some(body_len) = input.len().checked_sub(TAG_LEN) else {
            return Err(Error::CryptoAuthFailed {
                message: format!("chunk {index} is truncated"),
            });
        };
        let (nonce, n) = self.nonce(index, last);
        let (body, tag) = input.split_at(body_len);
        let what = || {
            if self.stream {
                format!("chunk {index} of the stream failed authentication (tampered, truncated, reordered, or not this dataset and grade)")
            } else {
                "the record failed authentication (tampered, or not this dataset and grade)"
                    .to_string()
            }
        };
        self.cipher.open_to(
            &nonce[..n],
            &self.aad(index, last),
            body,
            &mut out[..body_len],
            tag,
            &what,
        )
    }
}

/// Seals one record: header, ciphertext, tag.
pub(crate) fn seal_record(header: &Header, sealer: &Sealer, plaintext: &[u8]) -> Result<Vec<u8>> {
    let mut out = header.encode();
    let start = out.len();
    out.resize(start + plaintext.len() + TAG_LEN, 0);
    sealer.seal_chunk(0, true, plaintext, &mut out[start..])?;
    Ok(out)
}

/// Opens one record whose header (of `header_len` bytes) was already parsed.
pub(crate) fn open_record(
    sealer: &Sealer,
    ciphertext: &[u8],
    header_len: usize,
) -> Result<Vec<u8>> {
    let body = &ciphertext[header_len..];
    let mut out = vec![0u8; body.len().saturating_sub(TAG_LEN)];
    sealer.open_chunk(0, true, body, &mut out)?;
    Ok(out)
}

/// How many chunks a batch holds per worker thread.
const CHUNKS_PER_THREAD: usize = 4;

/// The number of chunks in one batch.
fn batch_chunks() -> usize {
    rayon::current_num_threads().max(1) * CHUNKS_PER_THREAD
}

/// Reads until `buf` is full or the input ends; returns how much was read.
pub(crate) fn read_full(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// One batch of input: its bytes and whether the input ends with it.
struct Batch {
    buf: Vec<u8>,
    last: bool,
}

/// Reads the next batch of up to `cap` bytes, with one byte of look-ahead so that the
/// final batch is known as final.
fn read_batch(
    reader: &mut (dyn Read + Send),
    carry: &mut Option<u8>,
    buf: &mut Vec<u8>,
    cap: usize,
) -> Result<bool> {
    // Full batches reuse the buffer as it is: no clearing, no zero-filling.
    buf.resize(cap, 0);
    let mut start = 0;
    if let Some(b) = carry.take() {
        buf[0] = b;
        start = 1;
    }
    let n = read_full(reader, &mut buf[start..]).map_err(|e| Error::io("<input>", e))?;
    buf.truncate(start + n);
    if buf.len() < cap {
        return Ok(true);
    }
    let mut one = [0u8; 1];
    let m = read_full(reader, &mut one).map_err(|e| Error::io("<input>", e))?;
    if m == 0 {
        Ok(true)
    } else {
        *carry = Some(one[0]);
        Ok(false)
    }
}

/// Progress: called with the number of input bytes consumed so far.
pub type Progress<'a> = &'a (dyn Fn(u64) + Sync);

/// The work on one batch: seal or open its chunks (numbered from the first argument)
/// into the output buffer; returns how many chunks it held.
type BatchWork<'a> = dyn Fn(u64, &Batch, &mut Vec<u8>) -> Result<u64> + Sync + 'a;

/// Encrypts or decrypts a stream batch by batch: while the thread pool works on batch
/// k, this thread writes batch k-1 and reads batch k+1. Memory: two input and two
/// output batches, each a few chunks per core.
fn pipeline(
    reader: &mut (dyn Read + Send),
    writer: &mut (dyn Write + Send),
    in_cap: usize,
    progress: Option<Progress<'_>>,
    first: Option<Vec<u8>>,
    work: &BatchWork<'_>,
) -> Result<u64> {
    let mut carry: Option<u8> = None;
    let mut cur = Batch {
        buf: Vec::with_capacity(in_cap),
        last: false,
    };
    cur.last = read_batch(reader, &mut carry, &mut cur.buf, in_cap)?;
    if let Some(prefix) = first {
        writer
            .write_all(&prefix)
            .map_err(|e| Error::io("<output>", e))?;
    }
    let mut next = Batch {
        buf: Vec::with_capacity(in_cap),
        last: false,
    };
    let mut out_cur: Vec<u8> = Vec::new();
    let mut out_prev: Vec<u8> = Vec::new();
    let mut prev_pending = false;
    let mut index: u64 = 0;
    let mut consumed: u64 = 0;
    loop {
        let cur_last = cur.last;
        let (done, io) = rayon::join(
            || work(index, &cur, &mut out_cur),
            || -> Result<bool> {
                if prev_pending {
                    writer
                        .write_all(&out_prev)
                        .map_err(|e| Error::io("<output>", e))?;
                }
                if cur_last {
                    return Ok(true);
                }
                next.last = read_batch(reader, &mut carry, &mut next.buf, in_cap)?;
                Ok(false)
            },
        );
        let chunks = match done {
            Ok(c) => c,
            Err(e) => {
                out_cur.zeroize();
                return Err(e);
            }
        };
        if let Err(e) = io {
            out_cur.zeroize();
            return Err(e);
        }
        index += chunks;
        consumed += cur.buf.len() as u64;
        if let Some(p) = progress {
            p(consumed);
        }
        std::mem::swap(&mut out_cur, &mut out_prev);
        prev_pending = true;
        if cur_last {
            break;
        }
        std::mem::swap(&mut cur, &mut next);
    }
    writer
        .write_all(&out_prev)
        .map_err(|e| Error::io("<output>", e))?;
    out_prev.zeroize();
    out_cur.zeroize();
    cur.buf.zeroize();
    next.buf.zeroize();
    writer.flush().map_err(|e| Error::io("<output>", e))?;
    Ok(consumed)
}

fn chunk_index(base: u64, i: usize) -> Result<u32> {
    u32::try_from(base + i as u64).map_err(|_| {
        Error::request("the stream is too long for its chunk size (2^32 chunks at most)")
    })
}

/// Encrypts `reader` into `writer` as a stream; returns the plaintext length.
pub(crate) fn seal_stream(
    header: &Header,
    sealer: &Sealer,
    reader: &mut (dyn Read + Send),
    writer: &mut (dyn Write + Send),
    progress: Option<Progress<'_>>,
) -> Result<u64> {
    let chunk = header.chunk_size();
    let in_cap = chunk * batch_chunks();
    let work = |base: u64, batch: &Batch, out: &mut Vec<u8>| -> Result<u64> {
        let len = batch.buf.len();
        // An empty final batch is only possible for an empty input: one empty chunk.
        let n = if len == 0 { 1 } else { len.div_ceil(chunk) };
        out.resize(len + n * TAG_LEN, 0);
        let results: Vec<Result<()>> = batch
            .buf
            .par_chunks(chunk.max(1))
            .zip(out.par_chunks_mut(chunk + TAG_LEN))
            .enumerate()
            .map(|(i, (input, output))| {
                let last = batch.last && i + 1 == n;
                sealer.seal_chunk(chunk_index(base, i)?, last, input, output)
            })
            .collect();
        if len == 0 {
            sealer.seal_chunk(chunk_index(base, 0)?, true, &[], &mut out[..TAG_LEN])?;
        }
        results.into_iter().collect::<Result<Vec<()>>>()?;
        Ok(n as u64)
    };
    pipeline(
        reader,
        writer,
        in_cap,
        progress,
        Some(header.encode()),
        &work,
    )
}

/// Decrypts a stream (its header already read) from `reader` into `writer`; returns
/// the plaintext length. Only authenticated chunks are written, but a stream cut
/// short is detected only at its end: the caller discards the output on error.
pub(crate) fn open_stream(
    header: &Header,
    sealer: &Sealer,
    reader: &mut (dyn Read + Send),
    writer: &mut (dyn Write + Send),
    progress: Option<Progress<'_>>,
) -> Result<u64> {
    let chunk = header.chunk_size() + TAG_LEN;
    let in_cap = chunk * batch_chunks();
    let work = |base: u64, batch: &Batch, out: &mut Vec<u8>| -> Result<u64> {
        let len = batch.buf.len();
        if len == 0 {
            return Err(Error::CryptoAuthFailed {
                message: format!("the stream is truncated before chunk {base}"),
            });
        }
        let n = len.div_ceil(chunk);
        if !len.is_multiple_of(chunk) && len % chunk < TAG_LEN {
            return Err(Error::CryptoAuthFailed {
                message: format!("chunk {} is truncated", base + n as u64 - 1),
            });
        }
        out.resize(len - n * TAG_LEN, 0);
        let results: Vec<Result<()>> = batch
            .buf
            .par_chunks(chunk)
            .zip(out.par_chunks_mut(chunk - TAG_LEN))
            .enumerate()
            .map(|(i, (input, output))| {
                let last = batch.last && i + 1 == n;
                sealer.open_chunk(chunk_index(base, i)?, last, input, output)
            })
            .collect();
        results.into_iter().collect::<Result<Vec<()>>>()?;
        // A final chunk of a tag alone (an empty plaintext chunk) has no output chunk to
        // pair with above, so it is opened here: unchecked, it would let a stream cut at
        // a chunk boundary pass with any 16 bytes after the cut.
        if len % chunk == TAG_LEN {
            let index = chunk_index(base, n - 1)?;
            sealer.open_chunk(index, batch.last, &batch.buf[len - TAG_LEN..], &mut [])?;
        }
        Ok(n as u64)
    };
    pipeline(reader, writer, in_cap, progress, None, &work).map(|consumed| {
        let chunks = consumed.div_ceil(chunk as u64);
        consumed - chunks * TAG_LEN as u64
    })
}
