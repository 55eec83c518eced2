//! Lambda for POST /api/v1/auth/refresh.

use bookshelf::routes::{entry, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::lambda::serve(Route::Refresh, entry::refresh).await
}
