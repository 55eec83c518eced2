//! Lambda for DELETE /admin/v1/users/{id}/sessions (the back office's API, behind AWS_IAM).

use bookshelf::routes::{entry, Route};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::lambda::serve(&[(Route::AdminEndSessions, entry::admin_end_sessions)]).await
}
