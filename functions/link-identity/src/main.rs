//! Lambda for POST /api/v1/auth/identities/{provider}.

use bookshelf::routes::{entry, Route};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::lambda::serve(&[(Route::LinkIdentity, entry::link_identity)]).await
}
