//! Password hashes imported from the apps' old servers (Django, Laravel, Node, passlib), and
//! which of them can still prove a password. A verified legacy hash is replaced by argon2id
//! at that login (`handlers::login`); one that cannot be verified safely never matches, and
//! its user signs in by password reset.
//!
//! Each scheme is checked by a well-kept implementation: PBKDF2 by aws-lc (the same library as
//! our token crypto), bcrypt by the `bcrypt` crate, scrypt by RustCrypto's `scrypt`, argon2 by
//! `argon2`. Costs are bounded, so a hostile or absurd hash in an import cannot make one login
//! burn a Lambda's whole timeout: above the bounds a hash is refused like an unusable one.

use std::num::NonZeroU32;

use aws_lc_rs::{constant_time, digest, pbkdf2};
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;

/// Above these, a hash is refused (its user resets the password). Django's own default today is
/// 1,000,000 PBKDF2 iterations; bcrypt apps use 10–12.
pub const MAX_PBKDF2_ITERATIONS: u32 = 1_200_000;
pub const MAX_BCRYPT_COST: u32 = 12;
/// scrypt's N = 2^ln, with r·p bounded: at most 2^16 · 8 · 128 bytes (64 MiB), passlib's default.
pub const MAX_SCRYPT_LOG_N: u8 = 16;
pub const MAX_SCRYPT_R_TIMES_P: u32 = 8;
/// Django's argon2 uses 100 MiB; the login functions have 512 MB.
pub const MAX_ARGON2_MEMORY_KIB: u32 = 256 * 1024;
/// argon2's work is memory × passes: Django's default (100 MiB × 2) is the most a login spends.
pub const MAX_ARGON2_KIB_PASSES: u64 = 102_400 * 2;

/// What a stored hash is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// A PHC argon2 string (ours, or an app's `$argon2id$`/`$argon2i$`): verified natively,
    /// upgraded when its parameters are not ours.
    Phc(String),
    /// An imported scheme this service verifies once, then replaces.
    Legacy(Legacy),
    /// Never verifies: Django's unusable password (`!…`), weak or unsalted schemes (`md5$`,
    /// `sha1$`, `unsalted_md5$`, `crypt$`), or a cost above the bounds.
    Refused(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Legacy {
    /// Django `pbkdf2_sha256$<iterations>$<salt>$<base64>` / `pbkdf2_sha1$…` (the salt is used
    /// as its ASCII bytes).
    DjangoPbkdf2 { sha1: bool, iterations: u32, salt: String, hash: Vec<u8> },
    /// Django `argon2$argon2id$…`: a PHC argon2 string behind Django's prefix.
    DjangoArgon2(String),
    /// Django `bcrypt_sha256$$2b$…`: bcrypt over the hex SHA-256 of the password.
    DjangoBcryptSha256(String),
    /// `$2a$`/`$2b$`/`$2y$`/`$2x$` bcrypt (Laravel, Node, Django's `bcrypt$` with it stripped).
    Bcrypt(String),
    /// passlib `$pbkdf2-sha256$<rounds>$<ab64 salt>$<ab64 hash>`.
    PasslibPbkdf2Sha256 { rounds: u32, salt: Vec<u8>, hash: Vec<u8> },
    /// passlib `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<ab64 salt>$<ab64 hash>`.
    PasslibScrypt { log_n: u8, r: u32, p: u32, salt: Vec<u8>, hash: Vec<u8> },
}

/// Reads a stored hash. `None` when it is no format this service knows at all (an import
/// refuses such a line; a stored one never verifies).
pub fn classify(stored: &str) -> Option<Stored> {
    if stored.starts_with('!') {
        return Some(Stored::Refused("unusable password"));
    }
    if let Some(phc) = stored.strip_prefix("argon2") {
        // Django's Argon2PasswordHasher: `argon2` + the PHC string (upgraded to ours once).
        if phc.starts_with("$argon2") {
            return Some(match argon2_within_bounds(phc)? {
                true => Stored::Legacy(Legacy::DjangoArgon2(phc.to_owned())),
                false => Stored::Refused("argon2 work above what a login may spend"),
            });
        }
    }
    if stored.starts_with("$argon2id$") || stored.starts_with("$argon2i$") {
        return Some(match argon2_within_bounds(stored)? {
            true => Stored::Phc(stored.to_owned()),
            false => Stored::Refused("argon2 work above what a login may spend"),
        });
    }
    if let Some(rest) = stored.strip_prefix("pbkdf2_sha256$") {
        return django_pbkdf2(rest, false);
    }
    if let Some(rest) = stored.strip_prefix("pbkdf2_sha1$") {
        return django_pbkdf2(rest, true);
    }
    if let Some(bcrypt) = stored.strip_prefix("bcrypt_sha256$") {
        return bcrypt_hash(bcrypt, Legacy::DjangoBcryptSha256);
    }
    if let Some(bcrypt) = stored.strip_prefix("bcrypt$") {
        return bcrypt_hash(bcrypt, Legacy::Bcrypt);
    }
    if stored.starts_with("$2") {
        return bcrypt_hash(stored, Legacy::Bcrypt);
    }
    if let Some(rest) = stored.strip_prefix("$pbkdf2-sha256$") {
        return passlib_pbkdf2(rest);
    }
    if let Some(rest) = stored.strip_prefix("$scrypt$") {
        return passlib_scrypt(rest);
    }
    for weak in ["md5$", "sha1$", "unsalted_md5$", "unsalted_sha1$", "crypt$", "sha256$"] {
        if stored.starts_with(weak) {
            return Some(Stored::Refused("a weak or unsalted scheme"));
        }
    }
    // Django's oldest unsalted MD5: 32 bare hex digits.
    if stored.len() == 32 && stored.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some(Stored::Refused("a weak or unsalted scheme"));
    }
    None
}

/// Whether a PHC argon2 string's memory and passes are within a login's budget (`None`: not a
/// PHC argon2 string at all).
fn argon2_within_bounds(phc: &str) -> Option<bool> {
    let parsed = argon2::PasswordHash::new(phc).ok()?;
    let params = argon2::Params::try_from(&parsed).ok()?;
    Some(
        params.m_cost() <= MAX_ARGON2_MEMORY_KIB
            && u64::from(params.m_cost()) * u64::from(params.t_cost()) <= MAX_ARGON2_KIB_PASSES,
    )
}

fn django_pbkdf2(rest: &str, sha1: bool) -> Option<Stored> {
    let mut parts = rest.splitn(3, '$');
    let (iterations, salt, hash) = (parts.next()?.parse::<u32>().ok()?, parts.next()?, parts.next()?);
    let hash = STANDARD.decode(hash).ok()?;
    if iterations == 0 || hash.is_empty() || salt.is_empty() {
        return None;
    }
    if iterations > MAX_PBKDF2_ITERATIONS {
        return Some(Stored::Refused("more PBKDF2 iterations than a login may spend"));
    }
    Some(Stored::Legacy(Legacy::DjangoPbkdf2 { sha1, iterations, salt: salt.to_owned(), hash }))
}

/// A bcrypt string (`$2b$12$…`), kept as `legacy` makes it (plain, or Django's SHA-256 wrap).
fn bcrypt_hash(hash: &str, legacy: fn(String) -> Legacy) -> Option<Stored> {
    let parts: Vec<&str> = hash.split('$').collect();
    // ["", "2b", "12", "<22 salt + 31 hash>"]
    if parts.len() != 4 || !matches!(parts[1], "2a" | "2b" | "2y" | "2x") || parts[3].len() != 53 {
        return None;
    }
    let cost = parts[2].parse::<u32>().ok()?;
    if !(4..=31).contains(&cost) {
        return None;
    }
    if cost > MAX_BCRYPT_COST {
        return Some(Stored::Refused("a bcrypt cost above what a login may spend"));
    }
    Some(Stored::Legacy(legacy(hash.to_owned())))
}

/// passlib's adapted base64: `.` for `+`, no padding.
fn ab64(text: &str) -> Option<Vec<u8>> {
    STANDARD_NO_PAD.decode(text.replace('.', "+").trim_end_matches('=')).ok()
}

fn passlib_pbkdf2(rest: &str) -> Option<Stored> {
    let mut parts = rest.splitn(3, '$');
    let (rounds, salt, hash) = (parts.next()?.parse::<u32>().ok()?, ab64(parts.next()?)?, ab64(parts.next()?)?);
    if rounds == 0 || hash.is_empty() {
        return None;
    }
    if rounds > MAX_PBKDF2_ITERATIONS {
        return Some(Stored::Refused("more PBKDF2 iterations than a login may spend"));
    }
    Some(Stored::Legacy(Legacy::PasslibPbkdf2Sha256 { rounds, salt, hash }))
}

fn passlib_scrypt(rest: &str) -> Option<Stored> {
    let mut parts = rest.splitn(3, '$');
    let params = parts.next()?;
    let (salt, hash) = (ab64(parts.next()?)?, ab64(parts.next()?)?);
    let (mut log_n, mut r, mut p) = (None, None, None);
    for pair in params.split(',') {
        match pair.split_once('=')? {
            ("ln", v) => log_n = v.parse::<u8>().ok(),
            ("r", v) => r = v.parse::<u32>().ok(),
            ("p", v) => p = v.parse::<u32>().ok(),
            _ => return None,
        }
    }
    let (log_n, r, p) = (log_n?, r?, p?);
    if log_n == 0 || r == 0 || p == 0 || hash.is_empty() {
        return None;
    }
    if log_n > MAX_SCRYPT_LOG_N || r.saturating_mul(p) > MAX_SCRYPT_R_TIMES_P {
        return Some(Stored::Refused("scrypt parameters above what a login may spend"));
    }
    Some(Stored::Legacy(Legacy::PasslibScrypt { log_n, r, p, salt, hash }))
}

/// Whether `password` is the one `legacy` was made from. Blocking: call it off the executor.
pub fn verify(password: &str, legacy: &Legacy) -> bool {
    match legacy {
        Legacy::DjangoPbkdf2 { sha1, iterations, salt, hash } => {
            let algorithm = if *sha1 { pbkdf2::PBKDF2_HMAC_SHA1 } else { pbkdf2::PBKDF2_HMAC_SHA256 };
            pbkdf2_matches(algorithm, *iterations, salt.as_bytes(), password, hash)
        }
        Legacy::PasslibPbkdf2Sha256 { rounds, salt, hash } => {
            pbkdf2_matches(pbkdf2::PBKDF2_HMAC_SHA256, *rounds, salt, password, hash)
        }
        Legacy::DjangoBcryptSha256(hash) => {
            let digest = digest::digest(&digest::SHA256, password.as_bytes());
            let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
            bcrypt::verify(hex, hash).unwrap_or(false)
        }
        Legacy::Bcrypt(hash) => bcrypt::verify(password, hash).unwrap_or(false),
        Legacy::DjangoArgon2(phc) => {
            use argon2::PasswordVerifier;
            // The verifier takes the algorithm and parameters from the hash itself.
            argon2::PasswordHash::new(phc)
                .is_ok_and(|parsed| argon2::Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        }
        Legacy::PasslibScrypt { log_n, r, p, salt, hash } => {
            let Ok(params) = scrypt::Params::new(*log_n, *r, *p, hash.len()) else { return false };
            let mut derived = vec![0u8; hash.len()];
            scrypt::scrypt(password.as_bytes(), salt, &params, &mut derived).is_ok()
                && constant_time::verify_slices_are_equal(&derived, hash).is_ok()
        }
    }
}

fn pbkdf2_matches(algorithm: pbkdf2::Algorithm, iterations: u32, salt: &[u8], password: &str, hash: &[u8]) -> bool {
    let Some(iterations) = NonZeroU32::new(iterations) else { return false };
    pbkdf2::verify(algorithm, iterations, salt, password.as_bytes(), hash).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusable_weak_and_unknown_hashes_never_verify() {
        for refused in
            ["!abc", "md5$salt$0123", "sha1$salt$abcd", "unsalted_md5$$0123", "5f4dcc3b5aa765d61d8327deb882cf99"]
        {
            assert!(matches!(classify(refused), Some(Stored::Refused(_))), "{refused}");
        }
        for unknown in ["", "plaintext", "$6$rounds=5000$salt$hash", "pbkdf2_sha256$x$salt$hash"] {
            assert_eq!(classify(unknown), None, "{unknown}");
        }
    }

    #[test]
    fn costs_above_the_bounds_are_refused_not_computed() {
        let hash = STANDARD.encode([0u8; 32]);
        assert!(matches!(classify(&format!("pbkdf2_sha256$5000000$salt${hash}")), Some(Stored::Refused(_))));
        let bcrypt = format!("$2b$13${}", "a".repeat(53));
        assert!(matches!(classify(&bcrypt), Some(Stored::Refused(_))));
        assert!(matches!(classify("$scrypt$ln=17,r=8,p=1$c2FsdA$aGFzaA"), Some(Stored::Refused(_))));
        let slow = "$argon2id$v=19$m=65536,t=100,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
        assert!(matches!(classify(slow), Some(Stored::Refused(_))), "passes count too");
        let huge = "$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
        assert!(matches!(classify(huge), Some(Stored::Refused(_))));
    }

    #[test]
    fn django_argon2_is_the_phc_string_after_its_prefix() {
        let phc = "$argon2id$v=19$m=102400,t=2,p=8$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
        assert_eq!(classify(&format!("argon2{phc}")), Some(Stored::Legacy(Legacy::DjangoArgon2(phc.to_owned()))));
    }
}
