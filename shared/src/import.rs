//! Reading an app's users for `bookshelf-import`: one JSON object per line, held to the same
//! rules as a sign-up (username, email, names), with a password hash this service recognises
//! (`crate::legacy_hash`), made into a user record that keeps the app's id as `legacy_id`.
//! Nothing here touches the database: the importer decides what to write.

use serde_json::Value;

use crate::clock::UnixMs;
use crate::domain::{check_display_name, check_real_name, Email, Username, DEFAULT_ROLE, DEFAULT_TIER};
use crate::legacy_hash;
use crate::store::NewImport;

/// The largest preferences object, as for `PATCH /me`.
const MAX_PREFERENCES_BYTES: usize = 4 * 1024;

/// One line's user, validated; the keys say what must be unique.
#[derive(Debug, Clone)]
pub struct ImportedUser {
    pub user: NewImport,
}

impl ImportedUser {
    pub fn legacy_id(&self) -> &str {
        &self.user.legacy_id
    }

    /// The uniqueness keys of its username and email, if it has them.
    pub fn name_keys(&self) -> (Option<&str>, Option<&str>) {
        (self.user.username.as_ref().map(|(_, k)| k.as_str()), self.user.email.as_ref().map(|(_, k)| k.as_str()))
    }
}

/// Reads one line, or says why it cannot be taken.
pub fn parse_line(line: &str, now: UnixMs) -> Result<ImportedUser, String> {
    let Ok(Value::Object(mut map)) = serde_json::from_str::<Value>(line) else {
        return Err("not a JSON object".to_owned());
    };
    let legacy_id = match map.remove("id") {
        Some(Value::Number(n)) if n.is_u64() || n.is_i64() => n.to_string(),
        Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= 128 && !s.contains('#') => s,
        Some(_) => return Err("`id` must be a whole number or a string of 1 to 128 characters (no `#`)".to_owned()),
        None => return Err("`id` is required".to_owned()),
    };
    let mut text = |field: &str| -> Result<Option<String>, String> {
        match map.remove(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(format!("`{field}` must be a string")),
        }
    };
    let username = text("username")?
        .map(|raw| {
            Username::parse(&raw).map(|u| (u.as_str().to_owned(), u.key())).map_err(|m| format!("username: {m}"))
        })
        .transpose()?;
    let email = text("email")?
        .map(|raw| {
            Email::parse(raw.trim()).map(|e| (e.as_str().to_owned(), e.key())).map_err(|m| format!("email: {m}"))
        })
        .transpose()?;
    if username.is_none() && email.is_none() {
        return Err("a username or an email is required".to_owned());
    }
    let password_hash = text("password_hash")?.filter(|h| !h.is_empty());
    if let Some(hash) = &password_hash {
        if legacy_hash::classify(hash).is_none() {
            return Err("password_hash: not a recognised hash format".to_owned());
        }
    }
    let display_name = text("display_name")?;
    if let Some(name) = &display_name {
        check_display_name(name).map_err(|m| format!("display_name: {m}"))?;
    }
    let (first_name, last_name) = (text("first_name")?, text("last_name")?);
    for (field, value) in [("first_name", &first_name), ("last_name", &last_name)] {
        if let Some(name) = value {
            check_real_name(name).map_err(|m| format!("{field}: {m}"))?;
        }
    }
    let role = text("role")?.unwrap_or_else(|| DEFAULT_ROLE.to_owned());
    let tier = text("tier")?.unwrap_or_else(|| DEFAULT_TIER.to_owned());
    for (field, value) in [("role", &role), ("tier", &tier)] {
        if value.is_empty() || value.len() > 64 {
            return Err(format!("`{field}` must be 1 to 64 characters"));
        }
    }
    let created_at = match text("created_at")? {
        None => now,
        Some(raw) => {
            crate::clock::parse_rfc3339(&raw).ok_or_else(|| "`created_at` must be an RFC 3339 time".to_owned())?
        }
    };
    let email_verified = match map.remove("email_verified") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => b,
        Some(_) => return Err("`email_verified` must be true or false".to_owned()),
    };
    let preferences = match map.remove("preferences") {
        None | Some(Value::Null) => "{}".to_owned(),
        Some(Value::Object(prefs)) => {
            let text = Value::Object(prefs).to_string();
            if text.len() > MAX_PREFERENCES_BYTES {
                return Err("`preferences` must be a JSON object of at most 4 KiB".to_owned());
            }
            text
        }
        Some(_) => return Err("`preferences` must be a JSON object".to_owned()),
    };
    let display_name = display_name.or_else(|| {
        username.as_ref().map(|(u, _)| u.clone()).or_else(|| {
            email.as_ref().and_then(|(e, _)| e.rsplit_once('@').map(|(local, _)| local.chars().take(100).collect()))
        })
    });
    // Whatever else the line carries is ignored, as unknown JSON fields are everywhere.
    drop(map);
    Ok(ImportedUser {
        user: NewImport {
            legacy_id,
            legacy_source: None,
            username,
            email,
            email_verified,
            display_name,
            first_name,
            last_name,
            role,
            tier,
            preferences,
            password_hash,
            created_at,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: UnixMs = UnixMs::from_ms(1_795_000_000_000);

    #[test]
    fn a_full_line_keeps_the_apps_id_and_fields() {
        let line = r#"{"id": 42, "username": "Ada", "email": "Ada@Example.com", "email_verified": true,
            "password_hash": "pbkdf2_sha256$1000000$salt$AAAA", "role": "staff", "tier": "pro",
            "created_at": "2021-05-01T10:00:00Z", "preferences": {"theme": "dark"}, "extra": 1}"#;
        let user = parse_line(line, NOW).expect("valid").user;
        assert_eq!(user.legacy_id, "42");
        assert_eq!(user.email.as_ref().map(|(_, k)| k.as_str()), Some("ada@example.com"));
        assert_eq!((user.role.as_str(), user.tier.as_str(), user.email_verified), ("staff", "pro", true));
        assert_eq!(user.created_at, UnixMs::from_ms(1_619_863_200_000));
        assert_eq!(user.display_name.as_deref(), Some("Ada"));
    }

    #[test]
    fn a_line_that_breaks_a_rule_says_which() {
        for (line, reason) in [
            ("nope", "JSON object"),
            (r#"{"username": "ada"}"#, "`id` is required"),
            (r#"{"id": 1}"#, "username or an email"),
            (r#"{"id": 1, "email": "not-an-address"}"#, "email:"),
            (r#"{"id": 1, "username": "a"}"#, "username:"),
            (r#"{"id": 1, "username": "ada", "password_hash": "plaintext"}"#, "recognised hash"),
            (r#"{"id": true, "username": "ada"}"#, "`id` must be"),
            (r#"{"id": 1, "username": "ada", "created_at": "yesterday"}"#, "created_at"),
        ] {
            let error = parse_line(line, NOW).expect_err(line);
            assert!(error.contains(reason), "{line}: {error}");
        }
    }

    #[test]
    fn unusable_and_weak_hashes_are_taken_and_mean_a_password_reset() {
        for hash in ["!unusable", "md5$salt$0123abcd"] {
            let line = format!(r#"{{"id": "u-1", "email": "a@example.com", "password_hash": "{hash}"}}"#);
            assert!(parse_line(&line, NOW).is_ok(), "{hash}");
        }
    }
}
