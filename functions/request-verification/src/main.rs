//! Lambda for POST /api/v1/auth/email/verification.

use bookshelf::routes::Route;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::lambda::serve(Route::RequestVerification).await
}
