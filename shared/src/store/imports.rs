//! Users brought from another app (`bookshelf-import`): their records, written with every
//! uniqueness claim in one transaction, and the claims an import would collide with.

use std::collections::HashSet;

use uuid::Uuid;

use super::claims::ClaimRecord;
use super::keys;
use super::tx::{Fail, Tx};
use super::users::{put_with_name_claims, NewAccount, UserRecord};
use super::{from_item, to_item, Claim, Store, StoreError};
use crate::clock::UnixMs;

/// A user brought from another app (`bookshelf-import`): its names, flags and hash as that app
/// had them, and its id there as `legacy_id`.
#[derive(Debug, Clone)]
pub struct NewImport {
    pub legacy_id: String,
    /// The app it comes from (`--source`), which namespaces `legacy_id`.
    pub legacy_source: Option<String>,
    pub username: Option<(String, String)>,
    pub email: Option<(String, String)>,
    pub email_verified: bool,
    pub display_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub role: String,
    pub tier: String,
    pub preferences: String,
    /// None: the user signs in by password reset.
    pub password_hash: Option<String>,
    pub created_at: UnixMs,
}

impl UserRecord {
    pub fn imported(id: Uuid, user: NewImport, now: UnixMs) -> Self {
        let account = NewAccount {
            username: user.username,
            email: user.email,
            display_name: user.display_name,
            first_name: user.first_name,
            last_name: user.last_name,
            role: user.role,
            tier: user.tier,
            password_hash: String::new(),
        };
        let mut record = UserRecord::new_account(id, account, now);
        record.created_at = user.created_at;
        record.email_verified = user.email_verified;
        record.email_verified_at = user.email_verified.then_some(now);
        record.preferences = user.preferences;
        record.legacy_id = Some(user.legacy_id);
        record.legacy_source = user.legacy_source;
        record.password_hash = user.password_hash;
        record
    }
}

impl Store {
    /// Stores an imported user with its unique-name claims and its legacy-id claim, in one
    /// conditional transaction: all of them or none. A legacy id imported already is
    /// `Conflict(Legacy)` (the caller skips it); a name taken is `Conflict(Username|Email)`.
    pub async fn import_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        let mut tx = Tx::new(&self.table);
        if let Some(legacy) = &user.legacy_id {
            let claim = ClaimRecord::new_name(keys::legacy_claim(user.legacy_source.as_deref(), legacy), user.id);
            tx.put_new(to_item(&claim)?, Some(Fail::Claim(Claim::Legacy)))?;
        }
        put_with_name_claims(&mut tx, user)?;
        tx.send(&self.client).await
    }

    /// Which of these claims (`keys::username_claim`, `email_claim`, `legacy_claim`) exist.
    pub async fn claims_taken(&self, claim_pks: &[String]) -> Result<HashSet<String>, StoreError> {
        let mut taken = HashSet::new();
        for chunk in claim_pks.chunks(100) {
            self.batch_get(chunk.iter().cloned().map(keys::claim), |item| {
                let claim: ClaimRecord = from_item(item)?;
                taken.insert(claim.pk().to_owned());
                Ok(())
            })
            .await?;
        }
        Ok(taken)
    }
}
