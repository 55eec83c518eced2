//! Lambda for DELETE /api/v1/auth/sessions/{id}.

use bookshelf::routes::{entry, Route};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::lambda::serve(&[(Route::DeleteSession, entry::delete_session)]).await
}
