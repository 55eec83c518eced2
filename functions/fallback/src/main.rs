//! Lambda for any route no other function takes (404/405).

use bookshelf::routes::{entry, Route};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::lambda::serve(&[(Route::Fallback, entry::fallback)]).await
}
