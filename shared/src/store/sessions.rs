//! Sessions: one item per refresh-token family, in its user's partition.

use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::keys::{self, Key};
use super::{classify, failed_condition_item, from_item, ms, n, s, written, Item, Store, StoreError, UpdateError};
use crate::clock::UnixMs;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionRecord {
    pk: String,
    sk: String,
    pub session_id: Uuid,
    pub user_id: Uuid,
    pub created_at: UnixMs,
    pub last_used_at: UnixMs,
    /// The refresh token's idle deadline, pushed forward by each rotation.
    pub idle_expires_at: UnixMs,
    /// The session's absolute deadline.
    pub expires_at: UnixMs,
    /// SHA-256 of the one live refresh token.
    pub current_hash: String,
    /// SHA-256 of its parent, answered with the same successor within the grace window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotated_at: Option<UnixMs>,
    pub generation: u32,
    /// Claims copied into every access token of this session, so a refresh is one write.
    pub role: String,
    pub tier: String,
    pub guest: bool,
    /// The user's `credentials_version` when the session began.
    #[serde(default)]
    pub credentials_version: u64,
    /// For guest sessions: the device claim whose expiry each refresh pushes forward.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// How long this session's access tokens live; sessions from before it was stored use
    /// the native setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_ttl_secs: Option<u64>,
    /// The refresh token is not rotated: it stays valid until the session's deadlines.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fixed_refresh: bool,
    /// Set on sessions continued by token exchange: the id (`jti`) of the one access token
    /// that is live; any other token of the session is refused everywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_jti: Option<String>,
    /// The token it replaced, and when, for the exchange's grace window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_jti: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchanged_at: Option<UnixMs>,
    /// The client profile that opened the session (its tokens' extra claims); absent: native.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The user's id in the app it was imported from, for claims that show it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legacy_id: Option<String>,
    /// Ended because the back office disabled its user: dead everywhere, but kept (until its
    /// TTL, or until the user is enabled again) so that a refresh with its genuine token can be
    /// told why, and a made-up token naming the user cannot.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ended_by_disable: bool,
    /// DynamoDB TTL (unix seconds); reads check the deadlines themselves.
    pub ttl: i64,
}

/// A session as it begins: its first refresh token and what it copies from its user.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub session_id: Uuid,
    pub user_id: Uuid,
    pub now: UnixMs,
    pub idle_expires_at: UnixMs,
    pub expires_at: UnixMs,
    pub current_hash: String,
    pub generation: u32,
    pub role: String,
    pub tier: String,
    pub guest: bool,
    pub credentials_version: u64,
    pub device_key: Option<String>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub access_ttl_secs: u64,
    pub fixed_refresh: bool,
    /// The first access token's id, for a session continued by token exchange.
    pub access_jti: Option<String>,
    pub profile: Option<String>,
    pub legacy_id: Option<String>,
}

impl SessionRecord {
    pub fn new(session: NewSession) -> Self {
        let key = keys::session(session.user_id, session.session_id);
        SessionRecord {
            pk: key.pk,
            sk: key.sk,
            session_id: session.session_id,
            user_id: session.user_id,
            created_at: session.now,
            last_used_at: session.now,
            idle_expires_at: session.idle_expires_at,
            expires_at: session.expires_at,
            current_hash: session.current_hash,
            previous_hash: None,
            rotated_at: None,
            generation: session.generation,
            role: session.role,
            tier: session.tier,
            guest: session.guest,
            credentials_version: session.credentials_version,
            device_key: session.device_key,
            user_agent: session.user_agent,
            ip: session.ip,
            access_ttl_secs: Some(session.access_ttl_secs),
            fixed_refresh: session.fixed_refresh,
            access_jti: session.access_jti,
            previous_jti: None,
            exchanged_at: None,
            profile: session.profile,
            legacy_id: session.legacy_id,
            ended_by_disable: false,
            ttl: session.idle_expires_at.min(session.expires_at).to_unix_secs(),
        }
    }

    /// Within its deadlines, and not ended by a disable.
    pub fn is_live(&self, now: UnixMs) -> bool {
        now < self.idle_expires_at && now < self.expires_at && !self.ended_by_disable
    }

    /// Whether `hash` is a refresh token this session handed out last (or just before, within
    /// a retry): proof that whoever presents it held the session.
    pub fn issued(&self, hash: &str) -> bool {
        self.current_hash == hash || self.previous_hash.as_deref() == Some(hash)
    }

    /// This record's key, as stored.
    fn key(&self) -> Key {
        Key::new(self.pk.clone(), self.sk.clone())
    }
}

/// A refresh token presented for rotation, and what replaces it if it wins.
#[derive(Debug, Clone, Copy)]
pub struct Rotate<'a> {
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub presented_hash: &'a str,
    pub successor_hash: &'a str,
    pub successor_generation: u32,
    pub now: UnixMs,
    /// The successor's idle deadline.
    pub idle_expires_at: UnixMs,
}

/// An access token presented for exchange (`crate::profile::TokenExchange`), and the id of
/// the token that replaces it if it wins.
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub presented_jti: &'a str,
    pub successor_jti: &'a str,
    pub now: UnixMs,
}

/// The outcome of presenting a refresh token for rotation (or an access token for exchange).
#[derive(Debug)]
pub enum Rotation {
    /// This request won: the session as it is now.
    Rotated(SessionRecord),
    /// The condition failed: the session as it was (if it exists), for the caller to judge
    /// between a grace-window replay, reuse and a dead token.
    Rejected(Option<SessionRecord>),
}

impl Store {
    /// Rotates a session's refresh token in one conditional write: only the request that
    /// presents the current token of a live session wins.
    pub async fn rotate_refresh(&self, rotate: Rotate<'_>) -> Result<Rotation, StoreError> {
        let Rotate { user_id, session_id, presented_hash, successor_hash, successor_generation, now, idle_expires_at } =
            rotate;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::session(user_id, session_id).into_attributes()))
            .update_expression(
                "SET current_hash = :next, previous_hash = :presented, rotated_at = :now, last_used_at = :now, \
                 idle_expires_at = :idle, generation = :generation, #ttl = :ttl",
            )
            // A fixed refresh token is never rotated: the caller finds it in the rejected item.
            .condition_expression(
                "current_hash = :presented AND idle_expires_at > :now AND expires_at > :now \
                 AND attribute_not_exists(fixed_refresh) AND attribute_not_exists(ended_by_disable)",
            )
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":next", s(successor_hash))
            .expression_attribute_values(":presented", s(presented_hash))
            .expression_attribute_values(":now", ms(now))
            .expression_attribute_values(":idle", ms(idle_expires_at))
            .expression_attribute_values(":generation", n(i64::from(successor_generation)))
            .expression_attribute_values(":ttl", n(idle_expires_at.to_unix_secs()))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        self.decided(result.map(|out| out.attributes), user_id, session_id).await
    }

    /// The outcome of a conditional session update that returns the new item on success and
    /// the old one on a failed condition.
    async fn decided(
        &self,
        result: Result<Option<Item>, UpdateError>,
        user_id: Uuid,
        session_id: Uuid,
    ) -> Result<Rotation, StoreError> {
        match result {
            Ok(item) => {
                let item = item.ok_or_else(|| StoreError::Internal("the update returned no item".into()))?;
                Ok(Rotation::Rotated(from_item(item)?))
            }
            Err(err) => {
                let old = match failed_condition_item(err)? {
                    Some(item) => Some(from_item(item)?),
                    // Not every DynamoDB returns the old item on a failed condition; read it.
                    None => self.get_session(user_id, session_id).await?,
                };
                Ok(Rotation::Rejected(old))
            }
        }
    }

    /// Exchanges a session's live access token id for a new one in one conditional write:
    /// only the request that presents the live token of a live session wins.
    pub async fn exchange_access(&self, exchange: Exchange<'_>) -> Result<Rotation, StoreError> {
        let Exchange { user_id, session_id, presented_jti, successor_jti, now } = exchange;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keys::session(user_id, session_id).into_attributes()))
            .update_expression(
                "SET access_jti = :next, previous_jti = :presented, exchanged_at = :now, last_used_at = :now",
            )
            .condition_expression(
                "access_jti = :presented AND idle_expires_at > :now AND expires_at > :now \
                 AND attribute_not_exists(ended_by_disable)",
            )
            .expression_attribute_values(":next", s(successor_jti))
            .expression_attribute_values(":presented", s(presented_jti))
            .expression_attribute_values(":now", ms(now))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        self.decided(result.map(|out| out.attributes), user_id, session_id).await
    }

    async fn get_session(&self, user_id: Uuid, session_id: Uuid) -> Result<Option<SessionRecord>, StoreError> {
        self.get(keys::session(user_id, session_id)).await
    }

    /// Ends a session. Idempotent: deleting a session that is gone already succeeds.
    pub async fn delete_session(&self, user_id: Uuid, session_id: Uuid) -> Result<(), StoreError> {
        self.end_session(user_id, session_id).await.map(drop)
    }

    /// Deletes one of the user's sessions; `false` when there was none with that id.
    pub async fn end_session(&self, user_id: Uuid, session_id: Uuid) -> Result<bool, StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(keys::session(user_id, session_id).into_attributes()))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        written(out)
    }

    /// Ends the session an access token belongs to, unless the token is no longer its live one
    /// (a session continued by token exchange names its one live token); `false` when the
    /// session is gone already or the token was superseded.
    pub async fn end_session_of_token(&self, user_id: Uuid, session_id: Uuid, jti: &str) -> Result<bool, StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(keys::session(user_id, session_id).into_attributes()))
            .condition_expression("attribute_exists(pk) AND (attribute_not_exists(access_jti) OR access_jti = :jti)")
            .expression_attribute_values(":jti", s(jti))
            .send()
            .await;
        written(out)
    }

    /// Every session record of a user, live or not (strongly consistent).
    pub async fn sessions_of(&self, user_id: Uuid) -> Result<Vec<SessionRecord>, StoreError> {
        let mut sessions = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(keys::user_pk(user_id)))
                .expression_attribute_values(":prefix", s(keys::SESSION_PREFIX))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(classify)?;
            for item in out.items.unwrap_or_default() {
                sessions.push(from_item(item)?);
            }
            match out.last_evaluated_key {
                Some(last) if !last.is_empty() => start = Some(last),
                _ => return Ok(sessions),
            }
        }
    }

    /// Ends every session of a user; returns how many records were deleted.
    pub async fn delete_sessions_of(&self, user_id: Uuid) -> Result<usize, StoreError> {
        self.delete_sessions(user_id, None).await
    }

    /// Deletes every session of a user except `keep`.
    pub async fn delete_sessions_except(&self, user_id: Uuid, keep: Uuid) -> Result<usize, StoreError> {
        self.delete_sessions(user_id, Some(keep)).await
    }

    async fn delete_sessions(&self, user_id: Uuid, keep: Option<Uuid>) -> Result<usize, StoreError> {
        let sessions = self.sessions_of(user_id).await?;
        let keys: Vec<_> = sessions.iter().filter(|s| Some(s.session_id) != keep).map(SessionRecord::key).collect();
        let count = keys.len();
        self.batch_delete(keys).await?;
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::store::to_item;

    #[test]
    fn a_new_session_is_keyed_and_expires_with_its_first_deadline() {
        let now = UnixMs::from_ms(1_795_000_000_123);
        let (user_id, session_id) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let session = SessionRecord::new(NewSession {
            session_id,
            user_id,
            now,
            idle_expires_at: now.plus(Duration::from_secs(60)),
            expires_at: now.plus(Duration::from_secs(30)),
            current_hash: "h".to_owned(),
            generation: 0,
            role: "reader".to_owned(),
            tier: "free".to_owned(),
            guest: false,
            credentials_version: 3,
            device_key: None,
            user_agent: None,
            ip: None,
            access_ttl_secs: 900,
            fixed_refresh: false,
            access_jti: None,
            profile: None,
            legacy_id: None,
        });
        assert_eq!(session.key(), keys::session(user_id, session_id));
        assert_eq!((session.created_at, session.last_used_at, session.rotated_at), (now, now, None));
        assert_eq!(session.ttl, 1_795_000_030);
        assert!(session.is_live(now) && !session.is_live(now.plus(Duration::from_secs(30))));
        let item = to_item(&session).expect("item");
        assert_eq!(item["sk"], s("SESSION#00000000-0000-0000-0000-000000000002"));
        assert_eq!(item["idle_expires_at"], n(1_795_000_060_123));
        assert!(!item.contains_key("previous_hash"));
    }
}
