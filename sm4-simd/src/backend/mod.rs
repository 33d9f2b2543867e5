//! The implementations of the SM4 counter-mode keystream and the choice between them at
//! run time.
//!
//! Every backend computes the same thing: the encryptions of [`BATCH_BLOCKS`] counter
//! blocks `iv ‖ ctr`, `iv ‖ ctr+1`, … (the 32-bit counter wrapping, as GCM's does).

use crate::key::RoundKeys;

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;

/// Blocks of keystream made per call.
pub(crate) const BATCH_BLOCKS: usize = 32;
/// Bytes of keystream made per call.
pub(crate) const BATCH: usize = BATCH_BLOCKS * 16;

/// An implementation of SM4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// Table lookups, one block at a time: any CPU.
    Portable,
    /// The S-box on AES-NI (AESENCLAST between two affine maps), 8 blocks per AVX2 register.
    Avx2AesNi,
    /// The S-box on GFNI (two affine instructions), 16 blocks per AVX-512 register.
    Avx512Gfni,
}

impl Backend {
    /// Every backend, fastest first.
    pub const ALL: &'static [Backend] =
        &[Backend::Avx512Gfni, Backend::Avx2AesNi, Backend::Portable];

    /// The fastest backend this CPU runs.
    pub fn detect() -> Backend {
        Backend::ALL
            .iter()
            .copied()
            .find(|b| b.is_available())
            .unwrap_or(Backend::Portable)
    }

    /// Whether this CPU has the instructions the backend needs.
    pub fn is_available(self) -> bool {
        match self {
            Backend::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2AesNi => avx2::available(),
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512Gfni => avx512::available(),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// A short name: `portable`, `avx2-aesni` or `avx512-gfni`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Portable => "portable",
            Backend::Avx2AesNi => "avx2-aesni",
            Backend::Avx512Gfni => "avx512-gfni",
        }
    }

    /// Writes the keystream of the [`BATCH_BLOCKS`] counter blocks from `ctr` into `out`.
    /// A backend this CPU lacks falls back to the portable one.
    pub(crate) fn keystream(self, rk: &RoundKeys, iv: &[u32; 3], ctr: u32, out: &mut [u8; BATCH]) {
        match self {
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512Gfni if avx512::available() => avx512::keystream(rk, iv, ctr, out),
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2AesNi if avx2::available() => avx2::keystream(rk, iv, ctr, out),
            _ => portable(rk, iv, ctr, out),
        }
    }
}

fn portable(rk: &RoundKeys, iv: &[u32; 3], ctr: u32, out: &mut [u8; BATCH]) {
    for (i, block) in out.chunks_exact_mut(16).enumerate() {
        let y = rk.encrypt_words([iv[0], iv[1], iv[2], ctr.wrapping_add(i as u32)]);
        for (w, b) in y.iter().zip(block.chunks_exact_mut(4)) {
            b.copy_from_slice(&w.to_be_bytes());
        }
    }
}
