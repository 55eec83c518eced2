//! The back office (`/admin/v1`): find users, change their tier, role, disablement and app
//! metadata, end their sessions, delete them. API Gateway lets only IAM-signed callers reach
//! these routes (the local server: `x-admin-key`); each handler refuses a request that names
//! no caller all the same, and every action is one `admin` audit event naming the caller.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use uuid::Uuid;

use crate::clock::{parse_rfc3339, UnixMs};
use crate::domain::{email_key, username_key, MAX_KEY_BYTES};
use crate::error::{Error, FieldErrors};
use crate::handlers::me::{remove_account, MAX_PREFERENCES_BYTES};
use crate::outcome::{AdminUser, Done, UserList};
use crate::state::AppState;
use crate::store::keys::{device_claim, email_claim, legacy_claim, username_claim};
use crate::store::{AdminChanges, PageEnd, StoreError, UserQuery, UserRecord};
use crate::web::request::ApiRequest;

/// Users per page unless `limit` says otherwise, and the most it may say.
const DEFAULT_PAGE: u16 = 50;
const MAX_PAGE: u16 = 100;
/// How often a change is applied again on top of a concurrent one before giving up.
const UPDATE_ATTEMPTS: usize = 5;
const LOOKUPS: [&str; 4] = ["email", "username", "device_id", "legacy_id"];
const PAGING: [&str; 5] = ["limit", "cursor", "order", "created_since", "created_before"];

/// The caller API Gateway authenticated; nobody else gets past this.
fn caller(req: &ApiRequest) -> Result<&str, Error> {
    req.caller.as_deref().ok_or(Error::Forbidden("Admin routes take IAM-signed requests only."))
}

/// One structured audit event of an admin action: who, what, on which user, the outcome.
fn audit(req: &ApiRequest, caller: &str, action: &'static str, user_id: Option<Uuid>, outcome: &str, fields: &str) {
    let user_id = user_id.map(|id| id.to_string()).unwrap_or_default();
    tracing::info!(
        request_id = %req.request_id,
        event = "admin",
        action,
        caller,
        user_id = %user_id,
        fields,
        outcome,
        "admin"
    );
}

/// Runs an action and writes its audit event, whatever the outcome.
async fn audited<T>(
    req: &ApiRequest,
    action: &'static str,
    fields: &str,
    run: impl AsyncFnOnce(&str) -> Result<(Option<Uuid>, T), (Option<Uuid>, Error)>,
) -> Result<T, Error> {
    let caller = match caller(req) {
        Ok(caller) => caller,
        Err(error) => {
            audit(req, "-", action, None, error.code(), fields);
            return Err(error);
        }
    };
    match run(caller).await {
        Ok((user_id, value)) => {
            audit(req, caller, action, user_id, "success", fields);
            Ok(value)
        }
        Err((user_id, error)) => {
            audit(req, caller, action, user_id, error.code(), fields);
            Err(error)
        }
    }
}

/// The user a path names, if it exists (an expired guest does not).
async fn target(state: &AppState, req: &ApiRequest) -> Result<UserRecord, (Option<Uuid>, Error)> {
    let id = req.path_uuid("id").map_err(|e| (None, e))?;
    let now = state.clock.now();
    match state.store.get_user(id).await {
        Ok(Some(user)) if user.is_live(now) => Ok(user),
        Ok(_) => Err((Some(id), Error::NotFound)),
        Err(e) => Err((Some(id), e.into())),
    }
}

/// The user with its live sessions counted.
async fn with_sessions(state: &AppState, user: UserRecord) -> Result<AdminUser, Error> {
    let now = state.clock.now();
    let sessions = state.store.sessions_of(user.id).await?.iter().filter(|s| s.is_live(now)).count();
    Ok(AdminUser { user: Box::new(user), sessions: Some(sessions) })
}

/// `GET /admin/v1/users/{id}`.
pub async fn get_user(state: &AppState, req: &ApiRequest) -> Result<AdminUser, Error> {
    audited(req, "get_user", "", async |_| {
        let user = target(state, req).await?;
        let id = user.id;
        Ok((Some(id), with_sessions(state, user).await.map_err(|e| (Some(id), e))?))
    })
    .await
}

/// `GET /admin/v1/users`: one user by a unique name (`email`, `username`, `device_id`,
/// `legacy_id` with its `source`), normalised as login normalises it; or a page of every user
/// by creation time.
pub async fn list_users(state: &AppState, req: &ApiRequest) -> Result<UserList, Error> {
    let lookup = LOOKUPS.iter().find(|name| req.query_param(name).is_some()).copied().unwrap_or("page");
    audited(req, "list_users", lookup, async |_| {
        let request = ListRequest::read(req).map_err(|e| (None, e))?;
        match request {
            ListRequest::Lookup(claim) => {
                let user = match claim {
                    Some(claim) => find(state, claim).await.map_err(|e| (None, e))?,
                    None => None,
                };
                Ok((user.as_ref().map(|u| u.id), UserList { users: user.into_iter().collect(), next_cursor: None }))
            }
            ListRequest::Page(query) => {
                let page = state.store.list_users(query).await.map_err(|e| (None, e.into()))?;
                let now = state.clock.now();
                let users = page.users.into_iter().filter(|u| u.is_live(now)).collect();
                Ok((None, UserList { users, next_cursor: page.next.map(encode_cursor) }))
            }
        }
    })
    .await
}

/// The user a uniqueness claim points at.
async fn find(state: &AppState, claim: String) -> Result<Option<UserRecord>, Error> {
    let now = state.clock.now();
    let Some(claim) = state.store.get_claim(claim).await?.filter(|c| c.is_live(now)) else { return Ok(None) };
    Ok(state.store.get_user(claim.user_id).await?.filter(|u| u.is_live(now)))
}

/// What `GET /admin/v1/users` asks for: a lookup (`None`: a name nobody could hold) or a page.
enum ListRequest {
    Lookup(Option<String>),
    Page(UserQuery),
}

impl ListRequest {
    fn read(req: &ApiRequest) -> Result<Self, Error> {
        let mut errors = FieldErrors::new();
        let mut error = |name: &str, message: &str| errors.entry(name.to_owned()).or_default().push(message.to_owned());
        for (name, _) in &req.query {
            let known = LOOKUPS.contains(&name.as_str()) || PAGING.contains(&name.as_str()) || name == "source";
            if !known {
                error(name, "Unknown query parameter.");
            } else if req.query_count(name) > 1 {
                error(name, "Give this parameter once.");
            }
        }
        let one = |name: &str| req.query_param(name);
        let lookups: Vec<&str> = LOOKUPS.iter().copied().filter(|name| one(name).is_some()).collect();
        if lookups.len() > 1 {
            for name in &lookups {
                error(name, "Look up by one of email, username, device_id or legacy_id at a time.");
            }
        }
        if one("source").is_some() && one("legacy_id").is_none() {
            error("source", "source names the app of a legacy_id.");
        }
        if !lookups.is_empty() {
            for name in PAGING.iter().filter(|name| one(name).is_some()) {
                error(name, "A lookup by a unique name returns one user: it takes no paging.");
            }
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        if let Some(&name) = lookups.first() {
            let value = one(name).unwrap_or_default();
            return Ok(ListRequest::Lookup(lookup_claim(name, value, one("source"))));
        }
        Self::page(req).map(ListRequest::Page)
    }

    fn page(req: &ApiRequest) -> Result<UserQuery, Error> {
        let one = |name: &str| req.query_param(name);
        let mut errors = FieldErrors::new();
        let mut error = |name: &str, message: &str| errors.entry(name.to_owned()).or_default().push(message.to_owned());
        let limit = match one("limit").map(str::parse::<u16>) {
            None => DEFAULT_PAGE,
            Some(Ok(limit)) if (1..=MAX_PAGE).contains(&limit) => limit,
            Some(_) => {
                error("limit", "Must be a whole number from 1 to 100.");
                DEFAULT_PAGE
            }
        };
        let newest_first = match one("order") {
            None | Some("newest") => true,
            Some("oldest") => false,
            Some(_) => {
                error("order", "Must be newest or oldest.");
                true
            }
        };
        let mut time = |name: &str| match one(name).map(parse_rfc3339) {
            None => None,
            Some(Some(at)) => Some(at),
            Some(None) => {
                error(name, "Must be an RFC 3339 time.");
                None
            }
        };
        let since = time("created_since");
        let before = time("created_before");
        let after = match one("cursor").map(decode_cursor) {
            None => None,
            Some(Some(end)) => Some(end),
            Some(None) => {
                error("cursor", "Not a cursor this API gave out.");
                None
            }
        };
        // DynamoDB refuses an empty range, and a start key outside it: say which, as a 400.
        if let (Some(since), Some(before)) = (since, before) {
            if since >= before {
                error("created_before", "Must be later than created_since.");
            }
        }
        if before.is_some_and(|before| before.as_ms() <= 0) {
            error("created_before", "Must be later than 1970-01-01T00:00:00Z.");
        }
        let in_range = |at: UnixMs| since.is_none_or(|s| at >= s) && before.is_none_or(|b| at < b);
        if after.is_some_and(|end| !in_range(end.created_at)) {
            error("cursor", "This cursor belongs to another range of creation times.");
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        Ok(UserQuery { limit, newest_first, since, before, after })
    }
}

/// The claim a lookup reads, normalised as login and guest sign-in normalise it; `None` for a
/// value no account could hold (which also keeps oversized strings out of database keys).
fn lookup_claim(name: &str, value: &str, source: Option<&str>) -> Option<String> {
    let plausible_key = |key: String| (!key.is_empty() && key.len() <= MAX_KEY_BYTES).then_some(key);
    match name {
        "email" => (1..=254).contains(&value.len()).then(|| email_claim(&email_key(value))),
        "username" => plausible_key(username_key(value)).map(|key| username_claim(&key)),
        "device_id" => (8..=200).contains(&value.chars().count()).then(|| device_claim(value)),
        "legacy_id" => plausible_key(legacy_claim(source, value.trim())),
        _ => None,
    }
}

/// A page end as an opaque cursor: base64url of `<created_at ms>.<user id>`.
fn encode_cursor(end: PageEnd) -> String {
    B64.encode(format!("{}.{}", end.created_at.as_ms(), end.user_id))
}

fn decode_cursor(cursor: &str) -> Option<PageEnd> {
    let text = String::from_utf8(B64.decode(cursor).ok()?).ok()?;
    let (created_at, user_id) = text.split_once('.')?;
    Some(PageEnd { created_at: UnixMs::from_ms(created_at.parse().ok()?), user_id: Uuid::parse_str(user_id).ok()? })
}

/// A validated `PATCH` body.
fn read_changes(state: &AppState, req: &ApiRequest) -> Result<AdminChanges, Error> {
    let mut body = req.json_object(false)?;
    let config = &state.config;
    let mut allowed = |name: &str, allowed: &[String]| {
        let value = body.opt_str(name)?;
        if allowed.contains(&value) {
            return Some(value);
        }
        body.error(name, format!("Must be one of: {}.", allowed.join(", ")));
        None
    };
    let tier = allowed("tier", &config.tiers);
    let role = allowed("role", &config.roles);
    let disabled = body.opt_bool("disabled");
    let app_metadata = body.opt_object("app_metadata").and_then(|map| {
        let text = serde_json::Value::Object(map).to_string();
        if text.len() > MAX_PREFERENCES_BYTES {
            body.error("app_metadata", "Must be a JSON object of at most 4 KiB.");
            return None;
        }
        Some(text)
    });
    body.refuse_unread();
    body.finish()?;
    let changes = AdminChanges { tier, role, disabled, app_metadata };
    if changes == AdminChanges::default() {
        return Err(Error::field("tier", "Give at least one of tier, role, disabled or app_metadata."));
    }
    Ok(changes)
}

/// The names of the fields a change sets, for the audit event.
fn changed_fields(changes: &AdminChanges) -> String {
    let set = [
        ("tier", changes.tier.is_some()),
        ("role", changes.role.is_some()),
        ("disabled", changes.disabled.is_some()),
        ("app_metadata", changes.app_metadata.is_some()),
    ];
    set.iter().filter(|(_, set)| *set).map(|(name, _)| *name).collect::<Vec<_>>().join(",")
}

/// `PATCH /admin/v1/users/{id}`: applied on top of the user as it is (read, then written only
/// if its version is unchanged, again on top of a concurrent change that won), so concurrent
/// changes of different fields all land. Disabling ends every session before answering; a new
/// tier or role reaches every session's next token.
pub async fn update_user(state: &AppState, req: &ApiRequest) -> Result<AdminUser, Error> {
    let changes = read_changes(state, req);
    let fields = changes.as_ref().map(changed_fields).unwrap_or_default();
    audited(req, "update_user", &fields, async |_| {
        let changes = changes.map_err(|e| (None, e))?;
        let mut user = target(state, req).await?;
        let id = user.id;
        let fail = |e: Error| (Some(id), e);
        for _ in 0..UPDATE_ATTEMPTS {
            match state.store.admin_update(&user, &changes, state.clock.now()).await {
                Ok(updated) => {
                    let (settled, live) = settle_sessions(state, updated).await.map_err(fail)?;
                    return Ok((Some(id), AdminUser { user: Box::new(settled), sessions: Some(live) }));
                }
                Err(StoreError::Stale) => user = target(state, req).await?,
                Err(e) => return Err(fail(e.into())),
            }
        }
        Err(fail(Error::Conflict))
    })
    .await
}

/// Brings the user's sessions in line with `user` as just written (`Store::settle_sessions`:
/// all ended while it is disabled — the flag already stops new ones —, otherwise carrying its
/// role and tier). Then reads the user again: a change that landed meanwhile is settled too,
/// so the sessions end up as the last write left the user, whichever PATCH answers last.
/// Returns the user and its live sessions.
async fn settle_sessions(state: &AppState, mut user: UserRecord) -> Result<(UserRecord, usize), Error> {
    for _ in 0..UPDATE_ATTEMPTS {
        let live = state.store.settle_sessions(&user, state.clock.now()).await?;
        match state.store.get_user(user.id).await? {
            Some(now) if now.version != user.version => user = now,
            _ => return Ok((user, live)),
        }
    }
    Err(Error::Conflict)
}

/// `DELETE /admin/v1/users/{id}/sessions`: ends every session of the user now.
pub async fn end_sessions(state: &AppState, req: &ApiRequest) -> Result<Done, Error> {
    audited(req, "end_sessions", "", async |_| {
        let user = target(state, req).await?;
        state.store.delete_sessions_of(user.id).await.map_err(|e| (Some(user.id), e.into()))?;
        Ok((Some(user.id), Done))
    })
    .await
}

/// `DELETE /admin/v1/users/{id}/sessions/{sid}`: ends one; 404 when the user has none by
/// that id.
pub async fn end_session(state: &AppState, req: &ApiRequest) -> Result<Done, Error> {
    audited(req, "end_session", "", async |_| {
        let user = target(state, req).await?;
        let session_id = req.path_uuid("sid").map_err(|e| (Some(user.id), e))?;
        match state.store.end_session(user.id, session_id).await {
            Ok(true) => Ok((Some(user.id), Done)),
            Ok(false) => Err((Some(user.id), Error::NotFound)),
            Err(e) => Err((Some(user.id), e.into())),
        }
    })
    .await
}

/// `DELETE /admin/v1/users/{id}`: removes the user as self-service deletion does.
pub async fn delete_user(state: &AppState, req: &ApiRequest) -> Result<Done, Error> {
    audited(req, "delete_user", "", async |_| {
        let user = target(state, req).await?;
        let id = user.id;
        remove_account(state, req, &user).await.map_err(|e| (Some(id), e))?;
        Ok((Some(id), Done))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_anything_else_is_refused() {
        let end = PageEnd { created_at: UnixMs::from_ms(1_795_000_000_123), user_id: Uuid::now_v7() };
        assert_eq!(decode_cursor(&encode_cursor(end)), Some(end));
        for bad in ["", "!!", &B64.encode("12.not-a-uuid"), &B64.encode("x.0192")] {
            assert_eq!(decode_cursor(bad), None, "{bad}");
        }
    }

    #[test]
    fn lookups_normalise_like_login_and_skip_impossible_names() {
        assert_eq!(lookup_claim("email", "Jane@Example.COM", None), Some(email_claim("jane@example.com")));
        assert_eq!(lookup_claim("username", "JANE", None), Some(username_claim(&username_key("jane"))));
        assert_eq!(lookup_claim("device_id", "short", None), None);
        assert_eq!(lookup_claim("legacy_id", "42", Some("corners")), Some(legacy_claim(Some("corners"), "42")));
        assert_eq!(lookup_claim("email", &"a".repeat(300), None), None);
        assert_eq!(lookup_claim("username", &"a".repeat(5000), None), None);
    }
}
