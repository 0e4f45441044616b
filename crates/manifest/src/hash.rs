//! Stable hashes (FNV-1a): the same value on every machine and every run,
//! for keys that models store (party keys, text-model features, the drift
//! guard's vocabulary) and for the generator's fixed choices.

/// An FNV-1a hasher of one width, fed byte by byte.
macro_rules! fnv {
    ($name:ident, $t:ty, $offset:literal, $prime:literal, $bits:literal) => {
        #[doc = concat!("FNV-1a, ", $bits, " bits, fed byte by byte.")]
        #[derive(Debug, Clone, Copy)]
        pub struct $name(pub $t);

        impl $name {
            pub const OFFSET: $t = $offset;

            pub fn new() -> $name {
                $name(Self::OFFSET)
            }

            pub fn byte(&mut self, b: u8) {
                self.0 ^= <$t>::from(b);
                self.0 = self.0.wrapping_mul($prime);
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

        impl Default for $name {
            fn default() -> Self {
                $name::new()
            }
        }
    };
}

fnv!(Fnv32, u32, 0x811c_9dc5, 0x0100_0193, "32");
fnv!(Fnv64, u64, 0xcbf2_9ce4_8422_2325, 0x0100_0000_01b3, "64");

/// Uniform numbers in 0..1 from a seed (a 64-bit LCG), for tests (in every crate) that need
/// reproducible data without an RNG crate's stream guarantees.
pub fn test_uniform(seed: u64) -> impl FnMut() -> f64 {
    let mut s = seed;
    move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
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
