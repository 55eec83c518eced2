//! DynamoDB storage: one table, records mapped with `serde_dynamo`, every write that decides
//! something guarded by a condition. The domain never sees an `AttributeValue`.
//!
//! | item                | pk                  | sk                 | ttl                |
//! |---------------------|---------------------|--------------------|--------------------|
//! | user                | `USER#<user id>`    | `PROFILE`          | guests only        |
//! | session             | `USER#<user id>`    | `SESSION#<sid>`    | idle expiry        |
//! | username claim      | `USERNAME#<key>`    | `CLAIM`            | –                  |
//! | email claim         | `EMAIL#<key>`       | `CLAIM`            | –                  |
//! | device claim        | `DEVICE#<sha256>`   | `CLAIM`            | guest idle expiry  |
//! | rate window         | `RATE#<route>#<ip>` | window start (s)   | end of window      |
//! | login back-off      | `LOGIN#<sha256(id)>`| `STATE`            | a day (30 once disabled) |
//! | one-time token      | `USER#<user id>`    | `TOKEN#verify`/`#reset` | token or send window |
//!
//! Sessions live in their user's partition, so listing or ending all of a user's sessions is
//! one strongly consistent `Query`, and `/me` fetches user and session in one `BatchGetItem`.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::config::{Credentials, Region};
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, KeysAndAttributes, Put, ReturnValue, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::Config;

/// The boxed cause of a failure, kept for the logs.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

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

/// Device ids are hashed: the table never holds a client's raw device identifier.
pub fn device_claim(device_id: &str) -> String {
    format!("DEVICE#{}", crate::tokens::sha256_b64(device_id.as_bytes()))
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
    /// Bumped whenever the credentials change (password change or reset); sessions opened
    /// under an older value are dead for every bearer route.
    #[serde(default)]
    pub credentials_version: u64,
    /// A guest's device claim (its key), released when the guest upgrades or is deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_key: Option<String>,
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
    /// Device claims expire with their idle guest (unix ms); name claims never do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<i64>,
}

impl ClaimRecord {
    pub fn is_live(&self, now_ms: i64) -> bool {
        self.expires_at.is_none_or(|at| now_ms < at)
    }
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
    /// The record changed since it was read (optimistic locking); read again and retry.
    #[error("stale write")]
    Stale,
    /// The record a write expected is not there (any more).
    #[error("not found")]
    Missing,
    /// Anything else: a bug or a misconfiguration.
    #[error("database error")]
    Internal(#[source] Cause),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    Username,
    Email,
    Device,
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
        SdkError::ServiceError(service) if TRANSIENT_CODES.contains(&service.err().code().unwrap_or("")) => {
            StoreError::Unavailable(Box::new(err))
        }
        _ => StoreError::Internal(Box::new(err)),
    }
}

type TransactError = SdkError<
    aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
    aws_sdk_dynamodb::config::http::HttpResponse,
>;

/// The per-item reasons of a cancelled transaction (empty for any other error).
fn cancellation_reasons(err: &TransactError) -> Vec<aws_sdk_dynamodb::types::CancellationReason> {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError as E;
    match err.as_service_error() {
        Some(E::TransactionCanceledException(c)) => c.cancellation_reasons().to_vec(),
        _ => Vec::new(),
    }
}

/// Whether item `index` of a cancelled transaction failed its condition.
fn failed_at(reasons: &[aws_sdk_dynamodb::types::CancellationReason], index: usize) -> bool {
    reasons.get(index).and_then(|r| r.code()) == Some("ConditionalCheckFailed")
}

type UpdateError =
    SdkError<aws_sdk_dynamodb::operation::update_item::UpdateItemError, aws_sdk_dynamodb::config::http::HttpResponse>;

/// The item a failed `UpdateItem` condition was checked against (asked for with
/// `ReturnValuesOnConditionCheckFailure::AllOld`); any other error is classified.
fn failed_condition_item(err: UpdateError) -> Result<Option<HashMap<String, AttributeValue>>, StoreError> {
    use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
    match err.as_service_error() {
        Some(UpdateItemError::ConditionalCheckFailedException(failed)) => Ok(failed.item.clone()),
        _ => Err(classify(err)),
    }
}

fn to_item<T: Serialize>(record: &T) -> Result<HashMap<String, AttributeValue>, StoreError> {
    serde_dynamo::to_item(record).map_err(|e| StoreError::Internal(Box::new(e)))
}

fn from_item<T: for<'de> Deserialize<'de>>(item: HashMap<String, AttributeValue>) -> Result<T, StoreError> {
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
        let retries = RetryConfig::standard().with_max_attempts(3).with_initial_backoff(Duration::from_millis(25));
        let client = match &config.dynamodb_endpoint {
            Some(endpoint) => {
                let conf = aws_sdk_dynamodb::Config::builder()
                    .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
                    .endpoint_url(endpoint)
                    .region(Region::new("us-east-1"))
                    .credentials_provider(Credentials::new("local", "local", None, None, "dynamodb-local"))
                    .http_client(crate::sdk_http::client())
                    .timeout_config(timeouts)
                    .retry_config(retries)
                    .build();
                Client::from_conf(conf)
            }
            None => {
                let conf = aws_sdk_dynamodb::config::Builder::from(&crate::aws::sdk_config(config))
                    .timeout_config(timeouts)
                    .retry_config(retries)
                    .build();
                Client::from_conf(conf)
            }
        };
        Store { client, table: config.table_name.clone() }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The same store with an SDK interceptor attached (benchmarks count round trips with one).
    pub fn with_interceptor(&self, interceptor: impl aws_sdk_dynamodb::config::Intercept + 'static) -> Self {
        let config = self.client.config().to_builder().interceptor(interceptor).build();
        Store { client: Client::from_conf(config), table: self.table.clone() }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn put(&self, item: HashMap<String, AttributeValue>, must_be_new: bool) -> Result<TransactWriteItem, StoreError> {
        let mut put = Put::builder().table_name(&self.table).set_item(Some(item));
        if must_be_new {
            put = put.condition_expression("attribute_not_exists(pk)");
        }
        let put = put.build().map_err(|e| StoreError::Internal(Box::new(e)))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Creates a user, its uniqueness claims and its first session in one transaction:
    /// either all exist afterwards or none does.
    pub async fn create_user(&self, user: &UserRecord, session: &SessionRecord) -> Result<(), StoreError> {
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
        let result = self.client.transact_write_items().set_transact_items(Some(items)).send().await;
        match result {
            Ok(_) => Ok(()),
            Err(err) => {
                // Reasons line up with the items: [user, claims..., session].
                let reasons = cancellation_reasons(&err);
                for (index, claim) in claims.iter().enumerate() {
                    if failed_at(&reasons, index + 1) {
                        return Err(StoreError::Conflict(*claim));
                    }
                }
                Err(classify(err))
            }
        }
    }

    /// The user id a uniqueness claim points at.
    pub async fn claim_owner(&self, claim_pk: String) -> Result<Option<Uuid>, StoreError> {
        Ok(self.get_claim(claim_pk).await?.map(|claim| claim.user_id))
    }

    pub async fn get_user(&self, user_id: Uuid) -> Result<Option<UserRecord>, StoreError> {
        self.get(user_pk(user_id), PROFILE_SK).await
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
            let out = self.client.batch_get_item().set_request_items(Some(request)).send().await.map_err(classify)?;
            for item in out.responses.unwrap_or_default().remove(&self.table).unwrap_or_default() {
                match item.get("sk") {
                    Some(AttributeValue::S(sk)) if sk == PROFILE_SK => user = Some(from_item(item)?),
                    _ => session = Some(from_item(item)?),
                }
            }
            match out.unprocessed_keys.filter(|u| !u.is_empty()) {
                None => return Ok((user, session)),
                Some(unprocessed) => request = unprocessed,
            }
        }
        Err(StoreError::Unavailable("unprocessed keys after retries".into()))
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
                let item = out.attributes.ok_or_else(|| StoreError::Internal("rotation returned no item".into()))?;
                Ok(Rotation::Rotated(from_item(item)?))
            }
            Err(err) => {
                let old = failed_condition_item(err)?;
                let old = match old {
                    Some(item) => Some(from_item(item)?),
                    // Not every DynamoDB returns the old item on a failed condition; read it.
                    None => self.get_session(user_id, session_id).await?,
                };
                Ok(Rotation::Rejected(old))
            }
        }
    }

    pub async fn get_session(&self, user_id: Uuid, session_id: Uuid) -> Result<Option<SessionRecord>, StoreError> {
        self.get(user_pk(user_id), &session_sk(session_id)).await
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
        let keys: Vec<_> = sessions.iter().map(|s| key(s.pk.clone(), s.sk.clone())).collect();
        self.batch_delete(keys).await?;
        Ok(sessions.len())
    }

    async fn batch_delete(&self, keys: Vec<HashMap<String, AttributeValue>>) -> Result<(), StoreError> {
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
                match out.unprocessed_items.and_then(|mut u| u.remove(&self.table)).filter(|r| !r.is_empty()) {
                    None => break,
                    Some(_) if attempt >= 3 => {
                        return Err(StoreError::Unavailable("unprocessed deletes after retries".into()))
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

    /// Applies profile changes read from `user`. A change of username or email swaps the
    /// claims in the same transaction (old one released, new one taken or nothing happens),
    /// guarded by the version read, so a concurrent change cannot leave a stale claim.
    pub async fn update_user(
        &self,
        user: &UserRecord,
        changes: &ProfileChanges,
        now_ms: i64,
    ) -> Result<UserRecord, StoreError> {
        let (expression, names, values) = changes.expression(now_ms);
        let mut claim_ops: Vec<(Claim, Option<String>, String)> = Vec::new();
        if let Some((_, key)) = &changes.username {
            if user.username_key.as_deref() != Some(key) {
                claim_ops.push((
                    Claim::Username,
                    user.username_key.as_deref().map(username_claim),
                    username_claim(key),
                ));
            }
        }
        if let Some((_, key)) = &changes.email {
            if user.email_key.as_deref() != Some(key) {
                claim_ops.push((Claim::Email, user.email_key.as_deref().map(email_claim), email_claim(key)));
            }
        }
        let user_key = key(user_pk(user.id), PROFILE_SK);
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
            return match out {
                Ok(out) => from_item(out.attributes.unwrap_or_default()),
                Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
                    Err(StoreError::Missing)
                }
                Err(e) => Err(classify(e)),
            };
        }

        let mut values = values;
        values.insert(":expected".to_owned(), n(user.version as i64));
        let update = aws_sdk_dynamodb::types::Update::builder()
            .table_name(&self.table)
            .set_key(Some(user_key))
            .update_expression(expression)
            .condition_expression("#version = :expected")
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(|e| StoreError::Internal(Box::new(e)))?;
        let mut items = vec![TransactWriteItem::builder().update(update).build()];
        for (_, old, _) in &claim_ops {
            if let Some(old) = old {
                items.push(self.delete_claim(old.clone(), user.id)?);
            }
        }
        if claim_ops.iter().any(|(claim, _, _)| *claim == Claim::Email) {
            // A pending verification link was mailed to the old address: it must not verify
            // the new one.
            items.push(self.delete_item(key(user_pk(user.id), crate::tokens::Purpose::VerifyEmail.sort_key()))?);
        }
        let first_put = items.len();
        for (_, _, new) in &claim_ops {
            items.push(self.put(to_item(&claim_record(new.clone(), user.id))?, true)?);
        }
        match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(changes.apply(user, now_ms)),
            Err(err) => {
                let reasons = cancellation_reasons(&err);
                if failed_at(&reasons, 0) {
                    return Err(StoreError::Stale);
                }
                for (index, (claim, _, _)) in claim_ops.iter().enumerate() {
                    if failed_at(&reasons, first_put + index) {
                        return Err(StoreError::Conflict(*claim));
                    }
                }
                Err(classify(err))
            }
        }
    }

    fn delete_item(&self, item_key: HashMap<String, AttributeValue>) -> Result<TransactWriteItem, StoreError> {
        let delete = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&self.table)
            .set_key(Some(item_key))
            .build()
            .map_err(|e| StoreError::Internal(Box::new(e)))?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    fn delete_claim(&self, claim_pk: String, owner: Uuid) -> Result<TransactWriteItem, StoreError> {
        // A claim that is already gone is fine; one held by someone else is never touched.
        let delete = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(claim_pk, CLAIM_SK)))
            .condition_expression("attribute_not_exists(pk) OR user_id = :owner")
            .expression_attribute_values(":owner", s(owner.to_string()))
            .build()
            .map_err(|e| StoreError::Internal(Box::new(e)))?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// Replaces the password and opens the caller's new session in one transaction, provided
    /// the password is still the one that was verified. Other sessions are ended afterwards
    /// by the caller; the bumped `credentials_version` already shuts them out.
    pub async fn change_password(
        &self,
        user: &UserRecord,
        new_hash: &str,
        session: &SessionRecord,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let old_hash = user.password_hash.clone().unwrap_or_default();
        let update = aws_sdk_dynamodb::types::Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(user.id), PROFILE_SK)))
            .update_expression(
                "SET password_hash = :new, credentials_version = :credentials, updated_at = :now, \
                 #version = #version + :one",
            )
            .condition_expression("password_hash = :old")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":new", s(new_hash))
            .expression_attribute_values(":old", s(old_hash))
            .expression_attribute_values(":credentials", n(session.credentials_version as i64))
            .expression_attribute_values(":now", n(now_ms))
            .expression_attribute_values(":one", n(1))
            .build()
            .map_err(|e| StoreError::Internal(Box::new(e)))?;
        let items = vec![TransactWriteItem::builder().update(update).build(), self.put(to_item(session)?, true)?];
        match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(()),
            Err(err) if failed_at(&cancellation_reasons(&err), 0) => Err(StoreError::Stale),
            Err(err) => Err(classify(err)),
        }
    }

    /// Deletes every session of a user except `keep`.
    pub async fn delete_sessions_except(&self, user_id: Uuid, keep: Uuid) -> Result<usize, StoreError> {
        let sessions = self.sessions_of(user_id).await?;
        let keys: Vec<_> =
            sessions.iter().filter(|s| s.session_id != keep).map(|s| key(s.pk.clone(), s.sk.clone())).collect();
        let count = keys.len();
        self.batch_delete(keys).await?;
        Ok(count)
    }

    /// Deletes one of the user's sessions; `false` when there was none with that id.
    pub async fn end_session(&self, user_id: Uuid, session_id: Uuid) -> Result<bool, StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(user_id), session_sk(session_id))))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(classify(e)),
        }
    }

    /// Deletes the user and its uniqueness claims in one transaction. Sessions are the
    /// caller's to end before (so a failure leaves a user who can still log in) and after.
    pub async fn delete_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        let delete_user = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(user.id), PROFILE_SK)))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(|e| StoreError::Internal(Box::new(e)))?;
        let mut items = vec![TransactWriteItem::builder().delete(delete_user).build()];
        let claims = [
            user.username_key.as_deref().map(username_claim),
            user.email_key.as_deref().map(email_claim),
            user.device_key.clone(),
        ];
        for claim in claims.into_iter().flatten() {
            items.push(self.delete_claim(claim, user.id)?);
        }
        for purpose in [crate::tokens::Purpose::VerifyEmail, crate::tokens::Purpose::ResetPassword] {
            items.push(self.delete_item(key(user_pk(user.id), purpose.sort_key()))?);
        }
        match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(()),
            Err(err) if failed_at(&cancellation_reasons(&err), 0) => Err(StoreError::Missing),
            Err(err) => Err(classify(err)),
        }
    }

    /// A uniqueness claim, whatever it points at (device claims carry their expiry).
    pub async fn get_claim(&self, claim_pk: String) -> Result<Option<ClaimRecord>, StoreError> {
        self.get(claim_pk, CLAIM_SK).await
    }

    /// One record by key, strongly consistent.
    async fn get<T: for<'de> Deserialize<'de>>(&self, pk: String, sk: &str) -> Result<Option<T>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        out.item.map(from_item).transpose()
    }

    /// Creates a guest, its device claim and its first session in one transaction. An expired
    /// guest's claim may be taken over: its device gets a new guest.
    pub async fn create_guest(
        &self,
        user: &UserRecord,
        claim: &ClaimRecord,
        session: &SessionRecord,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let claim_put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(claim)?))
            .condition_expression("attribute_not_exists(pk) OR expires_at < :now")
            .expression_attribute_values(":now", n(now_ms))
            .build()
            .map_err(|e| StoreError::Internal(Box::new(e)))?;
        let items = vec![
            self.put(to_item(user)?, true)?,
            TransactWriteItem::builder().put(claim_put).build(),
            self.put(to_item(session)?, true)?,
        ];
        match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(()),
            Err(err) if failed_at(&cancellation_reasons(&err), 1) => Err(StoreError::Conflict(Claim::Device)),
            Err(err) => Err(classify(err)),
        }
    }

    /// Pushes an idle guest's expiry (user and device claim) forward, if it is still live.
    /// Returns `false` when the guest has already expired or is a guest no more.
    /// With `session`, that session is created in the same transaction (a returning device).
    pub async fn touch_guest(
        &self,
        user_id: Uuid,
        device_key: &str,
        expires_at: i64,
        now_ms: i64,
        session: Option<&SessionRecord>,
    ) -> Result<bool, StoreError> {
        let push = |item_key, condition: &str, name: &str, value: AttributeValue| {
            aws_sdk_dynamodb::types::Update::builder()
                .table_name(&self.table)
                .set_key(Some(item_key))
                .update_expression("SET expires_at = :expires, #ttl = :ttl")
                .condition_expression(condition)
                .expression_attribute_names("#ttl", "ttl")
                .expression_attribute_values(":expires", n(expires_at))
                .expression_attribute_values(":ttl", n(expires_at.div_euclid(1000)))
                .expression_attribute_values(":now", n(now_ms))
                .expression_attribute_values(name, value)
                .build()
                .map(|update| TransactWriteItem::builder().update(update).build())
                .map_err(|e| StoreError::Internal(Box::new(e)))
        };
        let mut items = vec![
            push(
                key(user_pk(user_id), PROFILE_SK),
                "is_guest = :guest AND expires_at > :now",
                ":guest",
                AttributeValue::Bool(true),
            )?,
            push(
                key(device_key.to_owned(), CLAIM_SK),
                "user_id = :owner AND expires_at > :now",
                ":owner",
                s(user_id.to_string()),
            )?,
        ];
        if let Some(session) = session {
            items.push(self.put(to_item(session)?, true)?);
        }
        match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(true),
            Err(err) => {
                let reasons = cancellation_reasons(&err);
                if failed_at(&reasons, 0) || failed_at(&reasons, 1) {
                    Ok(false)
                } else {
                    Err(classify(err))
                }
            }
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
        now_ms: i64,
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
            (":now".to_owned(), n(now_ms)),
            (":one".to_owned(), n(1)),
            (":expected".to_owned(), n(guest.version as i64)),
        ]);
        if let Some((name, name_key)) = &upgrade.username {
            expression.push_str(", username = :username, username_key = :username_key");
            values.insert(":username".to_owned(), s(name));
            values.insert(":username_key".to_owned(), s(name_key));
        }
        expression.push_str(" REMOVE expires_at, #ttl, device_key");
        let update = aws_sdk_dynamodb::types::Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(guest.id), PROFILE_SK)))
            .update_expression(expression)
            .condition_expression("is_guest = :yes AND #version = :expected")
            .expression_attribute_names("#version", "version")
            .expression_attribute_names("#ttl", "ttl")
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(|e| StoreError::Internal(Box::new(e)))?;
        let mut items = vec![TransactWriteItem::builder().update(update).build()];
        let mut claims = vec![(Claim::Email, email_claim(&upgrade.email.1))];
        if let Some((_, name_key)) = &upgrade.username {
            claims.push((Claim::Username, username_claim(name_key)));
        }
        for (_, pk) in &claims {
            items.push(self.put(to_item(&claim_record(pk.clone(), guest.id))?, true)?);
        }
        if let Some(device) = &guest.device_key {
            items.push(self.delete_claim(device.clone(), guest.id)?);
        }
        items.push(self.put(to_item(session)?, true)?);
        match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(()),
            Err(err) => {
                let reasons = cancellation_reasons(&err);
                if failed_at(&reasons, 0) {
                    return Err(StoreError::Stale);
                }
                for (index, (claim, _)) in claims.iter().enumerate() {
                    if failed_at(&reasons, index + 1) {
                        return Err(StoreError::Conflict(*claim));
                    }
                }
                Err(classify(err))
            }
        }
    }

    /// Stores a new one-time token for `user_id`, replacing the pending one of its purpose,
    /// unless the account already had `max_per_window` mails in the current window.
    pub async fn issue_one_time(
        &self,
        user_id: Uuid,
        purpose: crate::tokens::Purpose,
        hash: &str,
        expires_at: i64,
        now_ms: i64,
        quota: Quota,
    ) -> Result<Issued, StoreError> {
        let Quota { max_per_window, window_ms } = quota;
        let ttl = expires_at.max(now_ms + window_ms).div_euclid(1000);
        let item_key = key(user_pk(user_id), purpose.sort_key());
        let attempt = |update: &str, condition: &str| {
            self.client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(item_key.clone()))
                .update_expression(update)
                .condition_expression(condition)
                .expression_attribute_names("#ttl", "ttl")
                .expression_attribute_values(":hash", s(hash))
                .expression_attribute_values(":expires", n(expires_at))
                .expression_attribute_values(":ttl", n(ttl))
                .expression_attribute_values(":window_opened", n(now_ms - window_ms))
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
        match within {
            Ok(_) => return Ok(Issued::Stored),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {}
            Err(e) => return Err(classify(e)),
        }
        // No window yet, or it has passed: open a new one.
        let fresh = attempt(
            "SET #hash = :hash, expires_at = :expires, #ttl = :ttl, window_start = :now, sent = :one",
            "attribute_not_exists(pk) OR window_start <= :window_opened",
        )
        .expression_attribute_names("#hash", "hash")
        .expression_attribute_values(":now", n(now_ms))
        .expression_attribute_values(":one", n(1))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await;
        match fresh {
            Ok(_) => Ok(Issued::Stored),
            Err(e) => {
                let capped = failed_condition_item(e)?;
                let window_start =
                    capped.map(from_item::<OneTimeRecord>).transpose()?.map_or(now_ms, |record| record.window_start);
                Ok(Issued::Capped { retry_after_ms: (window_start + window_ms - now_ms).max(1_000) })
            }
        }
    }

    /// Withdraws a token whose mail could not be sent, if it is still the pending one.
    pub async fn withdraw_one_time(
        &self,
        user_id: Uuid,
        purpose: crate::tokens::Purpose,
        hash: &str,
    ) -> Result<(), StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(user_id), purpose.sort_key())))
            .update_expression("SET expires_at = :gone")
            .condition_expression("#hash = :hash")
            .expression_attribute_names("#hash", "hash")
            .expression_attribute_values(":hash", s(hash))
            .expression_attribute_values(":gone", n(0))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => Ok(()),
            Err(e) => Err(classify(e)),
        }
    }

    pub async fn get_one_time(
        &self,
        user_id: Uuid,
        purpose: crate::tokens::Purpose,
    ) -> Result<Option<OneTimeRecord>, StoreError> {
        self.get(user_pk(user_id), purpose.sort_key()).await
    }

    /// Consumes a one-time token and applies `user_update` to its user in one transaction:
    /// the token must be the pending one and unexpired, so it works exactly once.
    /// `Missing` when it does not (or the user is gone).
    async fn consume_one_time(
        &self,
        user_id: Uuid,
        purpose: crate::tokens::Purpose,
        hash: &str,
        now_ms: i64,
        user_update: aws_sdk_dynamodb::types::Update,
    ) -> Result<(), StoreError> {
        let consume = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(user_id), purpose.sort_key())))
            .condition_expression("#hash = :hash AND expires_at > :now")
            .expression_attribute_names("#hash", "hash")
            .expression_attribute_values(":hash", s(hash))
            .expression_attribute_values(":now", n(now_ms))
            .build()
            .map_err(|e| StoreError::Internal(Box::new(e)))?;
        let items = vec![
            TransactWriteItem::builder().delete(consume).build(),
            TransactWriteItem::builder().update(user_update).build(),
        ];
        match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(()),
            Err(err) => {
                let reasons = cancellation_reasons(&err);
                if failed_at(&reasons, 0) || failed_at(&reasons, 1) {
                    Err(StoreError::Missing)
                } else {
                    Err(classify(err))
                }
            }
        }
    }

    /// Marks the user's email verified with a verification token.
    pub async fn verify_email(&self, user_id: Uuid, hash: &str, now_ms: i64) -> Result<(), StoreError> {
        let update = aws_sdk_dynamodb::types::Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(user_id), PROFILE_SK)))
            .update_expression("SET email_verified = :yes, updated_at = :now, #version = #version + :one")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .expression_attribute_values(":now", n(now_ms))
            .expression_attribute_values(":one", n(1))
            .build()
            .map_err(|e| StoreError::Internal(Box::new(e)))?;
        self.consume_one_time(user_id, crate::tokens::Purpose::VerifyEmail, hash, now_ms, update).await
    }

    /// Sets a new password with a reset token and moves the credentials version on, which
    /// shuts every existing session out; the caller then deletes them.
    pub async fn reset_password(
        &self,
        user_id: Uuid,
        hash: &str,
        new_hash: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let update = aws_sdk_dynamodb::types::Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(user_id), PROFILE_SK)))
            .update_expression(
                "SET password_hash = :new, updated_at = :now, #version = #version + :one, \
                 credentials_version = if_not_exists(credentials_version, :zero) + :one",
            )
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":new", s(new_hash))
            .expression_attribute_values(":now", n(now_ms))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":zero", n(0))
            .build()
            .map_err(|e| StoreError::Internal(Box::new(e)))?;
        self.consume_one_time(user_id, crate::tokens::Purpose::ResetPassword, hash, now_ms, update).await
    }

    /// Counts one request in a fixed window; `false` once `limit` requests were counted.
    /// The count only moves under the condition, so a burst of any size lets at most
    /// `limit` through.
    pub async fn count_in_window(&self, pk: String, window: i64, limit: u32, ttl: i64) -> Result<bool, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, window.to_string())))
            .update_expression("ADD #count :one SET #ttl = :ttl")
            .condition_expression("attribute_not_exists(#count) OR #count < :limit")
            .expression_attribute_names("#count", "count")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(i64::from(limit)))
            .expression_attribute_values(":ttl", n(ttl))
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(classify(e)),
        }
    }

    /// The owner of a login identifier's claim (if any) and the identifier's back-off state,
    /// in one round trip.
    pub async fn login_lookup(
        &self,
        claim_pk: Option<String>,
        login_pk: String,
    ) -> Result<(Option<Uuid>, Option<LoginState>), StoreError> {
        let mut keys = KeysAndAttributes::builder().keys(key(login_pk, LOGIN_STATE_SK)).consistent_read(true);
        if let Some(claim) = claim_pk {
            keys = keys.keys(key(claim, CLAIM_SK));
        }
        let keys = keys.build().map_err(|e| StoreError::Internal(Box::new(e)))?;
        let mut request = HashMap::from([(self.table.clone(), keys)]);
        let (mut owner, mut state) = (None, None);
        for _ in 0..3 {
            let out = self.client.batch_get_item().set_request_items(Some(request)).send().await.map_err(classify)?;
            for item in out.responses.unwrap_or_default().remove(&self.table).unwrap_or_default() {
                match item.get("sk") {
                    Some(AttributeValue::S(sk)) if sk == CLAIM_SK => {
                        owner = Some(from_item::<ClaimRecord>(item)?.user_id)
                    }
                    _ => state = Some(from_item(item)?),
                }
            }
            match out.unprocessed_keys.filter(|u| !u.is_empty()) {
                None => return Ok((owner, state)),
                Some(unprocessed) => request = unprocessed,
            }
        }
        Err(StoreError::Unavailable("unprocessed keys after retries".into()))
    }

    /// Counts a login attempt before its password is checked, provided the identifier's
    /// state is still the one read (`previous` failures, `None` for no record): concurrent
    /// attempts cannot all slip under the lockout. `false` when another attempt came first.
    pub async fn reserve_login(&self, state: &LoginState, previous: Option<u32>) -> Result<bool, StoreError> {
        let mut put = self.client.put_item().table_name(&self.table).set_item(Some(to_item(state)?));
        put = match previous {
            None => put.condition_expression("attribute_not_exists(pk)"),
            Some(failures) => put
                .condition_expression("failures = :previous")
                .expression_attribute_values(":previous", n(i64::from(failures))),
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(classify(e)),
        }
    }

    /// Stores a new session and forgets the identifier's failures, in one transaction.
    pub async fn put_session_clearing(&self, session: &SessionRecord, login_pk: String) -> Result<(), StoreError> {
        let items = vec![self.put(to_item(session)?, true)?, self.delete_item(key(login_pk, LOGIN_STATE_SK))?];
        self.client.transact_write_items().set_transact_items(Some(items)).send().await.map_err(classify)?;
        Ok(())
    }

    /// Forgets the back-off state of these login identifiers (after a password reset).
    pub async fn clear_login_states(&self, login_pks: Vec<String>) -> Result<(), StoreError> {
        self.batch_delete(login_pks.into_iter().map(|pk| key(pk, LOGIN_STATE_SK)).collect()).await
    }

    /// Replaces a user's password hash (used to upgrade hashes made with older parameters).
    pub async fn set_password_hash(&self, user_id: Uuid, hash: &str, now_ms: i64) -> Result<(), StoreError> {
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
    pub fn apply(&self, user: &UserRecord, now_ms: i64) -> UserRecord {
        let mut next = user.clone();
        if let Some((name, key)) = &self.username {
            (next.username, next.username_key) = (Some(name.clone()), Some(key.clone()));
        }
        if let Some((email, key)) = &self.email {
            (next.email, next.email_key) = (Some(email.clone()), Some(key.clone()));
        }
        if let Some(verified) = self.email_verified {
            next.email_verified = verified;
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
        next.updated_at = now_ms;
        next
    }

    /// The `SET`/`REMOVE` update expression of these changes with its names and values.
    fn expression(&self, now_ms: i64) -> (String, HashMap<String, String>, HashMap<String, AttributeValue>) {
        let mut sets = vec!["updated_at = :now".to_owned(), "#version = #version + :one".to_owned()];
        let mut removes = Vec::new();
        let mut names = HashMap::from([("#version".to_owned(), "version".to_owned())]);
        let mut values = HashMap::from([(":now".to_owned(), n(now_ms)), (":one".to_owned(), n(1))]);
        let mut set = |field: &str, value: AttributeValue| {
            sets.push(format!("#{field} = :{field}"));
            names.insert(format!("#{field}"), field.to_owned());
            values.insert(format!(":{field}"), value);
        };
        if let Some((name, key)) = &self.username {
            set("username", s(name));
            set("username_key", s(key));
        }
        if let Some((email, key)) = &self.email {
            set("email", s(email));
            set("email_key", s(key));
        }
        if let Some(verified) = self.email_verified {
            set("email_verified", AttributeValue::Bool(verified));
        }
        if let Some(display_name) = &self.display_name {
            set("display_name", s(display_name));
        }
        if let Some(preferences) = &self.preferences {
            set("preferences", s(preferences));
        }
        let mut cleared = Vec::new();
        for (field, value) in [("first_name", &self.first_name), ("last_name", &self.last_name)] {
            match value {
                Some(Some(v)) => set(field, s(v)),
                Some(None) => cleared.push(field),
                None => {}
            }
        }
        for field in cleared {
            removes.push(format!("#{field}"));
            names.insert(format!("#{field}"), field.to_owned());
        }
        let mut expression = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        (expression, names, values)
    }
}

fn claim_record(pk: String, user_id: Uuid) -> ClaimRecord {
    ClaimRecord { pk, sk: CLAIM_SK.to_owned(), user_id, expires_at: None, ttl: None }
}

/// The one pending mailed token of a purpose for a user, and its per-account send window.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OneTimeRecord {
    pub pk: String,
    pub sk: String,
    pub hash: String,
    /// Unix ms after which the token is refused, whatever TTL has done so far.
    pub expires_at: i64,
    /// Start (unix ms) of the window in which `sent` mails were sent.
    pub window_start: i64,
    pub sent: u32,
    pub ttl: i64,
}

/// Consecutive login failures of one identifier (an account's or not), and its lock.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginState {
    pub pk: String,
    pub sk: String,
    /// Attempts counted before their password is checked; a success deletes the record.
    pub failures: u32,
    /// Unix ms until which every attempt is refused.
    pub locked_until: i64,
    pub ttl: i64,
}

pub const LOGIN_STATE_SK: &str = "STATE";

/// How many mails of one purpose an account may get per window.
#[derive(Debug, Clone, Copy)]
pub struct Quota {
    pub max_per_window: u32,
    pub window_ms: i64,
}

/// The outcome of asking for a new mailed token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Issued {
    /// Stored (replacing any older token of the purpose): send the mail.
    Stored,
    /// The account already got its quota of mails in this window: send nothing.
    Capped { retry_after_ms: i64 },
}

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
    pub fn apply(&self, guest: &UserRecord, now_ms: i64) -> UserRecord {
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
        user.updated_at = now_ms;
        user
    }
}
