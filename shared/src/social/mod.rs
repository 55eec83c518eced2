//! Sign in with Google and Apple: the ID token an app's mobile SDK hands it, verified
//! completely — the provider's signature (RS256 only, keys from its JWKS), issuer, audience
//! among the configured client ids, lifetime, nonce, and what it says of the email.

pub mod jwks;

use std::collections::HashSet;
use std::sync::Arc;

use aws_lc_rs::digest;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use crate::clock::UnixMs;
use crate::config::ConfigError;
use crate::error::Error;
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

    fn variable(self, setting: &str) -> String {
        format!("SOCIAL_{}_{setting}", self.name().to_ascii_uppercase())
    }

    /// The real provider's issuers and keys, and whether a nonce is required: Apple's flows
    /// always send one; Google's iOS SDK sets a nonce of its own the app never sees.
    fn defaults(self) -> (&'static str, &'static str, bool) {
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

/// One provider's settings (`SOCIAL_<PROVIDER>_*`).
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

impl ProviderConfig {
    /// The enabled providers: those with client ids.
    pub fn read(get: impl Fn(&str) -> Option<String>) -> Result<Vec<ProviderConfig>, ConfigError> {
        let list = |raw: String| raw.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
        let mut enabled = Vec::new();
        for provider in Provider::ALL {
            let client_ids: Vec<String> = get(&provider.variable("CLIENT_IDS")).map(list).unwrap_or_default();
            if client_ids.is_empty() {
                continue;
            }
            let (issuers, jwks_url, require_nonce) = provider.defaults();
            let jwks_url = get(&provider.variable("JWKS_URL")).unwrap_or_else(|| jwks_url.to_owned());
            if !is_allowed_url(&jwks_url) {
                return Err(ConfigError {
                    name: leak(provider.variable("JWKS_URL")),
                    reason: "expected an https:// URL (http:// only on a loopback host)".to_owned(),
                });
            }
            let require_nonce = match get(&provider.variable("REQUIRE_NONCE")).as_deref() {
                None => require_nonce,
                Some("true" | "1") => true,
                Some("false" | "0") => false,
                Some(_) => {
                    return Err(ConfigError {
                        name: leak(provider.variable("REQUIRE_NONCE")),
                        reason: "expected true or false".to_owned(),
                    })
                }
            };
            enabled.push(ProviderConfig {
                provider,
                client_ids,
                issuers: list(get(&provider.variable("ISSUER")).unwrap_or_else(|| issuers.to_owned())),
                jwks_url,
                require_nonce,
            });
        }
        Ok(enabled)
    }
}

/// Configuration errors name their variable with a `&'static str`; these few names are built
/// once per start-up.
fn leak(name: String) -> &'static str {
    Box::leak(name.into_boxed_str())
}

fn is_allowed_url(url: &str) -> bool {
    if url.starts_with("https://") {
        return true;
    }
    let Some(rest) = url.strip_prefix("http://") else { return false };
    let host = rest.split(['/', ':']).next().unwrap_or_default();
    matches!(host, "127.0.0.1" | "localhost" | "[")
        || rest.starts_with("[::1]")
        || host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
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
    /// `InvalidToken` for anything a token must not be; `Unavailable` when the provider's
    /// keys cannot be fetched; `NotFound` for a provider not enabled.
    pub async fn verify(
        &self,
        provider: Provider,
        id_token: &str,
        nonce: Option<&str>,
        now: UnixMs,
    ) -> Result<VerifiedIdentity, Error> {
        let (config, validation, keys) =
            self.providers.iter().find(|(c, _, _)| c.provider == provider).ok_or(Error::NotFound)?;
        if id_token.len() > MAX_TOKEN_BYTES {
            return Err(Error::InvalidToken);
        }
        let header = jsonwebtoken::decode_header(id_token).map_err(|_| Error::InvalidToken)?;
        let carries_key_material = header.jku.is_some() || header.jwk.is_some() || header.x5u.is_some();
        if header.alg != Algorithm::RS256 || carries_key_material {
            return Err(Error::InvalidToken);
        }
        let kid = header.kid.ok_or(Error::InvalidToken)?;
        let key: Arc<_> = keys.key(&kid, now).await?.ok_or(Error::InvalidToken)?;
        let claims =
            jsonwebtoken::decode::<IdTokenClaims>(id_token, &key, validation).map_err(|_| Error::InvalidToken)?.claims;
        // `exp` is checked by the library against the system clock; `iat` must not be ahead.
        if claims.iat > now.to_unix_secs() + LEEWAY_SECONDS
            || claims.sub.is_empty()
            || claims.sub.len() > MAX_SUBJECT_BYTES
        {
            return Err(Error::InvalidToken);
        }
        let expected = nonce.map(|raw| provider.expected_nonce(raw));
        match (expected, claims.nonce.as_deref()) {
            (Some(expected), Some(carried)) if expected == carried => {}
            (Some(_), _) => return Err(Error::InvalidToken),
            (None, _) if config.require_nonce => return Err(Error::InvalidToken),
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

    /// The configured audiences of every enabled provider (for discovery and tests).
    pub fn client_ids(&self) -> HashSet<&str> {
        self.providers.iter().flat_map(|(c, _, _)| c.client_ids.iter().map(String::as_str)).collect()
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
    fn a_provider_is_enabled_by_its_client_ids_with_the_real_providers_defaults() {
        let configs = ProviderConfig::read(|name| match name {
            "SOCIAL_APPLE_CLIENT_IDS" => Some("com.example.bookwish, com.example.bookwish.web".to_owned()),
            _ => None,
        })
        .expect("config");
        assert_eq!(configs.len(), 1);
        let apple = &configs[0];
        assert_eq!(apple.client_ids, ["com.example.bookwish", "com.example.bookwish.web"]);
        assert_eq!((apple.issuers.clone(), apple.require_nonce), (vec!["https://appleid.apple.com".to_owned()], true));
        assert_eq!(apple.jwks_url, "https://appleid.apple.com/auth/keys");
    }

    #[test]
    fn keys_are_fetched_over_https_or_from_loopback_only() {
        for allowed in
            ["https://www.googleapis.com/oauth2/v3/certs", "http://127.0.0.1:8080/jwks", "http://localhost/k"]
        {
            assert!(is_allowed_url(allowed), "{allowed}");
        }
        for refused in ["http://example.com/jwks", "ftp://x", "http://127.0.0.1.evil.com/jwks", "jwks"] {
            assert!(!is_allowed_url(refused), "{refused}");
        }
        let error = ProviderConfig::read(|name| match name {
            "SOCIAL_GOOGLE_CLIENT_IDS" => Some("id".to_owned()),
            "SOCIAL_GOOGLE_JWKS_URL" => Some("http://keys.example.com".to_owned()),
            _ => None,
        })
        .expect_err("plain http");
        assert_eq!(error.name, "SOCIAL_GOOGLE_JWKS_URL");
    }
}
