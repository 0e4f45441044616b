//! A value made on first use and kept beside what it was made from.

/// A form of a model part made on its first use and kept with it (a
/// forest's trees laid out for fast walks). It is not part of what the part
/// is: equal parts compare equal whether or not it is made, a clone starts
/// without it, and it is never serialised (`#[serde(skip)]`), so artifacts
/// do not change.
pub struct Cached<T>(std::sync::OnceLock<T>);

impl<T> Cached<T> {
    pub fn get_or_init(&self, make: impl FnOnce() -> T) -> &T {
        self.0.get_or_init(make)
    }
}

impl<T> Default for Cached<T> {
    fn default() -> Self {
        Cached(std::sync::OnceLock::new())
    }
}

impl<T> Clone for Cached<T> {
    fn clone(&self) -> Self {
        Cached::default()
    }
}

impl<T> PartialEq for Cached<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<T> std::fmt::Debug for Cached<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cached")
    }
}
