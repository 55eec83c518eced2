//! `make run`: DynamoDB Local (unless `DYNAMODB_ENDPOINT` is set), the tables of
//! `template.yaml`, signing keys in `.local/`, and every route on http://127.0.0.1:$PORT.

use std::process::ExitCode;
use std::sync::Arc;

use bookshelf::config::{Config, KeySource};
use bookshelf::state::AppState;
use bookshelf_local::dynamodb_local::DynamoDbLocal;
use bookshelf_local::server::{LocalApi, USAGE_PLAN_BURST, USAGE_PLAN_RATE};
use bookshelf_local::tables;

/// Local defaults for what a deployed stack always sets.
fn local_default(name: &str) -> Option<String> {
    let value = match name {
        "TABLE_NAME" => "bookshelf-auth-local",
        "JWT_KEYS_FILE" => ".local/jwt-keys.json",
        "MAIL_SENDER" => "outbox",
        // The example app API's optional route, as `template.yaml` configures the authorizer.
        "AUTHORIZER_OPTIONAL_ROUTES" => "GET /app/public",
        "MAIL_OUTBOX_DIR" => ".local/outbox",
        // The DynamoDB Local this server starts answers in any region; none is configured here.
        "AWS_REGION" => "us-east-1",
        _ => return None,
    };
    Some(value.to_owned())
}

#[tokio::main]
async fn main() -> ExitCode {
    bookshelf::logging::init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bookshelf-local: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let lookup = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty()).or_else(|| local_default(name));
    let mut config = Config::from_lookup(lookup).map_err(|e| e.to_string())?;
    bookshelf::routes::check_profiles(config.profiles).map_err(|e| e.to_string())?;
    if let KeySource::File(path) = &config.keys {
        bookshelf::signing_keys::load_or_generate_file(path).map_err(|e| e.to_string())?;
    }
    // Started here, on the main thread, so the kernel stops it if this process dies.
    let _database = match &config.dynamodb_endpoint {
        Some(_) => None,
        None => {
            let root = std::env::current_dir().map_err(|e| e.to_string())?;
            let db = DynamoDbLocal::start(&root).map_err(|e| e.to_string())?;
            config.dynamodb_endpoint = Some(db.endpoint.clone());
            Some(db)
        }
    };
    let template = std::fs::read_to_string("template.yaml").map_err(|e| format!("template.yaml: {e}"))?;
    let schema = tables::auth_table(&template).map_err(|e| e.to_string())?;
    let table = config.table_name.clone();
    let state = AppState::from_config(config).await.map_err(|e| e.to_string())?;
    tables::create(state.store.client(), &table, &schema).await.map_err(|e| e.to_string())?;

    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3000);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    let api_key =
        std::env::var("LOCAL_API_KEY").ok().filter(|k| !k.is_empty()).unwrap_or_else(|| "local-dev-key".into());
    tracing::info!(url = %format!("http://127.0.0.1:{port}"), table = %table, "Bookshelf Auth is serving; Ctrl-C stops it");
    let number = |name: &str, default: u32| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let rate = number("LOCAL_USAGE_PLAN_RATE", USAGE_PLAN_RATE);
    let burst = number("LOCAL_USAGE_PLAN_BURST", USAGE_PLAN_BURST);
    let admin_key = std::env::var("LOCAL_ADMIN_KEY")
        .ok()
        .filter(|k| !k.is_empty())
        .unwrap_or_else(|| bookshelf_local::server::DEFAULT_ADMIN_KEY.into());
    let api = Arc::new(LocalApi::new(Arc::new(state), api_key, rate, burst).with_admin_key(admin_key));
    api.serve(listener, shutdown_signal()).await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => return ctrl_c.await.unwrap_or(()),
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await.unwrap_or(());
}
