//! Lambda for POST /api/v1/auth/guest, and the client profiles' routes of the same operation: POST
//! /auth/guest.

use bookshelf::routes::{entry, Route};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::lambda::serve(&[(Route::Guest, entry::guest), (Route::BookwishGuest, entry::bookwish_guest)]).await
}
