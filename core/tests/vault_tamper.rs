//! Every way a ciphertext can be altered, for both suites: each is
//! `crypto_auth_failed`, and no plaintext comes out.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "helpers of the tests fail loudly too"
)]

mod vault_support;

use govdata::model::Grade;
use govdata::vault::{Header, Suite};
use vault_support::*;

const CHUNK: usize = 4096;
const SEALED: usize = CHUNK + 16;

fn auth_failed(r: govdata::Result<Vec<u8>>, what: &str) {
    match r {
        Ok(_) => panic!("{what}: tampered data decrypted"),
        Err(e) => assert_eq!(e.code(), "crypto_auth_failed", "{what}: {e}"),
    }
}

/// A stream of `len` bytes with its header length.
fn sealed_stream(f: &Fixture, suite: Suite, len: usize, seed: u8) -> (Vec<u8>, usize) {
    let ct = encrypt_stream(&f.vault, "hukou", Grade::L4, suite, &data(len, seed));
    let (_, hlen) = Header::parse(&ct).unwrap();
    (ct, hlen)
}

#[test]
fn every_flipped_bit_of_a_record_fails() {
    for &suite in Suite::ALL {
        let f = fixture("flip-rec", suite);
        let ct = f
            .vault
            .encrypt("hukou", Grade::L4, b"a short record")
            .unwrap();
        for byte in 0..ct.len() {
            for bit in 0..8 {
                let mut bad = ct.clone();
                bad[byte] ^= 1 << bit;
                let r = f.vault.decrypt("hukou", Grade::L4, &bad);
                // A flip in the key id may name no key at all: that is not found, not
                // a decryption. Everything else must fail authentication.
                match r {
                    Ok(_) => panic!("{suite}: bit {bit} of byte {byte} went unnoticed"),
                    Err(e) => assert!(
                        matches!(e.code(), "crypto_auth_failed" | "key_not_found"),
                        "{suite}: byte {byte}: {e}"
                    ),
                }
            }
        }
    }
}

#[test]
fn flipped_bits_anywhere_in_a_stream_fail() {
    for &suite in Suite::ALL {
        let f = fixture("flip-stream", suite);
        let (ct, hlen) = sealed_stream(&f, suite, 3 * CHUNK + 100, 1);
        // Header bytes (excluding the key id, which may name no key), the first and
        // last byte of every chunk body, every tag byte of the last chunk.
        let mut positions: Vec<usize> = (0..12).chain(hlen - 24..hlen).collect();
        for c in 0..4 {
            let start = hlen + c * SEALED;
            positions.push(start);
            positions.push((start + SEALED - 1).min(ct.len() - 1));
        }
        positions.extend(ct.len() - 16..ct.len());
        for p in positions {
            let mut bad = ct.clone();
            bad[p] ^= 0x80;
            auth_failed(
                decrypt_stream(&f.vault, "hukou", Grade::L4, &bad),
                &format!("{suite}: flip at {p}"),
            );
        }
    }
}

#[test]
fn truncated_streams_fail() {
    for &suite in Suite::ALL {
        let f = fixture("trunc", suite);
        for len in [0, 10, CHUNK, 2 * CHUNK, 3 * CHUNK + 100, 12 * CHUNK] {
            let (ct, hlen) = sealed_stream(&f, suite, len, 2);
            let mut cuts = vec![
                hlen,
                hlen + 1,
                hlen + 15,
                ct.len() - 1,
                ct.len() - 16,
                hlen - 1,
                5,
            ];
            // At every chunk boundary: the classic truncation attack on chunked
            // encryption without a last-chunk flag.
            let mut b = hlen + SEALED;
            while b < ct.len() {
                cuts.push(b);
                b += SEALED;
            }
            for cut in cuts {
                if cut >= ct.len() {
                    continue;
                }
                auth_failed(
                    decrypt_stream(&f.vault, "hukou", Grade::L4, &ct[..cut]),
                    &format!("{suite}: {len} bytes cut at {cut}"),
                );
            }
        }
    }
}

#[test]
fn reordered_duplicated_dropped_and_appended_chunks_fail() {
    for &suite in Suite::ALL {
        let f = fixture("order", suite);
        let (ct, hlen) = sealed_stream(&f, suite, 4 * CHUNK + 7, 3);
        let chunks: Vec<&[u8]> = ct[hlen..].chunks(SEALED).collect();
        assert_eq!(chunks.len(), 5);
        let header = &ct[..hlen];
        let build = |order: &[usize]| {
            let mut v = header.to_vec();
            for &i in order {
                v.extend_from_slice(chunks[i]);
            }
            v
        };
        for (what, order) in [
            ("swap 0 and 1", vec![1, 0, 2, 3, 4]),
            ("swap 2 and 3", vec![0, 1, 3, 2, 4]),
            ("duplicate 1", vec![0, 1, 1, 2, 3, 4]),
            ("drop 2", vec![0, 1, 3, 4]),
            ("drop last", vec![0, 1, 2, 3]),
            ("last moved first", vec![4, 0, 1, 2, 3]),
            ("last twice", vec![0, 1, 2, 3, 4, 4]),
        ] {
            auth_failed(
                decrypt_stream(&f.vault, "hukou", Grade::L4, &build(&order)),
                &format!("{suite}: {what}"),
            );
        }
        // Data appended after the last chunk.
        let mut extended = ct.clone();
        extended.extend_from_slice(&[0u8; 32]);
        auth_failed(
            decrypt_stream(&f.vault, "hukou", Grade::L4, &extended),
            &format!("{suite}: appended bytes"),
        );
    }
}

#[test]
fn chunks_spliced_between_streams_fail() {
    for &suite in Suite::ALL {
        let f = fixture("splice", suite);
        let (a, hlen) = sealed_stream(&f, suite, 3 * CHUNK, 4);
        let (b, hlen_b) = sealed_stream(&f, suite, 3 * CHUNK, 4);
        assert_eq!(hlen, hlen_b);
        // Same dataset, key, length and plaintext: only the per-stream seed differs.
        let mut spliced = a[..hlen + SEALED].to_vec();
        spliced.extend_from_slice(&b[hlen + SEALED..]);
        auth_failed(
            decrypt_stream(&f.vault, "hukou", Grade::L4, &spliced),
            &format!("{suite}: chunks of another stream"),
        );
        // The header of one stream on the chunks of another.
        let mut swapped = b[..hlen].to_vec();
        swapped.extend_from_slice(&a[hlen..]);
        auth_failed(
            decrypt_stream(&f.vault, "hukou", Grade::L4, &swapped),
            &format!("{suite}: header of another stream"),
        );
    }
}

#[test]
fn ciphertexts_moved_to_another_dataset_or_grade_fail() {
    for &suite in Suite::ALL {
        let f = fixture("moved", suite);
        let record = f.vault.encrypt("hukou", Grade::L4, b"household").unwrap();
        let (stream, _) = sealed_stream(&f, suite, CHUNK + 1, 5);
        auth_failed(
            f.vault.decrypt("social-insurance", Grade::L4, &record),
            "record to another dataset",
        );
        auth_failed(
            f.vault.decrypt("hukou", Grade::L3, &record),
            "record to another grade",
        );
        auth_failed(
            decrypt_stream(&f.vault, "social-insurance", Grade::L4, &stream),
            "stream to another dataset",
        );
        auth_failed(
            decrypt_stream(&f.vault, "hukou", Grade::Important, &stream),
            "stream to another grade",
        );
        // A record read as a stream and a stream read as a record.
        auth_failed(
            decrypt_stream(&f.vault, "hukou", Grade::L4, &record),
            "record as stream",
        );
        auth_failed(
            f.vault.decrypt("hukou", Grade::L4, &stream),
            "stream as record",
        );
        // Garbage and empty input.
        auth_failed(f.vault.decrypt("hukou", Grade::L4, b""), "empty record");
        auth_failed(
            decrypt_stream(&f.vault, "hukou", Grade::L4, b"GDVT"),
            "bare magic",
        );
    }
}

#[test]
fn a_tampered_file_never_produces_an_output_file() {
    for &suite in Suite::ALL {
        let f = fixture("file", suite);
        let input = f.scratch.path().join("plain");
        let sealed = f.scratch.path().join("sealed");
        let out = f.scratch.path().join("out");
        std::fs::write(&input, data(20 * CHUNK + 3, 6)).unwrap();
        f.vault
            .encrypt_file("hukou", Grade::L4, suite, &input, &sealed, None)
            .unwrap();
        let mut ct = std::fs::read(&sealed).unwrap();
        // Cut the last chunk off: every chunk written before the end authenticates,
        // only the end shows the truncation.
        let (_, hlen) = Header::parse(&ct).unwrap();
        ct.truncate(hlen + 20 * SEALED);
        std::fs::write(&sealed, &ct).unwrap();
        let err = f
            .vault
            .decrypt_file("hukou", Grade::L4, &sealed, &out, None)
            .unwrap_err();
        assert_eq!(err.code(), "crypto_auth_failed");
        assert!(
            !out.exists(),
            "{suite}: output created from a truncated file"
        );
        let leftovers: Vec<_> = std::fs::read_dir(f.scratch.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().contains("partial"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}
