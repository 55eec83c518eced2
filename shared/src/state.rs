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
    pub async fn from_config(config: Config) -> Result<Self, InitError> {
        let keys =
            load_keys(&config).await.map_err(|source| InitError::Keys { variable: config.keys.variable(), source })?;
        let tokens = TokenService::new(&config, &keys);
        let store = Store::connect(&config).await;
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
            keys::read_secret(&keys::secrets_client(&crate::aws::sdk_config(config)), arn).await?
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
}
