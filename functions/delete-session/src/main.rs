//! Lambda for DELETE /api/v1/auth/sessions/{id}.

use bookshelf::routes::Route;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::lambda::serve(Route::DeleteSession).await
}
