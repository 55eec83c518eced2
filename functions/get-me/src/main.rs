//! Lambda for GET /api/v1/auth/me.

use bookshelf::routes::{entry, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::lambda::serve(Route::GetMe, entry::get_me).await
}
