//! `GET /.well-known/jwks.json`: the public signing keys, no API key needed.

use crate::error::Error;
use crate::outcome::Jwks;
use crate::state::AppState;
use crate::web::request::ApiRequest;

pub async fn handle(state: &AppState, _: &ApiRequest) -> Result<Jwks, Error> {
    Ok(Jwks(state.tokens.jwks()))
}
