use std::collections::HashMap;

// Bookshelf (PATCHES.md): the lists live in `data/*.txt` as upstream had them here (one
// comma-separated string each, most frequent first); `build.rs` deflates them, and they are
// inflated once, when the dictionaries are first used, instead of lying uncompressed in every
// binary (≈ 0.79 MB, ≈ 0.39 MB deflated).
lazy_static! {
    static ref PASSWORDS: &'static str = inflate(include_bytes!(concat!(env!("OUT_DIR"), "/passwords.deflate")));
    static ref ENGLISH_WIKI: &'static str = inflate(include_bytes!(concat!(env!("OUT_DIR"), "/english_wiki.deflate")));
    static ref FEMALE_NAMES: &'static str = inflate(include_bytes!(concat!(env!("OUT_DIR"), "/female_names.deflate")));
    static ref SURNAMES: &'static str = inflate(include_bytes!(concat!(env!("OUT_DIR"), "/surnames.deflate")));
    static ref US_TV_AND_FILM: &'static str = inflate(include_bytes!(concat!(env!("OUT_DIR"), "/us_tv_and_film.deflate")));
    static ref MALE_NAMES: &'static str = inflate(include_bytes!(concat!(env!("OUT_DIR"), "/male_names.deflate")));
}

/// One list, inflated into a string that lives as long as the process (the dictionaries
/// borrow their words from it).
fn inflate(deflated: &[u8]) -> &'static str {
    let bytes = miniz_oxide::inflate::decompress_to_vec(deflated).expect("a list deflated by build.rs");
    Box::leak(String::from_utf8(bytes).expect("a list of UTF-8 words").into_boxed_str())
}

#[derive(Copy, Clone, Debug, Eq, PartialEq, Hash, Default)]
#[cfg_attr(feature = "ser", derive(serde::Deserialize, serde::Serialize))]
pub enum DictionaryType {
    #[default]
    Passwords,
    English,
    FemaleNames,
    MaleNames,
    Surnames,
    UsTvAndFilm,
    UserInputs,
}

lazy_static! {
    pub(crate) static ref RANKED_DICTIONARIES: HashMap<DictionaryType, HashMap<&'static str, usize>> = {
        let mut dicts = HashMap::with_capacity(6);
        dicts.insert(
            DictionaryType::Passwords,
            PASSWORDS
                .split(',')
                .enumerate()
                .map(|(i, x)| (x, i + 1))
                .collect(),
        );
        dicts.insert(
            DictionaryType::English,
            ENGLISH_WIKI
                .split(',')
                .enumerate()
                .map(|(i, x)| (x, i + 1))
                .collect(),
        );
        dicts.insert(
            DictionaryType::FemaleNames,
            FEMALE_NAMES
                .split(',')
                .enumerate()
                .map(|(i, x)| (x, i + 1))
                .collect(),
        );
        dicts.insert(
            DictionaryType::MaleNames,
            MALE_NAMES
                .split(',')
                .enumerate()
                .map(|(i, x)| (x, i + 1))
                .collect(),
        );
        dicts.insert(
            DictionaryType::Surnames,
            SURNAMES
                .split(',')
                .enumerate()
                .map(|(i, x)| (x, i + 1))
                .collect(),
        );
        dicts.insert(
            DictionaryType::UsTvAndFilm,
            US_TV_AND_FILM
                .split(',')
                .enumerate()
                .map(|(i, x)| (x, i + 1))
                .collect(),
        );
        dicts
    };
}
