//! Lambda for GET /.well-known/openid-configuration.

use bookshelf::routes::{entry, Route};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::lambda::serve(&[(Route::OpenidConfiguration, entry::openid_configuration)]).await
}
