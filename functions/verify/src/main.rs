//! Lambda for POST /api/v1/auth/verify.

use bookshelf::routes::{entry, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::lambda::serve(Route::Verify, entry::verify).await
}
