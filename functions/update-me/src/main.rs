//! Lambda for PATCH /api/v1/auth/me.

use bookshelf::routes::Route;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::lambda::serve(Route::UpdateMe).await
}
