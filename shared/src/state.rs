//! Everything a handler needs, built once per cold start and shared by every invocation.

use crate::clock::Clock;
use crate::config::{Config, KeySource};
use crate::keys::{KeyError, KeySet};
use crate::mail::Mailer;
use crate::store::Store;
use crate::tokens::TokenService;

pub struct AppState {
    pub config: Config,
    pub store: Store,
    pub tokens: TokenService,
    pub mailer: Mailer,
    pub clock: Clock,
}

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("signing keys: {0}")]
    Keys(#[from] KeyError),
}

impl AppState {
    pub async fn from_config(config: Config) -> Result<Self, InitError> {
        let document = match &config.keys {
            KeySource::Inline(text) => text.clone(),
            KeySource::File(path) => std::fs::read_to_string(path)
                .map_err(|source| KeyError::Io { path: path.display().to_string(), source })?,
        };
        let keys = KeySet::parse(&document, config.jwt_algorithm)?;
        let tokens = TokenService::new(&config, &keys);
        let store = Store::connect(&config).await;
        let mailer = Mailer::from_config(&config);
        Ok(AppState { config, store, tokens, mailer, clock: Clock::system() })
    }
}
