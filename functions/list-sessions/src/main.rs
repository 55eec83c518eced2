//! Lambda for GET /api/v1/auth/sessions.

use bookshelf::routes::{entry, Route};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::lambda::serve(&[(Route::ListSessions, entry::list_sessions)]).await
}
