//! Signing keys: the key document, its generation for local runs, and the published JWKS.
//!
//! The document is JSON: `{"keys": [{"kid", "alg": "ES256", "private_key": <base64url PKCS#8>}
//! | {"kid", "alg": "HS256", "secret": <base64url>}], "refresh_secret": <base64url>}`. The
//! first key of the configured algorithm signs; every key of that algorithm verifies, so a
//! rotation prepends a new key and keeps the old one until its tokens have expired.
//!
//! Deployed stacks keep the document in AWS Secrets Manager (`JWT_KEYS_SECRET_ARN`): the
//! template's `SigningKeys` custom resource writes it once with [`generate_document`], and
//! each function reads it once per cold start with [`read_secret`].

use aws_lc_rs::digest;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::config::JwtAlgorithm;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the key document is not valid JSON of the expected shape: {0}")]
    Shape(String),
    #[error("key {kid}: {reason}")]
    Key { kid: String, reason: &'static str },
    #[error("no {0} key in the key document")]
    NoSigningKey(&'static str),
    #[error("refresh_secret must hold at least 32 bytes")]
    RefreshSecret,
    #[error("could not read the key file {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("random generator failed")]
    Random,
    #[error("could not read the secret: {0}")]
    Secret(String),
}

/// A shape error without serde_json's usual quote of the offending value, which could be key
/// material: only its category and position, or the name of a missing field.
fn shape_error(error: &serde_json::Error) -> KeyError {
    let message = error.to_string();
    if message.starts_with("missing field") {
        return KeyError::Shape(message);
    }
    KeyError::Shape(format!("{:?} error at line {} column {}", error.classify(), error.line(), error.column()))
}

/// The Secrets Manager client of a cold start, with the short timeouts and few retries of
/// [`crate::aws::sdk_config_in`]: a function that cannot read its keys fails start-up within
/// seconds instead of hanging. `endpoint` is `AWS_ENDPOINT_URL_SECRETS_MANAGER` (unset in AWS:
/// the region's endpoint).
pub fn secrets_client(sdk: &aws_config::SdkConfig, endpoint: Option<&str>) -> aws_sdk_secretsmanager::Client {
    let mut config = aws_sdk_secretsmanager::config::Builder::from(sdk);
    config.set_endpoint_url(endpoint.map(str::to_owned));
    aws_sdk_secretsmanager::Client::from_conf(config.build())
}

/// The key document stored in the secret `secret_id` (its current version). Errors name the
/// SDK failure only: neither the SDK's messages nor this function ever carry the value.
pub async fn read_secret(client: &aws_sdk_secretsmanager::Client, secret_id: &str) -> Result<String, KeyError> {
    let output = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| KeyError::Secret(aws_sdk_secretsmanager::error::DisplayErrorContext(&e).to_string()))?;
    output
        .secret_string
        .filter(|text| !text.trim().is_empty())
        .ok_or_else(|| KeyError::Secret("the secret holds no key document (SecretString is empty)".to_owned()))
}

#[derive(Debug, Serialize, Deserialize)]
pub struct KeyDocument {
    pub keys: Vec<KeyEntry>,
    pub refresh_secret: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "alg")]
pub enum KeyEntry {
    #[serde(rename = "ES256")]
    Es256 { kid: String, private_key: String },
    #[serde(rename = "HS256")]
    Hs256 { kid: String, secret: String },
}

/// One parsed signing key.
pub enum SigningKey {
    Es256 { kid: String, pkcs8: Vec<u8>, public_point: Vec<u8> },
    Hs256 { kid: String, secret: Vec<u8> },
}

impl SigningKey {
    pub fn kid(&self) -> &str {
        match self {
            SigningKey::Es256 { kid, .. } | SigningKey::Hs256 { kid, .. } => kid,
        }
    }
}

/// The parsed key document, narrowed to the configured algorithm.
pub struct KeySet {
    /// Keys of the configured algorithm; the first one signs.
    pub keys: Vec<SigningKey>,
    pub refresh_secret: Vec<u8>,
}

impl KeySet {
    pub fn parse(document: &str, algorithm: JwtAlgorithm) -> Result<Self, KeyError> {
        let doc: KeyDocument = serde_json::from_str(document).map_err(|e| shape_error(&e))?;
        let refresh_secret = B64.decode(doc.refresh_secret.trim()).map_err(|_| KeyError::RefreshSecret)?;
        if refresh_secret.len() < 32 {
            return Err(KeyError::RefreshSecret);
        }
        let mut keys = Vec::new();
        for entry in doc.keys {
            match (entry, algorithm) {
                (KeyEntry::Es256 { kid, private_key }, JwtAlgorithm::Es256) => {
                    let pkcs8 = B64
                        .decode(private_key.trim())
                        .map_err(|_| KeyError::Key { kid: kid.clone(), reason: "private_key is not base64url" })?;
                    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8)
                        .map_err(|_| KeyError::Key { kid: kid.clone(), reason: "not a P-256 PKCS#8 key" })?;
                    let public_point = pair.public_key().as_ref().to_vec();
                    keys.push(SigningKey::Es256 { kid, pkcs8, public_point });
                }
                (KeyEntry::Hs256 { kid, secret }, JwtAlgorithm::Hs256) => {
                    let secret = B64
                        .decode(secret.trim())
                        .map_err(|_| KeyError::Key { kid: kid.clone(), reason: "secret is not base64url" })?;
                    if secret.len() < 32 {
                        return Err(KeyError::Key { kid, reason: "an HS256 secret needs at least 32 bytes" });
                    }
                    keys.push(SigningKey::Hs256 { kid, secret });
                }
                _ => {} // a key of the other algorithm: kept in the document, unused here
            }
        }
        if keys.is_empty() {
            return Err(KeyError::NoSigningKey(algorithm.name()));
        }
        Ok(KeySet { keys, refresh_secret })
    }

    /// The public JWKS: EC public members only; HS256 secrets are never published.
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<serde_json::Value> = self
            .keys
            .iter()
            .filter_map(|key| match key {
                SigningKey::Es256 { kid, public_point, .. } => {
                    let (x, y) = ec_coordinates(public_point)?;
                    Some(serde_json::json!({
                        "kty": "EC", "crv": "P-256", "x": x, "y": y,
                        "kid": kid, "use": "sig", "alg": "ES256",
                    }))
                }
                SigningKey::Hs256 { .. } => None,
            })
            .collect();
        serde_json::json!({ "keys": keys })
    }
}

/// base64url x and y of an uncompressed P-256 point (`0x04 || x || y`).
pub fn ec_coordinates(point: &[u8]) -> Option<(String, String)> {
    if point.len() != 65 || point[0] != 0x04 {
        return None;
    }
    Some((B64.encode(&point[1..33]), B64.encode(&point[33..])))
}

/// RFC 7638 thumbprint of a P-256 public key, used as its `kid`.
fn thumbprint(point: &[u8]) -> Option<String> {
    let (x, y) = ec_coordinates(point)?;
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    Some(B64.encode(digest::digest(&digest::SHA256, canonical.as_bytes())))
}

fn random_bytes(len: usize) -> Result<Vec<u8>, KeyError> {
    let mut bytes = vec![0u8; len];
    SystemRandom::new().fill(&mut bytes).map_err(|_| KeyError::Random)?;
    Ok(bytes)
}

/// A fresh key document with one ES256 key, one HS256 secret and a refresh secret.
pub fn generate_document() -> Result<String, KeyError> {
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
        .map_err(|_| KeyError::Random)?;
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).map_err(|_| KeyError::Random)?;
    let es_kid = thumbprint(pair.public_key().as_ref()).ok_or(KeyError::Random)?;
    let hs_secret = random_bytes(32)?;
    let hs_kid = B64.encode(&digest::digest(&digest::SHA256, &hs_secret).as_ref()[..12]);
    let doc = KeyDocument {
        keys: vec![
            KeyEntry::Es256 { kid: es_kid, private_key: B64.encode(pkcs8.as_ref()) },
            KeyEntry::Hs256 { kid: hs_kid, secret: B64.encode(&hs_secret) },
        ],
        refresh_secret: B64.encode(random_bytes(32)?),
    };
    serde_json::to_string_pretty(&doc).map_err(|e| KeyError::Shape(e.to_string()))
}

/// Reads the key document at `path`, generating one (mode 0600) when it does not exist yet.
pub fn load_or_generate_file(path: &std::path::Path) -> Result<String, KeyError> {
    let io = |source| KeyError::Io { path: path.display().to_string(), source };
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(io)?;
            }
            let doc = generate_document()?;
            write_private(path, &doc).map_err(io)?;
            Ok(doc)
        }
        Err(e) => Err(io(e)),
    }
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_documents_parse_for_both_algorithms() {
        let doc = generate_document().expect("generate");
        let es = KeySet::parse(&doc, JwtAlgorithm::Es256).expect("es256");
        assert_eq!(es.keys.len(), 1);
        let hs = KeySet::parse(&doc, JwtAlgorithm::Hs256).expect("hs256");
        assert!(matches!(hs.keys[0], SigningKey::Hs256 { .. }));
    }

    #[test]
    fn jwks_publishes_public_ec_members_only() {
        let doc = generate_document().expect("generate");
        let jwks = KeySet::parse(&doc, JwtAlgorithm::Es256).expect("es256").jwks();
        let key = &jwks["keys"][0];
        assert_eq!(key["kty"], "EC");
        assert!(key.get("d").is_none());
        let hs = KeySet::parse(&doc, JwtAlgorithm::Hs256).expect("hs256").jwks();
        assert_eq!(hs["keys"].as_array().map(Vec::len), Some(0));
    }

    #[test]
    fn a_malformed_document_is_reported_without_quoting_its_values() {
        let doc = r#"{"keys":"c2VjcmV0LWtleS1tYXRlcmlhbA","refresh_secret":"x"}"#;
        let Err(error) = KeySet::parse(doc, JwtAlgorithm::Es256) else { panic!("a string is not a key list") };
        let message = error.to_string();
        assert!(!message.contains("c2VjcmV0"), "{message}");
        assert!(message.contains("line 1"), "{message}");
        let Err(missing) = KeySet::parse(r#"{"keys":[]}"#, JwtAlgorithm::Es256) else { panic!("no refresh_secret") };
        assert!(missing.to_string().contains("refresh_secret"), "{missing}");
    }

    #[test]
    fn short_hs256_secrets_are_refused() {
        let doc = r#"{"keys":[{"alg":"HS256","kid":"k","secret":"c2hvcnQ"}],
            "refresh_secret":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#;
        assert!(matches!(KeySet::parse(doc, JwtAlgorithm::Hs256), Err(KeyError::Key { .. })));
    }
}
