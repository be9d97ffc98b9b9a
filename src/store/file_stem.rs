//! [`file_stem`]: a scenario or test name as a file name (seeds files, schedule files,
//! in-flight logs all derive their names from it).

/// A scenario or test name as a file name valid on Linux, macOS and Windows: `::` (a
/// test's module path) becomes `.`, each character Windows forbids (`<>:"/\|?*`,
/// control characters) becomes `_`, as does a trailing dot or space (Windows drops
/// them), and a Windows device name (`con`, `nul`, `com1`, ...) gets a leading `_`.
/// Names made of letters, digits, `-`, `_` and inner dots are kept as they are.
pub fn file_stem(name: &str) -> String {
    let mut stem: String = name
        .replace("::", ".")
        .chars()
        .map(|c| match c {
            '<' | '>' | ':' | '"' | '/' | '\\' | '|' | '?' | '*' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    if stem.ends_with(['.', ' ']) {
        stem.pop();
        stem.push('_');
    }
    let device = stem.split('.').next().unwrap_or("").to_ascii_lowercase();
    let reserved = ["con", "prn", "aux", "nul"].contains(&device.as_str())
        || (device.len() == 4
            && (device.starts_with("com") || device.starts_with("lpt"))
            && device.as_bytes()[3].is_ascii_digit());
    if reserved || stem.is_empty() {
        stem.insert(0, '_');
    }
    stem
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_stems_are_valid_on_windows() {
        assert_eq!(file_stem("bank"), "bank");
        assert_eq!(file_stem("kv-replication"), "kv-replication");
        assert_eq!(file_stem("failing::lost_update"), "failing.lost_update");
        assert_eq!(file_stem("a::b::c_d"), "a.b.c_d");
        assert_eq!(file_stem(r#"x<y>:"/\|?*"#), "x_y________");
        assert_eq!(file_stem("tab\there."), "tab_here_"); // a tab, and a trailing dot
        assert_eq!(file_stem("con"), "_con");
        assert_eq!(file_stem("COM1::x"), "_COM1.x");
        assert_eq!(file_stem("console"), "console");
        assert_eq!(file_stem(""), "_");
    }
}
