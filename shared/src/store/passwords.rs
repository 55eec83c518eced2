//! Passwords at rest: a change (with what becomes of the caller's session) and a rehash.

use aws_sdk_dynamodb::types::Update;
use uuid::Uuid;

use super::keys;
use super::sessions::SessionRecord;
use super::tx::{Fail, Tx};
use super::users::UserRecord;
use super::{classify, ms, n, s, to_item, Store, StoreError};
use crate::clock::UnixMs;

/// The caller's session after a password change.
#[derive(Debug, Clone, Copy)]
pub enum SessionAfter<'a> {
    /// A new session replaces every old one.
    Open(&'a SessionRecord),
    /// The caller's own session lives on under the new credentials.
    Keep { session_id: Uuid, credentials_version: u64 },
}

impl Store {
    /// Replaces the password and opens (or moves) the caller's session in one transaction, provided
    /// the password is still the one that was verified. Other sessions are ended afterwards
    /// by the caller; the bumped `credentials_version` already shuts them out.
    pub async fn change_password(
        &self,
        user: &UserRecord,
        new_hash: &str,
        session: SessionAfter<'_>,
        now: UnixMs,
    ) -> Result<(), StoreError> {
        let credentials_version = match session {
            SessionAfter::Open(new) => new.credentials_version,
            SessionAfter::Keep { credentials_version, .. } => credentials_version,
        };
        let old_hash = user.password_hash.clone().unwrap_or_default();
        let update = Update::builder()
            .set_key(Some(keys::user(user.id).into_attributes()))
            .update_expression(
                "SET password_hash = :new, credentials_version = :credentials, updated_at = :now, \
                 #version = #version + :one",
            )
            .condition_expression("password_hash = :old")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":new", s(new_hash))
            .expression_attribute_values(":old", s(old_hash))
            .expression_attribute_values(":credentials", n(credentials_version as i64))
            .expression_attribute_values(":now", ms(now))
            .expression_attribute_values(":one", n(1));
        let mut tx = Tx::new(&self.table);
        tx.update(update, Some(Fail::Stale))?;
        match session {
            SessionAfter::Open(new) => tx.put_new(to_item(new)?, None)?,
            // The caller's session moves to the new credentials with the password, or neither
            // happens (a session ended meanwhile cannot be revived by this).
            SessionAfter::Keep { session_id, credentials_version } => tx.update(
                Update::builder()
                    .set_key(Some(keys::session(user.id, session_id).into_attributes()))
                    .update_expression("SET credentials_version = :credentials")
                    .condition_expression("attribute_exists(pk)")
                    .expression_attribute_values(":credentials", n(credentials_version as i64)),
                Some(Fail::Stale),
            )?,
        };
        tx.send(&self.client).await
    }

    /// Replaces a user's password hash (used to upgrade hashes made with older parameters).
    pub async fn set_password_hash(&self, user_id: Uuid, hash: &str, now: UnixMs) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::user(user_id).into_attributes()))
            .update_expression("SET password_hash = :hash, updated_at = :now")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":hash", s(hash))
            .expression_attribute_values(":now", ms(now))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }
}
