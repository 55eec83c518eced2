//! Password hashing (argon2id on a blocking thread) and the strength rules of `api.md`.

use std::sync::{Mutex, OnceLock, PoisonError};

use argon2::password_hash::{rand_core::OsRng, Output, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, PasswordVerifier, Version};
use tokio::sync::Semaphore;

use crate::domain::Password;
use crate::error::Error;
use crate::legacy_hash::{self, Stored};
use crate::store::UserRecord;

/// OWASP's argon2id minimum: 19 MiB, two passes, one lane.
const MEMORY_KIB: u32 = 19_456;
const ITERATIONS: u32 = 2;
const LANES: u32 = 1;

/// A hash of a random password nobody knows, with the current parameters. Logins for unknown
/// users verify against it so they cost the same time as a wrong password.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$2wWfNu+2AyMxOXxjajXWbQ$3iDbVpL49PbZu4rD3vu1x/UVvUqxWpf8tGO5IpF+Yps";

/// Our hashes' length in bytes (argon2's default).
const OUTPUT_BYTES: usize = 32;

fn params() -> Params {
    // The parameters are constants within argon2's documented bounds.
    Params::new(MEMORY_KIB, ITERATIONS, LANES, Some(OUTPUT_BYTES)).unwrap_or_default()
}

fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
}

/// How many password checks run at once: one per core. More would only share the same cores
/// and each hold its own 19 MiB, so a burst of logins waits for a worker instead of thrashing.
fn worker_count() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// The argon2 memory of our parameters, one block set per running check, kept for the next:
/// no 19 MiB allocation (and its page faults) per login, and never more of them alive than
/// [`worker_count`] lets run, so resident memory stays bounded without tuning the allocator.
static MEMORY: Mutex<Vec<Box<[Block]>>> = Mutex::new(Vec::new());

/// Runs `work` (argon2, or a legacy scheme's verify) on a blocking thread once a worker is
/// free.
async fn on_worker<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, Error> {
    static WORKERS: OnceLock<std::sync::Arc<Semaphore>> = OnceLock::new();
    let workers = WORKERS.get_or_init(|| std::sync::Arc::new(Semaphore::new(worker_count())));
    let permit = std::sync::Arc::clone(workers).acquire_owned().await.map_err(Error::internal)?;
    // The permit goes with the work: a request dropped meanwhile (a client that hung up) does
    // not free a worker whose hash is still running.
    tokio::task::spawn_blocking(move || {
        let done = work();
        drop(permit);
        done
    })
    .await
    .map_err(Error::internal)
}

/// Our argon2id of `password` with the raw `salt`, computed in a pooled block set.
fn argon2id(password: &[u8], salt: &[u8]) -> Result<[u8; OUTPUT_BYTES], argon2::Error> {
    let mut memory = MEMORY
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .pop()
        .unwrap_or_else(|| vec![Block::default(); params().block_count()].into_boxed_slice());
    let mut output = [0u8; OUTPUT_BYTES];
    // AVX2 where the CPU has it (`crate::argon2id`), the library's portable code elsewhere.
    // Debug builds (tests) keep the library, which the dev profile optimises; the AVX2 code
    // is held to the library's output by its own tests.
    let simd = !cfg!(debug_assertions)
        && crate::argon2id::hash_into(password, salt, MEMORY_KIB, ITERATIONS, &mut output, &mut memory).is_some();
    let result = if simd {
        Ok(())
    } else {
        hasher().hash_password_into_with_memory(password, salt, &mut output, &mut memory[..])
    };
    MEMORY.lock().unwrap_or_else(PoisonError::into_inner).push(memory);
    result.map(|()| output)
}

/// `hash`'s raw salt: the PHC string holds it in unpadded base64.
fn salt_bytes<'a>(salt: argon2::password_hash::Salt<'_>, buffer: &'a mut [u8; 64]) -> Option<&'a [u8]> {
    salt.decode_b64(buffer).ok()
}

/// Verifies a PHC string: ours on the pooled memory; any other argon2 (an imported app's
/// parameters, or ours before a change) the library's way, with memory of its own.
fn verify_phc(secret: &str, parsed: &PasswordHash<'_>) -> bool {
    // Exactly our shape: argon2id v=19 with m, t and p alone (no `keyid`/`data`), 32 bytes.
    let ours = !is_outdated(parsed)
        && parsed.version.is_none_or(|v| v == u32::from(Version::V0x13))
        && parsed.params.iter().all(|(name, _)| matches!(name.as_str(), "m" | "t" | "p"))
        && parsed.hash.is_some_and(|h| h.len() == OUTPUT_BYTES);
    let mut buffer = [0u8; 64];
    match (ours, parsed.salt.and_then(|salt| salt_bytes(salt, &mut buffer)), parsed.hash) {
        // `Output`'s equality is constant-time.
        (true, Some(salt), Some(expected)) => {
            argon2id(secret.as_bytes(), salt).ok().and_then(|raw| Output::new(&raw).ok()) == Some(expected)
        }
        _ => {
            let matches = hasher().verify_password(secret.as_bytes(), parsed).is_ok();
            release_one_off_memory();
            matches
        }
    }
}

/// Hands the freed pages of a one-off hash buffer (an imported scheme's, or argon2 with other
/// parameters than ours: up to 256 MiB of scrypt or argon2 state, once per user) back to the
/// system. glibc raises its mmap threshold after a large free, so without this such a buffer
/// would stay resident in the worker thread's heap arena for the life of the process — one per
/// arena — and memory would depend on an allocator environment variable to stay bounded.
fn release_one_off_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: malloc_trim only returns free memory of glibc's heaps to the kernel; it takes no
    // pointer and is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Hashes a password into a PHC string, off the async executor.
pub async fn hash(password: &Password) -> Result<String, Error> {
    rehash(password.expose()).await
}

/// Hashes a password the user has just proved (a legacy or outdated hash being replaced):
/// the strength rules of new passwords do not apply to it.
pub async fn rehash(verified: &str) -> Result<String, Error> {
    let secret = verified.to_owned();
    on_worker(move || {
        let salt = SaltString::generate(&mut OsRng);
        let mut buffer = [0u8; 64];
        let raw = salt_bytes(salt.as_salt(), &mut buffer).ok_or_else(|| "salt".to_owned())?;
        let output = argon2id(secret.as_bytes(), raw).map_err(|e| e.to_string())?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: (&params()).try_into().map_err(|e: argon2::password_hash::Error| e.to_string())?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&output).map_err(|e| e.to_string())?),
        };
        Ok::<_, String>(phc.to_string())
    })
    .await?
    .map_err(Error::internal)
}

/// Verifies `password` against `stored`: an argon2 PHC string natively, an imported legacy
/// hash by its scheme (`crate::legacy_hash`). Without a user, or with a hash that never
/// verifies (unusable, weak, unknown, too costly), it does the dummy hash's argon2 work
/// instead, so those paths cost what a wrong native password costs. Returns whether it
/// matched and whether the stored hash should be replaced (a legacy scheme, or argon2 with
/// other parameters than ours).
pub async fn verify(password: &str, stored: Option<&str>) -> Result<Verdict, Error> {
    let stored = stored.and_then(legacy_hash::classify);
    let secret = password.to_owned();
    on_worker(move || match stored {
        Some(Stored::Phc(phc)) => match PasswordHash::new(&phc) {
            Ok(parsed) => {
                let matches = verify_phc(&secret, &parsed);
                Verdict { matches, needs_rehash: matches && is_outdated(&parsed) }
            }
            Err(_) => dummy(&secret),
        },
        Some(Stored::Legacy(legacy)) => {
            let matches = legacy_hash::verify(&secret, &legacy);
            release_one_off_memory();
            Verdict { matches, needs_rehash: matches }
        }
        Some(Stored::Refused(_)) | None => dummy(&secret),
    })
    .await
}

/// The argon2 work of a wrong password, for a caller no stored hash can let in.
fn dummy(secret: &str) -> Verdict {
    if let Ok(parsed) = PasswordHash::new(DUMMY_HASH) {
        let _ = verify_phc(secret, &parsed);
    }
    Verdict { matches: false, needs_rehash: false }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub matches: bool,
    pub needs_rehash: bool,
}

/// Any argon2 hash but ours (`argon2i`, other parameters — an imported app's, or our own
/// before a change) is rewritten with ours at the next login: one cost to bound, one format.
fn is_outdated(hash: &PasswordHash<'_>) -> bool {
    let Ok(params) = Params::try_from(hash) else {
        return true;
    };
    hash.algorithm.as_str() != "argon2id"
        || params.m_cost() != MEMORY_KIB
        || params.t_cost() != ITERATIONS
        || params.p_cost() != LANES
}

/// The lowest zxcvbn score accepted.
const MIN_SCORE: u8 = 2;

/// What the strength rules compare a password with.
#[derive(Debug, Default, Clone, Copy)]
pub struct UserAttributes<'a> {
    pub username: Option<&'a str>,
    pub email: Option<&'a str>,
    pub first_name: Option<&'a str>,
    pub last_name: Option<&'a str>,
    pub display_name: Option<&'a str>,
}

impl<'a> UserAttributes<'a> {
    /// What an existing user's new password must not resemble.
    pub fn of(user: &'a UserRecord) -> Self {
        UserAttributes {
            username: user.username.as_deref(),
            email: user.email.as_deref(),
            first_name: user.first_name.as_deref(),
            last_name: user.last_name.as_deref(),
            display_name: user.display_name.as_deref(),
        }
    }
}

/// The strength rules of `api.md`, each failure with its reason. Never echoes the password.
pub fn check_strength(password: &Password, user: UserAttributes<'_>) -> Result<(), String> {
    let password = password.expose();
    if password.chars().all(|c| c.is_numeric()) {
        return Err("This password is entirely numeric.".to_owned());
    }
    let lowered = password.to_lowercase();
    let attributes = [
        ("username", user.username),
        ("email address", user.email),
        ("first name", user.first_name),
        ("last name", user.last_name),
        ("display name", user.display_name),
    ];
    for (label, value) in attributes {
        if let Some(value) = value {
            if is_similar(&lowered, &value.to_lowercase()) {
                return Err(format!("The password is too similar to the {label}."));
            }
        }
    }
    // The estimator is quadratic in the length; past 64 characters its verdict no longer
    // changes for passwords that survived the rules above, so it sees a prefix.
    let sample: String = password.chars().take(64).collect();
    let inputs: Vec<&str> = attributes.iter().filter_map(|(_, v)| *v).collect();
    let estimate = zxcvbn::zxcvbn(&sample, &inputs);
    // Score 2 ("somewhat guessable", ≥ 10^6 guesses) is the floor: the estimator caps every
    // 8-character password at 2, and the contract accepts 8-character passwords.
    if (estimate.score() as u8) < MIN_SCORE {
        let reason = match estimate.feedback().and_then(|f| f.warning()) {
            Some(
                zxcvbn::feedback::Warning::ThisIsATop10Password
                | zxcvbn::feedback::Warning::ThisIsATop100Password
                | zxcvbn::feedback::Warning::ThisIsACommonPassword
                | zxcvbn::feedback::Warning::ThisIsSimilarToACommonlyUsedPassword,
            ) => "This password is too common.".to_owned(),
            Some(warning) => format!("This password is too weak. {warning}"),
            None => "This password is too weak. Add more words or characters.".to_owned(),
        };
        return Err(reason);
    }
    Ok(())
}

/// Django's `UserAttributeSimilarityValidator` (max similarity 0.7): the password resembles
/// the value (both lower-cased by the caller), or one of its parts split on non-word characters, by
/// `difflib.SequenceMatcher.quick_ratio` — unless the password is so much longer than the
/// part that the ratio could not reach 0.7 (Django's `exceeds_maximum_length_ratio`). So a
/// long random password that merely contains a word of the email is accepted.
fn is_similar(password: &str, value: &str) -> bool {
    const MAX_SIMILARITY: f64 = 0.7;
    let parts = value.split(|c: char| !(c.is_alphanumeric() || c == '_')).chain(std::iter::once(value));
    let password_len = password.chars().count();
    parts.filter(|part| !part.is_empty()).any(|part| {
        let part_len = part.chars().count();
        let out_of_reach =
            password_len >= 10 * part_len && (part_len as f64) < MAX_SIMILARITY / 2.0 * password_len as f64;
        !out_of_reach && quick_ratio(password, part) >= MAX_SIMILARITY
    })
}

/// Python's `difflib.SequenceMatcher(a, b).quick_ratio()`: twice the size of the multiset
/// intersection of the two strings' characters over their total length.
fn quick_ratio(a: &str, b: &str) -> f64 {
    let mut available: std::collections::HashMap<char, i64> = std::collections::HashMap::new();
    for c in b.chars() {
        *available.entry(c).or_default() += 1;
    }
    let mut matches = 0usize;
    for c in a.chars() {
        if let Some(count) = available.get_mut(&c).filter(|n| **n > 0) {
            *count -= 1;
            matches += 1;
        }
    }
    let total = a.chars().count() + b.chars().count();
    if total == 0 {
        1.0
    } else {
        2.0 * matches as f64 / total as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(s: &str) -> Password {
        Password::parse(s.to_owned()).expect("length ok")
    }

    fn strength(s: &str) -> Result<(), String> {
        let user = UserAttributes {
            username: Some("reader_3f2a9c"),
            email: Some("reader_3f2a9c@example.com"),
            first_name: Some("Philomena"),
            ..Default::default()
        };
        check_strength(&pw(s), user)
    }

    #[test]
    fn common_passwords_are_rejected_as_too_common() {
        assert_eq!(strength("password").expect_err("common"), "This password is too common.");
        assert!(strength("iloveyou").is_err());
    }

    #[test]
    fn numeric_and_repetitive_passwords_are_rejected() {
        assert_eq!(strength("84729104857362").expect_err("numeric"), "This password is entirely numeric.");
        assert!(strength("aaaaaaaaaaaa").is_err());
    }

    #[test]
    fn passwords_like_the_users_names_are_rejected() {
        assert!(strength("reader_3f2a9c1").expect_err("username").contains("username"));
        assert!(strength("Philomena!").expect_err("first").contains("first name"));
    }

    #[test]
    fn quick_ratio_is_pythons() {
        // difflib.SequenceMatcher(a="abcd", b="bcde").quick_ratio() == 0.75
        assert!((quick_ratio("abcd", "bcde") - 0.75).abs() < 1e-9);
        assert!((quick_ratio("a", &"a".repeat(10)) - 2.0 / 11.0).abs() < 1e-9);
        assert_eq!(quick_ratio("", ""), 1.0);
    }

    #[test]
    fn a_long_random_password_containing_a_word_of_the_email_is_accepted() {
        let user = UserAttributes {
            username: Some("gardener42"),
            email: Some("roses.lover@example.com"),
            ..Default::default()
        };
        // 29 characters, 16 of them random, with a six-letter word of the email's local part.
        assert!(check_strength(&pw("q7!Vx#2LmP9&zR4k-roses-lover"), user).is_ok());
        assert!(check_strength(&pw("Xk9#mQ2$vL7!pR4@lover"), user).is_ok());
        // The address, or a part of it, with a character added is still too similar.
        assert!(check_strength(&pw("roses.lover@example.com1"), user).expect_err("similar").contains("email"));
        assert!(check_strength(&pw("example1"), user).expect_err("similar").contains("email"));
        assert!(check_strength(&pw("gardener42!"), user).expect_err("similar").contains("username"));
    }

    #[test]
    fn strong_passwords_pass_and_reasons_never_echo_them() {
        assert!(strength("v7#Qm!pL2x@Rw9zK").is_ok());
        assert!(strength("correct horse battery staple").is_ok());
        let err = strength("reader_3f2a9c1").expect_err("similar");
        assert!(!err.contains("reader_3f2a9c1"));
    }

    #[test]
    fn random_passwords_of_exactly_8_characters_pass() {
        for candidate in ["Vx9#Qm!p", "k7&Rw2@z", "T4%nB8^c"] {
            assert!(strength(candidate).is_ok(), "{candidate}");
        }
    }

    #[test]
    fn long_passwords_are_estimated_quickly() {
        let long: String = "äöüßéèêñçøåæœłžšğıΩДЖЯabcXYZ123".chars().cycle().take(128).collect();
        let started = std::time::Instant::now();
        let _ = strength(&long);
        // Not a benchmark: a guard against the estimator's worst case blowing up.
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    #[tokio::test]
    async fn hash_then_verify_round_trips_and_wrong_passwords_fail() {
        let stored = hash(&pw("v7#Qm!pL2x@Rw9zK")).await.expect("hash");
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("v7#Qm!pL2x@Rw9zK", Some(&stored)).await.expect("verify").matches);
        assert!(!verify("v7#Qm!pL2x@Rw9zk", Some(&stored)).await.expect("verify").matches);
    }

    #[tokio::test]
    async fn pooled_hashes_are_the_librarys_own_and_the_pool_never_outgrows_the_workers() {
        use argon2::PasswordHasher;
        // Ours verify with the library, and the library's verify with ours.
        let stored = hash(&pw("v7#Qm!pL2x@Rw9zK")).await.expect("hash");
        assert!(hasher().verify_password(b"v7#Qm!pL2x@Rw9zK", &PasswordHash::new(&stored).expect("phc")).is_ok());
        let salt = SaltString::generate(&mut OsRng);
        let theirs = hasher().hash_password(b"another-Passw0rd", &salt).expect("hash").to_string();
        assert!(verify("another-Passw0rd", Some(&theirs)).await.expect("verify").matches);
        assert!(!verify("another-passw0rd", Some(&theirs)).await.expect("verify").matches);

        let checks: Vec<_> = (0..16).map(|_| tokio::spawn(verify("wrong", Some(DUMMY_HASH)))).collect();
        for check in checks {
            assert!(!check.await.expect("join").expect("verify").matches);
        }
        let pooled = MEMORY.lock().expect("pool").len();
        let workers = worker_count();
        assert!((1..=workers).contains(&pooled), "{pooled} block sets for {workers} workers");
    }

    #[tokio::test]
    async fn unknown_users_never_match_even_the_dummy_password() {
        assert!(!verify("anything", None).await.expect("verify").matches);
    }

    #[test]
    fn the_dummy_hash_uses_the_current_parameters() {
        let parsed = PasswordHash::new(DUMMY_HASH).expect("phc");
        assert!(!is_outdated(&parsed));
    }

    #[test]
    fn weaker_hashes_are_flagged_for_rehash() {
        let weak = "$argon2id$v=19$m=4096,t=1,p=1$2wWfNu+2AyMxOXxjajXWbQ$3iDbVpL49PbZu4rD3vu1x/UVvUqxWpf8tGO5IpF+Yps";
        assert!(is_outdated(&PasswordHash::new(weak).expect("phc")));
    }
}
