//! Lambda for POST /api/v1/auth/logout, and the client profiles' routes of the same operation: POST
//! /api/logout, POST /auth/logout.

use bookshelf::routes::{entry, Route};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::lambda::serve(&[
        (Route::Logout, entry::logout),
        (Route::SessionApiLogout, entry::session_api_logout),
        (Route::UniversalLogout, entry::universal_logout),
        (Route::BookwishLogout, entry::bookwish_logout),
    ])
    .await
}
