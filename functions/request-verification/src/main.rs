//! Lambda for POST /api/v1/auth/email/verification, and the client profiles' routes of the same
//! operation: POST /api/email/verification-notification.

use bookshelf::routes::{entry, Route};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::lambda::serve(&[
        (Route::RequestVerification, entry::request_verification),
        (Route::UniversalVerification, entry::universal_verification),
    ])
    .await
}
