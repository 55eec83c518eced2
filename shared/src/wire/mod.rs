//! Wire formats: how outcomes and failures are written for a client, one per profile
//! (`crate::profile`). The core never builds a response body itself; each route names its
//! profile in its declaration (`crate::routes`), and its entry reads the profile's request
//! into the native one (each profile's `decode`) and hands the handler's outcome to the
//! profile's [`Codec`]. Writing is dispatched statically, per outcome type, so each function
//! links only the writing of the answers its own routes give.

pub mod book_corners;
pub mod bookwish;
pub mod codec;
pub mod native;
pub mod reading;
pub mod session_api;
pub mod simplejwt;
pub mod universal;

pub use book_corners::BookCorners;
pub use bookwish::Bookwish;
pub use codec::{Codec, Encode};
pub use native::Native as Bookshelf;
pub use session_api::SessionApi;
pub use simplejwt::Simplejwt;
pub use universal::UniversalBookshelf;

use crate::error::Error;
use crate::profile::Profile;
use crate::web::response::ApiResponse;

/// The failure response of `operation` (a route's function) in `profile`'s format.
pub fn failure(profile: Profile, error: &Error, request_id: &str, operation: &str) -> ApiResponse {
    match profile {
        Profile::Bookshelf => Bookshelf.failure(error, request_id, operation),
        Profile::BookCorners => BookCorners.failure(error, request_id, operation),
        Profile::SessionApi => SessionApi.failure(error, request_id, operation),
        Profile::UniversalBookshelf => UniversalBookshelf.failure(error, request_id, operation),
        Profile::Simplejwt => Simplejwt.failure(error, request_id, operation),
        Profile::Bookwish => Bookwish.failure(error, request_id, operation),
    }
}
