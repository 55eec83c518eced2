//! Lambda: the example app API (GET /app/whoami, GET /app/public), echoing the authorizer.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::example_app::serve().await
}
