//! What several endpoints share on the way to an outcome: authenticating a bearer request,
//! re-checking a password before a sensitive change, opening a session and issuing its tokens.

pub mod bearer;
pub mod issue;
pub mod reauth;
pub mod session;
