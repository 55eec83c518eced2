//! `GET /.well-known/jwks.json`: the public signing keys, no API key needed.

use crate::error::Error;
use crate::outcome::Keys;
use crate::state::AppState;
use crate::web::request::ApiRequest;

pub async fn handle(state: &AppState, _: &ApiRequest) -> Result<Keys, Error> {
    Ok(Keys(state.tokens.jwks().clone()))
}
