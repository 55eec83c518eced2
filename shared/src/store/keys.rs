//! Every key of the one table. Handlers name items through these functions, never by their
//! strings.
//!
//! | item                | pk                  | sk                 | ttl                |
//! |---------------------|---------------------|--------------------|--------------------|
//! | user                | `USER#<user id>`    | `PROFILE`          | guests only        |
//! | session             | `USER#<user id>`    | `SESSION#<sid>`    | idle expiry        |
//! | username claim      | `USERNAME#<key>`    | `CLAIM`            | –                  |
//! | email claim         | `EMAIL#<key>`       | `CLAIM`            | –                  |
//! | device claim        | `DEVICE#<sha256>`   | `CLAIM`            | guest idle expiry  |
//! | identity claim      | `IDENTITY#<provider>#<sub>` | `CLAIM`    | –                  |
//! | rate window         | `RATE#<route>#<ip>` | window start (s)   | end of window      |
//! | login back-off      | `LOGIN#<sha256(id)>`| `STATE`            | a day (30 once disabled) |
//! | one-time token      | `USER#<user id>`    | `TOKEN#verify`/`#reset` | token or send window |
//! | (never written)     | `WARMUP`            | `WARMUP`           | –                  |
//!
//! Sessions and one-time tokens live in their user's partition, so listing or ending all of
//! a user's sessions is one strongly consistent `Query`, and `/me` fetches user and session
//! in one `BatchGetItem`. A claim's partition key also names the claim: a guest's
//! `device_key` holds it, and the login back-off key hashes it.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use uuid::Uuid;

use crate::tokens::{sha256_b64, Purpose};

pub(super) const PROFILE: &str = "PROFILE";
pub(super) const CLAIM: &str = "CLAIM";
pub(super) const LOGIN_STATE: &str = "STATE";
/// What every session's sort key starts with (the `Query` of a user's sessions).
pub(super) const SESSION_PREFIX: &str = "SESSION#";

/// The primary key of one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub(super) fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Key { pk: pk.into(), sk: sk.into() }
    }

    pub(super) fn into_attributes(self) -> HashMap<String, AttributeValue> {
        HashMap::from([("pk".to_owned(), AttributeValue::S(self.pk)), ("sk".to_owned(), AttributeValue::S(self.sk))])
    }
}

/// The partition of a user: its profile, sessions and pending one-time tokens.
pub(super) fn user_pk(user_id: Uuid) -> String {
    format!("USER#{user_id}")
}

/// The user whose partition `pk` is.
pub(super) fn user_of(pk: &str) -> Option<Uuid> {
    pk.strip_prefix("USER#").and_then(|id| Uuid::parse_str(id).ok())
}

pub(super) fn user(user_id: Uuid) -> Key {
    Key::new(user_pk(user_id), PROFILE)
}

pub fn session(user_id: Uuid, session_id: Uuid) -> Key {
    Key::new(user_pk(user_id), format!("{SESSION_PREFIX}{session_id}"))
}

/// The one pending token of a purpose in its user's partition.
pub(super) fn one_time(user_id: Uuid, purpose: Purpose) -> Key {
    let sk = match purpose {
        Purpose::VerifyEmail => "TOKEN#verify",
        Purpose::ResetPassword => "TOKEN#reset",
    };
    Key::new(user_pk(user_id), sk)
}

/// The claim of a username, by its uniqueness key (`Username::key`).
pub fn username_claim(key: &str) -> String {
    format!("USERNAME#{key}")
}

/// The claim of an email address, by its uniqueness key (`Email::key`).
pub fn email_claim(key: &str) -> String {
    format!("EMAIL#{key}")
}

/// An imported user's id in the app it came from: one user per legacy id of one source (the
/// importer's `--source`, so two apps' user 1 are two users).
pub fn legacy_claim(source: Option<&str>, legacy_id: &str) -> String {
    match source {
        Some(source) => format!("LEGACY#{source}#{legacy_id}"),
        None => format!("LEGACY#{legacy_id}"),
    }
}

/// A social identity: the provider's subject for its users, unique per provider.
pub fn identity_claim(provider: &str, subject: &str) -> String {
    format!("IDENTITY#{provider}#{subject}")
}

/// Device ids are hashed: the table never holds a client's raw device identifier.
pub fn device_claim(device_id: &str) -> String {
    format!("DEVICE#{}", sha256_b64(device_id.as_bytes()))
}

/// The item of a claim named by one of the functions above.
pub(super) fn claim(claim_pk: impl Into<String>) -> Key {
    Key::new(claim_pk, CLAIM)
}

/// The partition of a login identifier's back-off state, by the identifier's claim. Hashed:
/// it bounds the key's size and keeps identifiers that belong to nobody out of the table in
/// clear.
pub fn login_backoff(identifier_claim: &str) -> String {
    format!("LOGIN#{}", sha256_b64(identifier_claim.as_bytes()))
}

pub(super) fn login_state(login_pk: impl Into<String>) -> Key {
    Key::new(login_pk, LOGIN_STATE)
}

/// The key a cold start's warm-up reads ([`super::Store::warm_up`]): no item has it, since no
/// write names it.
pub(super) fn warm_up() -> Key {
    Key::new("WARMUP", "WARMUP")
}

/// The counter of one route's requests from one IP in the window starting at
/// `window_start` (unix seconds).
pub(super) fn rate_window(scope: &str, ip: &str, window_start: i64) -> Key {
    Key::new(format!("RATE#{scope}#{ip}"), window_start.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: Uuid = Uuid::from_u128(0x0192_3456_789a_7bcd_8ef0_1234_5678_9abc);
    const SESSION: Uuid = Uuid::from_u128(0x1111_2222_4333_8444_9555_6666_7777_8888);

    fn key(pk: &str, sk: &str) -> Key {
        Key { pk: pk.to_owned(), sk: sk.to_owned() }
    }

    #[test]
    fn user_partition_keys() {
        assert_eq!(user(USER), key("USER#01923456-789a-7bcd-8ef0-123456789abc", "PROFILE"));
        assert_eq!(
            session(USER, SESSION),
            key("USER#01923456-789a-7bcd-8ef0-123456789abc", "SESSION#11112222-4333-8444-9555-666677778888")
        );
        assert!(session(USER, SESSION).sk.starts_with(SESSION_PREFIX));
        assert_eq!(user_of(&user(USER).pk), Some(USER));
        assert_eq!(user_of("EMAIL#a@b.c"), None);
        assert_eq!(
            one_time(USER, Purpose::VerifyEmail),
            key("USER#01923456-789a-7bcd-8ef0-123456789abc", "TOKEN#verify")
        );
        assert_eq!(one_time(USER, Purpose::ResetPassword).sk, "TOKEN#reset");
    }

    #[test]
    fn claim_keys() {
        assert_eq!(username_claim("jane"), "USERNAME#jane");
        assert_eq!(email_claim("jane@example.com"), "EMAIL#jane@example.com");
        // base64url (no padding) of SHA-256("device-1234").
        assert_eq!(device_claim("device-1234"), "DEVICE#mJq7hxSnO8Jz-lIEjyPPq1peiYZiRfsX3Q5FLuM3O1E");
        assert_eq!(claim(email_claim("a@b.c")), key("EMAIL#a@b.c", "CLAIM"));
    }

    #[test]
    fn login_state_key_hashes_the_claim() {
        let pk = login_backoff("USERNAME#jane");
        assert_eq!(pk, "LOGIN#yJ0M_tVwOOHmZcB_NC3ZAXRABtddInSEwZCdwZSOTEQ");
        assert_ne!(pk, login_backoff("EMAIL#jane"));
        assert_eq!(login_state(pk.clone()), key(&pk, "STATE"));
    }

    #[test]
    fn rate_window_key() {
        assert_eq!(rate_window("login", "203.0.113.7", 1_795_000_020), key("RATE#login#203.0.113.7", "1795000020"));
    }

    #[test]
    fn keys_become_pk_and_sk_attributes() {
        let attributes = user(USER).into_attributes();
        assert_eq!(attributes.len(), 2);
        assert_eq!(attributes["pk"], AttributeValue::S("USER#01923456-789a-7bcd-8ef0-123456789abc".to_owned()));
        assert_eq!(attributes["sk"], AttributeValue::S("PROFILE".to_owned()));
    }
}
