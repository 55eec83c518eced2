//! `GET /.well-known/jwks.json` and `GET /.well-known/openid-configuration`: the public
//! signing keys, and the discovery document that leads verifiers to them. No API key needed.

use serde_json::json;

use crate::error::Error;
use crate::outcome::{Discovery, Jwks};
use crate::state::AppState;
use crate::web::request::ApiRequest;

pub async fn handle(state: &AppState, _: &ApiRequest) -> Result<Jwks, Error> {
    Ok(Jwks(state.tokens.jwks()))
}

/// The claims every access token carries (profiles add a few of their own).
const CLAIMS: [&str; 11] = ["iss", "aud", "sub", "iat", "nbf", "exp", "jti", "sid", "role", "tier", "guest"];

/// OpenID Connect Discovery 1.0 / RFC 8414 metadata, as far as verifying our tokens needs:
/// the issuer (the tokens' `iss`), the JWKS, the signing algorithm, and the token endpoint
/// (login; there is no authorization endpoint: apps sign users in with their own screens).
///
/// Verifiers that fetch `<issuer>/.well-known/openid-configuration` (API Gateway's JWT
/// authorizers, OIDC libraries) need `JWT_ISSUER` to be this service's public URL; then every
/// URL here is under it. Otherwise they are under the URL the caller used.
pub async fn discovery(state: &AppState, req: &ApiRequest) -> Result<Discovery, Error> {
    let issuer = &state.config.jwt_issuer;
    let base = if issuer.starts_with("https://") || issuer.starts_with("http://") {
        issuer.trim_end_matches('/').to_owned()
    } else {
        req.origin.clone().unwrap_or_else(|| "http://localhost".to_owned())
    };
    let algorithm = state.config.jwt_algorithm.name();
    Ok(Discovery(json!({
        "issuer": issuer,
        "jwks_uri": format!("{base}/.well-known/jwks.json"),
        "token_endpoint": format!("{base}/api/v1/auth/login"),
        "grant_types_supported": ["password", "refresh_token"],
        "response_types_supported": ["token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [algorithm],
        "token_endpoint_auth_methods_supported": ["none"],
        "claims_supported": CLAIMS,
    })))
}
