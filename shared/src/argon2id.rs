//! Argon2id with one lane (RFC 9106) computed with AVX2 in memory the caller keeps: the hash
//! every login, registration and password change computes.
//!
//! RustCrypto's `argon2` compresses a block in portable code (its "AVX2" build only lets the
//! compiler auto-vectorise that code) and libsodium allocates and zero-fills its 19 MiB on
//! every call. This module does neither: the block function below is BLAKE2b's round on four
//! 64-bit lanes at once (the layout of the reference and libsodium SIMD code), and the blocks
//! are the caller's pooled [`Block`]s, so a hash touches no fresh page. `make bench` measures
//! all three on the same parameters.
//!
//! It covers exactly what we hash with (argon2id, version 0x13, one lane, no secret, no
//! associated data; any memory and time cost). Anything else (p > 1, an imported app's
//! hashes) and CPUs without AVX2 (arm64 Lambdas among them) go through RustCrypto's
//! `argon2`, which the tests also use as the oracle for this code.

#![allow(unsafe_code)] // the AVX2 intrinsics; every block says why it is sound

use argon2::Block;
use blake2::digest::{Update, VariableOutput};
use blake2::{Blake2b512, Blake2bVar, Digest};

/// Words of a block.
const WORDS: usize = 128;
/// Argon2's slices per pass (sync points).
const SLICES: usize = 4;
/// Argon2id's type code in the initial hash and the address blocks.
const ARGON2ID: u64 = 2;
const VERSION: u32 = 0x13;

/// Whether this CPU runs [`hash_into`].
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The number of blocks `memory_kib` asks for with one lane.
pub fn block_count(memory_kib: u32) -> usize {
    (memory_kib as usize).max(2 * SLICES) / SLICES * SLICES
}

/// Argon2id (v=19, p=1) of `password` and `salt` into `output`, in `memory` (exactly
/// [`block_count`] blocks, whatever they hold). `None` when this CPU lacks AVX2 or the sizes
/// are off (the caller then uses the library).
pub fn hash_into(
    password: &[u8],
    salt: &[u8],
    memory_kib: u32,
    passes: u32,
    output: &mut [u8],
    memory: &mut [Block],
) -> Option<()> {
    let lane = block_count(memory_kib);
    let sizes_ok = memory.len() == lane
        && passes >= 1
        && (4..=1024).contains(&output.len())
        && (8..=1024).contains(&salt.len())
        && password.len() <= 1 << 20;
    if !sizes_ok || !available() {
        return None;
    }
    let h0 = initial_hash(password, salt, memory_kib, passes, output.len() as u32);
    for (index, block) in memory.iter_mut().take(2).enumerate() {
        let mut seed = [0u8; 72];
        seed[..64].copy_from_slice(&h0);
        seed[64..68].copy_from_slice(&(index as u32).to_le_bytes());
        let mut bytes = [0u8; WORDS * 8];
        blake2b_long(&[&seed], &mut bytes);
        for (word, chunk) in block.as_mut().iter_mut().zip(bytes.chunks_exact(8)) {
            *word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        }
    }
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `available()` checked that the CPU has AVX2.
    unsafe {
        avx2::fill(memory, passes)
    };
    let mut last = [0u8; WORDS * 8];
    for (chunk, word) in last.chunks_exact_mut(8).zip(memory[lane - 1].as_ref()) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    blake2b_long(&[&last], output);
    Some(())
}

/// H0 of RFC 9106 §3.2 for one lane, no secret and no associated data.
fn initial_hash(password: &[u8], salt: &[u8], memory_kib: u32, passes: u32, output_len: u32) -> [u8; 64] {
    let mut h = Blake2b512::new();
    for value in [1, output_len, memory_kib, passes, VERSION, ARGON2ID as u32] {
        Digest::update(&mut h, value.to_le_bytes());
    }
    Digest::update(&mut h, (password.len() as u32).to_le_bytes());
    Digest::update(&mut h, password);
    Digest::update(&mut h, (salt.len() as u32).to_le_bytes());
    Digest::update(&mut h, salt);
    Digest::update(&mut h, 0u32.to_le_bytes());
    Digest::update(&mut h, 0u32.to_le_bytes());
    h.finalize().into()
}

/// H' of RFC 9106 §3.3: BLAKE2b stretched to `out.len()` bytes.
fn blake2b_long(input: &[&[u8]], out: &mut [u8]) {
    let length = (out.len() as u32).to_le_bytes();
    if out.len() <= 64 {
        if let Ok(mut h) = Blake2bVar::new(out.len()) {
            h.update(&length);
            input.iter().for_each(|part| h.update(part));
            let _ = h.finalize_variable(out);
        }
        return;
    }
    let mut h = Blake2b512::new();
    Digest::update(&mut h, length);
    input.iter().for_each(|part| Digest::update(&mut h, part));
    let mut v: [u8; 64] = h.finalize().into();
    out[..32].copy_from_slice(&v[..32]);
    let mut at = 32;
    while out.len() - at > 64 {
        v = Blake2b512::digest(v).into();
        out[at..at + 32].copy_from_slice(&v[..32]);
        at += 32;
    }
    if let Ok(mut h) = Blake2bVar::new(out.len() - at) {
        h.update(&v);
        let _ = h.finalize_variable(&mut out[at..]);
    }
}

/// Where block `index` of `slice` in `pass` takes its reference block from (RFC 9106 §3.4.2,
/// one lane), given the low 32 bits of its pseudo-random value.
fn reference_index(lane: usize, pass: u32, slice: usize, index: usize, random: u64) -> usize {
    let segment = lane / SLICES;
    let area = if pass == 0 { slice * segment + index - 1 } else { lane - segment + index - 1 } as u64;
    let x = (random * random) >> 32;
    let relative = area - 1 - ((area * x) >> 32);
    let start = if pass == 0 || slice == SLICES - 1 { 0 } else { (slice + 1) * segment };
    (start + relative as usize) % lane
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::{reference_index, Block, ARGON2ID, SLICES, WORDS};

    /// Fills blocks 2.. of every pass, the two first blocks being set.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn fill(memory: &mut [Block], passes: u32) {
        let lane = memory.len();
        let segment = lane / SLICES;
        let zero = Block::default();
        let (mut input, mut scratch, mut addresses) = (Block::default(), Block::default(), Block::default());
        let base = memory.as_mut_ptr();
        for pass in 0..passes {
            for slice in 0..SLICES {
                let independent = pass == 0 && slice < SLICES / 2;
                if independent {
                    let words = input.as_mut();
                    words.fill(0);
                    words[..6].copy_from_slice(&[pass.into(), 0, slice as u64, lane as u64, passes.into(), ARGON2ID]);
                }
                let first = if pass == 0 && slice == 0 { 2 } else { 0 };
                for index in first..segment {
                    let current = slice * segment + index;
                    let previous = if current == 0 { lane - 1 } else { current - 1 };
                    let random = if independent {
                        // A new block of 128 addresses at the segment's first block and
                        // every 128th (the first segment starts at block 2).
                        if index == first || index % WORDS == 0 {
                            input.as_mut()[6] += 1;
                            compress(&zero, &input, &mut scratch, false);
                            compress(&zero, &scratch, &mut addresses, false);
                        }
                        addresses.as_ref()[index % WORDS]
                    } else {
                        // SAFETY: `previous` < `lane`, the length of `memory`.
                        unsafe { (*base.add(previous)).as_ref()[0] }
                    };
                    let reference = reference_index(lane, pass, slice, index, random & 0xFFFF_FFFF);
                    assert!(reference != current && previous != current, "argon2: a block references itself");
                    // SAFETY: all three indexes are below `lane`, and the block written
                    // (`current`) is neither of the two read.
                    unsafe {
                        compress(&*base.add(previous), &*base.add(reference), &mut *base.add(current), pass > 0);
                    }
                }
            }
        }
    }

    /// `next = P(prev ⊕ reference) ⊕ prev ⊕ reference`, also ⊕ the old `next` after the first
    /// pass (version 0x13). P is BLAKE2b's round on the block's eight rows, then its columns.
    #[target_feature(enable = "avx2")]
    unsafe fn compress(prev: &Block, reference: &Block, next: &mut Block, with_xor: bool) {
        let mut r = Block::default();
        {
            let (p, q) = (prev.as_ref().as_ptr().cast::<__m256i>(), reference.as_ref().as_ptr().cast::<__m256i>());
            let (rp, np) = (r.as_mut().as_mut_ptr().cast::<__m256i>(), next.as_mut().as_mut_ptr().cast::<__m256i>());
            for j in 0..WORDS / 4 {
                // SAFETY: a block is 128 words, 32 vectors of four, 64-byte aligned.
                unsafe {
                    let v = _mm256_xor_si256(_mm256_load_si256(p.add(j)), _mm256_load_si256(q.add(j)));
                    _mm256_store_si256(rp.add(j), v);
                    let keep = if with_xor { _mm256_xor_si256(v, _mm256_load_si256(np.add(j))) } else { v };
                    _mm256_store_si256(np.add(j), keep);
                }
            }
        }
        let w = r.as_mut().as_mut_ptr();
        for row in 0..8 {
            // SAFETY: row `row` is words 16·row .. 16·row + 16 of the 128.
            unsafe {
                let at = w.add(16 * row).cast::<__m256i>();
                let (mut a, mut b, mut c, mut d) = (
                    _mm256_load_si256(at),
                    _mm256_load_si256(at.add(1)),
                    _mm256_load_si256(at.add(2)),
                    _mm256_load_si256(at.add(3)),
                );
                round(&mut a, &mut b, &mut c, &mut d);
                _mm256_store_si256(at, a);
                _mm256_store_si256(at.add(1), b);
                _mm256_store_si256(at.add(2), c);
                _mm256_store_si256(at.add(3), d);
            }
        }
        for column in 0..8 {
            // SAFETY: column `column` is words 16·row + 2·column and the next, rows 0..8.
            unsafe {
                let at = |row: usize| w.add(16 * row + 2 * column).cast::<__m128i>();
                let pair = |row: usize| _mm256_loadu2_m128i(at(row + 1), at(row));
                let (mut a, mut b, mut c, mut d) = (pair(0), pair(2), pair(4), pair(6));
                round(&mut a, &mut b, &mut c, &mut d);
                _mm256_storeu2_m128i(at(1), at(0), a);
                _mm256_storeu2_m128i(at(3), at(2), b);
                _mm256_storeu2_m128i(at(5), at(4), c);
                _mm256_storeu2_m128i(at(7), at(6), d);
            }
        }
        let (rp, np) = (r.as_ref().as_ptr().cast::<__m256i>(), next.as_mut().as_mut_ptr().cast::<__m256i>());
        for j in 0..WORDS / 4 {
            // SAFETY: as above.
            unsafe {
                _mm256_store_si256(
                    np.add(j),
                    _mm256_xor_si256(_mm256_load_si256(np.add(j)), _mm256_load_si256(rp.add(j))),
                )
            };
        }
    }

    /// BLAKE2b's round on sixteen words held as four vectors (v0..v3, v4..v7, v8..v11,
    /// v12..v15): G on the columns, then on the diagonals by rotating the lanes.
    #[inline(always)]
    unsafe fn round(a: &mut __m256i, b: &mut __m256i, c: &mut __m256i, d: &mut __m256i) {
        // SAFETY: only called from AVX2 functions.
        unsafe {
            g(a, b, c, d);
            *b = _mm256_permute4x64_epi64::<0b00_11_10_01>(*b);
            *c = _mm256_permute4x64_epi64::<0b01_00_11_10>(*c);
            *d = _mm256_permute4x64_epi64::<0b10_01_00_11>(*d);
            g(a, b, c, d);
            *b = _mm256_permute4x64_epi64::<0b10_01_00_11>(*b);
            *c = _mm256_permute4x64_epi64::<0b01_00_11_10>(*c);
            *d = _mm256_permute4x64_epi64::<0b00_11_10_01>(*d);
        }
    }

    /// Argon2's G: BLAKE2b's with BlaMka's `x + y + 2·lo(x)·lo(y)` for each addition.
    #[inline(always)]
    unsafe fn g(a: &mut __m256i, b: &mut __m256i, c: &mut __m256i, d: &mut __m256i) {
        // SAFETY: only called from AVX2 functions.
        unsafe {
            let r16 = _mm256_setr_epi8(
                2, 3, 4, 5, 6, 7, 0, 1, 10, 11, 12, 13, 14, 15, 8, 9, 2, 3, 4, 5, 6, 7, 0, 1, 10, 11, 12, 13, 14, 15,
                8, 9,
            );
            let r24 = _mm256_setr_epi8(
                3, 4, 5, 6, 7, 0, 1, 2, 11, 12, 13, 14, 15, 8, 9, 10, 3, 4, 5, 6, 7, 0, 1, 2, 11, 12, 13, 14, 15, 8, 9,
                10,
            );
            *a = blamka(*a, *b);
            *d = _mm256_shuffle_epi32::<0b10_11_00_01>(_mm256_xor_si256(*d, *a));
            *c = blamka(*c, *d);
            *b = _mm256_shuffle_epi8(_mm256_xor_si256(*b, *c), r24);
            *a = blamka(*a, *b);
            *d = _mm256_shuffle_epi8(_mm256_xor_si256(*d, *a), r16);
            *c = blamka(*c, *d);
            let x = _mm256_xor_si256(*b, *c);
            *b = _mm256_xor_si256(_mm256_srli_epi64::<63>(x), _mm256_add_epi64(x, x));
        }
    }

    #[inline(always)]
    unsafe fn blamka(x: __m256i, y: __m256i) -> __m256i {
        // SAFETY: only called from AVX2 functions.
        unsafe {
            let product = _mm256_mul_epu32(x, y);
            _mm256_add_epi64(_mm256_add_epi64(x, y), _mm256_add_epi64(product, product))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::{Algorithm, Argon2, Params, Version};

    fn library(password: &[u8], salt: &[u8], m: u32, t: u32, len: usize) -> Vec<u8> {
        let params = Params::new(m, t, 1, Some(len)).expect("params");
        let mut out = vec![0u8; len];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(password, salt, &mut out)
            .expect("hash");
        out
    }

    fn ours(password: &[u8], salt: &[u8], m: u32, t: u32, len: usize, memory: &mut Vec<Block>) -> Option<Vec<u8>> {
        memory.resize(block_count(m), Block::default());
        let mut out = vec![0u8; len];
        hash_into(password, salt, m, t, &mut out, memory).map(|()| out)
    }

    /// Password, salt, memory (KiB), passes, output length.
    type Case = (&'static [u8], &'static [u8], u32, u32, usize);

    #[test]
    fn the_simd_hash_equals_the_library_hash_for_every_shape_we_accept() {
        let mut memory = Vec::new();
        let cases: [Case; 7] = [
            (b"correct horse battery staple", b"0123456789abcdef", 19_456, 2, 32),
            (b"", b"saltsalt", 8, 1, 32),
            (b"p", b"somesaltsomesalt", 64, 3, 16),
            (b"another password", b"0123456789abcdef0123", 1_000, 1, 64),
            ("pässwörd ✓".as_bytes(), b"0123456789abcdef", 256, 4, 100),
            (b"long output", b"0123456789abcdef", 37, 2, 1024),
            (b"x", b"0123456789abcdef", 2_048, 2, 32),
        ];
        for (password, salt, m, t, len) in cases {
            let Some(simd) = ours(password, salt, m, t, len, &mut memory) else {
                eprintln!("no AVX2 here: the library computes every hash");
                return;
            };
            assert_eq!(simd, library(password, salt, m, t, len), "m={m} t={t} len={len}");
        }
    }

    #[test]
    fn pooled_memory_from_an_earlier_hash_does_not_change_the_next() {
        let mut memory = Vec::new();
        let first = ours(b"one", b"0123456789abcdef", 512, 2, 32, &mut memory);
        let second = ours(b"two", b"0123456789abcdef", 512, 2, 32, &mut memory);
        if let (Some(first), Some(second)) = (first, second) {
            assert_ne!(first, second);
            assert_eq!(second, library(b"two", b"0123456789abcdef", 512, 2, 32));
        }
    }

    #[test]
    fn memory_of_the_wrong_size_is_refused_not_overrun() {
        let mut memory = vec![Block::default(); 10];
        assert_eq!(hash_into(b"p", b"0123456789abcdef", 512, 2, &mut [0u8; 32], &mut memory), None);
    }

    #[test]
    fn one_lane_block_counts_round_down_to_whole_slices() {
        assert_eq!(block_count(19_456), 19_456);
        assert_eq!(block_count(37), 36);
        assert_eq!(block_count(3), 8);
    }
}
