use super::*;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("govdata-sign-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn both_algorithms_sign_and_verify() {
    for alg in [Algorithm::Ed25519, Algorithm::Sm2] {
        let key = SigningKey::generate(alg).unwrap();
        assert_eq!(key.algorithm(), alg);
        let sig = key.sign(b"checkpoint").unwrap();
        key.verifying_key().verify(b"checkpoint", &sig).unwrap();
        let err = key.verifying_key().verify(b"checkpoinT", &sig).unwrap_err();
        assert_eq!(err.code(), "crypto_auth_failed");
        let mut bad = sig;
        bad[10] ^= 1;
        assert_eq!(
            key.verifying_key()
                .verify(b"checkpoint", &bad)
                .unwrap_err()
                .code(),
            "crypto_auth_failed"
        );
        assert_eq!(
            key.verifying_key()
                .verify(b"checkpoint", &sig[..63])
                .unwrap_err()
                .code(),
            "crypto_auth_failed"
        );
        let other = SigningKey::generate(alg).unwrap();
        assert_ne!(other.key_id(), key.key_id());
        assert!(other.verifying_key().verify(b"checkpoint", &sig).is_err());
    }
}

#[test]
fn pem_round_trips_keep_the_key_id() {
    for alg in [Algorithm::Ed25519, Algorithm::Sm2] {
        let key = SigningKey::generate(alg).unwrap();
        let pem = key.to_pkcs8_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let again = SigningKey::from_pkcs8_pem(&pem).unwrap();
        assert_eq!(again.key_id(), key.key_id());
        assert_eq!(again.algorithm(), alg);
        let public = key.verifying_key().to_public_key_pem();
        assert!(public.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        let vk = VerifyingKey::from_public_key_pem(&public).unwrap();
        assert_eq!(&vk, key.verifying_key());
        assert_eq!(vk.key_id().len(), 32);
        let sig = again.sign(b"m").unwrap();
        vk.verify(b"m", &sig).unwrap();
    }
}

#[test]
fn sm2_signatures_are_deterministic_and_use_the_default_id() {
    let key = SigningKey::generate(Algorithm::Sm2).unwrap();
    assert_eq!(key.sign(b"x").unwrap(), key.sign(b"x").unwrap());
    // A verifier with another distinguishing id refuses the signature.
    let sig = sm2::dsa::Signature::from_slice(&key.sign(b"x").unwrap()).unwrap();
    let SigningInner::Sm2(secret) = &key.inner else {
        unreachable!()
    };
    let other = sm2::dsa::VerifyingKey::new("ALICE123@YAHOO.COM", secret.public_key()).unwrap();
    use sm2::dsa::signature::Verifier;
    assert!(other.verify(b"x", &sig).is_err());
    let standard = sm2::dsa::VerifyingKey::new("1234567812345678", secret.public_key()).unwrap();
    standard.verify(b"x", &sig).unwrap();
}

/// RFC 8032 §7.1, test 2: the seed, the public key and the signature of one byte.
#[test]
fn ed25519_matches_rfc8032() {
    let seed =
        hex::decode("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb").unwrap();
    let inner = ed25519_dalek::SigningKey::from_bytes(&seed.try_into().unwrap());
    let key = SigningKey::from_inner(SigningInner::Ed25519(inner)).unwrap();
    let sig = key.sign(&[0x72]).unwrap();
    assert_eq!(
        hex::encode(sig),
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
    );
}

/// Keys that openssl wrote (`openssl genpkey -algorithm ed25519`, and the SM2 curve).
#[test]
fn reads_openssl_keys() {
    let ed = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIEzNCJso/5banbbDRuwRTg9bijGfNaumJNqM9u1PuKb7\n-----END PRIVATE KEY-----\n";
    let key = SigningKey::from_pkcs8_pem(ed).unwrap();
    assert_eq!(key.algorithm(), Algorithm::Ed25519);
    assert_eq!(
        hex::encode(&key.verifying_key().to_public_key_der()[12..]),
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"
    );
    let sm2 = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqBHM9VAYItBG0wawIBAQQg/aHPwpoevOicHI56\ntL7Ggkjc9Zj6BAL8LsRiIE2DMz6hRANCAATZZx9Ox9C28yx30aOxIDLUjvpMQkEi\n0mGTAexV2hpj/ds9WLDFp5bWVRn4zsdPeZ2EDHdqcipDFWy+qGclnbmg\n-----END PRIVATE KEY-----\n";
    let key = SigningKey::from_pkcs8_pem(sm2).unwrap();
    assert_eq!(key.algorithm(), Algorithm::Sm2);
    let sig = key.sign(b"bundle").unwrap();
    key.verifying_key().verify(b"bundle", &sig).unwrap();
}

#[test]
fn files_are_written_private_and_read_back() {
    let dir = temp_dir("files");
    for alg in [Algorithm::Ed25519, Algorithm::Sm2] {
        let path = dir.join(format!("{alg}.key"));
        let key = SigningKey::generate(alg).unwrap();
        let public = key.write_files(&path).unwrap();
        assert_eq!(public, dir.join(format!("{alg}.key.pub")));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let read = SigningKey::from_file(&path).unwrap();
        assert_eq!(read.key_id(), key.key_id());
        let vk = VerifyingKey::from_file(&public).unwrap();
        assert_eq!(vk.key_id(), key.key_id());
        // Never over an existing key.
        assert_eq!(key.write_files(&path).unwrap_err().code(), "io");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
            assert_eq!(
                SigningKey::from_file(&path).err().unwrap().code(),
                "key_invalid"
            );
        }
        // A public key is not a private key, and the other way round.
        assert_eq!(
            SigningKey::from_pkcs8_pem(&vk.to_public_key_pem())
                .err()
                .unwrap()
                .code(),
            "key_invalid"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn algorithm_names() {
    assert_eq!("sm2".parse::<Algorithm>().unwrap(), Algorithm::Sm2);
    assert_eq!("ed25519".parse::<Algorithm>().unwrap(), Algorithm::Ed25519);
    assert_eq!(
        "rsa".parse::<Algorithm>().unwrap_err().code(),
        "key_invalid"
    );
    let key = SigningKey::generate(Algorithm::Sm2).unwrap();
    let debug = format!("{:?}", key.verifying_key());
    assert!(debug.contains("Sm2") && debug.contains(key.key_id()));
}
