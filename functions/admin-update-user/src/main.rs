//! Lambda for PATCH /admin/v1/users/{id} (the back office's API, behind AWS_IAM).

use bookshelf::routes::{entry, Route};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::lambda::serve(&[(Route::AdminUpdateUser, entry::admin_update_user)]).await
}
