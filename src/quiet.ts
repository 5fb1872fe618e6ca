// Imported first by the CLI, before LanceDB loads: its Rust core logs
// deprecation warnings to stderr on ordinary queries; keep it to real errors
// unless the user set LANCEDB_LOG themselves.
process.env.LANCEDB_LOG ??= 'error';
