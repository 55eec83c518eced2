//! Lambda for POST /api/v1/auth/password/reset.

use bookshelf::routes::{entry, Route};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::lambda::serve(&[(Route::ResetPassword, entry::reset_password)]).await
}
