//! Lambda for GET /.well-known/jwks.json.

use bookshelf::routes::Route;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::lambda::serve(Route::Jwks).await
}
