//! Lambda for DELETE /admin/v1/users/{id} (the back office's API, behind AWS_IAM).

use bookshelf::routes::{entry, Route};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::lambda::serve(&[(Route::AdminDeleteUser, entry::admin_delete_user)]).await
}
