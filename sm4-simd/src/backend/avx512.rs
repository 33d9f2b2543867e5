//! SM4 on GFNI with AVX-512: each 512-bit register holds one word of 16 blocks, and the
//! S-box is two affine instructions around the AES field inversion (see `consts`).
//! Two groups of 16 blocks run interleaved to hide the instructions' latency.

use super::BATCH;
use crate::consts::{GFNI_POST, GFNI_POST_C, GFNI_PRE, GFNI_PRE_C};
use crate::key::RoundKeys;
use core::arch::x86_64::*;

const GROUPS: usize = BATCH / 256;

pub(super) fn available() -> bool {
    std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512bw")
        && std::is_x86_feature_detected!("gfni")
}

pub(super) fn keystream(rk: &RoundKeys, iv: &[u32; 3], ctr: u32, out: &mut [u8; BATCH]) {
    // SAFETY: the dispatcher calls this only after `available()` found every feature
    // the function enables on this CPU.
    unsafe { keystream_impl(rk, iv, ctr, out) }
}

/// One round for every group: `s[a] ^= L(S(s[b] ^ s[c] ^ s[d] ^ rk))`.
macro_rules! round {
    ($s:ident, $a:literal, $b:literal, $c:literal, $d:literal, $rk:expr, $pre:ident, $post:ident) => {{
        let k = _mm512_set1_epi32($rk as i32);
        for g in 0..GROUPS {
            let x = _mm512_xor_si512(
                _mm512_ternarylogic_epi32::<0x96>($s[g][$b], $s[g][$c], $s[g][$d]),
                k,
            );
            let y = _mm512_gf2p8affine_epi64_epi8::<{ GFNI_PRE_C as i32 }>(x, $pre);
            let y = _mm512_gf2p8affineinv_epi64_epi8::<{ GFNI_POST_C as i32 }>(y, $post);
            let t = _mm512_ternarylogic_epi32::<0x96>(
                y,
                _mm512_rol_epi32::<2>(y),
                _mm512_rol_epi32::<10>(y),
            );
            $s[g][$a] = _mm512_ternarylogic_epi32::<0x96>(
                $s[g][$a],
                t,
                _mm512_xor_si512(_mm512_rol_epi32::<18>(y), _mm512_rol_epi32::<24>(y)),
            );
        }
    }};
}

#[target_feature(enable = "avx512f,avx512bw,gfni")]
fn keystream_impl(rk: &RoundKeys, iv: &[u32; 3], ctr: u32, out: &mut [u8; BATCH]) {
    let pre = _mm512_set1_epi64(GFNI_PRE as i64);
    let post = _mm512_set1_epi64(GFNI_POST as i64);
    // Element 4l + j of a register (lane l, position j) is block 4j + l of its group, so
    // that the in-lane transpose at the end leaves the blocks in order.
    let offsets = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    let mut s = [[_mm512_setzero_si512(); 4]; GROUPS];
    for (g, st) in s.iter_mut().enumerate() {
        let base = _mm512_set1_epi32(ctr.wrapping_add(16 * g as u32) as i32);
        *st = [
            _mm512_set1_epi32(iv[0] as i32),
            _mm512_set1_epi32(iv[1] as i32),
            _mm512_set1_epi32(iv[2] as i32),
            _mm512_add_epi32(base, offsets),
        ];
    }
    for r in rk.0.chunks_exact(4) {
        round!(s, 0, 1, 2, 3, r[0], pre, post);
        round!(s, 1, 2, 3, 0, r[1], pre, post);
        round!(s, 2, 3, 0, 1, r[2], pre, post);
        round!(s, 3, 0, 1, 2, r[3], pre, post);
    }
    let bswap = _mm512_broadcast_i32x4(_mm_setr_epi8(
        3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12,
    ));
    for (g, st) in s.iter().enumerate() {
        // The output block is (X35, X34, X33, X32), each word big-endian.
        let a = _mm512_shuffle_epi8(st[3], bswap);
        let b = _mm512_shuffle_epi8(st[2], bswap);
        let c = _mm512_shuffle_epi8(st[1], bswap);
        let d = _mm512_shuffle_epi8(st[0], bswap);
        let t0 = _mm512_unpacklo_epi32(a, b);
        let t1 = _mm512_unpackhi_epi32(a, b);
        let t2 = _mm512_unpacklo_epi32(c, d);
        let t3 = _mm512_unpackhi_epi32(c, d);
        let rows = [
            _mm512_unpacklo_epi64(t0, t2),
            _mm512_unpackhi_epi64(t0, t2),
            _mm512_unpacklo_epi64(t1, t3),
            _mm512_unpackhi_epi64(t1, t3),
        ];
        for (i, row) in rows.iter().enumerate() {
            let at = g * 256 + i * 64;
            let dst = &mut out[at..at + 64];
            // SAFETY: `dst` is 64 writable bytes, the size of the unaligned store.
            unsafe { _mm512_storeu_si512(dst.as_mut_ptr().cast(), *row) };
        }
    }
}
