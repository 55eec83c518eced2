//! Lambda for POST /api/v1/auth/password, and the client profiles' routes of the same operation:
//! PUT /api/user/change-password.

use bookshelf::routes::{entry, Route};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::lambda::serve(&[
        (Route::ChangePassword, entry::change_password),
        (Route::UniversalChangePassword, entry::universal_change_password),
    ])
    .await
}
