//! Lambda for DELETE /api/v1/auth/me.

use bookshelf::routes::Route;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::lambda::serve(Route::DeleteMe).await
}
