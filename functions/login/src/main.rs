//! Lambda for POST /api/v1/auth/login, and the client profiles' routes of the same operation: POST
//! /api/login, POST /auth/token, POST /auth/login.

use bookshelf::routes::{entry, Route};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::lambda::serve(&[
        (Route::Login, entry::login),
        (Route::BookCornersLogin, entry::book_corners_login),
        (Route::SessionApiLogin, entry::session_api_login),
        (Route::UniversalLogin, entry::universal_login),
        (Route::SimplejwtToken, entry::simplejwt_token),
        (Route::BookwishLogin, entry::bookwish_login),
    ])
    .await
}
