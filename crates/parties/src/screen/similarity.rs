//! How alike two spellings of a word are: Jaro-Winkler over bytes
//! ([`jaro_winkler`]) and a cheap upper bound of it ([`jaro_winkler_bound`]),
//! read by the tokens (legal forms mistyped) and the matcher.

/// Jaro-Winkler similarity of two words, as `strsim::jaro_winkler` gives
/// it (equal to it, tested), over bytes without allocating for the words
/// names are made of (ASCII, under 64 letters); others through `strsim`.
pub fn jaro_winkler(a: &[u8], b: &[u8]) -> f64 {
    const MAX: usize = 64;
    let (la, lb) = (a.len(), b.len());
    if la > MAX || lb > MAX || !a.is_ascii() || !b.is_ascii() {
        return strsim::jaro_winkler(&String::from_utf8_lossy(a), &String::from_utf8_lossy(b));
    }
    if la == 0 || lb == 0 {
        return f64::from(u8::from(la == lb));
    }
    let range = (la.max(lb) / 2).saturating_sub(1);
    let (mut a_flags, mut b_flags) = ([false; MAX], [false; MAX]);
    let mut matches = 0usize;
    for (i, &c) in a.iter().enumerate() {
        let lo = i.saturating_sub(range);
        let hi = lb.min(i + range + 1);
        for j in lo..hi {
            if !b_flags[j] && b[j] == c {
                a_flags[i] = true;
                b_flags[j] = true;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let mut transpositions = 0usize;
    let mut k = 0usize;
    for i in (0..la).filter(|&i| a_flags[i]) {
        while !b_flags[k] {
            k += 1;
        }
        if a[i] != b[k] {
            transpositions += 1;
        }
        k += 1;
    }
    let m = matches as f64;
    let jaro = (m / la as f64 + m / lb as f64 + (matches - transpositions / 2) as f64 / m) / 3.0;
    if jaro > 0.7 {
        let prefix = a.iter().take(4).zip(b).take_while(|(x, y)| x == y).count();
        jaro + 0.1 * prefix as f64 * (1.0 - jaro)
    } else {
        jaro
    }
}

/// An upper bound of [`jaro_winkler`] from the letters two words share (at
/// most as many matches as common letters, no transposition, the common
/// prefix's bonus), cheaper than the similarity itself: most pairs that
/// reach it fall short.
pub fn jaro_winkler_bound(x: &[u8], y: &[u8]) -> f64 {
    if x.is_empty() || y.is_empty() || !x.is_ascii() || !y.is_ascii() {
        return 1.0;
    }
    let mut counts = [0i16; 128];
    for &c in x {
        counts[c as usize] += 1;
    }
    let mut common = 0usize;
    for &c in y {
        let k = &mut counts[c as usize];
        if *k > 0 {
            *k -= 1;
            common += 1;
        }
    }
    let m = common as f64;
    let jaro = (m / x.len() as f64 + m / y.len() as f64 + 1.0) / 3.0;
    let prefix = x.iter().take(4).zip(y).take_while(|(a, b)| a == b).count();
    jaro + 0.1 * prefix as f64 * (1.0 - jaro)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Words alike and not: typos, swaps, repeats, numbers, the empty word.
    const WORDS: &[&str] = &[
        "SUPPLY",
        "SUPPLIES",
        "SYSTEMS",
        "DORVINMON",
        "DORVINBER",
        "TECHNOLOGY",
        "TECHNOLGOY",
        "CARGO",
        "CAGRO",
        "A",
        "",
        "MARTHA",
        "MARHTA",
        "DIXON",
        "DICKSONX",
        "JELLYFISH",
        "SMELLYFISH",
        "INDU",
        "INDUSTRIES",
        "ABCABCABC",
        "CBACBACBA",
        "AAAAB",
        "BAAAA",
        "11420",
        "11421",
    ];

    #[test]
    fn jaro_winkler_is_strsims() {
        for a in WORDS {
            for b in WORDS {
                let ours = jaro_winkler(a.as_bytes(), b.as_bytes());
                let theirs = strsim::jaro_winkler(a, b);
                assert!((ours - theirs).abs() < 1e-12, "{a} {b}: {ours} vs {theirs}");
            }
        }
    }

    #[test]
    fn the_letter_bound_never_falls_below_jaro_winkler() {
        for a in WORDS {
            for b in WORDS {
                let (x, y) = (a.as_bytes(), b.as_bytes());
                assert!(jaro_winkler_bound(x, y) + 1e-12 >= jaro_winkler(x, y), "{a} {b}");
            }
        }
    }
}
