//! Everything a handler needs, built once per cold start and shared by every invocation.

use crate::clock::Clock;
use crate::config::{Config, KeySource};
use crate::mail::Mailer;
use crate::signing_keys::{self as keys, KeyError, KeySet};
use crate::social::Social;
use crate::store::Store;
use crate::tokens::TokenService;

pub struct AppState {
    pub config: Config,
    pub store: Store,
    pub tokens: TokenService,
    pub mailer: Mailer,
    pub clock: Clock,
    /// The social sign-in providers and their key caches.
    pub social: Social,
}

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The keys named by `variable` could not be read or parsed.
    #[error("configuration error in {variable}: signing keys: {source}")]
    Keys {
        variable: &'static str,
        #[source]
        source: KeyError,
    },
}

impl AppState {
    /// The state of the local server and of tests: keys read, clients made, nothing opened.
    pub async fn from_config(config: Config) -> Result<Self, InitError> {
        Self::build(config, false).await
    }

    /// A Lambda's cold start. A function whose routes use the table (`uses_database`) also
    /// opens its DynamoDB connection while its keys are read (`INIT_WARMUP`, on by default):
    /// the TLS handshake then happens in init, concurrently with the Secrets Manager call,
    /// instead of in the first request — and Lambda runs init with more CPU than a small
    /// function's invocations get. A warm-up that fails is logged and init goes on: the
    /// first request connects (or answers 503) as it would have without it.
    pub async fn for_lambda(config: Config, uses_database: bool) -> Result<Self, InitError> {
        let warm = uses_database && config.init_warmup;
        Self::build(config, warm).await
    }

    async fn build(config: Config, warm: bool) -> Result<Self, InitError> {
        let store = Store::connect(&config).await;
        let warm_up = async {
            if !warm {
                return;
            }
            if let Err(error) = store.warm_up().await {
                let cause = crate::logging::cause_chain(&error);
                tracing::warn!(cause = %cause, "init: DynamoDB not reached; the first request connects");
            }
        };
        let (keys, ()) = tokio::join!(load_keys(&config), warm_up);
        let keys = keys.map_err(|source| InitError::Keys { variable: config.keys.variable(), source })?;
        let tokens = TokenService::new(&config, &keys);
        let mailer = Mailer::from_config(&config);
        let social = Social::new(&config.social_providers);
        Ok(AppState { config, store, tokens, mailer, clock: Clock::system(), social })
    }
}

/// The key document from wherever the configuration says, parsed for the configured
/// algorithm. In AWS this is the one Secrets Manager read of a cold start.
async fn load_keys(config: &Config) -> Result<KeySet, KeyError> {
    let document = match &config.keys {
        KeySource::SecretsManager(arn) => {
            let client =
                keys::secrets_client(&crate::aws::sdk_config(config), config.endpoints.secrets_manager.as_deref());
            keys::read_secret(&client, arn).await?
        }
        KeySource::Inline(text) => text.clone(),
        KeySource::File(path) => {
            std::fs::read_to_string(path).map_err(|source| KeyError::Io { path: path.display().to_string(), source })?
        }
    };
    KeySet::parse(&document, config.jwt_algorithm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unreadable_keys_fail_start_up_naming_their_variable() {
        let missing = std::env::temp_dir().join(format!("no-keys-{}.json", uuid::Uuid::new_v4()));
        let config = Config::from_lookup(|name| match name {
            "TABLE_NAME" => Some("t".to_owned()),
            "JWT_KEYS_FILE" => Some(missing.display().to_string()),
            "AWS_REGION" => Some("eu-west-1".to_owned()),
            _ => None,
        })
        .expect("config");
        let Err(error) = AppState::from_config(config).await else { panic!("no key file, no start") };
        assert!(error.to_string().starts_with("configuration error in JWT_KEYS_FILE"), "{error}");
    }

    #[tokio::test]
    async fn a_cold_start_whose_warm_up_cannot_reach_the_database_still_starts_and_answers_503() {
        // A port nothing listens on: the warm-up's one attempt is refused at once.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr");
        let keys = keys::generate_document().expect("keys");
        let config = Config::from_lookup(|name| match name {
            "TABLE_NAME" => Some("t".to_owned()),
            "JWT_KEYS" => Some(keys.clone()),
            "DYNAMODB_ENDPOINT" => Some(format!("http://{closed}")),
            _ => None,
        })
        .expect("config");
        assert!(config.init_warmup);
        let started = std::time::Instant::now();
        let state = AppState::for_lambda(config, true).await.expect("init goes on without the database");
        assert!(started.elapsed() < std::time::Duration::from_secs(3), "{:?}", started.elapsed());
        let body = serde_json::json!({"username": "cold_reader", "password": "Vx9#correct-horse-battery"});
        let req = crate::web::request::ApiRequest::in_process(
            http::Method::POST,
            "/api/v1/auth/register",
            "test",
            None,
            Some(&body),
        );
        let response =
            crate::edge::dispatch::respond(std::sync::Arc::new(state), crate::routes::Route::Register, req).await;
        assert_eq!(response.status, 503);
    }
}
