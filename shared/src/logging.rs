//! Logs are one JSON object per line, in Lambda and in the local server alike.

use std::str::FromStr;

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Installs the JSON subscriber once; later calls (tests) are no-ops. `RUST_LOG` is a level
/// (`error`, `warn`, `info`, `debug`, `trace`; default `info`): a plain level filter keeps a
/// regex engine out of every function binary.
pub fn init() {
    init_with_writer(std::io::stdout);
}

/// [`init`] writing somewhere other than stdout (tests capture the exact production format).
pub fn init_with_writer<W>(writer: W)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let level =
        std::env::var("RUST_LOG").ok().and_then(|v| LevelFilter::from_str(v.trim()).ok()).unwrap_or(LevelFilter::INFO);
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_max_level(level)
        .with_writer(writer)
        .try_init();
}

/// An error and its sources, joined by `: `, for a log line's `cause` field.
pub fn cause_chain(error: &dyn std::error::Error) -> String {
    let mut chain = vec![error.to_string()];
    let mut cause = error.source();
    while let Some(c) = cause {
        chain.push(c.to_string());
        cause = c.source();
    }
    chain.join(": ")
}
