//! Re-authentication before a sensitive change: the caller proves the password again.

use crate::audit::audit;
use crate::error::Error;
use crate::password;
use crate::store::UserRecord;
use crate::web::request::ApiRequest;

/// Checks the caller's password; a wrong one is `invalid_credentials`, logged as `event`.
pub async fn require_password(
    user: &UserRecord,
    password: &str,
    req: &ApiRequest,
    event: &'static str,
) -> Result<(), Error> {
    let verdict = password::verify(password, user.password_hash.as_deref()).await?;
    if verdict.matches {
        Ok(())
    } else {
        audit(req, event, "invalid_credentials", Some(user.id));
        Err(Error::InvalidCredentials)
    }
}
