//! Bookshelf (PATCHES.md): deflates the frequency lists of `data/` into `OUT_DIR`, where
//! `src/frequency_lists.rs` includes them.

use std::path::Path;

const LISTS: [&str; 6] = ["passwords", "english_wiki", "female_names", "surnames", "us_tv_and_film", "male_names"];

fn main() {
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    println!("cargo:rerun-if-changed=build.rs");
    for list in LISTS {
        let source = format!("data/{list}.txt");
        println!("cargo:rerun-if-changed={source}");
        let text = std::fs::read(&source).unwrap_or_else(|e| panic!("{source}: {e}"));
        let deflated = miniz_oxide::deflate::compress_to_vec(&text, 10);
        std::fs::write(Path::new(&out_dir).join(format!("{list}.deflate")), deflated).expect("write to OUT_DIR");
    }
}
