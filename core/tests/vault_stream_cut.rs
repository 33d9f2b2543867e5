//! A stream cut at a chunk boundary never decrypts, whatever follows the cut: the final
//! chunk of a tag alone (an empty plaintext chunk) is authenticated like any other.
//! Found by the `vault_file` fuzz target (`fuzz/regressions/vault_file/`).

mod vault_support;

use govdata::model::Grade;
use govdata::vault::Suite;
use vault_support::{data, encrypt_stream, fixture};

const HEADER: usize = 64;
const CHUNK: usize = 4096 + 16;

#[test]
fn a_stream_cut_at_a_chunk_boundary_with_16_bytes_after_it_is_refused() {
    for suite in [Suite::XChaCha20Poly1305, Suite::Sm4Gcm] {
        let f = fixture("stream-cut", suite);
        let pt = data(3 * 4096 + 100, 7);
        let ct = encrypt_stream(&f.vault, "hukou", Grade::L4, suite, &pt);
        assert_eq!(ct.len(), HEADER + 3 * CHUNK + 100 + 16);
        for boundary in 0..=3 {
            let cut = HEADER + boundary * CHUNK;
            // The 16 bytes after the boundary, and 16 bytes taken from elsewhere.
            for tail in [&ct[cut..cut + 16], &ct[HEADER..HEADER + 16]] {
                let mut forged = ct[..cut].to_vec();
                forged.extend_from_slice(tail);
                let mut out = Vec::new();
                let r =
                    f.vault
                        .decrypt_stream("hukou", Grade::L4, &mut &forged[..], &mut out, None);
                assert_eq!(
                    r.map_err(|e| e.code()),
                    Err("crypto_auth_failed"),
                    "{suite:?}: cut after chunk {boundary} decrypted"
                );
            }
        }
        let mut out = Vec::new();
        f.vault
            .decrypt_stream("hukou", Grade::L4, &mut &ct[..], &mut out, None)
            .unwrap();
        assert_eq!(out, pt);
    }
}

#[test]
fn an_empty_stream_still_decrypts_and_its_tag_is_checked() {
    let f = fixture("stream-empty", Suite::XChaCha20Poly1305);
    let suite = Suite::XChaCha20Poly1305;
    let mut ct = encrypt_stream(&f.vault, "hukou", Grade::L4, suite, &[]);
    assert_eq!(ct.len(), HEADER + 16);
    let mut out = Vec::new();
    assert_eq!(
        f.vault
            .decrypt_stream("hukou", Grade::L4, &mut &ct[..], &mut out, None)
            .unwrap(),
        0
    );
    let last = ct.len() - 1;
    ct[last] ^= 1;
    let r = f
        .vault
        .decrypt_stream("hukou", Grade::L4, &mut &ct[..], &mut out, None);
    assert_eq!(r.unwrap_err().code(), "crypto_auth_failed");
}
