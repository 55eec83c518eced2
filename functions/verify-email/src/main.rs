//! Lambda for POST /api/v1/auth/email/verify.

use bookshelf::routes::{entry, Route};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::lambda::serve(&[(Route::VerifyEmail, entry::verify_email)]).await
}
