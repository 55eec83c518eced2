//! Lambda for GET /admin/v1/users (the back office's API, behind AWS_IAM).

use bookshelf::routes::{entry, Route};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::lambda::serve(&[(Route::AdminListUsers, entry::admin_list_users)]).await
}
