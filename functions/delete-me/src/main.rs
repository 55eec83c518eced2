//! Lambda for DELETE /api/v1/auth/me.

use bookshelf::routes::{entry, Route};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::lambda::serve(&[(Route::DeleteMe, entry::delete_me)]).await
}
