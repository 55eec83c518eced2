//! Lambda for GET /api/v1/auth/me, and the client profiles' routes of the same operation: GET
//! /api/user/profile, GET /auth/getuser, GET /users/me.

use bookshelf::routes::{entry, Route};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::lambda::serve(&[
        (Route::GetMe, entry::get_me),
        (Route::BookCornersMe, entry::book_corners_me),
        (Route::SessionApiMe, entry::session_api_me),
        (Route::UniversalProfile, entry::universal_profile),
        (Route::SimplejwtGetUser, entry::simplejwt_get_user),
        (Route::BookwishMe, entry::bookwish_me),
    ])
    .await
}
