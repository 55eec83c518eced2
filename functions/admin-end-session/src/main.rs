//! Lambda for DELETE /admin/v1/users/{id}/sessions/{sid} (the back office's API, behind AWS_IAM).

use bookshelf::routes::{entry, Route};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::lambda::serve(&[(Route::AdminEndSession, entry::admin_end_session)]).await
}
