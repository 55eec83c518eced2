//! `bookshelf-import [--dry-run] [--resume] [--source APP] [--concurrency N] FILE.jsonl`: an app's users into
//! the table named by `TABLE_NAME` (`DYNAMODB_ENDPOINT` for DynamoDB Local, `AWS_REGION` in
//! AWS). Refused lines go to stderr with their numbers and reasons, the summary to stdout.
//! Exit status: 0 when every line was imported or skipped, 1 when some were refused or failed,
//! 2 when the run could not start.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use bookshelf::store::Store;
use bookshelf_import::{run, Options};
use indicatif::{ProgressBar, ProgressStyle};

const USAGE: &str = "usage: bookshelf-import [--dry-run] [--resume] [--source APP] [--concurrency N] FILE.jsonl";

#[tokio::main]
async fn main() -> ExitCode {
    let mut options = Options::default();
    let mut file = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--dry-run" => options.dry_run = true,
            "--resume" => options.resume = true,
            "--source" => match args.next().filter(|s| {
                (1..=32).contains(&s.len())
                    && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            }) {
                Some(source) => options.source = Some(source),
                None => return usage("--source needs a name of 1 to 32 lower-case letters, digits or -"),
            },
            "--concurrency" => match args.next().and_then(|n| n.parse().ok()).filter(|n| *n > 0) {
                Some(n) => options.concurrency = n,
                None => return usage("--concurrency needs a number above 0"),
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other if other.starts_with('-') => return usage(&format!("unknown option {other}")),
            path if file.is_none() => file = Some(PathBuf::from(path)),
            _ => return usage("one file at a time"),
        }
    }
    let Some(file) = file else { return usage("no file given") };
    let Some(table) = std::env::var("TABLE_NAME").ok().filter(|t| !t.is_empty()) else {
        eprintln!("configuration error in TABLE_NAME: required");
        return ExitCode::from(2);
    };
    let store = Store::from_client(client().await, table);
    let progress = ProgressBar::new(0);
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} users  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let summary = match run(&store, &file, &options, &progress).await {
        Ok(summary) => summary,
        Err(error) => {
            progress.abandon();
            eprintln!("bookshelf-import: {error}");
            return ExitCode::from(2);
        }
    };
    progress.finish_and_clear();
    for refusal in &summary.refused {
        eprintln!("line {}: refused: {}", refusal.line, refusal.reason);
    }
    for failure in &summary.failed {
        eprintln!("line {}: not written (retry with --resume): {}", failure.line, failure.reason);
    }
    let verb = if options.dry_run { "dry run" } else { "import" };
    println!("{verb}: {summary}");
    if summary.refused.is_empty() && summary.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("bookshelf-import: {problem}\n{USAGE}");
    ExitCode::from(2)
}

/// A batch job's client: the adaptive retry mode with more attempts than a request may wait,
/// so throttling slows the import down instead of failing lines. In AWS, credentials come from
/// the environment (`AWS_ACCESS_KEY_ID`, … — e.g. `aws configure export-credentials --format env`).
async fn client() -> aws_sdk_dynamodb::Client {
    let retries = aws_sdk_dynamodb::config::retry::RetryConfig::adaptive()
        .with_max_attempts(10)
        .with_initial_backoff(Duration::from_millis(50));
    let config = match std::env::var("DYNAMODB_ENDPOINT").ok().filter(|e| !e.is_empty()) {
        Some(endpoint) => bookshelf::store::local_config(&endpoint).http_client(bookshelf::sdk_http::client()),
        None => {
            let region = std::env::var("AWS_REGION").or_else(|_| std::env::var("AWS_DEFAULT_REGION")).ok();
            aws_sdk_dynamodb::config::Builder::from(&bookshelf::aws::sdk_config_in(region))
        }
    };
    aws_sdk_dynamodb::Client::from_conf(config.retry_config(retries).build())
}
