//! Lambda for GET /.well-known/jwks.json.

use bookshelf::routes::{entry, Route};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::lambda::serve(&[(Route::Jwks, entry::jwks)]).await
}
