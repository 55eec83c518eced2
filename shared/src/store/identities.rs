//! Social identities (`google:<sub>`, `apple:<sub>`): each held as a claim, listed on its user.
//! A user made by a social sign-in, an identity linked to an account (a guest's link upgrades
//! it), and an identity unlinked: each one transaction guarded by the user's version, so
//! concurrent first sign-ins with one identity make one user.

use aws_sdk_dynamodb::types::builders::UpdateBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, Update};
use uuid::Uuid;

use super::claims::{release_claim, ClaimRecord};
use super::keys;
use super::sessions::SessionRecord;
use super::tx::{Fail, Tx};
use super::users::{put_with_name_claims, LinkedIdentity, UserRecord};
use super::{ms, n, s, to_item, Claim, Store, StoreError};
use crate::clock::UnixMs;

impl LinkedIdentity {
    fn claim(&self, user_id: Uuid) -> ClaimRecord {
        ClaimRecord::new_name(keys::identity_claim(&self.provider, &self.subject), user_id)
    }
}

/// `identities` as the attribute value the user item stores.
fn identities_value(identities: &[LinkedIdentity]) -> Result<AttributeValue, StoreError> {
    serde_dynamo::to_attribute_value(identities).map_err(super::internal)
}

/// An update of the user's identity list, guarded by the version read.
fn set_identities(user: &UserRecord, identities: &[LinkedIdentity], now: UnixMs) -> Result<UpdateBuilder, StoreError> {
    Ok(Update::builder()
        .set_key(Some(keys::user(user.id).into_attributes()))
        .update_expression("SET identities = :identities, updated_at = :now, #version = #version + :one")
        .condition_expression("#version = :expected")
        .expression_attribute_names("#version", "version")
        .expression_attribute_values(":identities", identities_value(identities)?)
        .expression_attribute_values(":now", ms(now))
        .expression_attribute_values(":one", n(1))
        .expression_attribute_values(":expected", n(user.version as i64)))
}

impl Store {
    /// Creates a user of a first social sign-in: the user, its identity claim (taken: some
    /// concurrent sign-in made the user first), its email claim (taken: the address has an
    /// account) and its first session, all or nothing.
    pub async fn create_social_user(&self, user: &UserRecord, session: &SessionRecord) -> Result<(), StoreError> {
        let mut tx = Tx::new(&self.table);
        for identity in &user.identities {
            tx.put_new(to_item(&identity.claim(user.id))?, Some(Fail::Claim(Claim::Identity)))?;
        }
        put_with_name_claims(&mut tx, user)?;
        tx.put_new(to_item(session)?, None)?;
        tx.send(&self.client).await
    }

    /// Links `identity` to `user` as read (`Stale` if it changed since; `Conflict(Identity)` if
    /// the identity is taken meanwhile), opening `session` in the same write when the link is
    /// a sign-in.
    pub async fn link_identity(
        &self,
        user: &UserRecord,
        identity: &LinkedIdentity,
        session: Option<&SessionRecord>,
        now: UnixMs,
    ) -> Result<(), StoreError> {
        let mut identities = user.identities.clone();
        identities.push(identity.clone());
        let mut tx = Tx::new(&self.table);
        tx.update(set_identities(user, &identities, now)?, Some(Fail::Stale))?;
        tx.put_new(to_item(&identity.claim(user.id))?, Some(Fail::Claim(Claim::Identity)))?;
        if let Some(session) = session {
            tx.put_new(to_item(session)?, None)?;
        }
        tx.send(&self.client).await
    }

    /// Turns a guest into a full account by linking its first identity: same user id, the
    /// provider's verified address (if any) claimed as its email, the device claim released,
    /// and the caller's session (`session_id`) moved off the guest's device — all or nothing.
    pub async fn upgrade_guest_by_identity(
        &self,
        guest: &UserRecord,
        identity: &LinkedIdentity,
        email: Option<(&str, &str)>,
        session_id: Uuid,
        now: UnixMs,
    ) -> Result<(), StoreError> {
        let mut expression = "SET is_guest = :no, identities = :identities, updated_at = :now, \
                              #version = #version + :one"
            .to_owned();
        let mut update = Update::builder()
            .set_key(Some(keys::user(guest.id).into_attributes()))
            .condition_expression("is_guest = :yes AND #version = :expected")
            .expression_attribute_names("#version", "version")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":no", AttributeValue::Bool(false))
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .expression_attribute_values(":identities", identities_value(std::slice::from_ref(identity))?)
            .expression_attribute_values(":now", ms(now))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":expected", n(guest.version as i64));
        if let Some((address, key)) = email {
            expression
                .push_str(", email = :email, email_key = :email_key, email_verified = :yes, email_verified_at = :now");
            update = update
                .expression_attribute_values(":email", s(address))
                .expression_attribute_values(":email_key", s(key));
        }
        expression.push_str(" REMOVE expires_at, #ttl, device_key");
        let mut tx = Tx::new(&self.table);
        tx.update(update.update_expression(expression), Some(Fail::Stale))?;
        tx.put_new(to_item(&identity.claim(guest.id))?, Some(Fail::Claim(Claim::Identity)))?;
        if let Some((_, key)) = email {
            let claim = ClaimRecord::new_name(keys::email_claim(key), guest.id);
            tx.put_new(to_item(&claim)?, Some(Fail::Claim(Claim::Email)))?;
        }
        if let Some(device) = &guest.device_key {
            tx.delete(release_claim(device.clone(), guest.id), None)?;
        }
        // The session refreshes as an account's from now on (a guest's pushes its device's expiry).
        tx.update(
            Update::builder()
                .set_key(Some(keys::session(guest.id, session_id).into_attributes()))
                .update_expression("SET guest = :no REMOVE device_key")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(":no", AttributeValue::Bool(false)),
            Some(Fail::Stale),
        )?;
        tx.send(&self.client).await
    }

    /// Unlinks the identity of `provider` from `user` as read, releasing its claim.
    pub async fn unlink_identity(&self, user: &UserRecord, provider: &str, now: UnixMs) -> Result<(), StoreError> {
        let (gone, kept): (Vec<_>, Vec<_>) = user.identities.iter().cloned().partition(|i| i.provider == provider);
        let mut tx = Tx::new(&self.table);
        tx.update(set_identities(user, &kept, now)?, Some(Fail::Stale))?;
        for identity in gone {
            tx.delete(release_claim(keys::identity_claim(&identity.provider, &identity.subject), user.id), None)?;
        }
        tx.send(&self.client).await
    }
}
