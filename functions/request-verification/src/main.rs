//! Lambda for POST /api/v1/auth/email/verification.

use bookshelf::routes::{entry, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::lambda::serve(Route::RequestVerification, entry::request_verification).await
}
