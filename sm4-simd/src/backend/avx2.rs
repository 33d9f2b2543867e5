//! SM4 on AES-NI with AVX2: each 256-bit register holds one word of 8 blocks; the S-box
//! is a nibble-table affine map, AESENCLAST (the AES S-box, then ShiftRows), and a
//! second affine map (see `consts`). AESENCLAST works on 128 bits, so it runs on each half.
//! ShiftRows is undone inside the byte shuffles of the linear transform.

use super::BATCH;
use crate::consts::{POST_HI, POST_LO, PRE_HI, PRE_LO};
use crate::key::RoundKeys;
use core::arch::x86_64::*;

const GROUPS: usize = BATCH / 128;

pub(super) fn available() -> bool {
    std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("aes")
}

pub(super) fn keystream(rk: &RoundKeys, iv: &[u32; 3], ctr: u32, out: &mut [u8; BATCH]) {
    // SAFETY: the dispatcher calls this only after `available()` found every feature
    // the function enables on this CPU.
    unsafe { keystream_impl(rk, iv, ctr, out) }
}

/// The byte shuffle that undoes AES's ShiftRows on a 16-byte lane, then rotates each
/// 32-bit word left by `rot` bytes.
const fn unshift_rotate(rot: usize) -> [u8; 16] {
    let mut inv_sr = [0u8; 16];
    let mut j = 0;
    while j < 16 {
        let (r, c) = (j % 4, j / 4);
        inv_sr[j] = (r + 4 * ((c + 4 - r) % 4)) as u8;
        j += 1;
    }
    let mut m = [0u8; 16];
    let mut j = 0;
    while j < 16 {
        m[j] = inv_sr[(j / 4) * 4 + (j % 4 + 4 - rot) % 4];
        j += 1;
    }
    m
}

const UNSHIFT: [[u8; 16]; 4] = [
    unshift_rotate(0),
    unshift_rotate(1),
    unshift_rotate(2),
    unshift_rotate(3),
];

struct Tables {
    mask: __m256i,
    pre_lo: __m256i,
    pre_hi: __m256i,
    post_lo: __m256i,
    post_hi: __m256i,
    unshift: [__m256i; 4],
}

#[target_feature(enable = "avx2")]
fn table(t: &[u8; 16]) -> __m256i {
    // SAFETY: `t` is 16 readable bytes, the size of the unaligned load.
    let v = unsafe { _mm_loadu_si128(t.as_ptr().cast()) };
    _mm256_broadcastsi128_si256(v)
}

/// The nibble-table affine map `lo[x & 15] ^ hi[x >> 4]` on every byte.
macro_rules! affine {
    ($x:expr, $lo:expr, $hi:expr, $mask:expr) => {{
        let lo = _mm256_and_si256($x, $mask);
        let hi = _mm256_and_si256(_mm256_srli_epi16::<4>($x), $mask);
        _mm256_xor_si256(_mm256_shuffle_epi8($lo, lo), _mm256_shuffle_epi8($hi, hi))
    }};
}

/// One round for every group: `s[a] ^= L(S(s[b] ^ s[c] ^ s[d] ^ rk))`.
macro_rules! round {
    ($s:ident, $a:literal, $b:literal, $c:literal, $d:literal, $rk:expr, $t:ident) => {{
        let k = _mm256_set1_epi32($rk as i32);
        let zero = _mm_setzero_si128();
        for g in 0..GROUPS {
            let x = _mm256_xor_si256(
                _mm256_xor_si256($s[g][$b], $s[g][$c]),
                _mm256_xor_si256($s[g][$d], k),
            );
            let z = affine!(x, $t.pre_lo, $t.pre_hi, $t.mask);
            let lo = _mm_aesenclast_si128(_mm256_castsi256_si128(z), zero);
            let hi = _mm_aesenclast_si128(_mm256_extracti128_si256::<1>(z), zero);
            // Still in ShiftRows order: the shuffles below put the bytes back.
            let p = affine!(_mm256_set_m128i(hi, lo), $t.post_lo, $t.post_hi, $t.mask);
            let y = _mm256_shuffle_epi8(p, $t.unshift[0]);
            let y8 = _mm256_shuffle_epi8(p, $t.unshift[1]);
            let y16 = _mm256_shuffle_epi8(p, $t.unshift[2]);
            let y24 = _mm256_shuffle_epi8(p, $t.unshift[3]);
            // L(y) = y ^ rol24(y) ^ rol2(y ^ rol8(y) ^ rol16(y))
            let u = _mm256_xor_si256(_mm256_xor_si256(y, y8), y16);
            let u = _mm256_or_si256(_mm256_slli_epi32::<2>(u), _mm256_srli_epi32::<30>(u));
            $s[g][$a] = _mm256_xor_si256(_mm256_xor_si256($s[g][$a], u), _mm256_xor_si256(y, y24));
        }
    }};
}

#[target_feature(enable = "avx2,aes")]
fn keystream_impl(rk: &RoundKeys, iv: &[u32; 3], ctr: u32, out: &mut [u8; BATCH]) {
    let t = Tables {
        mask: _mm256_set1_epi8(0x0f),
        pre_lo: table(&PRE_LO),
        pre_hi: table(&PRE_HI),
        post_lo: table(&POST_LO),
        post_hi: table(&POST_HI),
        unshift: [
            table(&UNSHIFT[0]),
            table(&UNSHIFT[1]),
            table(&UNSHIFT[2]),
            table(&UNSHIFT[3]),
        ],
    };
    // Element 4l + j of a register (lane l, position j) is block 2j + l of its group, so
    // that the in-lane transpose at the end leaves the blocks in order.
    let offsets = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    let mut s = [[_mm256_setzero_si256(); 4]; GROUPS];
    for (g, st) in s.iter_mut().enumerate() {
        let base = _mm256_set1_epi32(ctr.wrapping_add(8 * g as u32) as i32);
        *st = [
            _mm256_set1_epi32(iv[0] as i32),
            _mm256_set1_epi32(iv[1] as i32),
            _mm256_set1_epi32(iv[2] as i32),
            _mm256_add_epi32(base, offsets),
        ];
    }
    for r in rk.0.chunks_exact(4) {
        round!(s, 0, 1, 2, 3, r[0], t);
        round!(s, 1, 2, 3, 0, r[1], t);
        round!(s, 2, 3, 0, 1, r[2], t);
        round!(s, 3, 0, 1, 2, r[3], t);
    }
    let bswap = _mm256_setr_epi8(
        3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12, 3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8,
        15, 14, 13, 12,
    );
    for (g, st) in s.iter().enumerate() {
        // The output block is (X35, X34, X33, X32), each word big-endian.
        let a = _mm256_shuffle_epi8(st[3], bswap);
        let b = _mm256_shuffle_epi8(st[2], bswap);
        let c = _mm256_shuffle_epi8(st[1], bswap);
        let d = _mm256_shuffle_epi8(st[0], bswap);
        let t0 = _mm256_unpacklo_epi32(a, b);
        let t1 = _mm256_unpackhi_epi32(a, b);
        let t2 = _mm256_unpacklo_epi32(c, d);
        let t3 = _mm256_unpackhi_epi32(c, d);
        let rows = [
            _mm256_unpacklo_epi64(t0, t2),
            _mm256_unpackhi_epi64(t0, t2),
            _mm256_unpacklo_epi64(t1, t3),
            _mm256_unpackhi_epi64(t1, t3),
        ];
        for (i, row) in rows.iter().enumerate() {
            let at = g * 128 + i * 32;
            let dst = &mut out[at..at + 32];
            // SAFETY: `dst` is 32 writable bytes, the size of the unaligned store.
            unsafe { _mm256_storeu_si256(dst.as_mut_ptr().cast(), *row) };
        }
    }
}
