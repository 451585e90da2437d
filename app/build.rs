//! Generates the `i18n` module from `locales/*.json` with leptos_i18n_build.
//! Only the translation module is generated here; ICU data is compiled in by
//! leptos_i18n's `icu_compiled_data` feature, so the build never downloads.

use std::error::Error;
use std::path::PathBuf;

use leptos_i18n_build::{Config, ParseOptions, TranslationsInfos};

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=Cargo.toml");

    let out_dir = std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?;
    let module_dir = PathBuf::from(out_dir).join("i18n");

    let options = ParseOptions::default().interpolate_display(true);
    let config = Config::new("zh-CN")?
        .add_locale("en")?
        .parse_options(options);
    let translations = TranslationsInfos::parse(config)?;
    translations.emit_diagnostics();
    translations.rerun_if_locales_changed();
    translations.generate_i18n_module(module_dir)?;
    Ok(())
}
