//! Any bytes given as a manifest end in a project or a diagnostic: never a panic, a hang or a huge
//! allocation. Run from tests/fuzz: `cargo +nightly fuzz run --fuzz-dir . manifest_load corpus seeds --
//! -max_total_time=600` (new inputs go to the ignored corpus/, seeds/ is read only).
#![no_main]

use libfuzzer_sys::fuzz_target;
use stackctl::manifest::{LoadOptions, load};

fuzz_target!(|data: &[u8]| {
    let opts = LoadOptions {
        cwd: "/nonexistent-fuzz-project".into(),
        project_name: Some("fuzz".into()),
        environ: [("SET".to_owned(), "value".to_owned())]
            .into_iter()
            .collect(),
        inline: Some(data.to_vec()),
        ..LoadOptions::default()
    };
    if let Ok(loaded) = load(&opts) {
        // The normalised form must always serialise, as `stackctl config` prints it.
        let _ = serde_yaml::to_string(&loaded.project);
        let _ = stackctl::plan::build(&loaded.project, &Default::default());
    }
});
