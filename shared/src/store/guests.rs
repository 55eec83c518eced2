//! Guests: users bound to a device claim, alive while they keep refreshing, until they
//! upgrade to a full account under the same id.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Put, Update};
use uuid::Uuid;

use super::claims::{release_claim, ClaimRecord};
use super::guard::SessionGuard;
use super::keys;
use super::sessions::SessionRecord;
use super::tx::{Fail, Tx};
use super::users::UserRecord;
use super::{ms, n, s, to_item, Claim, Store, StoreError};
use crate::clock::UnixMs;

/// What upgrading a guest sets on it.
#[derive(Debug, Clone)]
pub struct Upgrade {
    pub email: (String, String),
    pub username: Option<(String, String)>,
    pub display_name: String,
    pub password_hash: String,
}

impl Upgrade {
    /// `guest` as a full account after this upgrade.
    pub fn apply(&self, guest: &UserRecord, now: UnixMs) -> UserRecord {
        let mut user = guest.clone();
        (user.email, user.email_key) = (Some(self.email.0.clone()), Some(self.email.1.clone()));
        if let Some((name, key)) = &self.username {
            (user.username, user.username_key) = (Some(name.clone()), Some(key.clone()));
        }
        user.display_name = Some(self.display_name.clone());
        user.password_hash = Some(self.password_hash.clone());
        user.email_verified = false;
        user.is_guest = false;
        user.device_key = None;
        user.expires_at = None;
        user.ttl = None;
        user.credentials_version += 1;
        user.version += 1;
        user.updated_at = now;
        user
    }
}

impl Store {
    /// Creates a guest, its device claim and its first session in one transaction. An expired
    /// guest's claim may be taken over: its device gets a new guest.
    pub async fn create_guest(
        &self,
        user: &UserRecord,
        claim: &ClaimRecord,
        session: &SessionRecord,
        now: UnixMs,
    ) -> Result<(), StoreError> {
        let claim_put = Put::builder()
            .set_item(Some(to_item(claim)?))
            .condition_expression("attribute_not_exists(pk) OR expires_at < :now")
            .expression_attribute_values(":now", ms(now));
        let mut tx = Tx::new(&self.table);
        tx.put_new(to_item(user)?, None)?
            .put(claim_put, Some(Fail::Claim(Claim::Device)))?
            .put_new(to_item(session)?, None)?;
        tx.send(&self.client).await
    }

    /// Pushes an idle guest's expiry (user and device claim) forward, if it is still live (and
    /// enabled). Returns `false` when the guest has already expired, is a guest no more, or
    /// is disabled. With `session`, that session is created in the same transaction (a
    /// returning device), provided the guest still has the role and tier it copies (`false`
    /// otherwise: read the guest again).
    pub async fn touch_guest(
        &self,
        user_id: Uuid,
        device_key: &str,
        expires_at: UnixMs,
        now: UnixMs,
        session: Option<&SessionRecord>,
    ) -> Result<bool, StoreError> {
        let push = |key: keys::Key, condition: &str, name: &str, value: AttributeValue| {
            Update::builder()
                .set_key(Some(key.into_attributes()))
                .update_expression("SET expires_at = :expires, #ttl = :ttl")
                .condition_expression(condition)
                .expression_attribute_names("#ttl", "ttl")
                .expression_attribute_values(":expires", ms(expires_at))
                .expression_attribute_values(":ttl", n(expires_at.to_unix_secs()))
                .expression_attribute_values(":now", ms(now))
                .expression_attribute_values(name, value)
        };
        let guest =
            push(keys::user(user_id), "is_guest = :guest AND expires_at > :now", ":guest", AttributeValue::Bool(true));
        // Enabled, and (opening a session) still with the role and tier the session copies.
        let guest = match session {
            Some(session) => SessionGuard::copying(&session.role, &session.tier)
                .require(guest, "is_guest = :guest AND expires_at > :now"),
            None => {
                guest.condition_expression("is_guest = :guest AND expires_at > :now AND attribute_not_exists(disabled)")
            }
        };
        let mut tx = Tx::new(&self.table);
        tx.update(guest, Some(Fail::Missing))?;
        tx.update(
            push(keys::claim(device_key), "user_id = :owner AND expires_at > :now", ":owner", s(user_id.to_string())),
            Some(Fail::Missing),
        )?;
        if let Some(session) = session {
            tx.put_new(to_item(session)?, None)?;
        }
        match tx.send(&self.client).await {
            Ok(()) => Ok(true),
            Err(StoreError::Missing) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Turns a guest into a full account in one transaction: the new claims are taken (or
    /// nothing happens), the device claim is released, the credentials version moves on and
    /// the caller's new session is created. Guarded by `is_guest` and the version read.
    pub async fn upgrade_guest(
        &self,
        guest: &UserRecord,
        upgrade: &Upgrade,
        session: &SessionRecord,
        now: UnixMs,
    ) -> Result<(), StoreError> {
        let mut expression = "SET is_guest = :no, email = :email, email_key = :email_key, email_verified = :no, \
             display_name = :display_name, password_hash = :hash, credentials_version = :credentials, \
             updated_at = :now, #version = #version + :one"
            .to_owned();
        let mut values = HashMap::from([
            (":no".to_owned(), AttributeValue::Bool(false)),
            (":yes".to_owned(), AttributeValue::Bool(true)),
            (":email".to_owned(), s(&upgrade.email.0)),
            (":email_key".to_owned(), s(&upgrade.email.1)),
            (":display_name".to_owned(), s(&upgrade.display_name)),
            (":hash".to_owned(), s(&upgrade.password_hash)),
            (":credentials".to_owned(), n(session.credentials_version as i64)),
            (":now".to_owned(), ms(now)),
            (":one".to_owned(), n(1)),
            (":expected".to_owned(), n(guest.version as i64)),
        ]);
        if let Some((name, name_key)) = &upgrade.username {
            expression.push_str(", username = :username, username_key = :username_key");
            values.insert(":username".to_owned(), s(name));
            values.insert(":username_key".to_owned(), s(name_key));
        }
        expression.push_str(" REMOVE expires_at, #ttl, device_key");
        let update = Update::builder()
            .set_key(Some(keys::user(guest.id).into_attributes()))
            .update_expression(expression)
            .condition_expression("is_guest = :yes AND #version = :expected")
            .expression_attribute_names("#version", "version")
            .expression_attribute_names("#ttl", "ttl")
            .set_expression_attribute_values(Some(values));
        let mut tx = Tx::new(&self.table);
        tx.update(update, Some(Fail::Stale))?;
        let mut claims = vec![(Claim::Email, keys::email_claim(&upgrade.email.1))];
        if let Some((_, name_key)) = &upgrade.username {
            claims.push((Claim::Username, keys::username_claim(name_key)));
        }
        for (claim, pk) in claims {
            tx.put_new(to_item(&ClaimRecord::new_name(pk, guest.id))?, Some(Fail::Claim(claim)))?;
        }
        if let Some(device) = &guest.device_key {
            tx.delete(release_claim(device.clone(), guest.id), None)?;
        }
        tx.put_new(to_item(session)?, None)?;
        tx.send(&self.client).await
    }
}
