//! Lambda for POST /api/v1/auth/refresh, and the client profiles' routes of the same operation:
//! POST /api/refresh, POST /auth/token/refresh, POST /auth/refresh.

use bookshelf::routes::{entry, Route};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    bookshelf::edge::lambda::serve(&[
        (Route::Refresh, entry::refresh),
        (Route::BookCornersRefresh, entry::book_corners_refresh),
        (Route::UniversalRefresh, entry::universal_refresh),
        (Route::SimplejwtRefresh, entry::simplejwt_refresh),
        (Route::BookwishRefresh, entry::bookwish_refresh),
    ])
    .await
}
