//! Lambda for POST /api/v1/auth/guest/upgrade.

use bookshelf::routes::{entry, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::lambda::serve(Route::GuestUpgrade, entry::guest_upgrade).await
}
