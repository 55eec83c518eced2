//! Lambda for POST /api/v1/auth/password.

use bookshelf::routes::{entry, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::lambda::serve(Route::ChangePassword, entry::change_password).await
}
