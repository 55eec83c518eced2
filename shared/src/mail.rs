//! Outgoing mail: Amazon SES in AWS, a file outbox locally. Messages are plain, friendly text
//! with an HTML part, and their links are built from `APP_BASE_URL`, never from a request.

use std::path::PathBuf;

use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use serde::Serialize;

use crate::clock::{rfc3339, UnixMs};
use crate::error::Cause;

#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Debug, thiserror::Error)]
#[error("mail not sent")]
pub struct MailError(#[source] pub Cause);

pub enum Mailer {
    /// Writes each message as one JSON file `{to, subject, text, html, sent_at}`.
    Outbox(PathBuf),
    /// Sends through Amazon SES from `from`; the client is made on first use, so functions
    /// that never send mail pay nothing for it at cold start.
    Ses { sdk: Box<aws_config::SdkConfig>, client: std::sync::OnceLock<aws_sdk_sesv2::Client>, from: String },
}

#[derive(Serialize)]
struct OutboxMessage<'a> {
    to: &'a str,
    subject: &'a str,
    text: &'a str,
    html: &'a str,
    sent_at: String,
}

impl Mailer {
    pub fn from_config(config: &crate::config::Config) -> Self {
        match (config.mail_sender, &config.mail_from) {
            (crate::config::MailSender::Ses, Some(from)) => Mailer::Ses {
                sdk: Box::new(crate::aws::sdk_config(config)),
                client: std::sync::OnceLock::new(),
                from: from.clone(),
            },
            _ => Mailer::Outbox(config.mail_outbox_dir.clone()),
        }
    }

    pub async fn send(&self, mail: &Mail, now: UnixMs) -> Result<(), MailError> {
        match self {
            Mailer::Outbox(dir) => {
                let message = OutboxMessage {
                    to: &mail.to,
                    subject: &mail.subject,
                    text: &mail.text,
                    html: &mail.html,
                    sent_at: rfc3339(now),
                };
                let json = serde_json::to_vec_pretty(&message).map_err(|e| MailError(Box::new(e)))?;
                let name = format!("{}-{}", now.as_ms(), uuid::Uuid::new_v4().simple());
                // Written aside and renamed, so a reader never sees half a message.
                let partial = dir.join(format!(".{name}.tmp"));
                let done = dir.join(format!("{name}.json"));
                let write = async {
                    tokio::fs::create_dir_all(dir).await?;
                    tokio::fs::write(&partial, json).await?;
                    tokio::fs::rename(&partial, &done).await
                };
                write.await.map_err(|e| MailError(Box::new(e)))
            }
            Mailer::Ses { sdk, client, from } => {
                let client = client.get_or_init(|| aws_sdk_sesv2::Client::new(sdk));
                let content = |data: &str| Content::builder().data(data).charset("UTF-8").build();
                let message = Message::builder()
                    .subject(content(&mail.subject).map_err(|e| MailError(Box::new(e)))?)
                    .body(
                        Body::builder()
                            .text(content(&mail.text).map_err(|e| MailError(Box::new(e)))?)
                            .html(content(&mail.html).map_err(|e| MailError(Box::new(e)))?)
                            .build(),
                    )
                    .build();
                client
                    .send_email()
                    .from_email_address(from)
                    .destination(Destination::builder().to_addresses(&mail.to).build())
                    .content(EmailContent::builder().simple(message).build())
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| MailError(aws_sdk_sesv2::error::DisplayErrorContext(e).to_string().into()))
            }
        }
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn html(greeting: &str, lines: &[&str], link: &str, action: &str) -> String {
    let paragraphs: String = lines.iter().map(|l| format!("<p>{}</p>", escape(l))).collect();
    format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\"><p>{}</p>{paragraphs}\
         <p><a href=\"{link}\">{}</a></p><p style=\"color:#666\">Bookshelf</p></body></html>",
        escape(greeting),
        escape(action),
        link = escape(link),
    )
}

/// The message asking a user to confirm their email address.
pub fn verification(to: &str, name: &str, link: &str) -> Mail {
    let greeting = format!("Hi {name},");
    let lines = [
        "Please confirm that this is your email address, so we can reach you about your account.",
        "The link works once and expires in 24 hours. If you did not ask for this, you can ignore this message.",
    ];
    Mail {
        to: to.to_owned(),
        subject: "Confirm your email address".to_owned(),
        text: format!("{greeting}\n\n{}\n\n{link}\n\n{}\n\n— Bookshelf\n", lines[0], lines[1]),
        html: html(&greeting, &lines, link, "Confirm my email address"),
    }
}

/// The message carrying a password reset link.
pub fn password_reset(to: &str, name: &str, link: &str) -> Mail {
    let greeting = format!("Hi {name},");
    let lines = [
        "Someone (hopefully you) asked to reset the password of your Bookshelf account. Choose a new one here:",
        "The link works once and expires in 30 minutes. If you did not ask for this, ignore this message: \
         your password stays as it is.",
    ];
    Mail {
        to: to.to_owned(),
        subject: "Reset your password".to_owned(),
        text: format!("{greeting}\n\n{}\n\n{link}\n\n{}\n\n— Bookshelf\n", lines[0], lines[1]),
        html: html(&greeting, &lines, link, "Choose a new password"),
    }
}

/// The notice to an old address that the account's email address changed (where a profile
/// lets the change happen without the password), linking to the password reset page.
pub fn email_changed(to: &str, new_address: &str, name: &str, link: &str) -> Mail {
    let greeting = format!("Hi {name},");
    let first = format!("The email address of your Bookshelf account was changed to {new_address}.");
    let lines =
        [first.as_str(), "If you made this change, there is nothing to do. If you did not, reset your password now:"];
    Mail {
        to: to.to_owned(),
        subject: "Your email address was changed".to_owned(),
        text: format!("{greeting}\n\n{}\n\n{}\n\n{link}\n\n— Bookshelf\n", lines[0], lines[1]),
        html: html(&greeting, &lines, link, "Reset my password"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_carry_the_link_in_text_and_escaped_html() {
        let mail = verification("a@example.com", "Ann <script>", "https://app.example/verify-email?token=abc");
        assert!(mail.text.contains("https://app.example/verify-email?token=abc"));
        assert!(mail.html.contains("href=\"https://app.example/verify-email?token=abc\""));
        assert!(!mail.html.contains("<script>"));
    }

    #[tokio::test]
    async fn the_outbox_writes_one_complete_json_file_per_message() {
        let dir = std::env::temp_dir().join(format!("outbox-{}", uuid::Uuid::new_v4()));
        let mailer = Mailer::Outbox(dir.clone());
        mailer
            .send(&password_reset("b@example.com", "Bo", "https://x/reset-password?token=t"), UnixMs::from_ms(0))
            .await
            .expect("sent");
        let files: Vec<_> = std::fs::read_dir(&dir).expect("dir").map(|e| e.expect("entry").path()).collect();
        assert_eq!(files.len(), 1);
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&files[0]).expect("read")).expect("json");
        assert_eq!(json["to"], "b@example.com");
        assert_eq!(json["sent_at"], "1970-01-01T00:00:00.000Z");
        assert!(json["text"].as_str().expect("text").contains("reset-password?token=t"));
    }
}
