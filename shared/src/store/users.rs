//! Users and the claims that keep their usernames, emails and devices unique.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Delete, ReturnValue, Update};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::claims::{release_claim, ClaimRecord};
use super::keys;
use super::sessions::SessionRecord;
use super::tx::{Fail, Tx};
use super::{checked, from_item, ms, n, s, sort_key, to_item, Claim, Store, StoreError};
use crate::clock::UnixMs;
use crate::tokens::Purpose;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserRecord {
    pk: String,
    sk: String,
    /// `user` on every user: the partition key of the admin listing's index
    /// ([`USERS_BY_CREATED`], sorted by `created_at`). Absent on every other item, so the
    /// index holds users only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    pub id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_key: Option<String>,
    pub email_verified: bool,
    /// When the current address was verified (absent for accounts verified before this was
    /// kept, and for unverified ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified_at: Option<UnixMs>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    pub role: String,
    pub tier: String,
    pub is_guest: bool,
    /// The preferences object as JSON text: kept byte-for-byte, and its size is what the
    /// 4 KiB rule measures.
    pub preferences: String,
    /// The user's id in the app it was imported from; profiles of apps whose ids were numbers
    /// show it as `id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legacy_id: Option<String>,
    /// Which app `legacy_id` belongs to, when the import named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legacy_source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    pub created_at: UnixMs,
    pub updated_at: UnixMs,
    /// Optimistic-locking version, bumped by every profile write.
    pub version: u64,
    /// Bumped whenever the credentials change (password change or reset); sessions opened
    /// under an older value are dead for every bearer route.
    #[serde(default)]
    pub credentials_version: u64,
    /// A guest's device claim (its key), released when the guest upgrades or is deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_key: Option<String>,
    /// Absolute expiry of records that expire, such as idle guests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<UnixMs>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<i64>,
    /// Locked by the back office: no session is opened or continued until it is lifted.
    /// Stored only while true, so writes that open sessions can require its absence.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    /// The back office's JSON object about this user (at most 4 KiB), as text; users can read
    /// it but never change it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_metadata: Option<String>,
    /// The social identities linked to this user, each also held as a claim.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identities: Vec<LinkedIdentity>,
}

/// One social identity of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedIdentity {
    pub provider: String,
    /// The provider's stable id of the user (`sub`).
    pub subject: String,
    /// The address the provider gave when it was linked (it may differ from the account's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub linked_at: UnixMs,
}

/// The index of users by creation time (the admin listing): partition `kind`, sort
/// `created_at`, keys only.
pub const USERS_BY_CREATED: &str = "users-by-created";
/// The `kind` of every user item.
pub(super) const USER_KIND: &str = "user";

/// What a new account is registered with. Names come with their uniqueness keys.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub username: Option<(String, String)>,
    pub email: Option<(String, String)>,
    pub display_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub role: String,
    pub tier: String,
    pub password_hash: String,
}

impl UserRecord {
    /// This user as [`Store::change_password`] leaves it: the new hash, and the credentials
    /// version moved on so every session opened before is shut out.
    pub fn with_new_password(&self, password_hash: &str, now: UnixMs) -> Self {
        let mut next = self.clone();
        next.password_hash = Some(password_hash.to_owned());
        next.credentials_version += 1;
        next.version += 1;
        next.updated_at = now;
        next
    }

    /// A full account as registration stores it: version 1, email unverified.
    pub fn new_account(id: Uuid, account: NewAccount, now: UnixMs) -> Self {
        let NewAccount { username, email, display_name, first_name, last_name, role, tier, password_hash } = account;
        let (username, username_key) = username.unzip();
        let (email, email_key) = email.unzip();
        let key = keys::user(id);
        UserRecord {
            pk: key.pk,
            sk: key.sk,
            kind: Some(USER_KIND.to_owned()),
            id,
            username,
            username_key,
            email,
            email_key,
            email_verified: false,
            email_verified_at: None,
            display_name,
            first_name,
            last_name,
            role,
            tier,
            is_guest: false,
            preferences: "{}".to_owned(),
            legacy_id: None,
            legacy_source: None,
            password_hash: Some(password_hash),
            created_at: now,
            updated_at: now,
            version: 1,
            credentials_version: 0,
            device_key: None,
            expires_at: None,
            ttl: None,
            disabled: false,
            app_metadata: None,
            identities: Vec::new(),
        }
    }

    /// A guest bound to the device claim `device_key`, gone (TTL) once idle past `expires_at`.
    pub fn new_guest(
        id: Uuid,
        device_key: &str,
        display_name: &str,
        role: &str,
        tier: &str,
        now: UnixMs,
        expires_at: UnixMs,
    ) -> Self {
        let key = keys::user(id);
        UserRecord {
            pk: key.pk,
            sk: key.sk,
            kind: Some(USER_KIND.to_owned()),
            id,
            username: None,
            username_key: None,
            email: None,
            email_key: None,
            email_verified: false,
            email_verified_at: None,
            display_name: Some(display_name.to_owned()),
            first_name: None,
            last_name: None,
            role: role.to_owned(),
            tier: tier.to_owned(),
            is_guest: true,
            preferences: "{}".to_owned(),
            legacy_id: None,
            legacy_source: None,
            password_hash: None,
            created_at: now,
            updated_at: now,
            version: 1,
            credentials_version: 0,
            device_key: Some(device_key.to_owned()),
            expires_at: Some(expires_at),
            ttl: Some(expires_at.to_unix_secs()),
            disabled: false,
            app_metadata: None,
            identities: Vec::new(),
        }
    }

    pub fn is_live(&self, now: UnixMs) -> bool {
        self.expires_at.is_none_or(|at| now < at)
    }
}

/// Changes to a user's profile; `None` leaves a field as it is.
#[derive(Debug, Default, Clone)]
pub struct ProfileChanges {
    /// The new username and its uniqueness key.
    pub username: Option<(String, String)>,
    /// The new email and its uniqueness key.
    pub email: Option<(String, String)>,
    pub email_verified: Option<bool>,
    pub display_name: Option<String>,
    /// `Some(None)` clears the name.
    pub first_name: Option<Option<String>>,
    pub last_name: Option<Option<String>>,
    /// JSON text of the new preferences object.
    pub preferences: Option<String>,
}

impl ProfileChanges {
    /// `user` with these changes applied, as the database holds it after the write.
    pub fn apply(&self, user: &UserRecord, now: UnixMs) -> UserRecord {
        let mut next = user.clone();
        if let Some((name, key)) = &self.username {
            (next.username, next.username_key) = (Some(name.clone()), Some(key.clone()));
        }
        if let Some((email, key)) = &self.email {
            (next.email, next.email_key) = (Some(email.clone()), Some(key.clone()));
        }
        if let Some(verified) = self.email_verified {
            next.email_verified = verified;
            next.email_verified_at = None;
        }
        if let Some(display_name) = &self.display_name {
            next.display_name = Some(display_name.clone());
        }
        if let Some(first_name) = &self.first_name {
            next.first_name = first_name.clone();
        }
        if let Some(last_name) = &self.last_name {
            next.last_name = last_name.clone();
        }
        if let Some(preferences) = &self.preferences {
            next.preferences = preferences.clone();
        }
        next.version += 1;
        next.updated_at = now;
        next
    }

    /// The `SET`/`REMOVE` update expression of these changes with its names and values.
    fn expression(&self, now: UnixMs) -> (String, HashMap<String, String>, HashMap<String, AttributeValue>) {
        let mut update = FieldUpdate::new(now);
        if let Some((name, key)) = &self.username {
            update.set("username", s(name));
            update.set("username_key", s(key));
        }
        if let Some((email, key)) = &self.email {
            update.set("email", s(email));
            update.set("email_key", s(key));
        }
        if let Some(verified) = self.email_verified {
            update.set("email_verified", AttributeValue::Bool(verified));
        }
        if let Some(display_name) = &self.display_name {
            update.set("display_name", s(display_name));
        }
        if let Some(preferences) = &self.preferences {
            update.set("preferences", s(preferences));
        }
        for (field, value) in [("first_name", &self.first_name), ("last_name", &self.last_name)] {
            match value {
                Some(Some(v)) => update.set(field, s(v)),
                Some(None) => update.remove(field),
                None => {}
            }
        }
        if self.email_verified.is_some() {
            // Only ever set to false here: the verification time belongs to the old address.
            update.remove("email_verified_at");
        }
        update.build()
    }
}

/// An `UpdateItem` of some of a user's own fields (`SET #f = :f`, `REMOVE #f`), moving its
/// `updated_at` and `version` on: what a profile change and a back-office change both write.
pub(super) struct FieldUpdate {
    sets: Vec<String>,
    removes: Vec<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl FieldUpdate {
    pub(super) fn new(now: UnixMs) -> Self {
        FieldUpdate {
            sets: vec!["updated_at = :now".to_owned(), "#version = #version + :one".to_owned()],
            removes: Vec::new(),
            names: HashMap::from([("#version".to_owned(), "version".to_owned())]),
            values: HashMap::from([(":now".to_owned(), ms(now)), (":one".to_owned(), n(1))]),
        }
    }

    pub(super) fn set(&mut self, field: &str, value: AttributeValue) {
        self.sets.push(format!("#{field} = :{field}"));
        self.names.insert(format!("#{field}"), field.to_owned());
        self.values.insert(format!(":{field}"), value);
    }

    pub(super) fn remove(&mut self, field: &str) {
        self.removes.push(format!("#{field}"));
        self.names.insert(format!("#{field}"), field.to_owned());
    }

    /// The expression with its names and values.
    pub(super) fn build(self) -> (String, HashMap<String, String>, HashMap<String, AttributeValue>) {
        let mut expression = format!("SET {}", self.sets.join(", "));
        if !self.removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", self.removes.join(", ")));
        }
        (expression, self.names, self.values)
    }
}

/// Adds a new user and the claims of its username and email to `tx`, each claim failing the
/// transaction as taken when it exists.
pub(super) fn put_with_name_claims(tx: &mut Tx<'_>, user: &UserRecord) -> Result<(), StoreError> {
    tx.put_new(to_item(user)?, None)?;
    if let Some(k) = &user.username_key {
        let claim = ClaimRecord::new_name(keys::username_claim(k), user.id);
        tx.put_new(to_item(&claim)?, Some(Fail::Claim(Claim::Username)))?;
    }
    if let Some(k) = &user.email_key {
        let claim = ClaimRecord::new_name(keys::email_claim(k), user.id);
        tx.put_new(to_item(&claim)?, Some(Fail::Claim(Claim::Email)))?;
    }
    Ok(())
}

impl Store {
    /// Creates a user, its uniqueness claims and its first session in one transaction:
    /// either all exist afterwards or none does.
    pub async fn create_user(&self, user: &UserRecord, session: &SessionRecord) -> Result<(), StoreError> {
        let mut tx = Tx::new(&self.table);
        put_with_name_claims(&mut tx, user)?;
        tx.put_new(to_item(session)?, None)?;
        tx.send(&self.client).await
    }

    /// The user id a uniqueness claim points at.
    pub async fn claim_owner(&self, claim_pk: String) -> Result<Option<Uuid>, StoreError> {
        Ok(self.get_claim(claim_pk).await?.map(|claim| claim.user_id))
    }

    /// A uniqueness claim, whatever it points at (device claims carry their expiry).
    pub async fn get_claim(&self, claim_pk: String) -> Result<Option<ClaimRecord>, StoreError> {
        self.get(keys::claim(claim_pk)).await
    }

    pub async fn get_user(&self, user_id: Uuid) -> Result<Option<UserRecord>, StoreError> {
        self.get(keys::user(user_id)).await
    }

    /// The user and one of its sessions in a single round trip (strongly consistent).
    pub async fn user_and_session(
        &self,
        user_id: Uuid,
        session_id: Uuid,
    ) -> Result<(Option<UserRecord>, Option<SessionRecord>), StoreError> {
        let (mut user, mut session) = (None, None);
        self.batch_get([keys::user(user_id), keys::session(user_id, session_id)], |item| {
            match sort_key(&item) {
                Some(keys::PROFILE) => user = Some(from_item(item)?),
                _ => session = Some(from_item(item)?),
            }
            Ok(())
        })
        .await?;
        Ok((user, session))
    }

    /// Applies profile changes read from `user`. A change of username or email swaps the
    /// claims in the same transaction (old one released, new one taken or nothing happens),
    /// guarded by the version read, so a concurrent change cannot leave a stale claim.
    pub async fn update_user(
        &self,
        user: &UserRecord,
        changes: &ProfileChanges,
        now: UnixMs,
    ) -> Result<UserRecord, StoreError> {
        let (expression, names, values) = changes.expression(now);
        // (which claim, the one released if any, the one taken)
        let mut claim_ops: Vec<(Claim, Option<String>, String)> = Vec::new();
        if let Some((_, key)) = &changes.username {
            if user.username_key.as_deref() != Some(key) {
                claim_ops.push((
                    Claim::Username,
                    user.username_key.as_deref().map(keys::username_claim),
                    keys::username_claim(key),
                ));
            }
        }
        if let Some((_, key)) = &changes.email {
            if user.email_key.as_deref() != Some(key) {
                claim_ops.push((
                    Claim::Email,
                    user.email_key.as_deref().map(keys::email_claim),
                    keys::email_claim(key),
                ));
            }
        }
        let user_key = keys::user(user.id).into_attributes();
        if claim_ops.is_empty() {
            // Only this user's own fields change: each request sets just the fields it was
            // given, so concurrent edits merge instead of overwriting each other.
            let out = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(user_key))
                .update_expression(expression)
                .condition_expression("attribute_exists(pk)")
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(Some(values))
                .return_values(ReturnValue::AllNew)
                .send()
                .await;
            let out = checked(out)?.ok_or(StoreError::Missing)?;
            return from_item(out.attributes.unwrap_or_default());
        }

        let mut values = values;
        values.insert(":expected".to_owned(), n(user.version as i64));
        let update = Update::builder()
            .set_key(Some(user_key))
            .update_expression(expression)
            .condition_expression("#version = :expected")
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values));
        let mut tx = Tx::new(&self.table);
        tx.update(update, Some(Fail::Stale))?;
        for (_, old, _) in &claim_ops {
            if let Some(old) = old {
                tx.delete(release_claim(old.clone(), user.id), None)?;
            }
        }
        if claim_ops.iter().any(|(claim, _, _)| *claim == Claim::Email) {
            // A pending verification link was mailed to the old address: it must not verify
            // the new one.
            tx.delete_key(keys::one_time(user.id, Purpose::VerifyEmail))?;
        }
        for (claim, _, new) in &claim_ops {
            tx.put_new(to_item(&ClaimRecord::new_name(new.clone(), user.id))?, Some(Fail::Claim(*claim)))?;
        }
        tx.send(&self.client).await?;
        Ok(changes.apply(user, now))
    }

    /// Deletes the user as read (`Stale` if it changed or is gone), its uniqueness claims and
    /// pending one-time tokens in one transaction. Sessions are the caller's to end before (so a failure leaves a user who
    /// can still log in) and after.
    pub async fn delete_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        // Only the user as read: a claim taken since (a new name, a linked identity) would
        // otherwise outlive it and block that name for good.
        let delete_user = Delete::builder()
            .set_key(Some(keys::user(user.id).into_attributes()))
            .condition_expression("#version = :expected")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":expected", n(user.version as i64));
        let mut tx = Tx::new(&self.table);
        tx.delete(delete_user, Some(Fail::Stale))?;
        let claims = [
            user.username_key.as_deref().map(keys::username_claim),
            user.email_key.as_deref().map(keys::email_claim),
            user.legacy_id.as_deref().map(|id| keys::legacy_claim(user.legacy_source.as_deref(), id)),
            user.device_key.clone(),
        ];
        let identities = user.identities.iter().map(|i| Some(keys::identity_claim(&i.provider, &i.subject)));
        for claim in claims.into_iter().chain(identities).flatten() {
            tx.delete(release_claim(claim, user.id), None)?;
        }
        for purpose in [Purpose::VerifyEmail, Purpose::ResetPassword] {
            tx.delete_key(keys::one_time(user.id, purpose))?;
        }
        tx.send(&self.client).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: UnixMs = UnixMs::from_ms(1_795_000_000_123);

    fn account() -> UserRecord {
        let account = NewAccount {
            username: Some(("Jane".to_owned(), "jane".to_owned())),
            email: None,
            display_name: Some("Jane".to_owned()),
            first_name: None,
            last_name: None,
            role: "reader".to_owned(),
            tier: "free".to_owned(),
            password_hash: "$argon2id$hash".to_owned(),
        };
        UserRecord::new_account(Uuid::nil(), account, NOW)
    }

    #[test]
    fn constructors_key_the_records() {
        let user = account();
        assert_eq!((user.pk.as_str(), user.sk.as_str()), ("USER#00000000-0000-0000-0000-000000000000", "PROFILE"));
        assert_eq!((user.username_key.as_deref(), user.email.as_deref()), (Some("jane"), None));
        assert_eq!((user.version, user.created_at, user.expires_at), (1, NOW, None));

        let expires = NOW.plus(std::time::Duration::from_secs(60));
        let guest = UserRecord::new_guest(Uuid::nil(), "DEVICE#x", "Guest", "reader", "free", NOW, expires);
        assert_eq!((&guest.pk, &guest.sk), (&user.pk, &user.sk));
        assert_eq!((guest.is_guest, guest.ttl), (true, Some(1_795_000_060)));
        assert!(guest.is_live(NOW) && !guest.is_live(expires));
    }

    #[test]
    fn records_are_stored_with_their_keys_and_plain_numbers() {
        let item = to_item(&account()).expect("item");
        assert_eq!(item["pk"], s("USER#00000000-0000-0000-0000-000000000000"));
        assert_eq!(item["sk"], s("PROFILE"));
        assert_eq!(item["created_at"], n(1_795_000_000_123));
        assert!(!item.contains_key("expires_at") && !item.contains_key("email"));
        let back: UserRecord = from_item(item).expect("record");
        assert_eq!(back.updated_at, NOW);
    }

    #[test]
    fn profile_expression_sets_and_removes_only_what_changes() {
        let changes = ProfileChanges {
            email: Some(("Jane@Example.com".to_owned(), "jane@example.com".to_owned())),
            email_verified: Some(false),
            first_name: Some(Some("Jane".to_owned())),
            last_name: Some(None),
            ..Default::default()
        };
        let (expression, names, values) = changes.expression(NOW);
        assert_eq!(
            expression,
            "SET updated_at = :now, #version = #version + :one, #email = :email, #email_key = :email_key, \
             #email_verified = :email_verified, #first_name = :first_name REMOVE #last_name, #email_verified_at"
        );
        let mut names: Vec<_> = names.into_iter().collect();
        names.sort();
        let expected =
            ["email", "email_key", "email_verified", "email_verified_at", "first_name", "last_name", "version"];
        assert_eq!(names, expected.map(|f| (format!("#{f}"), f.to_owned())));
        assert_eq!(values.len(), 6);
        assert_eq!(values[":now"], n(1_795_000_000_123));
        assert_eq!(values[":one"], n(1));
        assert_eq!(values[":email_key"], s("jane@example.com"));
        assert_eq!(values[":email_verified"], AttributeValue::Bool(false));
        assert!(!values.contains_key(":last_name"));
    }

    #[test]
    fn an_empty_change_only_bumps_the_version() {
        let (expression, names, values) = ProfileChanges::default().expression(NOW);
        assert_eq!(expression, "SET updated_at = :now, #version = #version + :one");
        assert_eq!(names.len(), 1);
        assert_eq!(values.len(), 2);
    }

    #[test]
    fn applied_changes_match_the_write() {
        let user = account();
        let changes = ProfileChanges {
            username: Some(("Janet".to_owned(), "janet".to_owned())),
            last_name: Some(Some("Doe".to_owned())),
            ..Default::default()
        };
        let later = NOW.plus(std::time::Duration::from_secs(1));
        let next = changes.apply(&user, later);
        assert_eq!((next.username.as_deref(), next.username_key.as_deref()), (Some("Janet"), Some("janet")));
        assert_eq!((next.last_name.as_deref(), next.version, next.updated_at), (Some("Doe"), 2, later));
        assert_eq!(next.created_at, NOW);
    }
}
