//! Lambda for POST /api/v1/auth/password/forgot.

use bookshelf::routes::Route;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::lambda::serve(Route::ForgotPassword).await
}
