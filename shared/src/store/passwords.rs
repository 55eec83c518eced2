//! Passwords at rest: a change (with what becomes of the caller's session), and a login's
//! session opened together with the upgrade of the hash it verified; both only from a user
//! still as it was read (`SessionGuard`).

use aws_sdk_dynamodb::types::Update;
use uuid::Uuid;

use super::guard::SessionGuard;
use super::keys;
use super::sessions::SessionRecord;
use super::tx::{Fail, Tx};
use super::users::UserRecord;
use super::{ms, n, s, to_item, Store, StoreError};
use crate::clock::UnixMs;

/// A verified password hash replaced at login.
#[derive(Debug, Clone, Copy)]
pub struct HashUpgrade<'a> {
    pub old_hash: &'a str,
    pub new_hash: &'a str,
    pub now: UnixMs,
}

/// The caller's session after a password change.
#[derive(Debug, Clone, Copy)]
pub enum SessionAfter<'a> {
    /// A new session replaces every old one.
    Open(&'a SessionRecord),
    /// The caller's own session (this id) lives on under the new credentials.
    Keep(Uuid),
}

impl Store {
    /// Turns `user` into `changed` (`UserRecord::with_new_password`: its hash and bumped
    /// `credentials_version`) and opens (or moves) the caller's session in one transaction,
    /// provided the password is still the one that was verified. Other sessions are ended
    /// afterwards by the caller; the bumped `credentials_version` already shuts them out.
    pub async fn change_password(
        &self,
        user: &UserRecord,
        changed: &UserRecord,
        session: SessionAfter<'_>,
    ) -> Result<(), StoreError> {
        let (new_hash, credentials_version) =
            (changed.password_hash.clone().unwrap_or_default(), changed.credentials_version);
        let old_hash = user.password_hash.clone().unwrap_or_default();
        let update = Update::builder()
            .set_key(Some(keys::user(user.id).into_attributes()))
            .update_expression(
                "SET password_hash = :new, credentials_version = :credentials, updated_at = :now, \
                 #version = #version + :one",
            )
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":new", s(new_hash))
            .expression_attribute_values(":old", s(old_hash))
            .expression_attribute_values(":credentials", n(credentials_version as i64))
            .expression_attribute_values(":now", ms(changed.updated_at))
            .expression_attribute_values(":one", n(1));
        // The password is still the one verified, and the user still as the session copies it.
        let update = SessionGuard::of(user).require(update, "password_hash = :old");
        let mut tx = Tx::new(&self.table);
        tx.update(update, Some(Fail::Stale))?;
        match session {
            SessionAfter::Open(new) => tx.put_new(to_item(new)?, None)?,
            // The caller's session moves to the new credentials with the password, or neither
            // happens (a session ended meanwhile cannot be revived by this).
            SessionAfter::Keep(session_id) => tx.update(
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

    /// Opens a login's session of `user` in one write: with the identifier's failures
    /// forgotten (`clear`) and the password hash replaced (`upgrade`: a legacy or outdated hash
    /// becomes argon2id), all or nothing. It holds only while the user is as it was read
    /// ([`SessionGuard`]: enabled, same role and tier) and, with an upgrade, the stored hash is
    /// still the one just verified: otherwise this login fails `Stale`.
    pub async fn open_login_session(
        &self,
        user: &UserRecord,
        session: &SessionRecord,
        clear: Option<String>,
        upgrade: Option<HashUpgrade<'_>>,
    ) -> Result<(), StoreError> {
        let guard = SessionGuard::of(user);
        let mut tx = Tx::new(&self.table);
        tx.put_new(to_item(session)?, None)?;
        if let Some(login_pk) = clear {
            tx.delete_key(keys::login_state(login_pk))?;
        }
        if let Some(HashUpgrade { old_hash, new_hash, now }) = upgrade {
            let update = Update::builder()
                .set_key(Some(keys::user(session.user_id).into_attributes()))
                .update_expression("SET password_hash = :new, updated_at = :now")
                .expression_attribute_values(":new", s(new_hash))
                .expression_attribute_values(":old", s(old_hash))
                .expression_attribute_values(":now", ms(now));
            tx.update(guard.require(update, "password_hash = :old"), Some(Fail::Stale))?;
        } else {
            tx.check(guard.check(user.id), Some(Fail::Stale))?;
        }
        tx.send(&self.client).await
    }
}
