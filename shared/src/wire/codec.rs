//! What a wire format is: one method per kind of outcome, and failures; and the static
//! dispatch from an outcome type to its method, so a function links only the writing of the
//! answers its own handler gives.

use super::native::write;
use crate::error::Error;
use crate::outcome::{
    Account, Active, AdminUser, Discovery, Done, Identities, Jwks, Mailed, PasswordChanged, Sessions, SignedIn,
    UserList,
};
use crate::web::response::ApiResponse;

/// Writes one wire format: one method per kind of outcome, and failures. Each method writes
/// natively unless the format has its own shape for that outcome (a profile overrides those
/// its app's routes give).
pub trait Codec {
    fn signed_in(&self, outcome: SignedIn) -> ApiResponse {
        write::signed_in(outcome)
    }
    fn account(&self, outcome: Account) -> ApiResponse {
        write::account(outcome)
    }
    fn active(&self, outcome: Active) -> ApiResponse {
        write::active(outcome)
    }
    fn sessions(&self, outcome: Sessions) -> ApiResponse {
        write::sessions(outcome)
    }
    fn mailed(&self, outcome: Mailed) -> ApiResponse {
        write::mailed(outcome)
    }
    fn done(&self, outcome: Done) -> ApiResponse {
        write::done(outcome)
    }
    fn password_changed(&self, outcome: PasswordChanged) -> ApiResponse {
        write::password_changed(outcome)
    }
    fn jwks(&self, outcome: Jwks) -> ApiResponse {
        write::jwks(outcome)
    }
    fn discovery(&self, outcome: Discovery) -> ApiResponse {
        write::discovery(outcome)
    }
    fn admin_user(&self, outcome: AdminUser) -> ApiResponse {
        write::admin_user(outcome)
    }
    fn user_list(&self, outcome: UserList) -> ApiResponse {
        write::user_list(outcome)
    }
    fn identities(&self, outcome: Identities) -> ApiResponse {
        write::identities(outcome)
    }
    /// The response to a failure of `operation` (the route's function: `login`, `refresh`, …),
    /// tagged with the request id that its log line carries too. The cause of a server fault
    /// never reaches the body.
    fn failure(&self, error: &Error, request_id: &str, operation: &str) -> ApiResponse;
}

/// An outcome any codec can write.
pub trait Encode {
    fn encode<C: Codec>(self, codec: &C) -> ApiResponse;
}

macro_rules! encode {
    ($($outcome:ty => $method:ident),* $(,)?) => {$(
        impl Encode for $outcome {
            fn encode<C: Codec>(self, codec: &C) -> ApiResponse {
                codec.$method(self)
            }
        }
    )*};
}

encode! {
    SignedIn => signed_in,
    Account => account,
    Active => active,
    Sessions => sessions,
    Mailed => mailed,
    Done => done,
    PasswordChanged => password_changed,
    Jwks => jwks,
    Discovery => discovery,
    AdminUser => admin_user,
    UserList => user_list,
    Identities => identities,
}
