//! Lambda for POST /api/v1/auth/password/forgot.

use bookshelf::routes::{entry, Route};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::lambda::serve(&[(Route::ForgotPassword, entry::forgot_password)]).await
}
