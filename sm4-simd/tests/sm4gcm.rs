//! SM4 and SM4-GCM on every backend this CPU runs, against the published vectors and
//! against the RustCrypto `sm4` and `aes-gcm` crates on random inputs.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::AesGcm;
use govdata_sm4::{testing, Backend, Error, Sm4Gcm};
use rand::{Rng, RngCore, SeedableRng};
use sm4::cipher::BlockCipherEncrypt;

type Reference = AesGcm<sm4::Sm4, U12>;

fn h(s: &str) -> Vec<u8> {
    hex::decode(s.split_whitespace().collect::<String>()).unwrap()
}

fn backends() -> Vec<Backend> {
    let all: Vec<_> = Backend::ALL
        .iter()
        .copied()
        .filter(|b| b.is_available())
        .collect();
    eprintln!("backends on this CPU: {:?}", all);
    assert!(all.contains(&Backend::Portable));
    all
}

fn rng() -> rand::rngs::StdRng {
    rand::rngs::StdRng::seed_from_u64(0x5344_3407)
}

/// GB/T 32907-2016 appendix A, example 1: one encryption.
#[test]
fn gbt32907_example_1() {
    let key: [u8; 16] = h("0123456789abcdeffedcba9876543210").try_into().unwrap();
    let out = testing::encrypt_block(&key, &key);
    assert_eq!(hex::encode(out), "681edf34d206965e86b3e94f536e4246");
}

/// GB/T 32907-2016 appendix A, example 2: the same block encrypted 1,000,000 times.
#[test]
fn gbt32907_example_2() {
    let key: [u8; 16] = h("0123456789abcdeffedcba9876543210").try_into().unwrap();
    let mut block = key;
    for _ in 0..1_000_000 {
        block = testing::encrypt_block(&key, &block);
    }
    assert_eq!(hex::encode(block), "595298c7c6fd271f0402f804c33d3f66");
}

/// The keystream of every backend is the `sm4` crate's encryption of the counter
/// blocks, including where the 32-bit counter wraps.
#[test]
fn keystream_matches_the_sm4_crate() {
    let mut rng = rng();
    for backend in backends() {
        for trial in 0..64 {
            let mut key = [0u8; 16];
            let mut iv = [0u8; 12];
            rng.fill_bytes(&mut key);
            rng.fill_bytes(&mut iv);
            let ctr = match trial {
                0 => u32::MAX - 5,
                1 => 0,
                _ => rng.gen(),
            };
            let ks = testing::keystream(backend, &key, &iv, ctr);
            let reference = sm4::Sm4::new(&key.into());
            for (i, got) in ks.chunks_exact(16).enumerate() {
                let mut block = [0u8; 16];
                block[..12].copy_from_slice(&iv);
                block[12..].copy_from_slice(&ctr.wrapping_add(i as u32).to_be_bytes());
                let mut block = block.into();
                reference.encrypt_block(&mut block);
                assert_eq!(got, block.as_slice(), "{backend:?} block {i} ctr {ctr}");
            }
        }
    }
}

/// RFC 8998 appendix A.1 on every backend, and a flipped bit of the tag, the
/// ciphertext or the associated data refused with the buffer untouched.
#[test]
fn rfc8998_sm4_gcm_on_every_backend() {
    let key: [u8; 16] = h("0123456789ABCDEFFEDCBA9876543210").try_into().unwrap();
    let nonce: [u8; 12] = h("00001234567800000000ABCD").try_into().unwrap();
    let aad = h("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2");
    let pt = h(
        "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD
                EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA",
    );
    let ct = h(
        "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735
                D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D",
    );
    let tag: [u8; 16] = h("83DE3541E4C2B58177E065A9BF7B62EC").try_into().unwrap();
    for backend in backends() {
        let gcm = Sm4Gcm::with_backend(&key, backend).unwrap();
        assert_eq!(gcm.backend(), backend);
        let mut buf = pt.clone();
        assert_eq!(gcm.encrypt_in_place(&nonce, &aad, &mut buf).unwrap(), tag);
        assert_eq!(buf, ct);
        gcm.decrypt_in_place(&nonce, &aad, &mut buf, &tag).unwrap();
        assert_eq!(buf, pt);

        let mut bad_tag = tag;
        bad_tag[15] ^= 0x80;
        let mut buf = ct.clone();
        assert_eq!(
            gcm.decrypt_in_place(&nonce, &aad, &mut buf, &bad_tag),
            Err(Error::AuthFailed)
        );
        assert_eq!(buf, ct);
        let mut bad_ct = ct.clone();
        bad_ct[40] ^= 1;
        let mut out = vec![0u8; ct.len()];
        assert_eq!(
            gcm.decrypt_to(&nonce, &aad, &bad_ct, &mut out, &tag),
            Err(Error::AuthFailed)
        );
        assert!(
            out.iter().all(|b| *b == 0),
            "nothing written before the tag is checked"
        );
        let mut bad_aad = aad.clone();
        bad_aad[0] ^= 1;
        assert_eq!(
            gcm.decrypt_to(&nonce, &bad_aad, &ct, &mut out, &tag),
            Err(Error::AuthFailed)
        );
    }
}

/// Every message length from 0 to past three batches of keystream and past the hashing
/// piece, and longer ones in strides: the same ciphertext and tag as the RustCrypto
/// SM4-GCM, in place and into another buffer, and back.
#[test]
fn gcm_matches_the_reference_at_every_length() {
    let mut rng = rng();
    let mut lengths: Vec<usize> = (0..=1700).collect();
    lengths.extend((1701..=13_000).step_by(97));
    lengths.extend([4095, 4096, 4097, 8191, 8192, 8193, 65_536, 65_536 + 15]);
    for backend in backends() {
        for &len in &lengths {
            let mut key = [0u8; 16];
            let mut nonce = [0u8; 12];
            rng.fill_bytes(&mut key);
            rng.fill_bytes(&mut nonce);
            let mut aad = vec![0u8; rng.gen_range(0..40)];
            rng.fill_bytes(&mut aad);
            let mut pt = vec![0u8; len];
            rng.fill_bytes(&mut pt);

            let reference = Reference::new(&key.into());
            let mut want = pt.clone();
            let want_tag = reference
                .encrypt_inout_detached(&nonce.into(), &aad, want.as_mut_slice().into())
                .unwrap();

            let gcm = Sm4Gcm::with_backend(&key, backend).unwrap();
            let mut buf = pt.clone();
            let tag = gcm.encrypt_in_place(&nonce, &aad, &mut buf).unwrap();
            assert_eq!(buf, want, "{backend:?} length {len}");
            assert_eq!(
                tag.as_slice(),
                want_tag.as_slice(),
                "{backend:?} length {len}"
            );

            let mut out = vec![0u8; len];
            assert_eq!(gcm.encrypt_to(&nonce, &aad, &pt, &mut out).unwrap(), tag);
            assert_eq!(out, want);

            let mut back = vec![0u8; len];
            gcm.decrypt_to(&nonce, &aad, &out, &mut back, &tag).unwrap();
            assert_eq!(back, pt);
            gcm.decrypt_in_place(&nonce, &aad, &mut out, &tag).unwrap();
            assert_eq!(out, pt);
        }
    }
}

#[test]
fn buffers_of_different_lengths_are_refused() {
    let gcm = Sm4Gcm::new(&[1u8; 16]);
    let mut out = [0u8; 3];
    assert_eq!(
        gcm.encrypt_to(&[0; 12], b"", &[0u8; 4], &mut out),
        Err(Error::LengthMismatch)
    );
    assert_eq!(
        gcm.decrypt_to(&[0; 12], b"", &[0u8; 4], &mut out, &[0; 16]),
        Err(Error::LengthMismatch)
    );
}

/// The detected backend is the fastest this CPU has, and the choice never names one
/// the CPU lacks.
#[test]
fn detection_picks_an_available_backend() {
    let b = Backend::detect();
    assert!(b.is_available());
    let first = Backend::ALL
        .iter()
        .copied()
        .find(|b| b.is_available())
        .unwrap();
    assert_eq!(b, first);
    assert_eq!(Sm4Gcm::new(&[0u8; 16]).backend(), b);
}
