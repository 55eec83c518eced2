//! The decision and the response are pure and tested as such; the whole exchange runs
//! against one in-process HTTP server that stands in for both Secrets Manager (its JSON
//! protocol) and S3's pre-signed response URL.

use std::sync::{Arc, Mutex};

use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use bookshelf::config::JwtAlgorithm;
use bookshelf::signing_keys::KeySet;
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use serde_json::json;

use super::*;

const SECRET_ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:bookshelf-auth-signing-keys-AbCdEf";
const STACK_ID: &str =
    "arn:aws:cloudformation:us-east-1:123456789012:stack/bookshelf-auth/5b1e7c40-0000-0000-0000-000000000000";
const REQUEST_ID: &str = "4c7a2b59-8d7c-4b3a-9c57-2c3d0f1e6a10";

/// What the stand-in server holds and saw.
#[derive(Default)]
struct Fake {
    secret: Option<String>,
    /// Secrets Manager operations, in arrival order.
    operations: Vec<String>,
    /// Operations that answer AccessDeniedException.
    denied: Vec<&'static str>,
    /// Statuses the response URL answers before it takes a response.
    url_failures: Vec<u16>,
    /// Bodies PUT to the response URL, and the Content-Type each came with.
    responses: Vec<(Value, Option<String>)>,
}

struct Server {
    url: String,
    fake: Arc<Mutex<Fake>>,
}

impl Server {
    async fn start(fake: Fake) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let fake = Arc::new(Mutex::new(fake));
        let shared = Arc::clone(&fake);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let fake = Arc::clone(&shared);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| answer(Arc::clone(&fake), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Server { url, fake }
    }

    fn client(&self) -> Client {
        let config = aws_sdk_secretsmanager::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(&self.url)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .http_client(bookshelf::sdk_http::client())
            .build();
        Client::from_conf(config)
    }

    fn event(&self, request_type: &str) -> Value {
        let properties =
            json!({"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:keys", "SecretArn": SECRET_ARN});
        let mut event = json!({
            "RequestType": request_type,
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:keys",
            "ResponseURL": format!("{}/cfn-response?X-Amz-Signature=not-a-real-signature", self.url),
            "StackId": STACK_ID,
            "RequestId": REQUEST_ID,
            "ResourceType": "Custom::SigningKeys",
            "LogicalResourceId": "SigningKeys",
            "ResourceProperties": properties,
        });
        if request_type != "Create" {
            event["PhysicalResourceId"] = json!(SECRET_ARN);
        }
        if request_type == "Update" {
            event["OldResourceProperties"] = properties;
        }
        event
    }

    async fn respond(&self, event: Value) -> Result<Response, ResponseError> {
        let responder = Responder::new().expect("responder");
        let deadline = SystemTime::now() + Duration::from_secs(60);
        respond(&self.client(), &responder, event, deadline, "2026/11/22/[$LATEST]abc").await
    }

    fn fake(&self) -> std::sync::MutexGuard<'_, Fake> {
        self.fake.lock().expect("fake")
    }
}

fn reply(status: u16, body: Value) -> http::Response<Full<Bytes>> {
    http::Response::builder()
        .status(status)
        .header("content-type", "application/x-amz-json-1.1")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("response")
}

async fn answer(
    fake: Arc<Mutex<Fake>>,
    req: http::Request<hyper::body::Incoming>,
) -> Result<http::Response<Full<Bytes>>, hyper::Error> {
    let method = req.method().clone();
    let target = req.headers().get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let content_type = req.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = req.into_body().collect().await?.to_bytes();
    let input: Value = serde_json::from_slice(&body).unwrap_or_default();
    let mut fake = fake.lock().expect("fake");
    if method == http::Method::PUT {
        if !fake.url_failures.is_empty() {
            let status = fake.url_failures.remove(0);
            return Ok(reply(status, json!({})));
        }
        fake.responses.push((input, content_type));
        return Ok(reply(200, json!({})));
    }
    let operation = target.trim_start_matches("secretsmanager.").to_owned();
    fake.operations.push(operation.clone());
    if fake.denied.contains(&operation.as_str()) {
        return Ok(reply(400, json!({"__type": "AccessDeniedException", "message": "not authorized"})));
    }
    Ok(match (operation.as_str(), &fake.secret) {
        ("DescribeSecret", Some(_)) => {
            reply(200, json!({"ARN": SECRET_ARN, "Name": "keys", "VersionIdsToStages": {"v1": ["AWSCURRENT"]}}))
        }
        ("DescribeSecret", None) => reply(200, json!({"ARN": SECRET_ARN, "Name": "keys"})),
        ("PutSecretValue", _) => {
            fake.secret = input["SecretString"].as_str().map(str::to_owned);
            reply(200, json!({"ARN": SECRET_ARN, "Name": "keys", "VersionId": "v1", "VersionStages": ["AWSCURRENT"]}))
        }
        ("GetSecretValue", Some(secret)) => reply(
            200,
            json!({"ARN": SECRET_ARN, "Name": "keys", "VersionId": "v1", "SecretString": secret,
                   "VersionStages": ["AWSCURRENT"], "CreatedDate": 1.7e9}),
        ),
        _ => reply(400, json!({"__type": "ResourceNotFoundException", "message": "no such secret or version"})),
    })
}

fn envelope(request_type: &str, physical: Option<&str>) -> Envelope {
    Envelope {
        request_type: request_type.to_owned(),
        response_url: "https://example.com/response".to_owned(),
        stack_id: STACK_ID.to_owned(),
        request_id: REQUEST_ID.to_owned(),
        logical_resource_id: "SigningKeys".to_owned(),
        physical_resource_id: physical.map(str::to_owned),
    }
}

fn parsed(event: &Value) -> Request {
    serde_json::from_value(event.clone()).expect("request")
}

fn offline_server() -> Server {
    Server { url: "https://cloudformation.invalid".to_owned(), fake: Arc::default() }
}

#[test]
fn create_and_update_ensure_keys_and_delete_does_nothing() {
    let server = offline_server();
    assert_eq!(action(&parsed(&server.event("Create"))), Action::EnsureKeys);
    assert_eq!(action(&parsed(&server.event("Update"))), Action::EnsureKeys);
    assert_eq!(action(&parsed(&server.event("Delete"))), Action::Nothing);
}

#[test]
fn only_a_version_in_awscurrent_counts_as_keys() {
    assert!(!has_current_value(None));
    assert!(!has_current_value(Some(&HashMap::new())));
    let pending = HashMap::from([("v2".to_owned(), vec!["AWSPENDING".to_owned()])]);
    assert!(!has_current_value(Some(&pending)));
    let current = HashMap::from([("v1".to_owned(), vec!["AWSPREVIOUS".to_owned(), "AWSCURRENT".to_owned()])]);
    assert!(has_current_value(Some(&current)));
}

#[test]
fn create_names_the_secret_and_update_and_delete_keep_the_id_they_were_sent() {
    let server = offline_server();
    let create = server.event("Create");
    assert_eq!(physical_id(&Envelope::from_event(&create).expect("envelope"), Some(&parsed(&create))), SECRET_ARN);
    let update = envelope("Update", Some("keys-from-an-older-stack"));
    assert_eq!(physical_id(&update, Some(&parsed(&server.event("Update")))), "keys-from-an-older-stack");
    assert_eq!(physical_id(&envelope("Create", None), None), REQUEST_ID);
}

#[test]
fn a_success_response_carries_the_secret_arn_and_nothing_else() {
    let answer =
        response(&envelope("Create", None), SECRET_ARN.to_owned(), &Ok(Done::Generated), Some(SECRET_ARN), "s");
    let body = serde_json::to_value(&answer).expect("json");
    assert_eq!(body["Status"], "SUCCESS");
    assert_eq!(body["PhysicalResourceId"], SECRET_ARN);
    assert_eq!(body["StackId"], STACK_ID);
    assert_eq!(body["RequestId"], REQUEST_ID);
    assert_eq!(body["LogicalResourceId"], "SigningKeys");
    assert_eq!(body["Data"], json!({"SecretArn": SECRET_ARN}));
    let deleted = response(&envelope("Delete", Some(SECRET_ARN)), SECRET_ARN.to_owned(), &Ok(Done::Nothing), None, "s");
    assert!(deleted.data.is_empty());
}

#[test]
fn a_failure_response_names_the_cause_and_the_log_stream() {
    let failure = Err(Failure::Put("AccessDeniedException: not authorized".to_owned()));
    let answer =
        response(&envelope("Create", None), REQUEST_ID.to_owned(), &failure, Some(SECRET_ARN), "2026/[$LATEST]abc");
    let body = serde_json::to_value(&answer).expect("json");
    assert_eq!(body["Status"], "FAILED");
    let reason = body["Reason"].as_str().expect("reason");
    assert!(reason.starts_with("PutSecretValue failed: AccessDeniedException"), "{reason}");
    assert!(reason.ends_with("(CloudWatch log stream 2026/[$LATEST]abc)"), "{reason}");
    assert!(answer.data.is_empty());
}

#[test]
fn an_event_without_a_response_url_cannot_be_answered() {
    let mut event = offline_server().event("Create");
    assert!(Envelope::from_event(&event).is_some());
    event.as_object_mut().expect("object").remove("ResponseURL");
    assert!(Envelope::from_event(&event).is_none());
}

#[tokio::test]
async fn create_writes_a_key_document_that_a_cold_start_reads() {
    let server = Server::start(Fake::default()).await;
    let answer = server.respond(server.event("Create")).await.expect("answered");
    assert_eq!(answer.status, Status::Success);
    assert_eq!(server.fake().operations, ["DescribeSecret", "PutSecretValue"]);

    let (body, content_type) = server.fake().responses.pop().expect("one response PUT");
    assert_eq!(body["Status"], "SUCCESS");
    assert_eq!(body["Data"]["SecretArn"], SECRET_ARN);
    assert_eq!(content_type.as_deref(), Some(""), "the pre-signed URL is signed without a content type");

    // What the custom resource wrote is what a function reads at cold start.
    let document = bookshelf::signing_keys::read_secret(&server.client(), SECRET_ARN).await.expect("read");
    assert_eq!(server.fake().secret.as_deref(), Some(document.as_str()));
    let keys = KeySet::parse(&document, JwtAlgorithm::Es256).expect("es256");
    assert_eq!(keys.jwks()["keys"].as_array().map(Vec::len), Some(1));
    let stored: Value = serde_json::from_str(&document).expect("json");
    let refresh_secret = stored["refresh_secret"].as_str().expect("refresh secret");
    assert!(!body.to_string().contains(refresh_secret), "no key material in the response");
}

#[tokio::test]
async fn update_keeps_the_keys_already_in_the_secret() {
    let existing = bookshelf::signing_keys::generate_document().expect("keys");
    let server = Server::start(Fake { secret: Some(existing.clone()), ..Fake::default() }).await;
    let answer = server.respond(server.event("Update")).await.expect("answered");
    assert_eq!(answer.status, Status::Success);
    assert_eq!(answer.physical_resource_id, SECRET_ARN);
    assert_eq!(server.fake().operations, ["DescribeSecret"]);
    assert_eq!(server.fake().secret.as_deref(), Some(existing.as_str()));
}

#[tokio::test]
async fn an_update_to_an_empty_secret_fills_it() {
    let server = Server::start(Fake::default()).await;
    server.respond(server.event("Update")).await.expect("answered");
    assert_eq!(server.fake().operations, ["DescribeSecret", "PutSecretValue"]);
    assert!(server.fake().secret.is_some());
}

#[tokio::test]
async fn delete_succeeds_without_touching_the_secret() {
    let server = Server::start(Fake { secret: Some("{}".to_owned()), ..Fake::default() }).await;
    let answer = server.respond(server.event("Delete")).await.expect("answered");
    assert_eq!(answer.status, Status::Success);
    assert_eq!(answer.physical_resource_id, SECRET_ARN);
    assert!(server.fake().operations.is_empty());
    assert_eq!(server.fake().responses.len(), 1);
}

#[tokio::test]
async fn a_denied_write_is_answered_failed() {
    let server = Server::start(Fake { denied: vec!["PutSecretValue"], ..Fake::default() }).await;
    let answer = server.respond(server.event("Create")).await.expect("answered");
    assert_eq!(answer.status, Status::Failed);
    let (body, _) = server.fake().responses.pop().expect("one response PUT");
    assert_eq!(body["Status"], "FAILED");
    let reason = body["Reason"].as_str().expect("reason");
    assert!(reason.starts_with("PutSecretValue failed"), "{reason}");
    assert!(!reason.contains("refresh_secret") && !reason.contains("private_key"), "{reason}");
    assert!(server.fake().secret.is_none());
}

#[tokio::test]
async fn a_malformed_request_is_answered_failed_and_a_malformed_delete_succeeds() {
    let server = Server::start(Fake::default()).await;
    let mut create = server.event("Create");
    create["ResourceProperties"] = json!({"ServiceToken": "x"});
    let answer = server.respond(create).await.expect("answered");
    assert_eq!(answer.status, Status::Failed);
    assert!(answer.reason.as_deref().is_some_and(|r| r.contains("SecretArn")), "{:?}", answer.reason);
    assert_eq!(answer.physical_resource_id, REQUEST_ID);

    let mut delete = server.event("Delete");
    delete["ResourceProperties"] = json!({});
    assert_eq!(server.respond(delete).await.expect("answered").status, Status::Success);
    assert!(server.fake().operations.is_empty());
}

#[tokio::test]
async fn a_deadline_too_close_to_work_is_answered_failed() {
    let server = Server::start(Fake::default()).await;
    let responder = Responder::new().expect("responder");
    let deadline = SystemTime::now() + Duration::from_secs(1);
    let answer = respond(&server.client(), &responder, server.event("Create"), deadline, "s").await.expect("answered");
    assert_eq!(answer.status, Status::Failed);
    assert!(answer.reason.as_deref().is_some_and(|r| r.contains("deadline")), "{:?}", answer.reason);
}

#[tokio::test]
async fn the_response_put_is_retried_after_a_server_error_but_not_after_a_refusal() {
    let server = Server::start(Fake { url_failures: vec![503], ..Fake::default() }).await;
    server.respond(server.event("Delete")).await.expect("delivered on the second attempt");
    assert_eq!(server.fake().responses.len(), 1);

    let refused = Server::start(Fake { url_failures: vec![403], ..Fake::default() }).await;
    let error = refused.respond(refused.event("Delete")).await.expect_err("an expired URL stays expired");
    assert!(error.to_string().contains("403"), "{error}");
}
