//! What the property-test files share.

use proptest::prelude::ProptestConfig;

/// 512 cases per property, or `PROPTEST_CASES`. Failures print their minimal input; no
/// regression files are written into the source tree.
pub fn config() -> ProptestConfig {
    let config = ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    match std::env::var_os("PROPTEST_CASES") {
        Some(_) => config,
        None => ProptestConfig {
            cases: 512,
            ..config
        },
    }
}
