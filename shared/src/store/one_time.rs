//! Mailed one-time tokens (email verification, password reset): the one pending token of a
//! purpose per user, its per-account send window, and the writes that consume it.

use std::time::Duration;

use aws_sdk_dynamodb::types::builders::UpdateBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, ReturnValuesOnConditionCheckFailure, Update};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::keys;
use super::tx::{Fail, Tx};
use super::{failed_condition_item, from_item, ms, n, s, written, Store, StoreError};
use crate::clock::UnixMs;
use crate::tokens::Purpose;

/// The one pending mailed token of a purpose for a user, and its per-account send window.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OneTimeRecord {
    pk: String,
    sk: String,
    pub hash: String,
    /// After this the token is refused, whatever TTL has done so far.
    pub expires_at: UnixMs,
    /// Start of the window in which `sent` mails were sent.
    pub window_start: UnixMs,
    pub sent: u32,
    pub ttl: i64,
}

/// How many mails of one purpose an account may get per window.
#[derive(Debug, Clone, Copy)]
pub struct Quota {
    pub max_per_window: u32,
    pub window: Duration,
}

/// The outcome of asking for a new mailed token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Issued {
    /// Stored (replacing any older token of the purpose): send the mail.
    Stored,
    /// The account already got its quota of mails in this window: send nothing.
    Capped { retry_after_ms: i64 },
}

impl Store {
    /// Stores a new one-time token for `user_id`, replacing the pending one of its purpose,
    /// unless the account already had `max_per_window` mails in the current window.
    pub async fn issue_one_time(
        &self,
        user_id: Uuid,
        purpose: Purpose,
        hash: &str,
        expires_at: UnixMs,
        now: UnixMs,
        quota: Quota,
    ) -> Result<Issued, StoreError> {
        let Quota { max_per_window, window } = quota;
        let ttl = expires_at.max(now.plus(window)).to_unix_secs();
        let item_key = keys::one_time(user_id, purpose).into_attributes();
        let attempt = |update: &str, condition: &str| {
            self.client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(item_key.clone()))
                .update_expression(update)
                .condition_expression(condition)
                .expression_attribute_names("#ttl", "ttl")
                .expression_attribute_values(":hash", s(hash))
                .expression_attribute_values(":expires", ms(expires_at))
                .expression_attribute_values(":ttl", n(ttl))
                .expression_attribute_values(":window_opened", ms(now.minus(window)))
        };
        // Within the current window, while under the quota: count one more.
        let within = attempt(
            "SET #hash = :hash, expires_at = :expires, #ttl = :ttl, sent = sent + :one",
            "window_start > :window_opened AND sent < :max",
        )
        .expression_attribute_names("#hash", "hash")
        .expression_attribute_values(":one", n(1))
        .expression_attribute_values(":max", n(i64::from(max_per_window)))
        .send()
        .await;
        if written(within)? {
            return Ok(Issued::Stored);
        }
        // No window yet, or it has passed: open a new one.
        let fresh = attempt(
            "SET #hash = :hash, expires_at = :expires, #ttl = :ttl, window_start = :now, sent = :one",
            "attribute_not_exists(pk) OR window_start <= :window_opened",
        )
        .expression_attribute_names("#hash", "hash")
        .expression_attribute_values(":now", ms(now))
        .expression_attribute_values(":one", n(1))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await;
        match fresh {
            Ok(_) => Ok(Issued::Stored),
            Err(e) => {
                let capped = failed_condition_item(e)?;
                let window_start =
                    capped.map(from_item::<OneTimeRecord>).transpose()?.map_or(now, |record| record.window_start);
                Ok(Issued::Capped { retry_after_ms: window_start.plus(window).millis_after(now).max(1_000) })
            }
        }
    }

    /// Withdraws a token whose mail could not be sent, if it is still the pending one.
    pub async fn withdraw_one_time(&self, user_id: Uuid, purpose: Purpose, hash: &str) -> Result<(), StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::one_time(user_id, purpose).into_attributes()))
            .update_expression("SET expires_at = :gone")
            .condition_expression("#hash = :hash")
            .expression_attribute_names("#hash", "hash")
            .expression_attribute_values(":hash", s(hash))
            .expression_attribute_values(":gone", n(0))
            .send()
            .await;
        // Not the pending token any more (a newer one replaced it): nothing to withdraw.
        written(out).map(|_| ())
    }

    pub async fn get_one_time(&self, user_id: Uuid, purpose: Purpose) -> Result<Option<OneTimeRecord>, StoreError> {
        self.get(keys::one_time(user_id, purpose)).await
    }

    /// Consumes a one-time token and applies `user_update` to its user in one transaction:
    /// the token must be the pending one and unexpired, so it works exactly once.
    /// `Missing` when it does not (or the user is gone).
    async fn consume_one_time(
        &self,
        user_id: Uuid,
        purpose: Purpose,
        hash: &str,
        now: UnixMs,
        user_update: UpdateBuilder,
    ) -> Result<(), StoreError> {
        let consume = Delete::builder()
            .set_key(Some(keys::one_time(user_id, purpose).into_attributes()))
            .condition_expression("#hash = :hash AND expires_at > :now")
            .expression_attribute_names("#hash", "hash")
            .expression_attribute_values(":hash", s(hash))
            .expression_attribute_values(":now", ms(now));
        let mut tx = Tx::new(&self.table);
        tx.delete(consume, Some(Fail::Missing))?.update(user_update, Some(Fail::Missing))?;
        tx.send(&self.client).await
    }

    /// Marks the user's email verified with a verification token.
    pub async fn verify_email(&self, user_id: Uuid, hash: &str, now: UnixMs) -> Result<(), StoreError> {
        let update = Update::builder()
            .set_key(Some(keys::user(user_id).into_attributes()))
            .update_expression(
                "SET email_verified = :yes, email_verified_at = :now, updated_at = :now, #version = #version + :one",
            )
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .expression_attribute_values(":now", ms(now))
            .expression_attribute_values(":one", n(1));
        self.consume_one_time(user_id, Purpose::VerifyEmail, hash, now, update).await
    }

    /// Sets a new password with a reset token and moves the credentials version on, which
    /// shuts every existing session out; the caller then deletes them.
    pub async fn reset_password(
        &self,
        user_id: Uuid,
        hash: &str,
        new_hash: &str,
        now: UnixMs,
    ) -> Result<(), StoreError> {
        let update = Update::builder()
            .set_key(Some(keys::user(user_id).into_attributes()))
            .update_expression(
                "SET password_hash = :new, updated_at = :now, #version = #version + :one, \
                 credentials_version = if_not_exists(credentials_version, :zero) + :one",
            )
            // A user disabled since the token was checked keeps its password.
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(disabled)")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":new", s(new_hash))
            .expression_attribute_values(":now", ms(now))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":zero", n(0));
        self.consume_one_time(user_id, Purpose::ResetPassword, hash, now, update).await
    }
}
