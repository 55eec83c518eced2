//! A provider's signing keys: fetched over HTTPS, kept for the `Cache-Control` lifetime the
//! provider gives them, fetched again once when a token names a key not seen yet — but never
//! more often than once a minute, so forged `kid`s cannot make us hammer the provider.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::DecodingKey;

use crate::clock::UnixMs;

/// The least time between two fetches of one provider's keys.
pub const MIN_REFETCH: Duration = Duration::from_secs(60);
/// How long keys are kept when the provider gives no lifetime, and the most it may give.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);
const MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// A JWKS document larger than this is refused (Google's and Apple's are about 1–2 KiB).
const MAX_DOCUMENT_BYTES: usize = 64 * 1024;
const FETCH_TIMEOUT: Duration = Duration::from_secs(3);

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// The keys could not be fetched, and none is known for the token (the reason, for the logs).
#[derive(Debug)]
pub struct KeysUnavailable(pub String);

/// The keys of one provider as last fetched.
#[derive(Default)]
struct Keys {
    by_kid: HashMap<String, Arc<DecodingKey>>,
    fetched_at: Option<UnixMs>,
    fresh_until: Option<UnixMs>,
    /// The last fetch failed: until the next one, a `kid` not cached is an outage, not a
    /// forgery.
    failed: bool,
}

/// One provider's key cache. Readers never wait on a fetch in progress for another provider.
pub struct KeyCache {
    url: String,
    keys: RwLock<Keys>,
    /// Held while fetching, so concurrent requests that miss the cache fetch once.
    fetching: tokio::sync::Mutex<()>,
}

impl KeyCache {
    pub fn new(url: String) -> Self {
        KeyCache { url, keys: RwLock::new(Keys::default()), fetching: tokio::sync::Mutex::new(()) }
    }

    /// The key `kid` names: cached while fresh; otherwise (expired, or a `kid` not seen) the
    /// keys are fetched again, at most once a minute. `Ok(None)`: the provider has no such key.
    /// `Err(Unavailable)`: the keys could not be fetched and none is known for `kid`.
    pub async fn key(&self, kid: &str, now: UnixMs) -> Result<Option<Arc<DecodingKey>>, KeysUnavailable> {
        let (cached, fresh, may_fetch) = self.lookup(kid, now);
        if let (Some(key), true) = (&cached, fresh) {
            return Ok(Some(Arc::clone(key)));
        }
        if !may_fetch {
            return self.without_fetch(cached);
        }
        let _fetching = self.fetching.lock().await;
        // Another request may have fetched while this one waited.
        let (cached, fresh, may_fetch) = self.lookup(kid, now);
        if cached.is_some() && fresh {
            return Ok(cached);
        }
        if !may_fetch {
            return self.without_fetch(cached);
        }
        match fetch(&self.url).await {
            Ok((set, lifetime)) => {
                let by_kid = set
                    .keys
                    .iter()
                    .filter_map(|jwk| Some((jwk.common.key_id.clone()?, Arc::new(DecodingKey::from_jwk(jwk).ok()?))))
                    .collect();
                let mut keys = self.keys.write().unwrap_or_else(PoisonError::into_inner);
                *keys = Keys { by_kid, fetched_at: Some(now), fresh_until: Some(now.plus(lifetime)), failed: false };
                Ok(keys.by_kid.get(kid).cloned())
            }
            Err(reason) => {
                tracing::error!(url = %self.url, reason = %reason, "provider keys not fetched");
                // Remember the attempt, so an outage is not hit by every request.
                let mut keys = self.keys.write().unwrap_or_else(PoisonError::into_inner);
                (keys.fetched_at, keys.failed) = (Some(now), true);
                drop(keys);
                match cached {
                    Some(key) => Ok(Some(key)),
                    None => Err(KeysUnavailable(reason)),
                }
            }
        }
    }

    /// What is known without fetching: the cached key (stale or not), or, while the last fetch
    /// failed, unavailability.
    fn without_fetch(&self, cached: Option<Arc<DecodingKey>>) -> Result<Option<Arc<DecodingKey>>, KeysUnavailable> {
        match cached {
            None if self.keys.read().unwrap_or_else(PoisonError::into_inner).failed => {
                Err(KeysUnavailable("the last fetch failed".to_owned()))
            }
            cached => Ok(cached),
        }
    }

    /// The cached key, whether the cache is fresh, and whether a fetch is allowed now.
    fn lookup(&self, kid: &str, now: UnixMs) -> (Option<Arc<DecodingKey>>, bool, bool) {
        let keys = self.keys.read().unwrap_or_else(PoisonError::into_inner);
        let fresh = keys.fresh_until.is_some_and(|until| now < until);
        let may_fetch = keys.fetched_at.is_none_or(|at| now.millis_after(at) >= MIN_REFETCH.as_millis() as i64);
        (keys.by_kid.get(kid).cloned(), fresh, may_fetch)
    }
}

/// The client every provider's keys are fetched with: HTTPS with the system's roots (plain
/// HTTP only where the configuration allowed it: loopback test issuers).
fn client() -> Result<&'static HttpsClient, String> {
    static CLIENT: OnceLock<Result<HttpsClient, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let tls = crate::sdk_http::tls_config(crate::sdk_http::native_roots()).map_err(|e| e.to_string())?;
            let connector = crate::sdk_http::https_connector(tls, Some(FETCH_TIMEOUT));
            Ok(Client::builder(TokioExecutor::new()).pool_timer(TokioTimer::new()).build(connector))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// One fetch of a JWKS document and the lifetime its `Cache-Control` gives it.
async fn fetch(url: &str) -> Result<(JwkSet, Duration), String> {
    let uri: hyper::Uri = url.parse().map_err(|e| format!("{e}"))?;
    let response = tokio::time::timeout(FETCH_TIMEOUT, client()?.get(uri))
        .await
        .map_err(|_| "timed out".to_owned())?
        .map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("status {}", response.status()));
    }
    let lifetime = response
        .headers()
        .get(http::header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .and_then(max_age)
        .unwrap_or(DEFAULT_LIFETIME)
        .min(MAX_LIFETIME);
    let body = tokio::time::timeout(FETCH_TIMEOUT, Limited::new(response.into_body(), MAX_DOCUMENT_BYTES).collect())
        .await
        .map_err(|_| "timed out".to_owned())?
        .map_err(|e| e.to_string())?
        .to_bytes();
    let set = serde_json::from_slice(&body).map_err(|e| format!("not a JWKS document: {e}"))?;
    Ok((set, lifetime))
}

/// `max-age` of a `Cache-Control` value (`public, max-age=21350, must-revalidate`).
fn max_age(value: &str) -> Option<Duration> {
    value
        .split(',')
        .filter_map(|directive| directive.trim().strip_prefix("max-age="))
        .find_map(|seconds| seconds.trim().parse().ok())
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lifetime_is_the_cache_controls_max_age() {
        assert_eq!(max_age("public, max-age=21350, must-revalidate, no-transform"), Some(Duration::from_secs(21350)));
        assert_eq!(max_age("no-cache"), None);
        assert_eq!(max_age("max-age=abc"), None);
    }
}
