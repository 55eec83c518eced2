//! Lambda for POST /api/v1/auth/verify, and the client profiles' routes of the same operation: POST
//! /auth/token/verify.

use bookshelf::routes::{entry, Route};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::lambda::serve(&[(Route::Verify, entry::verify), (Route::SimplejwtVerify, entry::simplejwt_verify)])
        .await
}
