//! DynamoDB storage: one table, records mapped with `serde_dynamo`, every write that decides
//! something guarded by a condition. The domain never sees an `AttributeValue`.
//!
//! | item                | pk                  | sk                 | ttl                |
//! |---------------------|---------------------|--------------------|--------------------|
//! | user                | `USER#<user id>`    | `PROFILE`          | guests only        |
//! | session             | `USER#<user id>`    | `SESSION#<sid>`    | idle expiry        |
//! | username claim      | `USERNAME#<key>`    | `CLAIM`            | –                  |
//! | email claim         | `EMAIL#<key>`       | `CLAIM`            | –                  |
//!
//! Sessions live in their user's partition, so listing or ending all of a user's sessions is
//! one strongly consistent `Query`, and `/me` fetches user and session in one `BatchGetItem`.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::config::{Credentials, Region};
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, KeysAndAttributes, Put, ReturnValue,
    ReturnValuesOnConditionCheckFailure, TransactWriteItem, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::Config;
use crate::error::{ApiError, Cause};

pub const PROFILE_SK: &str = "PROFILE";
pub const CLAIM_SK: &str = "CLAIM";

pub fn user_pk(user_id: Uuid) -> String {
    format!("USER#{user_id}")
}

pub fn session_sk(session_id: Uuid) -> String {
    format!("SESSION#{session_id}")
}

pub fn username_claim(key: &str) -> String {
    format!("USERNAME#{key}")
}

pub fn email_claim(key: &str) -> String {
    format!("EMAIL#{key}")
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserRecord {
    pub pk: String,
    pub sk: String,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
    pub updated_at: i64,
    /// Optimistic-locking version, bumped by every profile write.
    pub version: u64,
    /// Absolute expiry (unix ms) of records that expire, such as idle guests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<i64>,
}

impl UserRecord {
    pub fn is_live(&self, now_ms: i64) -> bool {
        self.expires_at.is_none_or(|at| now_ms < at)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClaimRecord {
    pub pk: String,
    pub sk: String,
    pub user_id: Uuid,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionRecord {
    pub pk: String,
    pub sk: String,
    pub session_id: Uuid,
    pub user_id: Uuid,
    pub created_at: i64,
    pub last_used_at: i64,
    /// The refresh token's idle deadline (unix ms), pushed forward by each rotation.
    pub idle_expires_at: i64,
    /// The session's absolute deadline (unix ms).
    pub expires_at: i64,
    /// SHA-256 of the one live refresh token.
    pub current_hash: String,
    /// SHA-256 of its parent, answered with the same successor within the grace window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotated_at: Option<i64>,
    pub generation: u32,
    /// Claims copied into every access token of this session, so a refresh is one write.
    pub role: String,
    pub tier: String,
    pub guest: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// DynamoDB TTL (unix seconds); reads check the deadlines themselves.
    pub ttl: i64,
}

impl SessionRecord {
    pub fn is_live(&self, now_ms: i64) -> bool {
        now_ms < self.idle_expires_at && now_ms < self.expires_at
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness claim of the transaction is held by someone else.
    #[error("{0:?} already claimed")]
    Conflict(Claim),
    /// The database is unreachable, timing out or throttling after the SDK's retries.
    #[error("database unavailable")]
    Unavailable(#[source] Cause),
    /// Anything else: a bug or a misconfiguration.
    #[error("database error")]
    Internal(#[source] Cause),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    Username,
    Email,
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(Claim::Username) => ApiError::UsernameTaken,
            StoreError::Conflict(Claim::Email) => ApiError::EmailTaken,
            StoreError::Unavailable(cause) => ApiError::Unavailable(cause),
            StoreError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

/// Error codes that mean "try again later" rather than "this request is wrong".
const TRANSIENT_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "LimitExceededException",
    "TransactionInProgressException",
];

fn classify<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            StoreError::Unavailable(Box::new(err))
        }
        SdkError::ServiceError(service)
            if TRANSIENT_CODES.contains(&service.err().code().unwrap_or("")) =>
        {
            StoreError::Unavailable(Box::new(err))
        }
        _ => StoreError::Internal(Box::new(err)),
    }
}

fn to_item<T: Serialize>(record: &T) -> Result<HashMap<String, AttributeValue>, StoreError> {
    serde_dynamo::to_item(record).map_err(|e| StoreError::Internal(Box::new(e)))
}

fn from_item<T: for<'de> Deserialize<'de>>(
    item: HashMap<String, AttributeValue>,
) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::Internal(Box::new(e)))
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn key(pk: String, sk: impl Into<String>) -> HashMap<String, AttributeValue> {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

/// A refresh token presented for rotation, and what replaces it if it wins.
#[derive(Debug, Clone, Copy)]
pub struct Rotate<'a> {
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub presented_hash: &'a str,
    pub successor_hash: &'a str,
    pub successor_generation: u32,
    pub now_ms: i64,
    /// The successor's idle deadline (unix ms).
    pub idle_expires_at: i64,
}

/// The outcome of presenting a refresh token for rotation.
#[derive(Debug)]
pub enum Rotation {
    /// This request won: the session as it is now.
    Rotated(SessionRecord),
    /// The condition failed: the session as it was (if it exists), for the caller to judge
    /// between a grace-window replay, reuse and a dead token.
    Rejected(Option<SessionRecord>),
}

#[derive(Clone)]
pub struct Store {
    client: Client,
    table: String,
}

impl Store {
    /// One client per cold start, with bounded timeouts and retries, so an unreachable
    /// database answers 503 within seconds instead of hanging the function.
    pub async fn connect(config: &Config) -> Self {
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_millis(1_000))
            .operation_attempt_timeout(Duration::from_millis(1_500))
            .operation_timeout(Duration::from_millis(4_000))
            .build();
        let retries = RetryConfig::standard()
            .with_max_attempts(3)
            .with_initial_backoff(Duration::from_millis(25));
        let client = match &config.dynamodb_endpoint {
            Some(endpoint) => {
                let conf = aws_sdk_dynamodb::Config::builder()
                    .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
                    .endpoint_url(endpoint)
                    .region(Region::new("us-east-1"))
                    .credentials_provider(Credentials::new(
                        "local",
                        "local",
                        None,
                        None,
                        "dynamodb-local",
                    ))
                    .timeout_config(timeouts)
                    .retry_config(retries)
                    .build();
                Client::from_conf(conf)
            }
            None => {
                let shared = aws_config::defaults(aws_config::BehaviorVersion::latest())
                    .timeout_config(timeouts)
                    .retry_config(retries)
                    .load()
                    .await;
                Client::new(&shared)
            }
        };
        Store {
            client,
            table: config.table_name.clone(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn put(
        &self,
        item: HashMap<String, AttributeValue>,
        must_be_new: bool,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut put = Put::builder().table_name(&self.table).set_item(Some(item));
        if must_be_new {
            put = put.condition_expression("attribute_not_exists(pk)");
        }
        let put = put.build().map_err(|e| StoreError::Internal(Box::new(e)))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Creates a user, its uniqueness claims and its first session in one transaction:
    /// either all exist afterwards or none does.
    pub async fn create_user(
        &self,
        user: &UserRecord,
        session: &SessionRecord,
    ) -> Result<(), StoreError> {
        let mut items = vec![self.put(to_item(user)?, true)?];
        let mut claims = Vec::new();
        if let Some(k) = &user.username_key {
            items.push(self.put(to_item(&claim_record(username_claim(k), user.id))?, true)?);
            claims.push(Claim::Username);
        }
        if let Some(k) = &user.email_key {
            items.push(self.put(to_item(&claim_record(email_claim(k), user.id))?, true)?);
            claims.push(Claim::Email);
        }
        items.push(self.put(to_item(session)?, true)?);
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) => {
                if let Some(reasons) = err.as_service_error().and_then(|e| match e {
                    aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => {
                        Some(c.cancellation_reasons().to_vec())
                    }
                    _ => None,
                }) {
                    // Reasons line up with the items: [user, claims..., session].
                    for (index, claim) in claims.iter().enumerate() {
                        let code = reasons.get(index + 1).and_then(|r| r.code());
                        if code == Some("ConditionalCheckFailed") {
                            return Err(StoreError::Conflict(*claim));
                        }
                    }
                }
                Err(classify(err))
            }
        }
    }

    /// The user id a uniqueness claim points at.
    pub async fn claim_owner(&self, claim_pk: String) -> Result<Option<Uuid>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(claim_pk, CLAIM_SK)))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        match out.item {
            Some(item) => Ok(Some(from_item::<ClaimRecord>(item)?.user_id)),
            None => Ok(None),
        }
    }

    pub async fn get_user(&self, user_id: Uuid) -> Result<Option<UserRecord>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(user_id), PROFILE_SK)))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        out.item.map(from_item).transpose()
    }

    pub async fn put_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(session)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// The user and one of its sessions in a single round trip (strongly consistent).
    pub async fn user_and_session(
        &self,
        user_id: Uuid,
        session_id: Uuid,
    ) -> Result<(Option<UserRecord>, Option<SessionRecord>), StoreError> {
        let keys = KeysAndAttributes::builder()
            .keys(key(user_pk(user_id), PROFILE_SK))
            .keys(key(user_pk(user_id), session_sk(session_id)))
            .consistent_read(true)
            .build()
            .map_err(|e| StoreError::Internal(Box::new(e)))?;
        let mut request = HashMap::from([(self.table.clone(), keys)]);
        let mut user = None;
        let mut session = None;
        // BatchGetItem may hand back unprocessed keys under load; the SDK's retries have
        // already waited, so give them two more chances and then report unavailability.
        for _ in 0..3 {
            let out = self
                .client
                .batch_get_item()
                .set_request_items(Some(request))
                .send()
                .await
                .map_err(classify)?;
            for item in out
                .responses
                .unwrap_or_default()
                .remove(&self.table)
                .unwrap_or_default()
            {
                match item.get("sk") {
                    Some(AttributeValue::S(sk)) if sk == PROFILE_SK => {
                        user = Some(from_item(item)?)
                    }
                    _ => session = Some(from_item(item)?),
                }
            }
            match out.unprocessed_keys.filter(|u| !u.is_empty()) {
                None => return Ok((user, session)),
                Some(unprocessed) => request = unprocessed,
            }
        }
        Err(StoreError::Unavailable(
            "unprocessed keys after retries".into(),
        ))
    }

    /// Rotates a session's refresh token in one conditional write: only the request that
    /// presents the current token of a live session wins.
    pub async fn rotate_refresh(&self, rotate: Rotate<'_>) -> Result<Rotation, StoreError> {
        let Rotate {
            user_id,
            session_id,
            presented_hash,
            successor_hash,
            successor_generation,
            now_ms,
            idle_expires_at,
        } = rotate;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(user_id), session_sk(session_id))))
            .update_expression(
                "SET current_hash = :next, previous_hash = :presented, rotated_at = :now, last_used_at = :now, \
                 idle_expires_at = :idle, generation = :generation, #ttl = :ttl",
            )
            .condition_expression("current_hash = :presented AND idle_expires_at > :now AND expires_at > :now")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":next", s(successor_hash))
            .expression_attribute_values(":presented", s(presented_hash))
            .expression_attribute_values(":now", n(now_ms))
            .expression_attribute_values(":idle", n(idle_expires_at))
            .expression_attribute_values(":generation", n(i64::from(successor_generation)))
            .expression_attribute_values(":ttl", n(idle_expires_at / 1000))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => {
                let item = out
                    .attributes
                    .ok_or_else(|| StoreError::Internal("rotation returned no item".into()))?;
                Ok(Rotation::Rotated(from_item(item)?))
            }
            Err(err) => {
                let old = match err.as_service_error() {
                    Some(
                        aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(e),
                    ) => e.item.clone(),
                    _ => return Err(classify(err)),
                };
                let old = match old {
                    Some(item) => Some(from_item(item)?),
                    // Not every DynamoDB returns the old item on a failed condition; read it.
                    None => self.get_session(user_id, session_id).await?,
                };
                Ok(Rotation::Rejected(old))
            }
        }
    }

    pub async fn get_session(
        &self,
        user_id: Uuid,
        session_id: Uuid,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(user_id), session_sk(session_id))))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        out.item.map(from_item).transpose()
    }

    /// Ends a session. Idempotent: deleting a session that is gone already succeeds.
    pub async fn delete_session(&self, user_id: Uuid, session_id: Uuid) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(user_id), session_sk(session_id))))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
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
                .expression_attribute_values(":pk", s(user_pk(user_id)))
                .expression_attribute_values(":prefix", s("SESSION#"))
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
        let sessions = self.sessions_of(user_id).await?;
        let keys: Vec<_> = sessions
            .iter()
            .map(|s| key(s.pk.clone(), s.sk.clone()))
            .collect();
        self.batch_delete(keys).await?;
        Ok(sessions.len())
    }

    async fn batch_delete(
        &self,
        keys: Vec<HashMap<String, AttributeValue>>,
    ) -> Result<(), StoreError> {
        for chunk in keys.chunks(25) {
            let mut requests: Vec<WriteRequest> = chunk
                .iter()
                .map(|k| {
                    let delete = DeleteRequest::builder().set_key(Some(k.clone())).build();
                    delete.map(|d| WriteRequest::builder().delete_request(d).build())
                })
                .collect::<Result<_, _>>()
                .map_err(|e| StoreError::Internal(Box::new(e)))?;
            for attempt in 0.. {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, requests)
                    .send()
                    .await
                    .map_err(classify)?;
                match out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(&self.table))
                    .filter(|r| !r.is_empty())
                {
                    None => break,
                    Some(_) if attempt >= 3 => {
                        return Err(StoreError::Unavailable(
                            "unprocessed deletes after retries".into(),
                        ))
                    }
                    Some(rest) => {
                        tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
                        requests = rest;
                    }
                }
            }
        }
        Ok(())
    }

    /// Replaces a user's password hash (used to upgrade hashes made with older parameters).
    pub async fn set_password_hash(
        &self,
        user_id: Uuid,
        hash: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(user_id), PROFILE_SK)))
            .update_expression("SET password_hash = :hash, updated_at = :now")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":hash", s(hash))
            .expression_attribute_values(":now", n(now_ms))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }
}

fn claim_record(pk: String, user_id: Uuid) -> ClaimRecord {
    ClaimRecord {
        pk,
        sk: CLAIM_SK.to_owned(),
        user_id,
    }
}
