//! Known-answer tests of the suites, run through the vault's own cipher wrapper.

use super::keys::SecretKey;
use super::suite::{Cipher, Suite};
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::ChaCha20Poly1305;

fn h(s: &str) -> Vec<u8> {
    hex::decode(s.split_whitespace().collect::<String>()).unwrap()
}

const LADIES: &[u8] = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
const KEY_80: &str = "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f";
const AAD_50: &str = "50515253c0c1c2c3c4c5c6c7";

/// RFC 8439 section 2.8.2: the ChaCha20-Poly1305 AEAD that XChaCha20-Poly1305 extends.
#[test]
fn rfc8439_chacha20poly1305() {
    let ct = h(
        "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6
                3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36
                92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc
                3ff4def08e4b7a9de576d26586cec64b6116",
    );
    let tag = h("1ae10b594f09e26a7e902ecbd0600691");
    let cipher = ChaCha20Poly1305::new_from_slice(&h(KEY_80)).unwrap();
    let nonce = h("070000004041424344454647");
    let mut buf = LADIES.to_vec();
    let t = cipher
        .encrypt_inout_detached(
            nonce.as_slice().try_into().unwrap(),
            &h(AAD_50),
            buf.as_mut_slice().into(),
        )
        .unwrap();
    assert_eq!(buf, ct);
    assert_eq!(t.as_slice(), tag.as_slice());
}

/// draft-irtf-cfrg-xchacha-03 appendix A.3.1.
#[test]
fn xchacha20poly1305_draft_vector() {
    let ct = h(
        "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb
                731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452
                2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9
                21f9664c97637da9768812f615c68b13b52e",
    );
    let tag = h("c0875924c1c7987947deafd8780acf49");
    let key = SecretKey::from_slice(&h(KEY_80)).unwrap();
    let cipher = Cipher::new(Suite::XChaCha20Poly1305, &key).unwrap();
    let nonce = h("404142434445464748494a4b4c4d4e4f5051525354555657");
    let mut buf = LADIES.to_vec();
    let t = cipher.seal(&nonce, &h(AAD_50), &mut buf).unwrap();
    assert_eq!(buf, ct);
    assert_eq!(t.as_slice(), tag.as_slice());
    cipher
        .open(&nonce, &h(AAD_50), &mut buf, &tag, &|| "x".into())
        .unwrap();
    assert_eq!(buf, LADIES);
}

/// RFC 8998 appendix A.1: SM4-GCM.
#[test]
fn rfc8998_sm4_gcm() {
    let pt = h(
        "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD
                EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA",
    );
    let ct = h(
        "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735
                D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D",
    );
    let tag = h("83DE3541E4C2B58177E065A9BF7B62EC");
    let aad = h("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2");
    let nonce = h("00001234567800000000ABCD");
    // The vault's SM4-GCM takes the first 16 bytes of a 32-byte key.
    let mut key = h("0123456789ABCDEFFEDCBA9876543210");
    key.extend_from_slice(&[0xee; 16]);
    let key = SecretKey::from_slice(&key).unwrap();
    let cipher = Cipher::new(Suite::Sm4Gcm, &key).unwrap();
    let mut buf = pt.clone();
    let t = cipher.seal(&nonce, &aad, &mut buf).unwrap();
    assert_eq!(buf, ct);
    assert_eq!(t.as_slice(), tag.as_slice());
    cipher
        .open(&nonce, &aad, &mut buf, &tag, &|| "x".into())
        .unwrap();
    assert_eq!(buf, pt);
    // A flipped tag bit fails and wipes the buffer.
    let mut bad = tag.clone();
    bad[0] ^= 1;
    let mut buf = ct.clone();
    let err = cipher
        .open(&nonce, &aad, &mut buf, &bad, &|| "x".into())
        .unwrap_err();
    assert_eq!(err.code(), "crypto_auth_failed");
    assert!(buf.iter().all(|b| *b == 0));
}

/// HMAC-SHA-256 (RFC 4231 case 2) and the SM3 digest (GB/T 32905-2016 appendix A)
/// behind the suites' key derivation.
#[test]
fn hmac_known_answers() {
    let mac = Suite::XChaCha20Poly1305
        .hmac(b"Jefe", &[b"what do ya want ", b"for nothing?"])
        .unwrap();
    assert_eq!(
        hex::encode(mac),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    // SM3("abc") per GB/T 32905-2016 appendix A, through the same digest the HMAC uses.
    use sm3::Digest;
    assert_eq!(
        hex::encode(sm3::Sm3::digest(b"abc")),
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    );
}

/// The suites read what the implementations they had before wrote and the other way
/// round (`aes-gcm` over the `sm4` crate for SM4-GCM, the `chacha20poly1305` crate for
/// XChaCha20-Poly1305), on random keys, nonces, associated data and chunk-like lengths,
/// in place and into another buffer.
#[test]
fn suites_interoperate_with_their_earlier_implementations() {
    use aes_gcm::aead::consts::U12;
    use chacha20poly1305::XChaCha20Poly1305;
    use rand::{Rng, RngCore, SeedableRng};
    type OldSm4Gcm = aes_gcm::AesGcm<sm4::Sm4, U12>;

    /// Seals with `A`: (ciphertext, tag).
    fn seal_with<A: AeadInOut + KeyInit>(
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        pt: &[u8],
    ) -> (Vec<u8>, Vec<u8>) {
        let mut buf = pt.to_vec();
        let tag = A::new_from_slice(key)
            .unwrap()
            .encrypt_inout_detached(nonce.try_into().unwrap(), aad, buf.as_mut_slice().into())
            .unwrap();
        (buf, tag.to_vec())
    }

    /// Opens with `A`.
    fn open_with<A: AeadInOut + KeyInit>(
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        ct: &[u8],
        tag: &[u8],
    ) -> Vec<u8> {
        let mut buf = ct.to_vec();
        A::new_from_slice(key)
            .unwrap()
            .decrypt_inout_detached(
                nonce.try_into().unwrap(),
                aad,
                buf.as_mut_slice().into(),
                tag.try_into().unwrap(),
            )
            .unwrap();
        buf
    }

    /// Seals with the earlier implementation of `suite`.
    fn old_seal(
        suite: Suite,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        pt: &[u8],
    ) -> (Vec<u8>, Vec<u8>) {
        match suite {
            Suite::XChaCha20Poly1305 => seal_with::<XChaCha20Poly1305>(key, nonce, aad, pt),
            Suite::Sm4Gcm => seal_with::<OldSm4Gcm>(&key[..16], nonce, aad, pt),
        }
    }

    /// Opens with the earlier implementation of `suite`.
    fn old_open(
        suite: Suite,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        ct: &[u8],
        tag: &[u8],
    ) -> Vec<u8> {
        match suite {
            Suite::XChaCha20Poly1305 => open_with::<XChaCha20Poly1305>(key, nonce, aad, ct, tag),
            Suite::Sm4Gcm => open_with::<OldSm4Gcm>(&key[..16], nonce, aad, ct, tag),
        }
    }

    let mut rng = rand::rngs::StdRng::seed_from_u64(17);
    let mut lengths: Vec<usize> = (0..=300).collect();
    lengths.extend([4095, 4096, 65_536, 65_536 + 53, 200_003]);
    for suite in Suite::ALL.iter().copied() {
        for &len in &lengths {
            let mut key = [0u8; 32];
            rng.fill_bytes(&mut key);
            let mut nonce = vec![0u8; suite.nonce_len()];
            rng.fill_bytes(&mut nonce);
            let mut aad = vec![0u8; rng.gen_range(0..64)];
            rng.fill_bytes(&mut aad);
            let mut pt = vec![0u8; len];
            rng.fill_bytes(&mut pt);
            let cipher = Cipher::new(suite, &SecretKey::from_slice(&key).unwrap()).unwrap();

            // New writes, old reads.
            let mut buf = pt.clone();
            let tag = cipher.seal(&nonce, &aad, &mut buf).unwrap();
            assert_eq!(
                old_open(suite, &key, &nonce, &aad, &buf, &tag),
                pt,
                "{suite} {len}"
            );
            let mut out = vec![0u8; len];
            assert_eq!(cipher.seal_to(&nonce, &aad, &pt, &mut out).unwrap(), tag);
            assert_eq!(out, buf);

            // Old writes, new reads.
            let (ct, old_tag) = old_seal(suite, &key, &nonce, &aad, &pt);
            assert_eq!(
                (&ct, old_tag.as_slice()),
                (&buf, tag.as_slice()),
                "{suite} {len}"
            );
            let mut back = vec![0u8; len];
            cipher
                .open_to(&nonce, &aad, &ct, &mut back, &old_tag, &|| "x".into())
                .unwrap();
            assert_eq!(back, pt);
            let mut back = ct.clone();
            cipher
                .open(&nonce, &aad, &mut back, &old_tag, &|| "x".into())
                .unwrap();
            assert_eq!(back, pt);
        }
    }
}

/// The vault is shared between threads behind an `Arc`, like the engine.
#[test]
fn vault_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<super::Vault>();
    check::<super::MasterKey>();
    check::<super::SecretKey>();
}
