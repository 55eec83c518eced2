//! `POST /verify`: an access token's claims, if its signature, lifetime, session and user
//! all hold right now.

use crate::audit::audit;
use crate::auth::bearer::{live_session, verified_claims};
use crate::error::Error;
use crate::outcome::Active;
use crate::state::AppState;
use crate::web::request::ApiRequest;

pub async fn handle(state: &AppState, req: &ApiRequest) -> Result<Active, Error> {
    let mut body = req.json_object(false)?;
    let token = body.req_str("token");
    body.finish()?;
    let token = token.unwrap_or_default();
    let outcome = match verified_claims(state, &token) {
        Ok(claims) => live_session(state, claims).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(auth) => {
            audit(req, "verify", "active", Some(auth.user.id));
            Ok(Active(auth.claims))
        }
        Err(e) => {
            audit(req, "verify", e.code(), None);
            Err(e)
        }
    }
}
