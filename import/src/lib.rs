//! `bookshelf-import`: an app's existing users, one JSON object per line, into the table.
//!
//! Every line is read and validated first (`bookshelf::import`: the sign-up rules, a
//! recognised password hash, uniqueness within the file); then each valid user is written with
//! its username, email and legacy-id claims in one conditional transaction, many at a time.
//! A line that cannot be taken is reported with its number and reason and changes nothing. A
//! legacy id imported already is skipped, so running a file twice imports it once; `--resume`
//! also skips the lines a checkpoint file (`<FILE>.import-state`) records as done.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use bookshelf::import::{parse_line, ImportedUser};
use bookshelf::store::keys::{email_claim, legacy_claim, username_claim};
use bookshelf::store::{Claim, Store, StoreError, UserRecord};
use indicatif::ProgressBar;
use tokio::sync::Semaphore;

#[derive(Debug, Clone)]
pub struct Options {
    /// Validate the file and check it against the table; write nothing.
    pub dry_run: bool,
    /// Skip the lines the checkpoint of an interrupted run records as done.
    pub resume: bool,
    /// Transactions in flight at once.
    pub concurrency: usize,
    /// The app the users come from: it namespaces their ids, so two apps' user 1 are two users.
    pub source: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options { dry_run: false, resume: false, concurrency: 32, source: None }
    }
}

/// A line not taken, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub line: usize,
    pub reason: String,
}

#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub lines: usize,
    /// Written now (in a dry run: would be).
    pub imported: usize,
    /// Already in the table (their legacy id), or done before a `--resume`.
    pub skipped: usize,
    pub refused: Vec<Refusal>,
    /// Lines the database could not take now (throttling past the SDK's retries, an outage):
    /// nothing of them was written; a `--resume` retries them.
    pub failed: Vec<Refusal>,
    pub seconds: f64,
}

impl Summary {
    pub fn users_per_second(&self) -> f64 {
        self.imported as f64 / self.seconds.max(1e-9)
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} lines: {} imported, {} skipped, {} refused, {} failed in {:.1} s ({:.0} users/s)",
            self.lines,
            self.imported,
            self.skipped,
            self.refused.len(),
            self.failed.len(),
            self.seconds,
            self.users_per_second()
        )
    }
}

/// Where an interrupted run's progress is kept.
pub fn checkpoint_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".import-state");
    PathBuf::from(name)
}

/// The first line number (1-based) not known to be done, from the checkpoint.
fn resume_after(file: &Path) -> usize {
    std::fs::read_to_string(checkpoint_path(file)).ok().and_then(|t| t.trim().parse().ok()).unwrap_or(0)
}

/// Imports `file` into `store`. Errors are about the file itself (it cannot be read); a bad
/// line is a refusal in the summary.
pub async fn run(store: &Store, file: &Path, options: &Options, progress: &ProgressBar) -> Result<Summary, String> {
    let started = Instant::now();
    let text = tokio::fs::read_to_string(file).await.map_err(|e| format!("{}: {e}", file.display()))?;
    let now = bookshelf::clock::Clock::system().now();
    let done_before = if options.resume { resume_after(file) } else { 0 };
    let mut summary = Summary::default();

    // 1. Every line, validated, with uniqueness within the file (the first occurrence wins).
    let mut users: Vec<(usize, ImportedUser)> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        summary.lines += 1;
        if number <= done_before {
            summary.skipped += 1;
            continue;
        }
        let user = match parse_line(line, now) {
            Ok(mut user) => {
                user.user.legacy_source = options.source.clone();
                user
            }
            Err(reason) => {
                summary.refused.push(Refusal { line: number, reason });
                continue;
            }
        };
        let (username, email) = user.name_keys();
        let keys = [
            Some(("id", legacy_claim(options.source.as_deref(), user.legacy_id()))),
            username.map(|k| ("username", username_claim(k))),
            email.map(|k| ("email", email_claim(k))),
        ];
        if let Some((what, first)) = keys.iter().flatten().find_map(|(what, k)| seen.get(k).map(|l| (what, *l))) {
            summary.refused.push(Refusal { line: number, reason: format!("duplicate {what} (line {first})") });
            continue;
        }
        for (_, key) in keys.into_iter().flatten() {
            seen.insert(key, number);
        }
        users.push((number, user));
    }
    progress.set_length(users.len() as u64);

    // 2. A dry run checks the table instead of writing to it.
    if options.dry_run {
        let claims: Vec<String> = seen.keys().cloned().collect();
        let taken = store.claims_taken(&claims).await.map_err(|e| format!("reading the table: {e}"))?;
        for (number, user) in users {
            let (username, email) = user.name_keys();
            if taken.contains(&legacy_claim(options.source.as_deref(), user.legacy_id())) {
                summary.skipped += 1;
            } else if username.is_some_and(|k| taken.contains(&username_claim(k))) {
                summary.refused.push(Refusal { line: number, reason: "username taken in the table".to_owned() });
            } else if email.is_some_and(|k| taken.contains(&email_claim(k))) {
                summary.refused.push(Refusal { line: number, reason: "email taken in the table".to_owned() });
            } else {
                summary.imported += 1;
            }
            progress.inc(1);
        }
        summary.refused.sort_by_key(|r| r.line);
        summary.seconds = started.elapsed().as_secs_f64();
        return Ok(summary);
    }

    // 3. One conditional transaction per user, `concurrency` at a time.
    let pending: BTreeSet<usize> = users.iter().map(|(number, _)| *number).collect();
    let permits = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (number, user) in users {
        let permit = Arc::clone(&permits).acquire_owned().await.map_err(|e| e.to_string())?;
        let store = store.clone();
        tasks.spawn(async move {
            let record = UserRecord::imported(uuid::Uuid::now_v7(), user.user, now);
            let outcome = store.import_user(&record).await;
            drop(permit);
            (number, outcome)
        });
    }
    let mut checkpoint = Checkpoint::new(file, pending, text.lines().count());
    while let Some(joined) = tasks.join_next().await {
        let (number, outcome) = joined.map_err(|e| e.to_string())?;
        match outcome {
            Ok(()) => summary.imported += 1,
            Err(StoreError::Conflict(Claim::Legacy)) => summary.skipped += 1,
            Err(StoreError::Conflict(Claim::Username)) => {
                summary.refused.push(Refusal { line: number, reason: "username taken in the table".to_owned() })
            }
            Err(StoreError::Conflict(Claim::Email)) => {
                summary.refused.push(Refusal { line: number, reason: "email taken in the table".to_owned() })
            }
            Err(e) => summary.failed.push(Refusal { line: number, reason: e.to_string() }),
        }
        if summary.failed.last().is_none_or(|f| f.line != number) {
            checkpoint.finished(number);
        }
        progress.inc(1);
    }
    checkpoint.save();
    summary.refused.sort_by_key(|r| r.line);
    summary.failed.sort_by_key(|r| r.line);
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// The line up to which everything is done (written, skipped or refused): saved every thousand
/// users and at the end, so `--resume` continues after it. A line the database could not take
/// stays pending, so a resumed run retries it and everything after it.
struct Checkpoint {
    path: PathBuf,
    pending: BTreeSet<usize>,
    last_line: usize,
    since_save: usize,
}

impl Checkpoint {
    fn new(file: &Path, pending: BTreeSet<usize>, last_line: usize) -> Self {
        Checkpoint { path: checkpoint_path(file), pending, last_line, since_save: 0 }
    }

    fn finished(&mut self, line: usize) {
        self.pending.remove(&line);
        self.since_save += 1;
        if self.since_save >= 1_000 {
            self.save();
        }
    }

    fn save(&mut self) {
        let done = self.pending.first().map_or(self.last_line, |first| first - 1);
        let _ = std::fs::write(&self.path, done.to_string());
        self.since_save = 0;
    }
}
