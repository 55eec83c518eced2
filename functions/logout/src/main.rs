//! Lambda for POST /api/v1/auth/logout.

use bookshelf::routes::{entry, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::lambda::serve(Route::Logout, entry::logout).await
}
