//! DynamoDB storage: one table, records mapped with `serde_dynamo`, every write that decides
//! something guarded by a condition. The domain never sees an `AttributeValue`, and storage
//! knows nothing of HTTP.
//!
//! The items and their keys are listed in [`keys`]. One file per aggregate holds its records,
//! their constructors and its operations (each an `impl Store` block): `users` (with their
//! unique-name claims), `admin` (the back office's listing and changes), `guests`,
//! `sessions`, `one_time` tokens and `limits` (rate windows and login back-off). Writes of
//! several items go through `tx`, which turns a cancelled transaction into what its failed
//! item means; every write that opens a session requires `guard`'s condition of its user.
//!
//! Aggregates depend one way only: a user's transactions open sessions, so `users` knows
//! `sessions` and never the reverse (which is why the user-and-session read of every bearer
//! request lives in `users`); `guests` and `limits` build on both; `keys` and `tx` know no
//! aggregate.

mod admin;
mod claims;
mod guard;
mod guests;
mod identities;
mod imports;
pub mod keys;
mod limits;
mod one_time;
mod passwords;
mod sessions;
mod tx;
mod users;

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::config::{Credentials, Region};
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, KeysAndAttributes, WriteRequest};
use aws_sdk_dynamodb::Client;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use serde::{Deserialize, Serialize};

pub use admin::{AdminChanges, PageEnd, UserPage, UserQuery};
pub use claims::ClaimRecord;
pub use guests::Upgrade;
pub use imports::NewImport;
pub use limits::LoginState;
pub use one_time::{Issued, OneTimeRecord, Quota};
pub use passwords::{HashUpgrade, SessionAfter};
pub use sessions::{Exchange, NewSession, Rotate, Rotation, SessionRecord};
pub use users::{LinkedIdentity, NewAccount, ProfileChanges, UserRecord, USERS_BY_CREATED};

use crate::clock::UnixMs;
use crate::config::Config;
use keys::Key;

/// The boxed cause of a failure, kept for the logs.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

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
    /// An imported user's id in its app (`legacy_id`).
    Legacy,
    /// A social identity (a provider's subject).
    Identity,
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

/// The output of a conditional write, or `None` when its condition did not hold; any other
/// failure is classified.
fn checked<O, E, R>(result: Result<O, SdkError<E, R>>) -> Result<Option<O>, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(out) => Ok(Some(out)),
        Err(e) if e.as_service_error().and_then(|s| s.code()) == Some("ConditionalCheckFailedException") => Ok(None),
        Err(e) => Err(classify(e)),
    }
}

/// Whether a conditional write happened (`false`: its condition did not hold).
fn written<O, E, R>(result: Result<O, SdkError<E, R>>) -> Result<bool, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    Ok(checked(result)?.is_some())
}

/// A request that could not even be built: a bug.
fn internal(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Internal(Box::new(e))
}

type UpdateError =
    SdkError<aws_sdk_dynamodb::operation::update_item::UpdateItemError, aws_sdk_dynamodb::config::http::HttpResponse>;

/// The item a failed `UpdateItem` condition was checked against (asked for with
/// `ReturnValuesOnConditionCheckFailure::AllOld`); any other error is classified.
fn failed_condition_item(err: UpdateError) -> Result<Option<Item>, StoreError> {
    use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
    match err.as_service_error() {
        Some(UpdateItemError::ConditionalCheckFailedException(failed)) => Ok(failed.item.clone()),
        _ => Err(classify(err)),
    }
}

/// One item's attributes, as the SDK carries them.
type Item = HashMap<String, AttributeValue>;

fn to_item<T: Serialize>(record: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(record).map_err(internal)
}

fn from_item<T: for<'de> Deserialize<'de>>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(internal)
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn ms(at: UnixMs) -> AttributeValue {
    n(at.as_ms())
}

/// The sort key of an item read back, to tell apart the items of a batch.
fn sort_key(item: &Item) -> Option<&str> {
    match item.get("sk") {
        Some(AttributeValue::S(sk)) => Some(sk),
        _ => None,
    }
}

#[derive(Clone)]
pub struct Store {
    client: Client,
    table: String,
}

/// A client configuration for DynamoDB Local at `endpoint` (any region, fixed credentials).
pub fn local_config(endpoint: &str) -> aws_sdk_dynamodb::config::Builder {
    aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "dynamodb-local"))
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
                let conf = local_config(endpoint)
                    .http_client(crate::sdk_http::client())
                    .timeout_config(timeouts)
                    .retry_config(retries)
                    .build();
                Client::from_conf(conf)
            }
            // As deployed; `AWS_ENDPOINT_URL_DYNAMODB` only changes where the calls go.
            None => {
                let mut conf = aws_sdk_dynamodb::config::Builder::from(&crate::aws::sdk_config(config));
                conf.set_endpoint_url(config.endpoints.dynamodb.clone());
                Client::from_conf(conf.timeout_config(timeouts).retry_config(retries).build())
            }
        };
        Store { client, table: config.table_name.clone() }
    }

    /// Opens the connection the first request will use, during a cold start's init: one
    /// eventually consistent `GetItem` of a key no item has ([`keys::warm_up`]), which every
    /// function that reads or writes the table may make (`tests/integration/template.rs`).
    /// Any answer, even an error, leaves a live TLS connection in this client's pool; only a
    /// failure to reach the database is returned, and it is the caller's to log: one attempt,
    /// no retries, so a database that is down delays init by at most the attempt timeout and
    /// the first request still answers 503 as it would have.
    pub async fn warm_up(&self) -> Result<(), StoreError> {
        let once = aws_sdk_dynamodb::config::Builder::default().retry_config(RetryConfig::disabled());
        let result = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(keys::warm_up().into_attributes()))
            .projection_expression("pk")
            .customize()
            .config_override(once)
            .send()
            .await;
        match result {
            Ok(_) | Err(SdkError::ServiceError(_)) => Ok(()),
            Err(error) => Err(classify(error)),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// A store over a client configured by its caller (the importer, a batch job, retries more
    /// patiently than a request may).
    pub fn from_client(client: Client, table: String) -> Self {
        Store { client, table }
    }

    /// The same store with an SDK interceptor attached (benchmarks count round trips with one).
    pub fn with_interceptor(&self, interceptor: impl aws_sdk_dynamodb::config::Intercept + 'static) -> Self {
        let config = self.client.config().to_builder().interceptor(interceptor).build();
        Store { client: Client::from_conf(config), table: self.table.clone() }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// One record by key, strongly consistent.
    async fn get<T: for<'de> Deserialize<'de>>(&self, key: Key) -> Result<Option<T>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key.into_attributes()))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        out.item.map(from_item).transpose()
    }

    /// Reads a few items in one `BatchGetItem` (strongly consistent), handing each one found
    /// to `each` as it arrives.
    async fn batch_get(
        &self,
        keys: impl IntoIterator<Item = Key>,
        mut each: impl FnMut(Item) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut request = KeysAndAttributes::builder().consistent_read(true);
        for key in keys {
            request = request.keys(key.into_attributes());
        }
        let request = request.build().map_err(internal)?;
        let mut request = HashMap::from([(self.table.clone(), request)]);
        // BatchGetItem may hand back unprocessed keys under load; the SDK's retries have
        // already waited, so give them two more chances and then report unavailability.
        for _ in 0..3 {
            let out = self.client.batch_get_item().set_request_items(Some(request)).send().await.map_err(classify)?;
            for item in out.responses.unwrap_or_default().remove(&self.table).unwrap_or_default() {
                each(item)?;
            }
            match out.unprocessed_keys.filter(|u| !u.is_empty()) {
                None => return Ok(()),
                Some(unprocessed) => request = unprocessed,
            }
        }
        Err(StoreError::Unavailable("unprocessed keys after retries".into()))
    }

    /// Deletes items (present or not) in `BatchWriteItem`s of 25, retrying unprocessed ones.
    async fn batch_delete(&self, keys: Vec<Key>) -> Result<(), StoreError> {
        let keys: Vec<Item> = keys.into_iter().map(Key::into_attributes).collect();
        for chunk in keys.chunks(25) {
            let mut requests: Vec<WriteRequest> = chunk
                .iter()
                .map(|k| {
                    let delete = DeleteRequest::builder().set_key(Some(k.clone())).build();
                    delete.map(|d| WriteRequest::builder().delete_request(d).build())
                })
                .collect::<Result<_, _>>()
                .map_err(internal)?;
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
}
