//! The SM4 key schedule and the portable one-block cipher (GB/T 32907-2016).

use crate::consts::{CK, FK, SBOX};
use zeroize::Zeroize;

/// The 32 round keys of one SM4 key; wiped on drop.
#[derive(Clone)]
pub(crate) struct RoundKeys(pub(crate) [u32; 32]);

impl Drop for RoundKeys {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// The S-box applied to each byte of a word.
#[inline]
pub(crate) fn tau(a: u32) -> u32 {
    let b = a.to_be_bytes();
    u32::from_be_bytes([
        SBOX[b[0] as usize],
        SBOX[b[1] as usize],
        SBOX[b[2] as usize],
        SBOX[b[3] as usize],
    ])
}

/// The linear transform L of the round function.
#[inline]
pub(crate) fn l(b: u32) -> u32 {
    b ^ b.rotate_left(2) ^ b.rotate_left(10) ^ b.rotate_left(18) ^ b.rotate_left(24)
}

impl RoundKeys {
    /// Expands a 128-bit key.
    pub(crate) fn new(key: &[u8; 16]) -> RoundKeys {
        let mut k = [0u32; 4];
        for (i, w) in k.iter_mut().enumerate() {
            let mut b = [0u8; 4];
            b.copy_from_slice(&key[4 * i..4 * i + 4]);
            *w = u32::from_be_bytes(b) ^ FK[i];
        }
        let mut rk = [0u32; 32];
        for i in 0..32 {
            let t = tau(k[(i + 1) % 4] ^ k[(i + 2) % 4] ^ k[(i + 3) % 4] ^ CK[i]);
            k[i % 4] ^= t ^ t.rotate_left(13) ^ t.rotate_left(23);
            rk[i] = k[i % 4];
        }
        k.zeroize();
        RoundKeys(rk)
    }

    /// Encrypts one block given as its four big-endian words.
    pub(crate) fn encrypt_words(&self, mut x: [u32; 4]) -> [u32; 4] {
        for (i, rk) in self.0.iter().enumerate() {
            x[i % 4] ^= l(tau(x[(i + 1) % 4] ^ x[(i + 2) % 4] ^ x[(i + 3) % 4] ^ rk));
        }
        let out = [x[3], x[2], x[1], x[0]];
        x.zeroize();
        out
    }

    /// Encrypts one block.
    pub(crate) fn encrypt_block(&self, block: &[u8; 16]) -> [u8; 16] {
        let mut w = [0u32; 4];
        for (i, v) in w.iter_mut().enumerate() {
            let mut b = [0u8; 4];
            b.copy_from_slice(&block[4 * i..4 * i + 4]);
            *v = u32::from_be_bytes(b);
        }
        let y = self.encrypt_words(w);
        let mut out = [0u8; 16];
        for (i, v) in y.iter().enumerate() {
            out[4 * i..4 * i + 4].copy_from_slice(&v.to_be_bytes());
        }
        out
    }
}
