//! The template's `SigningKeys` custom resource: CloudFormation asks, this always answers.
//!
//! Create, and an Update that points at a secret without a value, generate a fresh key
//! document with [`bookshelf::signing_keys::generate_document`] and write it to the stack's secret
//! with `PutSecretValue`. Keys already in the secret are kept, so a stack update never
//! invalidates every token. Delete does nothing: CloudFormation deletes the secret itself.
//!
//! Whatever happens (an error, a panic, a deadline about to pass), a `SUCCESS` or `FAILED`
//! response goes to the request's pre-signed `ResponseURL`, so a stack never waits for an
//! answer. Neither responses nor logs carry key material or the pre-signed URL.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use aws_lambda_events::cloudformation::{
    CloudFormationCustomResourceRequest, CloudFormationCustomResourceResponse as Response,
    CloudFormationCustomResourceResponseStatus as Status,
};
use aws_sdk_secretsmanager::error::DisplayErrorContext;
use aws_sdk_secretsmanager::Client;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use serde::Deserialize;
use serde_json::Value;

/// A request with the resource's properties typed; `OldResourceProperties` are not used.
pub type Request = CloudFormationCustomResourceRequest<Value, Properties>;

/// The resource's `Properties` in `template.yaml` (CloudFormation adds `ServiceToken`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Properties {
    /// The `AWS::SecretsManager::Secret` that holds the key document.
    pub secret_arn: String,
}

/// What a request asks of the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Make sure the secret holds keys: write a fresh document if it has none, keep any it has.
    EnsureKeys,
    /// Nothing to do: CloudFormation deletes the secret after this resource.
    Nothing,
}

/// What was done, for the response's reason and the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    Generated,
    Kept,
    Nothing,
}

#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("malformed request: {0}")]
    Request(String),
    #[error("DescribeSecret failed: {0}")]
    Describe(String),
    #[error("PutSecretValue failed: {0}")]
    Put(String),
    #[error("could not generate the keys: {0}")]
    Generate(#[from] bookshelf::signing_keys::KeyError),
    #[error("no answer from Secrets Manager before the function's deadline")]
    Deadline,
    #[error("the handler panicked")]
    Panicked,
}

#[derive(Debug, thiserror::Error)]
pub enum ResponseError {
    #[error("no TLS client: {0}")]
    Tls(String),
    #[error("the response could not be encoded: {0}")]
    Encode(String),
    #[error("the response URL did not take the response: {0}")]
    Rejected(String),
}

/// The fields that every request carries, read from the raw event so that even a request
/// this build cannot parse gets its FAILED answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub request_type: String,
    pub response_url: String,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    pub physical_resource_id: Option<String>,
}

impl Envelope {
    /// `None` only when there is nowhere to answer (no `ResponseURL` or no identity).
    pub fn from_event(raw: &Value) -> Option<Self> {
        let field = |name: &str| raw.get(name).and_then(Value::as_str).map(str::to_owned);
        Some(Envelope {
            request_type: field("RequestType").unwrap_or_default(),
            response_url: field("ResponseURL")?,
            stack_id: field("StackId")?,
            request_id: field("RequestId")?,
            logical_resource_id: field("LogicalResourceId")?,
            physical_resource_id: field("PhysicalResourceId"),
        })
    }
}

/// Create and Update make sure keys exist; Delete leaves the secret to CloudFormation.
pub fn action(request: &Request) -> Action {
    match request {
        CloudFormationCustomResourceRequest::Create(_) | CloudFormationCustomResourceRequest::Update(_) => {
            Action::EnsureKeys
        }
        _ => Action::Nothing,
    }
}

/// The secret named in the request's properties (Delete carries them too).
fn properties(request: &Request) -> Option<&Properties> {
    match request {
        CloudFormationCustomResourceRequest::Create(r) => Some(&r.resource_properties),
        CloudFormationCustomResourceRequest::Update(r) => Some(&r.resource_properties),
        CloudFormationCustomResourceRequest::Delete(r) => Some(&r.resource_properties),
        _ => None,
    }
}

/// The physical id to answer with. Update and Delete keep the one CloudFormation sent (a new
/// id on Update would make CloudFormation delete the "old" resource); Create names the secret.
pub fn physical_id(envelope: &Envelope, request: Option<&Request>) -> String {
    if let Some(id) = &envelope.physical_resource_id {
        return id.clone();
    }
    request.and_then(properties).map(|p| p.secret_arn.clone()).unwrap_or_else(|| envelope.request_id.clone())
}

/// Whether the secret already holds a value: some version carries the `AWSCURRENT` stage.
/// A secret declared without `SecretString` starts with no versions at all.
pub fn has_current_value(versions_to_stages: Option<&HashMap<String, Vec<String>>>) -> bool {
    versions_to_stages.is_some_and(|versions| versions.values().flatten().any(|stage| stage == "AWSCURRENT"))
}

/// The body PUT to the response URL. Only the secret's ARN goes into `Data`; the reason names
/// what was done or what failed (never a value), and where the log is.
pub fn response(
    envelope: &Envelope,
    physical_id: String,
    outcome: &Result<Done, Failure>,
    secret_arn: Option<&str>,
    log_stream: &str,
) -> Response {
    let mut response = Response::default();
    response.stack_id = envelope.stack_id.clone();
    response.request_id = envelope.request_id.clone();
    response.logical_resource_id = envelope.logical_resource_id.clone();
    response.physical_resource_id = physical_id;
    response.no_echo = false;
    match outcome {
        Ok(done) => {
            response.status = Status::Success;
            response.reason = Some(
                match done {
                    Done::Generated => "signing keys generated into the secret",
                    Done::Kept => "the secret already holds signing keys; kept",
                    Done::Nothing => "nothing to do; CloudFormation deletes the secret",
                }
                .to_owned(),
            );
            if let (Some(arn), Done::Generated | Done::Kept) = (secret_arn, done) {
                response.data = HashMap::from([("SecretArn".to_owned(), arn.to_owned())]);
            }
        }
        Err(failure) => {
            response.status = Status::Failed;
            // The whole response must stay under 4 KiB.
            let reason: String = failure.to_string().chars().take(600).collect();
            response.reason = Some(format!("{reason} (CloudWatch log stream {log_stream})"));
        }
    }
    response
}

/// Makes sure the secret holds keys, or does nothing, as the request asks.
pub async fn apply(client: &Client, request: &Request, request_id: &str) -> Result<Done, Failure> {
    if action(request) == Action::Nothing {
        return Ok(Done::Nothing);
    }
    let Some(Properties { secret_arn }) = properties(request) else {
        return Err(Failure::Request("no ResourceProperties".to_owned()));
    };
    let described = client
        .describe_secret()
        .secret_id(secret_arn)
        .send()
        .await
        .map_err(|e| Failure::Describe(DisplayErrorContext(&e).to_string()))?;
    if has_current_value(described.version_ids_to_stages.as_ref()) {
        return Ok(Done::Kept);
    }
    let document = bookshelf::signing_keys::generate_document()?;
    client
        .put_secret_value()
        .secret_id(secret_arn)
        .secret_string(document)
        // One request, one version: a repeated delivery of this request cannot add another.
        .client_request_token(request_id)
        .send()
        .await
        .map_err(|e| Failure::Put(DisplayErrorContext(&e).to_string()))?;
    Ok(Done::Generated)
}

/// Answers one CloudFormation request: applies it within `deadline` (a panic or a hang
/// becomes FAILED) and PUTs the response. Returns the response that was sent.
pub async fn respond(
    client: &Client,
    responder: &Responder,
    raw: Value,
    deadline: SystemTime,
    log_stream: &str,
) -> Result<Response, ResponseError> {
    let Some(envelope) = Envelope::from_event(&raw) else {
        tracing::error!("custom resource event without ResponseURL, StackId, RequestId or LogicalResourceId");
        return Err(ResponseError::Rejected("the event names no response URL".to_owned()));
    };
    let request = serde_json::from_value::<Request>(raw);
    let outcome = match &request {
        // A stack must always be deletable, even past a request this build cannot read.
        Err(_) if envelope.request_type == "Delete" => Ok(Done::Nothing),
        Err(e) => Err(Failure::Request(e.to_string())),
        Ok(request) => {
            // Leave time to answer: the PUT must happen before Lambda stops the function.
            let budget = deadline.duration_since(SystemTime::now()).unwrap_or_default().saturating_sub(RESPONSE_TIME);
            let (client, request, request_id) = (client.clone(), request.clone(), envelope.request_id.clone());
            let work = tokio::spawn(async move { apply(&client, &request, &request_id).await });
            match tokio::time::timeout(budget, work).await {
                Err(_) => Err(Failure::Deadline),
                Ok(Err(_)) => Err(Failure::Panicked),
                Ok(Ok(outcome)) => outcome,
            }
        }
    };
    let request = request.ok();
    let secret_arn = request.as_ref().and_then(properties).map(|p| p.secret_arn.as_str());
    let answer = response(&envelope, physical_id(&envelope, request.as_ref()), &outcome, secret_arn, log_stream);
    match &outcome {
        Ok(done) => tracing::info!(
            request_type = %envelope.request_type,
            logical_resource_id = %envelope.logical_resource_id,
            outcome = ?done,
            "signing keys"
        ),
        Err(failure) => tracing::error!(
            request_type = %envelope.request_type,
            logical_resource_id = %envelope.logical_resource_id,
            cause = %failure,
            "signing keys failed"
        ),
    }
    responder.send(&envelope.response_url, &answer).await?;
    Ok(answer)
}

/// Time kept back from the function's deadline for the response PUT.
const RESPONSE_TIME: Duration = Duration::from_secs(5);
const ATTEMPTS: u32 = 3;

/// The HTTPS client that answers CloudFormation: the TLS settings and system roots of the
/// SDK clients' (`bookshelf::sdk_http`). Plain `http://` is accepted for tests on loopback.
pub struct Responder {
    client: hyper_util::client::legacy::Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    attempt_timeout: Duration,
}

impl Responder {
    pub fn new() -> Result<Self, ResponseError> {
        let roots = bookshelf::sdk_http::native_roots();
        if roots.is_empty() {
            return Err(ResponseError::Tls("no usable root certificates".to_owned()));
        }
        let tls = bookshelf::sdk_http::tls_config(roots).map_err(|e| ResponseError::Tls(e.to_string()))?;
        let connector = bookshelf::sdk_http::https_connector(tls, Some(Duration::from_secs(5)));
        let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector);
        Ok(Responder { client, attempt_timeout: Duration::from_secs(10) })
    }

    /// PUTs `response` to the pre-signed `url`, retrying transport errors and 5xx. The URL is
    /// signed without a content type, so none is sent (as CloudFormation's own helper does).
    pub async fn send(&self, url: &str, response: &Response) -> Result<(), ResponseError> {
        let body = Bytes::from(serde_json::to_vec(response).map_err(|e| ResponseError::Encode(e.to_string()))?);
        let mut last = String::new();
        for attempt in 1..=ATTEMPTS {
            let request = http::Request::put(url)
                .header(http::header::CONTENT_TYPE, "")
                .header(http::header::CONTENT_LENGTH, body.len())
                .body(Full::new(body.clone()))
                .map_err(|_| ResponseError::Rejected("the response URL is not a valid URI".to_owned()))?;
            match tokio::time::timeout(self.attempt_timeout, self.client.request(request)).await {
                Ok(Ok(reply)) if reply.status().is_success() => return Ok(()),
                Ok(Ok(reply)) if reply.status().is_client_error() => {
                    // An expired or mis-signed URL stays so: retrying cannot help.
                    return Err(ResponseError::Rejected(format!("status {}", reply.status())));
                }
                Ok(Ok(reply)) => last = format!("status {}", reply.status()),
                Ok(Err(e)) => last = format!("{e}"),
                Err(_) => last = "timed out".to_owned(),
            }
            tracing::warn!(attempt, cause = %last, "custom resource response not delivered");
            if attempt < ATTEMPTS {
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
            }
        }
        Err(ResponseError::Rejected(last))
    }
}

#[cfg(test)]
mod tests;
