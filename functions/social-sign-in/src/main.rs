//! Lambda for POST /api/v1/auth/social/{provider} (sign in with Google or Apple), and
//! BookWish's POST /auth/social/{provider}.

use bookshelf::routes::{entry, Route};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::lambda::serve(&[
        (Route::SocialSignIn, entry::social_sign_in),
        (Route::BookwishSocial, entry::bookwish_social),
    ])
    .await
}
