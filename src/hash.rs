//! Stable hashes (FNV-1a): the same value on every machine and every run,
//! for keys that models store (party keys, text-model features, the drift
//! guard's vocabulary) and for the generator's fixed choices.

/// FNV-1a, 32 bits, fed byte by byte.
#[derive(Debug, Clone, Copy)]
pub struct Fnv32(pub u32);

impl Fnv32 {
    pub const OFFSET: u32 = 0x811c_9dc5;

    pub fn new() -> Fnv32 {
        Fnv32(Self::OFFSET)
    }

    pub fn byte(&mut self, b: u8) {
        self.0 ^= u32::from(b);
        self.0 = self.0.wrapping_mul(0x0100_0193);
    }

    pub fn bytes(&mut self, bs: &[u8]) {
        for b in bs {
            self.byte(*b);
        }
    }

    /// Feeds a character as its UTF-8 bytes.
    pub fn char(&mut self, c: char) {
        let mut buf = [0u8; 4];
        self.bytes(c.encode_utf8(&mut buf).as_bytes());
    }
}

impl Default for Fnv32 {
    fn default() -> Self {
        Fnv32::new()
    }
}

/// FNV-1a, 64 bits, fed byte by byte.
#[derive(Debug, Clone, Copy)]
pub struct Fnv64(pub u64);

impl Fnv64 {
    pub const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

    pub fn new() -> Fnv64 {
        Fnv64(Self::OFFSET)
    }

    pub fn byte(&mut self, b: u8) {
        self.0 ^= u64::from(b);
        self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
    }

    pub fn bytes(&mut self, bs: &[u8]) {
        for b in bs {
            self.byte(*b);
        }
    }

    /// Feeds a character as its UTF-8 bytes.
    pub fn char(&mut self, c: char) {
        let mut buf = [0u8; 4];
        self.bytes(c.encode_utf8(&mut buf).as_bytes());
    }
}

impl Default for Fnv64 {
    fn default() -> Self {
        Fnv64::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // The published FNV-1a test vectors.
        let mut h = Fnv32::new();
        h.bytes(b"a");
        assert_eq!(h.0, 0xe40c_292c);
        let mut h = Fnv64::new();
        h.bytes(b"a");
        assert_eq!(h.0, 0xaf63_dc4c_8601_ec8c);
        let mut h = Fnv64::new();
        h.char('é');
        let mut g = Fnv64::new();
        g.bytes("é".as_bytes());
        assert_eq!(h.0, g.0);
    }
}
