//! Lambda for POST /api/v1/auth/register, and the client profiles' routes of the same operation:
//! POST /api/signup, POST /auth/register, POST /auth/signup.

use bookshelf::routes::{entry, Route};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::lambda::serve(&[
        (Route::Register, entry::register),
        (Route::BookCornersRegister, entry::book_corners_register),
        (Route::SessionApiRegister, entry::session_api_register),
        (Route::UniversalSignup, entry::universal_signup),
        (Route::SimplejwtRegister, entry::simplejwt_register),
        (Route::BookwishSignup, entry::bookwish_signup),
    ])
    .await
}
