//! Bringing an app's users: `bookshelf-import` and the legacy password hashes it keeps, checked
//! with hashes made by the real libraries (`tests/fixtures/legacy-hashes.json`, made by
//! `scripts/legacy-hash-fixtures.py` with Django, bcrypt, argon2-cffi and passlib).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use bookshelf::store::{HashUpgrade, StoreError};
use bookshelf_import::{run, Options, Summary};
use bookshelf_tests::{unique, workspace_root, TestApp};
use http::Method;
use indicatif::ProgressBar;
use serde_json::{json, Value};

/// The schemes that must never let anyone in (their users reset their passwords).
const NEVER: [&str; 4] = ["django_md5", "django_sha1", "django_unsalted_md5", "django_unusable"];

fn fixtures() -> Vec<Value> {
    let text = std::fs::read_to_string(workspace_root().join("tests/fixtures/legacy-hashes.json")).unwrap();
    serde_json::from_str::<Vec<Value>>(&text).unwrap()
}

/// Writes `lines` to a fresh file and imports it.
async fn import(app: &TestApp, lines: &[String], options: &Options) -> (Summary, PathBuf) {
    let path = std::env::temp_dir().join(format!("{}.jsonl", unique("import-")));
    std::fs::write(&path, lines.join("\n")).unwrap();
    let summary = run(&app.state.store, &path, options, &ProgressBar::hidden()).await.unwrap();
    (summary, path)
}

async fn login(app: &TestApp, username: &str, password: &str) -> u16 {
    app.post("/api/v1/auth/login", json!({"username": username, "password": password})).await.status
}

/// The stored hash of the user with this username.
async fn stored_hash(app: &TestApp, username: &str) -> String {
    let claim = app.state.store.claim_owner(bookshelf::store::keys::username_claim(&username.to_lowercase())).await;
    let user_id = claim.unwrap().unwrap();
    app.state.store.get_user(user_id).await.unwrap().unwrap().password_hash.unwrap()
}

#[tokio::test]
async fn every_supported_scheme_verifies_and_every_weak_one_never_does() {
    for fixture in fixtures() {
        let scheme = fixture["scheme"].as_str().unwrap();
        let (password, hash) = (fixture["password"].as_str().unwrap(), fixture["hash"].as_str().unwrap());
        let right = bookshelf::password::verify(password, Some(hash)).await.unwrap();
        let wrong = bookshelf::password::verify(&format!("{password}x"), Some(hash)).await.unwrap();
        assert!(!wrong.matches, "{scheme}: a wrong password");
        if NEVER.contains(&scheme) {
            assert!(!right.matches, "{scheme} must never verify");
        } else {
            assert!(right.matches && right.needs_rehash, "{scheme}: {right:?}");
        }
    }
}

#[tokio::test]
async fn imported_users_log_in_with_their_old_password_once_upgraded_to_argon2id() {
    let app = TestApp::new().await;
    let fixtures = fixtures();
    let lines: Vec<String> = fixtures
        .iter()
        .enumerate()
        .map(|(i, f)| json!({"id": 1000 + i, "username": format!("legacy_{}", f["scheme"].as_str().unwrap()), "password_hash": f["hash"]}).to_string())
        .collect();
    let (summary, _) = import(&app, &lines, &Options::default()).await;
    assert_eq!((summary.imported, summary.refused.len(), summary.failed.len()), (fixtures.len(), 0, 0), "{summary:?}");
    for fixture in &fixtures {
        let scheme = fixture["scheme"].as_str().unwrap();
        let username = format!("legacy_{scheme}");
        let password = fixture["password"].as_str().unwrap();
        assert_eq!(login(&app, &username, &format!("{password}!")).await, 401, "{scheme}: wrong password");
        if NEVER.contains(&scheme) {
            assert_eq!(login(&app, &username, password).await, 401, "{scheme} never logs in");
            continue;
        }
        assert_eq!(login(&app, &username, password).await, 200, "{scheme}");
        let upgraded = stored_hash(&app, &username).await;
        assert!(upgraded.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{scheme}: {upgraded}");
        assert_eq!(login(&app, &username, password).await, 200, "{scheme}: the old password still works");
    }
}

#[tokio::test]
async fn imported_users_sign_in_through_the_apps_profiles_with_their_ids() {
    let app = TestApp::with_profiles("bookshelf,simplejwt,universal-bookshelf", &[]).await;
    let all = fixtures();
    let hash = |scheme: &str| all.iter().find(|f| f["scheme"] == scheme).unwrap().clone();
    let (django, laravel) = (hash("django_pbkdf2_sha256_100k"), hash("laravel_bcrypt_2y_10"));
    let django_user = unique("dj_");
    let laravel_email = format!("{}@example.com", unique("lv_"));
    let lines = [
        json!({"id": 77, "username": django_user, "password_hash": django["hash"]}).to_string(),
        json!({"id": 501, "email": laravel_email, "display_name": "Lara Vel", "password_hash": laravel["hash"],
               "email_verified": true, "role": "reader"})
        .to_string(),
    ];
    let (summary, _) = import(&app, &lines, &Options::default()).await;
    assert_eq!(summary.imported, 2, "{summary:?}");

    let token = app.post("/auth/token", json!({"username": django_user, "password": django["password"]})).await;
    assert_eq!(token.status, 200, "{}", token.body);
    assert_eq!(bookshelf_tests::jwt_claims(&token.str("access"))["user_id"], 77, "simplejwt's user_id is the app's id");

    let login = app.post("/api/login", json!({"email": laravel_email, "password": laravel["password"]})).await;
    assert_eq!(login.status, 200, "{}", login.body);
    assert_eq!((&login.body["user"]["id"], &login.body["user"]["name"]), (&json!(501), &json!("Lara Vel")));
    let token = login.body["authorization"]["token"].as_str().unwrap();
    let profile = app.call(Method::GET, "/api/user/profile", Some(token), None).await;
    assert!(profile.body["user"]["email_verified_at"].is_string(), "{}", profile.body);
}

/// Every item of the test's table: (users, claims by kind).
async fn census(app: &TestApp) -> (usize, usize, usize, usize) {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let out = app
            .state
            .store
            .client()
            .scan()
            .table_name(app.state.store.table())
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        items.extend(out.items.unwrap_or_default());
        match out.last_evaluated_key {
            Some(key) if !key.is_empty() => start = Some(key),
            _ => break,
        }
    }
    let pk = |item: &std::collections::HashMap<String, AttributeValue>| item["pk"].as_s().unwrap().clone();
    let count = |prefix: &str| items.iter().filter(|i| pk(i).starts_with(prefix)).count();
    let users = items.iter().filter(|i| i["sk"].as_s().is_ok_and(|s| s == "PROFILE")).count();
    (users, count("USERNAME#"), count("EMAIL#"), count("LEGACY#"))
}

#[tokio::test]
async fn a_file_with_a_duplicate_and_a_bad_line_imports_the_rest_exactly_once() {
    let app = TestApp::new().await;
    let user = |id: u32, email: &str| {
        json!({"id": id, "username": format!("u{id}_{}", &email[..4]), "email": email}).to_string()
    };
    let tag = unique("");
    let email = |n: u32| format!("r{n}{tag}@example.com");
    let lines = vec![
        user(1, &email(1)),
        user(2, &email(2)),
        json!({"id": 3, "email": "not an address"}).to_string(),
        user(4, &email(2)),
        "{broken json".to_owned(),
        user(5, &email(5)),
    ];
    let (first, path) = import(&app, &lines, &Options::default()).await;
    assert_eq!((first.lines, first.imported, first.skipped), (6, 3, 0), "{first:?}");
    let refused: Vec<(usize, &str)> = first.refused.iter().map(|r| (r.line, r.reason.as_str())).collect();
    assert_eq!(refused.iter().map(|r| r.0).collect::<Vec<_>>(), vec![3, 4, 5]);
    assert!(refused[1].1.contains("duplicate email (line 2)"), "{refused:?}");
    assert_eq!(census(&app).await, (3, 3, 3, 3), "users and claims, nothing half-written");

    // Again, the same file: nothing new, the three are skipped by their legacy ids.
    let again = run(&app.state.store, &path, &Options::default(), &ProgressBar::hidden()).await.unwrap();
    assert_eq!((again.imported, again.skipped, again.refused.len()), (0, 3, 3), "{again:?}");
    assert_eq!(census(&app).await, (3, 3, 3, 3));

    // A dry run of a file whose email is taken in the table writes nothing and says so.
    let taken = vec![user(9, &email(1)), user(10, &email(10))];
    let (dry, _) = import(&app, &taken, &Options { dry_run: true, ..Options::default() }).await;
    assert_eq!((dry.imported, dry.refused.len()), (1, 1), "{dry:?}");
    assert_eq!(census(&app).await, (3, 3, 3, 3));
    let (real, _) = import(&app, &taken, &Options::default()).await;
    assert_eq!((real.imported, real.refused[0].reason.as_str()), (1, "email taken in the table"));
    assert_eq!(census(&app).await, (4, 4, 4, 4));
}

#[tokio::test]
async fn resume_continues_after_the_checkpoint_of_an_interrupted_run() {
    let app = TestApp::new().await;
    let tag = unique("");
    let lines: Vec<String> = (1..=5)
        .map(|n| json!({"id": format!("{tag}-{n}"), "email": format!("m{n}{tag}@example.com")}).to_string())
        .collect();
    let (_, path) = import(&app, &lines[..2], &Options::default()).await;
    // The interrupted run had done two lines of the full file.
    std::fs::write(&path, lines.join("\n")).unwrap();
    std::fs::write(bookshelf_import::checkpoint_path(&path), "2").unwrap();
    let resumed = run(&app.state.store, &path, &Options { resume: true, ..Options::default() }, &ProgressBar::hidden())
        .await
        .unwrap();
    assert_eq!((resumed.imported, resumed.skipped), (3, 2), "{resumed:?}");
    assert_eq!(std::fs::read_to_string(bookshelf_import::checkpoint_path(&path)).unwrap(), "5");
    assert_eq!(census(&app).await.0, 5);
}

#[tokio::test]
async fn a_password_change_between_verify_and_upgrade_wins() {
    let app = TestApp::new().await;
    let account = app.register().await;
    let user_id = uuid::Uuid::parse_str(&account.id).unwrap();
    let user = app.state.store.get_user(user_id).await.unwrap().unwrap();
    let req = bookshelf_tests::request(Method::POST, "/api/v1/auth/login", None, None);
    let now = app.state.clock.now();
    let (session, _) = bookshelf::auth::session::open(&app.state, &user, &req, now).unwrap();
    // The hash verified was another one: the stored hash changed meanwhile.
    let upgrade = HashUpgrade { old_hash: "pbkdf2_sha256$1$salt$AAAA", new_hash: "$argon2id$new", now };
    let outcome = app.state.store.open_login_session(&user, &session, None, Some(upgrade)).await;
    assert!(matches!(outcome, Err(StoreError::Stale)), "{outcome:?}");
    let sessions = app.state.store.sessions_of(user_id).await.unwrap();
    assert!(sessions.iter().all(|s| s.session_id != session.session_id), "no session without its upgrade");
}

#[tokio::test]
async fn a_failed_login_takes_the_floor_whatever_the_account() {
    let app = TestApp::with_env(&[("LOGIN_FAILURE_FLOOR_MS", "600")]).await;
    let account = app.register().await;
    for username in [account.username.as_str(), "nobody_at_all"] {
        let started = Instant::now();
        assert_eq!(login(&app, username, "Wrong-passw0rd-1").await, 401);
        assert!(started.elapsed() >= Duration::from_millis(600), "{username}: {:?}", started.elapsed());
    }
    let started = Instant::now();
    assert_eq!(login(&app, &account.username, &account.password).await, 200);
    assert!(started.elapsed() < Duration::from_millis(600), "a success is not held back");
}

#[tokio::test]
async fn two_apps_ids_are_two_users_when_each_import_names_its_source() {
    let app = TestApp::new().await;
    let tag = unique("");
    let django = [json!({"id": 1, "username": format!("dj{tag}")}).to_string()];
    let laravel = [json!({"id": 1, "email": format!("lv{tag}@example.com")}).to_string()];
    let source = |name: &str| Options { source: Some(name.to_owned()), ..Options::default() };
    assert_eq!(import(&app, &django, &source("book-corners")).await.0.imported, 1);
    assert_eq!(import(&app, &laravel, &source("universal-bookshelf")).await.0.imported, 1);
    let again = import(&app, &laravel, &source("universal-bookshelf")).await.0;
    assert_eq!((again.imported, again.skipped), (0, 1));
    assert_eq!(census(&app).await, (2, 1, 1, 2));
}
