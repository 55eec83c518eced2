//! Lambda for GET /api/v1/auth/sessions.

use bookshelf::routes::Route;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::lambda::serve(Route::ListSessions).await
}
