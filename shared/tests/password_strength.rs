//! The strength rules keep their verdicts: zxcvbn is a patched copy (`vendor/zxcvbn`, smaller
//! dependencies and dictionaries), and must judge every password as zxcvbn 3.1.1 from
//! crates.io does.
//!
//! `fixtures/zxcvbn-3.1.1.jsonl` holds 2,075 passwords (words, names, l33t, repeats, dates,
//! years, keyboard walks, sequences, Unicode, pseudo-random strings, some with user inputs)
//! with crates.io zxcvbn 3.1.1's guesses, score and warning for each, taken from 20 runs of
//! it. For 7 of them its guesses differ from run to run (the estimator breaks ties between
//! equally likely matches in `HashMap` order); those carry `"guesses": null` and pin only the
//! score and warning, which never varied.

use bookshelf::domain::Password;
use bookshelf::password::{check_strength, UserAttributes};
use serde_json::Value;

#[test]
fn zxcvbn_judges_every_password_of_the_corpus_as_crates_io_zxcvbn_3_1_1() {
    let text = include_str!("fixtures/zxcvbn-3.1.1.jsonl");
    let mut checked = 0;
    for line in text.lines() {
        let expected: Value = serde_json::from_str(line).expect("a JSON line");
        let password = expected["password"].as_str().expect("password");
        let inputs: Vec<&str> = expected["user_inputs"]
            .as_array()
            .map(|a| a.iter().map(|v| v.as_str().expect("input")).collect())
            .unwrap_or_default();
        let estimate = zxcvbn::zxcvbn(password, &inputs);
        assert_eq!(
            u64::from(estimate.score() as u8),
            expected["score"].as_u64().expect("score"),
            "score of {password:?}"
        );
        let warning = estimate.feedback().and_then(|f| f.warning()).map(|w| w.to_string());
        assert_eq!(warning.as_deref(), expected["warning"].as_str(), "warning for {password:?}");
        if let Some(guesses) = expected["guesses"].as_u64() {
            assert_eq!(estimate.guesses(), guesses, "guesses for {password:?}");
        }
        checked += 1;
    }
    assert_eq!(checked, 2075);
}

fn strength(password: &str) -> Result<(), String> {
    let user = UserAttributes {
        username: Some("reader_3f2a9c"),
        email: Some("reader_3f2a9c@example.com"),
        ..Default::default()
    };
    check_strength(&Password::parse(password.to_owned()).expect("8 to 128 characters"), user)
}

#[test]
fn weak_passwords_are_refused_and_strong_ones_accepted_as_before() {
    assert_eq!(strength("p@ssw0rd").expect_err("l33t of a top password"), "This password is too common.");
    assert_eq!(strength("qwertyuiop").expect_err("top-100"), "This password is too common.");
    assert_eq!(
        strength("abcabcabc").expect_err("repeat"),
        "This password is too weak. Repeats like \"abcabcabc\" are only slightly harder to guess than \"abc\"."
    );
    assert_eq!(strength("12/05/1987").expect_err("date"), "This password is too weak. Dates are often easy to guess.");
    assert_eq!(
        strength("born1987").expect_err("recent year"),
        "This password is too weak. Recent years are easy to guess."
    );
    assert_eq!(strength("correct horse battery staple"), Ok(()));
    assert_eq!(strength("Tr0ub4dor&3"), Ok(()));
    assert_eq!(strength("bookshelf-reader-2024"), Ok(()));
}
