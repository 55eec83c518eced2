//! Lambda for PATCH /api/v1/auth/me, and the client profiles' routes of the same operation: PUT
//! /api/user/profile.

use bookshelf::routes::{entry, Route};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::lambda::serve(&[
        (Route::UpdateMe, entry::update_me),
        (Route::SessionApiUpdateMe, entry::session_api_update_me),
        (Route::UniversalUpdateProfile, entry::universal_update_profile),
    ])
    .await
}
