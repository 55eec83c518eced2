//! Domain newtypes, parsed at the edge: once a value has one of these types it obeys the
//! contract's rules, and its uniqueness key is computed in exactly one place.

use secrecy::{ExposeSecret, SecretString};
use unicode_normalization::UnicodeNormalization;

pub const INVALID_EMAIL: &str = "Provide a valid email address.";

/// The role and tier of every new account, guest or not.
pub const DEFAULT_ROLE: &str = "reader";
pub const DEFAULT_TIER: &str = "free";

/// An imported user's id in its app (`legacy_id`) as the apps showed it: a number where it reads
/// back as the same text (`"42"` → `42`; `"0042"` stays a string).
pub fn shown_legacy_id(legacy: &str) -> serde_json::Value {
    match legacy.parse::<u64>() {
        Ok(n) if n.to_string() == legacy => serde_json::Value::from(n),
        _ => serde_json::Value::from(legacy),
    }
}

/// The longest uniqueness key, in bytes (DynamoDB keys hold at most 2,048).
pub const MAX_KEY_BYTES: usize = 1024;

/// A username as given by the user; unique by [`Username::key`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// 3–150 characters of letters, digits and `@ . + - _`.
    /// Judged in NFC, so "Jürgen" passes whether its ü arrives composed or decomposed.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let composed: String = raw.nfc().collect();
        let count = composed.chars().count();
        if !(3..=150).contains(&count) {
            return Err("Username must be 3 to 150 characters long.");
        }
        if !composed.chars().all(|c| c.is_alphanumeric() || matches!(c, '@' | '.' | '+' | '-' | '_')) {
            return Err("Username may contain only letters, digits and @ . + - _ characters.");
        }
        // NFKC can expand a character many times over (U+FDFA is 18 letters): the key must
        // still fit a database key.
        if username_key(raw).len() > MAX_KEY_BYTES {
            return Err("Username must be 3 to 150 characters long.");
        }
        Ok(Username(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The uniqueness key: NFKC-normalised, then lower-cased.
    pub fn key(&self) -> String {
        username_key(&self.0)
    }
}

/// The uniqueness key of any string offered as a username (also for lookups at login).
pub fn username_key(raw: &str) -> String {
    raw.nfkc().collect::<String>().to_lowercase()
}

/// An email address as given; unique case-insensitively by [`Email::key`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        if raw.len() > 254 || raw.chars().any(char::is_whitespace) {
            return Err(INVALID_EMAIL);
        }
        let parsed = email_address::EmailAddress::parse_with_options(
            raw,
            email_address::Options::default().without_display_text().without_domain_literal(),
        )
        .map_err(|_| INVALID_EMAIL)?;
        // A deliverable address needs a dotted domain ("user@localhost" is no app user's).
        if !parsed.domain().contains('.') || parsed.domain().ends_with('.') {
            return Err(INVALID_EMAIL);
        }
        Ok(Email(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn key(&self) -> String {
        email_key(&self.0)
    }

    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map(|(local, _)| local).unwrap_or(&self.0)
    }
}

/// The uniqueness key of any string offered as an email (also for lookups at login).
pub fn email_key(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// A password that passed the length rule; the strength rules need the user's other fields
/// and live in [`crate::password::check_strength`].
pub struct Password(SecretString);

impl Password {
    /// 8–128 characters counted in code points, never truncated or case-folded.
    pub fn parse(raw: String) -> Result<Self, &'static str> {
        let count = raw.chars().count();
        if count < 8 {
            return Err("This password is too short. It must contain at least 8 characters.");
        }
        if count > 128 {
            return Err("This password is too long. It must contain at most 128 characters.");
        }
        Ok(Password(SecretString::from(raw)))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password([REDACTED])")
    }
}

/// Checks an optional display name (1–100 characters).
pub fn check_display_name(value: &str) -> Result<(), &'static str> {
    let count = value.chars().count();
    if value.trim().is_empty() || count > 100 {
        return Err("Display name must be 1 to 100 characters long.");
    }
    Ok(())
}

/// Checks a first or last name (at most 150 characters).
pub fn check_real_name(value: &str) -> Result<(), &'static str> {
    if value.chars().count() > 150 {
        return Err("Ensure this field has no more than 150 characters.");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_allow_letters_digits_and_five_punctuation_marks() {
        for ok in ["abc", "a.b+c-d_e@f", "Jürgen_Ñandú_", "Ju\u{308}rgen", &"x".repeat(150)] {
            assert!(Username::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", "has space", "slash/", "semi;colon", "quote'", "emoji😀", &"x".repeat(151)] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn username_key_folds_case_and_nfkc_width() {
        let plain = Username::parse("WideUser1").expect("valid");
        let fullwidth = Username::parse("ＷｉｄｅＵｓｅｒ１").expect("valid");
        assert_eq!(plain.key(), fullwidth.key());
        assert_eq!(plain.as_str(), "WideUser1");
    }

    #[test]
    fn emails_follow_the_contract() {
        assert!(Email::parse("john@example.com").is_ok());
        let local = "e".repeat(17);
        let domain = format!("{}.{}.{}.{}.com", "a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(40));
        let longest = format!("{local}@{domain}");
        assert_eq!(longest.len(), 254);
        assert!(Email::parse(&longest).is_ok());
        for bad in ["not-an-email", "nodomain@", "@example.com", "two@@example.com", "sp ace@example.com"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        let too_long = format!(
            "{}@{}.com",
            "l".repeat(17),
            ["d".repeat(60), "d".repeat(60), "d".repeat(60), "d".repeat(60)].join(".")
        );
        assert!(Email::parse(&too_long).is_err());
    }

    #[test]
    fn email_key_ignores_case() {
        let a = Email::parse("John@Example.COM").expect("valid");
        assert_eq!(a.key(), "john@example.com");
        assert_eq!(a.as_str(), "John@Example.COM");
    }

    #[test]
    fn password_length_counts_code_points() {
        assert!(Password::parse("ä".repeat(128)).is_ok());
        assert!(Password::parse("ä".repeat(129)).is_err());
        assert!(Password::parse("Sh0rt!x".to_owned()).is_err());
    }

    #[test]
    fn passwords_never_print() {
        let password = Password::parse("correct horse battery".to_owned()).expect("valid");
        assert!(!format!("{password:?}").contains("horse"));
    }
}
