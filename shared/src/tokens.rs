//! Access tokens (JWT, algorithm pinned, `typ: at+jwt`) and refresh tokens (opaque, rotated).

use std::collections::HashMap;
use std::time::Duration;

use aws_lc_rs::{digest, hmac};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::Config;
use crate::profile::ExtraClaims;
use crate::signing_keys::{KeySet, SigningKey};

/// The `typ` header of every access token (RFC 9068).
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";
/// Clock leeway on `exp` and `nbf`; the contract allows at most 5 s.
const LEEWAY_SECONDS: i64 = 5;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
    pub sid: String,
    pub role: String,
    pub tier: String,
    pub guest: bool,
    /// The claims a client profile's tokens carry besides these (`crate::profile::ExtraClaims`).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl AccessClaims {
    pub fn user_id(&self) -> Option<Uuid> {
        Uuid::parse_str(&self.sub).ok()
    }

    pub fn session_id(&self) -> Option<Uuid> {
        Uuid::parse_str(&self.sid).ok()
    }
}

/// Who a token is minted for.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub role: &'a str,
    pub tier: &'a str,
    pub guest: bool,
    /// How long the token lives.
    pub ttl: Duration,
    /// The token's id, where its session names the one live token; a fresh one otherwise.
    pub jti: Option<&'a str>,
    pub extra_claims: ExtraClaims,
    /// The id the user had in the app it was imported from, shown by some profiles' claims.
    pub legacy_id: Option<&'a str>,
}

impl Subject<'_> {
    /// The profile's extra claims: a numeric legacy id stays a number, as the app issued it.
    fn extra(&self) -> serde_json::Map<String, serde_json::Value> {
        use serde_json::Value;
        let user_id = match self.legacy_id {
            Some(legacy) => crate::domain::shown_legacy_id(legacy),
            None => Value::from(self.user_id.to_string()),
        };
        let mut extra = serde_json::Map::new();
        match self.extra_claims {
            ExtraClaims::None => {}
            ExtraClaims::SimpleJwt => {
                extra.insert("token_type".into(), Value::from("access"));
                extra.insert("user_id".into(), user_id);
            }
            // `tier` is a native claim already.
            ExtraClaims::Bookwish => {
                extra.insert("userId".into(), user_id);
                extra.insert("isGuest".into(), Value::from(self.guest));
            }
        }
        extra
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("invalid token")]
    Invalid,
    #[error("expired token")]
    Expired,
}

pub struct TokenService {
    algorithm: Algorithm,
    signing_kid: String,
    encoding_key: EncodingKey,
    decoding_keys: HashMap<String, DecodingKey>,
    validation: Validation,
    refresh_key: hmac::Key,
    jwks: std::sync::Arc<serde_json::Value>,
    issuer: String,
    audience: String,
}

impl TokenService {
    pub fn new(config: &Config, keys: &KeySet) -> Self {
        crate::jwt_crypto::install();
        let (algorithm, signing_kid, encoding_key) = match &keys.keys[0] {
            SigningKey::Es256 { kid, pkcs8, .. } => (Algorithm::ES256, kid.clone(), EncodingKey::from_ec_der(pkcs8)),
            SigningKey::Hs256 { kid, secret } => (Algorithm::HS256, kid.clone(), EncodingKey::from_secret(secret)),
        };
        let decoding_keys = keys
            .keys
            .iter()
            .map(|key| match key {
                SigningKey::Es256 { kid, public_point, .. } => (kid.clone(), DecodingKey::from_ec_der(public_point)),
                SigningKey::Hs256 { kid, secret } => (kid.clone(), DecodingKey::from_secret(secret)),
            })
            .collect();
        let mut validation = Validation::new(algorithm);
        // Time claims are checked in `verify_access` against the service's clock, so tests can
        // move time instead of sleeping; the library still insists they are present.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.set_issuer(&[&config.jwt_issuer]);
        validation.set_audience(&[&config.jwt_audience]);
        TokenService {
            algorithm,
            signing_kid,
            encoding_key,
            decoding_keys,
            validation,
            refresh_key: hmac::Key::new(hmac::HMAC_SHA256, &keys.refresh_secret),
            jwks: std::sync::Arc::new(keys.jwks()),
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
        }
    }

    /// The public keys, shared: every `/.well-known/jwks.json` answer writes the same document.
    pub fn jwks(&self) -> std::sync::Arc<serde_json::Value> {
        std::sync::Arc::clone(&self.jwks)
    }

    /// Mints an access token valid from `now` (unix seconds) for the subject's `ttl`.
    pub fn issue_access(&self, subject: &Subject<'_>, now: i64) -> Result<(String, AccessClaims), TokenError> {
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: subject.user_id.to_string(),
            iat: now,
            nbf: now,
            exp: now + subject.ttl.as_secs() as i64,
            jti: subject.jti.map_or_else(|| Uuid::new_v4().to_string(), str::to_owned),
            sid: subject.session_id.to_string(),
            role: subject.role.to_owned(),
            tier: subject.tier.to_owned(),
            guest: subject.guest,
            extra: subject.extra(),
        };
        let mut header = Header::new(self.algorithm);
        header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
        header.kid = Some(self.signing_kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.encoding_key).map_err(|_| TokenError::Invalid)?;
        Ok((token, claims))
    }

    /// Verifies an access token: pinned algorithm, `typ`, a known `kid`, no key-carrying
    /// headers, signature, then `exp`/`nbf`/`iss`/`aud` and the claim shapes.
    pub fn verify_access(&self, token: &str, now: i64) -> Result<AccessClaims, TokenError> {
        let claims = self.genuine_access(token, now)?;
        // Saturating: a signed `exp` near i64::MAX must not overflow (a panic in debug builds).
        if claims.exp.saturating_add(LEEWAY_SECONDS) < now {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }

    /// Everything [`Self::verify_access`] checks but `exp`: a session continued by token
    /// exchange (`crate::profile::TokenExchange`) takes its expired tokens, and judges their
    /// age by the session's own window.
    pub fn genuine_access(&self, token: &str, now: i64) -> Result<AccessClaims, TokenError> {
        if token.len() > 4096 {
            return Err(TokenError::Invalid);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        let carries_key_material = header.jku.is_some()
            || header.jwk.is_some()
            || header.x5u.is_some()
            || header.x5c.is_some()
            || header.crit.is_some();
        if header.alg != self.algorithm || header.typ.as_deref() != Some(ACCESS_TOKEN_TYPE) || carries_key_material {
            return Err(TokenError::Invalid);
        }
        let key = header.kid.as_deref().and_then(|kid| self.decoding_keys.get(kid)).ok_or(TokenError::Invalid)?;
        let claims =
            jsonwebtoken::decode::<AccessClaims>(token, key, &self.validation).map_err(|_| TokenError::Invalid)?.claims;
        if claims.user_id().is_none() || claims.session_id().is_none() || claims.nbf > now + LEEWAY_SECONDS {
            return Err(TokenError::Invalid);
        }
        Ok(claims)
    }

    /// The successor of a refresh token: the same session, the next generation, and a secret
    /// derived from the parent under the server key. Concurrent rotations of one token thus
    /// agree on one successor while only hashes are stored.
    pub fn successor(&self, parent: &RefreshToken) -> RefreshToken {
        let tag = hmac::sign(&self.refresh_key, parent.encode().as_bytes());
        let mut secret = [0u8; 32];
        secret.copy_from_slice(&tag.as_ref()[..32]);
        RefreshToken {
            user_id: parent.user_id,
            session_id: parent.session_id,
            generation: parent.generation.wrapping_add(1),
            secret,
        }
    }
}

/// An opaque refresh token: `base64url(version || user id || session id || generation ||
/// 256-bit secret)`. The ids only locate the session record; the secret is what counts and
/// is stored only as part of the token's SHA-256 hash.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub generation: u32,
    secret: [u8; 32],
}

const REFRESH_VERSION: u8 = 1;
const REFRESH_LEN: usize = 1 + 16 + 16 + 4 + 32;

impl RefreshToken {
    /// A first-generation token with 256 fresh random bits.
    pub fn generate(user_id: Uuid, session_id: Uuid) -> Result<Self, TokenError> {
        let mut secret = [0u8; 32];
        aws_lc_rs::rand::fill(&mut secret).map_err(|_| TokenError::Invalid)?;
        Ok(RefreshToken { user_id, session_id, generation: 0, secret })
    }

    pub fn encode(&self) -> String {
        let mut bytes = Vec::with_capacity(REFRESH_LEN);
        bytes.push(REFRESH_VERSION);
        bytes.extend_from_slice(self.user_id.as_bytes());
        bytes.extend_from_slice(self.session_id.as_bytes());
        bytes.extend_from_slice(&self.generation.to_be_bytes());
        bytes.extend_from_slice(&self.secret);
        B64.encode(bytes)
    }

    pub fn decode(text: &str) -> Option<Self> {
        if text.len() > 128 {
            return None;
        }
        let bytes = B64.decode(text.trim()).ok()?;
        if bytes.len() != REFRESH_LEN || bytes[0] != REFRESH_VERSION {
            return None;
        }
        let user_id = Uuid::from_slice(&bytes[1..17]).ok()?;
        let session_id = Uuid::from_slice(&bytes[17..33]).ok()?;
        let generation = u32::from_be_bytes(bytes[33..37].try_into().ok()?);
        let secret: [u8; 32] = bytes[37..].try_into().ok()?;
        Some(RefreshToken { user_id, session_id, generation, secret })
    }

    /// The form stored at rest.
    pub fn hash(&self) -> String {
        sha256_b64(self.encode().as_bytes())
    }
}

impl std::fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshToken")
            .field("session_id", &self.session_id)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

/// What a one-time token is for; a token of one purpose is worthless for the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
}

impl Purpose {
    fn tag(self) -> u8 {
        match self {
            Purpose::VerifyEmail => 1,
            Purpose::ResetPassword => 2,
        }
    }
}

/// A mailed one-time token: `base64url(version || purpose || user id || 256-bit secret)`.
/// Only its SHA-256 is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct OneTimeToken {
    pub purpose: Purpose,
    pub user_id: Uuid,
    secret: [u8; 32],
}

const ONE_TIME_VERSION: u8 = 1;
const ONE_TIME_LEN: usize = 1 + 1 + 16 + 32;

impl OneTimeToken {
    pub fn generate(purpose: Purpose, user_id: Uuid) -> Result<Self, TokenError> {
        let mut secret = [0u8; 32];
        aws_lc_rs::rand::fill(&mut secret).map_err(|_| TokenError::Invalid)?;
        Ok(OneTimeToken { purpose, user_id, secret })
    }

    pub fn encode(&self) -> String {
        let mut bytes = Vec::with_capacity(ONE_TIME_LEN);
        bytes.extend_from_slice(&[ONE_TIME_VERSION, self.purpose.tag()]);
        bytes.extend_from_slice(self.user_id.as_bytes());
        bytes.extend_from_slice(&self.secret);
        B64.encode(bytes)
    }

    /// Reads a token presented for `purpose`; anything else (another purpose, an access or
    /// refresh token, garbage) is `None`.
    pub fn decode(text: &str, purpose: Purpose) -> Option<Self> {
        if text.len() > 128 {
            return None;
        }
        let bytes = B64.decode(text.trim()).ok()?;
        if bytes.len() != ONE_TIME_LEN || bytes[0] != ONE_TIME_VERSION || bytes[1] != purpose.tag() {
            return None;
        }
        let user_id = Uuid::from_slice(&bytes[2..18]).ok()?;
        let secret: [u8; 32] = bytes[18..].try_into().ok()?;
        Some(OneTimeToken { purpose, user_id, secret })
    }

    pub fn hash(&self) -> String {
        sha256_b64(self.encode().as_bytes())
    }
}

impl std::fmt::Debug for OneTimeToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OneTimeToken").field("purpose", &self.purpose).finish_non_exhaustive()
    }
}

pub fn sha256_b64(bytes: &[u8]) -> String {
    B64.encode(digest::digest(&digest::SHA256, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::signing_keys as keys;

    fn service(alg: &str) -> TokenService {
        let doc = keys::generate_document().expect("keys");
        let config = Config::from_lookup(|name| match name {
            "TABLE_NAME" => Some("t".into()),
            "JWT_KEYS" => Some(doc.clone()),
            "JWT_ALGORITHM" => Some(alg.into()),
            "AWS_REGION" => Some("eu-west-1".into()),
            _ => None,
        })
        .expect("config");
        let set = KeySet::parse(&doc, config.jwt_algorithm).expect("keyset");
        TokenService::new(&config, &set)
    }

    fn subject() -> Subject<'static> {
        Subject {
            user_id: Uuid::now_v7(),
            session_id: Uuid::new_v4(),
            role: "reader",
            tier: "free",
            guest: false,
            ttl: Duration::from_secs(900),
            jti: None,
            extra_claims: ExtraClaims::None,
            legacy_id: None,
        }
    }

    #[test]
    fn profile_claims_ride_along_and_a_numeric_legacy_id_stays_a_number() {
        let tokens = service("ES256");
        let simplejwt = Subject { extra_claims: ExtraClaims::SimpleJwt, legacy_id: Some("42"), ..subject() };
        let (token, _) = tokens.issue_access(&simplejwt, now()).expect("issue");
        let claims = tokens.verify_access(&token, now()).expect("verify");
        assert_eq!((claims.extra["token_type"].as_str(), claims.extra["user_id"].as_u64()), (Some("access"), Some(42)));
        let bookwish = Subject { extra_claims: ExtraClaims::Bookwish, tier: "pro", ..subject() };
        let (token, _) = tokens.issue_access(&bookwish, now()).expect("issue");
        let claims = tokens.verify_access(&token, now()).expect("verify");
        assert_eq!(claims.extra["userId"], bookwish.user_id.to_string());
        assert_eq!((claims.extra["isGuest"].as_bool(), claims.tier.as_str()), (Some(false), "pro"));
    }

    #[test]
    fn an_expired_token_is_genuine_but_not_valid() {
        let tokens = service("ES256");
        let (token, _) = tokens.issue_access(&subject(), now() - 3600).expect("issue");
        assert_eq!(tokens.verify_access(&token, now()), Err(TokenError::Expired));
        assert!(tokens.genuine_access(&token, now()).is_ok());
        assert_eq!(tokens.genuine_access(&format!("{token}x"), now()), Err(TokenError::Invalid));
    }

    fn now() -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }

    #[test]
    fn issued_access_tokens_verify_with_every_claim() {
        for alg in ["ES256", "HS256"] {
            let tokens = service(alg);
            let (token, claims) = tokens.issue_access(&subject(), now()).expect("issue");
            assert_eq!(tokens.verify_access(&token, now()).expect("verify"), claims);
            assert_eq!(claims.exp - claims.iat, 900);
        }
    }

    #[test]
    fn tokens_past_exp_and_leeway_are_expired() {
        let tokens = service("ES256");
        let (token, _) = tokens.issue_access(&subject(), now() - 900 - 6).expect("issue");
        assert_eq!(tokens.verify_access(&token, now()), Err(TokenError::Expired));
    }

    #[test]
    fn an_exp_at_the_end_of_time_is_compared_without_overflowing() {
        let tokens = service("ES256");
        let (_, mut claims) = tokens.issue_access(&subject(), now()).expect("issue");
        claims.exp = i64::MAX;
        let mut header = Header::new(tokens.algorithm);
        header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
        header.kid = Some(tokens.signing_kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &tokens.encoding_key).expect("sign");
        assert_eq!(tokens.verify_access(&token, now()), Ok(claims));
    }

    #[test]
    fn tokens_of_another_key_or_algorithm_are_invalid() {
        let (token, _) = service("ES256").issue_access(&subject(), now()).expect("issue");
        assert_eq!(service("ES256").verify_access(&token, now()), Err(TokenError::Invalid));
        assert_eq!(service("HS256").verify_access(&token, now()), Err(TokenError::Invalid));
    }

    #[test]
    fn alg_none_and_garbage_are_invalid() {
        let tokens = service("ES256");
        let (token, _) = tokens.issue_access(&subject(), now()).expect("issue");
        let payload = token.split('.').nth(1).expect("payload");
        let none_header = B64.encode(br#"{"alg":"none","typ":"at+jwt"}"#);
        for forged in [format!("{none_header}.{payload}."), "garbage".into(), "a.b.c".into(), String::new()] {
            assert_eq!(tokens.verify_access(&forged, now()), Err(TokenError::Invalid), "{forged}");
        }
    }

    #[test]
    fn refresh_tokens_round_trip_and_carry_256_random_bits() {
        let token = RefreshToken::generate(Uuid::now_v7(), Uuid::new_v4()).expect("generate");
        let text = token.encode();
        assert!(text.len() >= 43);
        assert_eq!(RefreshToken::decode(&text), Some(token.clone()));
        assert_ne!(RefreshToken::generate(token.user_id, token.session_id).expect("again"), token);
        assert_eq!(RefreshToken::decode("not-a-real-refresh-token-xxxxxxxx"), None);
    }

    #[test]
    fn one_time_tokens_only_decode_for_their_own_purpose() {
        let token = OneTimeToken::generate(Purpose::ResetPassword, Uuid::now_v7()).expect("generate");
        let text = token.encode();
        assert_eq!(OneTimeToken::decode(&text, Purpose::ResetPassword), Some(token));
        assert_eq!(OneTimeToken::decode(&text, Purpose::VerifyEmail), None);
        let refresh = RefreshToken::generate(Uuid::now_v7(), Uuid::new_v4()).expect("refresh").encode();
        assert_eq!(OneTimeToken::decode(&refresh, Purpose::ResetPassword), None);
    }

    #[test]
    fn successors_are_deterministic_per_parent_and_differ_by_generation() {
        let tokens = service("ES256");
        let parent = RefreshToken::generate(Uuid::now_v7(), Uuid::new_v4()).expect("generate");
        let a = tokens.successor(&parent);
        assert_eq!(a, tokens.successor(&parent));
        assert_eq!(a.generation, 1);
        assert_ne!(a.hash(), parent.hash());
        assert_ne!(tokens.successor(&a).hash(), a.hash());
    }
}
