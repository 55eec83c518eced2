//! Claims: the items that make a name unique (a username, an email address, a device, an
//! imported user's id, a social identity), each pointing at the user that holds it.

use aws_sdk_dynamodb::types::builders::DeleteBuilder;
use aws_sdk_dynamodb::types::Delete;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{keys, s};
use crate::clock::UnixMs;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClaimRecord {
    pk: String,
    sk: String,
    pub user_id: Uuid,
    /// Device claims expire with their idle guest; name claims never do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<UnixMs>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<i64>,
}

impl ClaimRecord {
    /// The claim's key: what it makes unique (`USERNAME#…`, `EMAIL#…`, `LEGACY#…`).
    pub fn pk(&self) -> &str {
        &self.pk
    }
    /// A username or email claim (`keys::username_claim`, `keys::email_claim`).
    pub(super) fn new_name(claim_pk: String, user_id: Uuid) -> Self {
        let key = keys::claim(claim_pk);
        ClaimRecord { pk: key.pk, sk: key.sk, user_id, expires_at: None, ttl: None }
    }

    /// A guest's device claim (`keys::device_claim`), expiring with the guest.
    pub fn new_device(claim_pk: String, user_id: Uuid, expires_at: UnixMs) -> Self {
        let key = keys::claim(claim_pk);
        ClaimRecord {
            pk: key.pk,
            sk: key.sk,
            user_id,
            expires_at: Some(expires_at),
            ttl: Some(expires_at.to_unix_secs()),
        }
    }

    pub fn is_live(&self, now: UnixMs) -> bool {
        self.expires_at.is_none_or(|at| now < at)
    }
}

/// Deletes a claim, unless someone else holds it: a claim that is already gone is fine; one
/// held by someone else is never touched.
pub(super) fn release_claim(claim_pk: String, owner: Uuid) -> DeleteBuilder {
    Delete::builder()
        .set_key(Some(keys::claim(claim_pk).into_attributes()))
        .condition_expression("attribute_not_exists(pk) OR user_id = :owner")
        .expression_attribute_values(":owner", s(owner.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_claim_expires_with_its_guest() {
        let expires = UnixMs::from_ms(1_795_000_060_123);
        let claim = ClaimRecord::new_device("DEVICE#x".to_owned(), Uuid::nil(), expires);
        assert_eq!((claim.pk.as_str(), claim.sk.as_str(), claim.ttl), ("DEVICE#x", "CLAIM", Some(1_795_000_060)));
        assert!(claim.is_live(UnixMs::from_ms(1_795_000_060_122)) && !claim.is_live(expires));
        let name = ClaimRecord::new_name(keys::identity_claim("google", "123"), Uuid::nil());
        assert_eq!((name.pk(), name.expires_at), ("IDENTITY#google#123", None));
    }
}
