//! Lambda for POST /api/v1/auth/guest/upgrade, and the client profiles' routes of the same
//! operation: POST /auth/migrate-guest.

use bookshelf::routes::{entry, Route};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::lambda::serve(&[
        (Route::GuestUpgrade, entry::guest_upgrade),
        (Route::BookwishMigrateGuest, entry::bookwish_migrate_guest),
    ])
    .await
}
