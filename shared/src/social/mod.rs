//! Sign in with Google and Apple: the ID token an app's mobile SDK hands it, verified
//! completely — the provider's signature (RS256 only, keys from its JWKS), issuer, audience
//! among the configured client ids, lifetime, nonce, and what it says of the email.

pub mod jwks;

use std::sync::Arc;

use aws_lc_rs::digest;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use crate::clock::UnixMs;
use jwks::KeyCache;

/// Clock leeway on `exp` and `iat`, as for our own tokens.
const LEEWAY_SECONDS: i64 = 5;
/// The longest ID token read, and the longest subject kept (Google's are ≤ 255 characters).
const MAX_TOKEN_BYTES: usize = 8 * 1024;
const MAX_SUBJECT_BYTES: usize = 255;

/// An OpenID Connect provider users may sign in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    Google,
    Apple,
}

impl Provider {
    pub const ALL: [Provider; 2] = [Provider::Google, Provider::Apple];

    /// Its name in paths, identities and configuration.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Google => "google",
            Provider::Apple => "apple",
        }
    }

    pub fn from_name(name: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The variable of one of its settings (`SOCIAL_GOOGLE_CLIENT_IDS`).
    pub fn variable(self, setting: &str) -> String {
        format!("SOCIAL_{}_{setting}", self.name().to_ascii_uppercase())
    }

    /// The real provider's issuers and keys, and whether a nonce is required: Apple's flows
    /// always send one; Google's iOS SDK sets a nonce of its own the app never sees.
    pub fn defaults(self) -> (&'static str, &'static str, bool) {
        match self {
            Provider::Google => {
                ("https://accounts.google.com,accounts.google.com", "https://www.googleapis.com/oauth2/v3/certs", false)
            }
            Provider::Apple => ("https://appleid.apple.com", "https://appleid.apple.com/auth/keys", true),
        }
    }

    /// The nonce a token must carry for the raw nonce the app sent: Apple's SDK puts the
    /// SHA-256 (hex) of it in the request and so in the token; Google puts it as given.
    fn expected_nonce(self, raw: &str) -> String {
        match self {
            Provider::Apple => digest::digest(&digest::SHA256, raw.as_bytes())
                .as_ref()
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect(),
            Provider::Google => raw.to_owned(),
        }
    }
}

/// One provider's settings (`SOCIAL_<PROVIDER>_*`, read by `crate::config`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderConfig {
    pub provider: Provider,
    /// `CLIENT_IDS`: the audiences accepted (Apple: the bundle id and the services id).
    pub client_ids: Vec<String>,
    /// `ISSUER`: a comma list (Google signs with two spellings of one issuer).
    pub issuers: Vec<String>,
    /// `JWKS_URL`: HTTPS, or HTTP on a loopback host (test issuers).
    pub jwks_url: String,
    /// `REQUIRE_NONCE`.
    pub require_nonce: bool,
}

/// Whether keys may be fetched from `url`: HTTPS, or plain HTTP on a loopback host (test
/// issuers).
pub fn is_allowed_url(url: &str) -> bool {
    let Ok(uri) = url.parse::<http::Uri>() else { return false };
    // No `user@host`: it would make the host something else than it reads.
    let Some(authority) = uri.authority().filter(|a| !a.as_str().contains('@')) else { return false };
    let host = authority.host().trim_start_matches('[').trim_end_matches(']');
    match uri.scheme_str() {
        Some("https") => true,
        Some("http") => host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback()),
        _ => false,
    }
}

/// Why an ID token did not sign anyone in.
#[derive(Debug, thiserror::Error)]
pub enum SocialError {
    /// Users may not sign in with this provider here.
    #[error("the provider is not enabled")]
    NotEnabled,
    /// The token is not one the provider issued for this app, now, with this nonce.
    #[error("the ID token was refused")]
    Refused,
    /// The provider's keys could not be fetched, and none is known for the token.
    #[error("the provider's keys could not be fetched: {0}")]
    Unavailable(String),
}

/// What a verified ID token says of its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    pub provider: Provider,
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
}

#[derive(Debug, Deserialize)]
struct IdTokenClaims {
    sub: String,
    iat: i64,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    email: Option<String>,
    /// Google: a boolean; Apple: a boolean or the string `"true"`/`"false"`.
    #[serde(default)]
    email_verified: Option<serde_json::Value>,
}

/// The enabled providers with their key caches, built once per cold start.
pub struct Social {
    providers: Vec<(ProviderConfig, Validation, KeyCache)>,
}

impl Social {
    pub fn new(configs: &[ProviderConfig]) -> Self {
        let providers = configs
            .iter()
            .map(|config| {
                // Pinned: RS256 only (an `alg: none` or HS256 token never gets near a key).
                let mut validation = Validation::new(Algorithm::RS256);
                validation.leeway = LEEWAY_SECONDS as u64;
                validation.validate_nbf = false;
                validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
                validation.set_issuer(&config.issuers);
                validation.set_audience(&config.client_ids);
                (config.clone(), validation, KeyCache::new(config.jwks_url.clone()))
            })
            .collect();
        Social { providers }
    }

    /// Whether users may sign in with `provider` here.
    pub fn enabled(&self, provider: Provider) -> bool {
        self.providers.iter().any(|(c, _, _)| c.provider == provider)
    }

    /// Verifies an ID token of `provider` for the raw `nonce` the app sent (if any).
    /// `Refused` for anything a token must not be; `Unavailable` when the provider's keys
    /// cannot be fetched; `NotEnabled` for a provider not enabled.
    pub async fn verify(
        &self,
        provider: Provider,
        id_token: &str,
        nonce: Option<&str>,
        now: UnixMs,
    ) -> Result<VerifiedIdentity, SocialError> {
        let (config, validation, keys) =
            self.providers.iter().find(|(c, _, _)| c.provider == provider).ok_or(SocialError::NotEnabled)?;
        if id_token.len() > MAX_TOKEN_BYTES {
            return Err(SocialError::Refused);
        }
        let header = jsonwebtoken::decode_header(id_token).map_err(|_| SocialError::Refused)?;
        let carries_key_material = header.jku.is_some() || header.jwk.is_some() || header.x5u.is_some();
        if header.alg != Algorithm::RS256 || carries_key_material {
            return Err(SocialError::Refused);
        }
        let kid = header.kid.ok_or(SocialError::Refused)?;
        let key: Arc<_> = keys
            .key(&kid, now)
            .await
            .map_err(|unavailable| SocialError::Unavailable(unavailable.0))?
            .ok_or(SocialError::Refused)?;
        let claims =
            jsonwebtoken::decode::<IdTokenClaims>(id_token, &key, validation).map_err(|_| SocialError::Refused)?.claims;
        // `exp` is checked by the library against the system clock; `iat` must not be ahead.
        if claims.iat > now.to_unix_secs() + LEEWAY_SECONDS
            || claims.sub.is_empty()
            || claims.sub.len() > MAX_SUBJECT_BYTES
        {
            return Err(SocialError::Refused);
        }
        let expected = nonce.map(|raw| provider.expected_nonce(raw));
        match (expected, claims.nonce.as_deref()) {
            (Some(expected), Some(carried)) if expected == carried => {}
            (Some(_), _) => return Err(SocialError::Refused),
            (None, _) if config.require_nonce => return Err(SocialError::Refused),
            (None, _) => {}
        }
        let email_verified = match &claims.email_verified {
            Some(serde_json::Value::Bool(verified)) => *verified,
            Some(serde_json::Value::String(text)) => text == "true",
            _ => false,
        };
        Ok(VerifiedIdentity {
            provider,
            subject: claims.sub,
            email: claims.email.filter(|e| !e.is_empty() && e.len() <= 254),
            email_verified,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apple_tokens_carry_the_sha256_of_the_nonce_and_google_tokens_the_nonce() {
        assert_eq!(
            Provider::Apple.expected_nonce("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(Provider::Google.expected_nonce("abc"), "abc");
    }

    #[test]
    fn keys_are_fetched_over_https_or_from_loopback_only() {
        for allowed in
            ["https://www.googleapis.com/oauth2/v3/certs", "http://127.0.0.1:8080/jwks", "http://localhost/k"]
        {
            assert!(is_allowed_url(allowed), "{allowed}");
        }
        let refused = [
            "http://example.com/jwks",
            "ftp://x",
            "http://127.0.0.1.evil.com/jwks",
            "jwks",
            "http://127.0.0.1:80@evil.example/jwks",
            "http://[::1]@evil.example/jwks",
        ];
        assert!(is_allowed_url("http://[::1]:8080/jwks"));
        for refused in refused {
            assert!(!is_allowed_url(refused), "{refused}");
        }
    }
}
