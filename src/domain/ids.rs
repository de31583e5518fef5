//! Identifier shapes of the platform (BEHAVIOR R012–R014) and their
//! generator.
//!
//! Object ids follow MongoDB's layout: 4 bytes of creation time (seconds),
//! 5 bytes fixed per process and a 3-byte counter, printed as 24 lowercase
//! hex characters. With a seed the process bytes and the counter start are
//! derived from it, so the same requests on a virtual clock produce the same
//! ids on every run.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::atomic::{AtomicU32, Ordering};

use super::Millis;

/// A string stored inline when it is at most 24 bytes long, so a 24-hex
/// object id or a short name costs no allocation of its own
/// (`compact_str::CompactString`; it serializes as a plain string). Used
/// for the ids and names every agent record holds.
pub type ShortStr = compact_str::CompactString;

/// True when `s` is a 24-character lowercase hex ObjectId (`^[a-f\d]{24}$`).
pub fn is_object_id(s: &str) -> bool {
    s.len() == 24 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// True for `CALL-<13 digits>-<6 lowercase hex>` (R013).
pub fn is_call_id(s: &str) -> bool {
    let mut parts = s.splitn(3, '-');
    parts.next() == Some("CALL")
        && parts.next().is_some_and(|ms| ms.len() == 13 && ms.bytes().all(|b| b.is_ascii_digit()))
        && parts
            .next()
            .is_some_and(|h| h.len() == 6 && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

/// True for a dialable number: an optional `+`, then 8–15 digits not
/// starting with 0 (the country code is mandatory; audiences accept the
/// `+` as optional, L-I4).
pub fn is_phone(s: &str) -> bool {
    let d = s.strip_prefix('+').unwrap_or(s);
    (8..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()) && !d.starts_with('0')
}

/// True for E.164: [`is_phone`] with the leading `+` (R102).
pub fn is_e164(s: &str) -> bool {
    s.starts_with('+') && is_phone(s)
}

/// Generates object ids, call ids and UUIDs. Lock-free: one atomic counter.
#[derive(Debug)]
pub struct IdGen {
    process: [u8; 5],
    counter: AtomicU32,
    uuid_seed: Option<u64>,
}

impl IdGen {
    /// A generator; `seed` makes every id sequence reproducible.
    pub fn new(seed: Option<u64>) -> Self {
        let mut rng = match seed {
            Some(s) => ChaCha8Rng::seed_from_u64(s),
            None => ChaCha8Rng::from_entropy(),
        };
        let mut process = [0u8; 5];
        rng.fill(&mut process);
        Self { process, counter: AtomicU32::new(rng.gen::<u32>() & 0x00ff_ffff), uuid_seed: seed }
    }

    /// The counter's next value: with [`IdGen::resume`], what a state
    /// snapshot keeps so a restarted mock never repeats an id.
    pub fn counter(&self) -> u32 {
        self.counter.load(Ordering::Relaxed) & 0x00ff_ffff
    }

    /// Continues counting from `counter` (a snapshot's [`IdGen::counter`]).
    pub fn resume(&self, counter: u32) {
        self.counter.store(counter & 0x00ff_ffff, Ordering::Relaxed);
    }

    fn next_count(&self) -> u32 {
        self.counter.fetch_add(1, Ordering::Relaxed) & 0x00ff_ffff
    }

    /// A fresh 24-hex ObjectId stamped with `now` (epoch ms).
    pub fn object_id(&self, now: Millis) -> String {
        hex(&self.object_id_bytes(now))
    }

    /// [`IdGen::object_id`] as a [`ShortStr`], which holds its 24 bytes
    /// inline (no heap allocation).
    pub fn short_object_id(&self, now: Millis) -> ShortStr {
        short_hex(self.object_id_bytes(now))
    }

    fn object_id_bytes(&self, now: Millis) -> [u8; 12] {
        let secs = u32::try_from(now.max(0) / 1000).unwrap_or(u32::MAX);
        let c = self.next_count();
        let mut bytes = [0u8; 12];
        bytes[..4].copy_from_slice(&secs.to_be_bytes());
        bytes[4..9].copy_from_slice(&self.process);
        bytes[9..].copy_from_slice(&c.to_be_bytes()[1..]);
        bytes
    }

    /// A call id `CALL-<13-digit epoch ms>-<6 lowercase hex>` (R013).
    pub fn call_id(&self, now: Millis) -> String {
        let c = self.next_count();
        let mix = (c ^ u32::from_be_bytes([0, self.process[0], self.process[1], self.process[2]])) & 0x00ff_ffff;
        format!("CALL-{now:013}-{mix:06x}")
    }

    /// A UUID v4 string; deterministic when the generator is seeded.
    pub fn uuid(&self) -> String {
        match self.uuid_seed {
            None => uuid::Uuid::new_v4().to_string(),
            Some(seed) => {
                let n = u64::from(self.next_count());
                let mut rng = ChaCha8Rng::seed_from_u64(seed ^ n.rotate_left(17));
                uuid::Builder::from_random_bytes(rng.gen()).into_uuid().to_string()
            }
        }
    }
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        let [hi, lo] = hex_pair(b);
        s.push(char::from(hi));
        s.push(char::from(lo));
    }
    s
}

/// Lowercase hex of 12 id bytes as a [`ShortStr`] (inline, no heap
/// allocation).
fn short_hex(bytes: [u8; 12]) -> ShortStr {
    let mut out = [0u8; 24];
    for (pair, b) in out.chunks_exact_mut(2).zip(bytes) {
        pair.copy_from_slice(&hex_pair(b));
    }
    ShortStr::from_utf8(out).unwrap_or_default()
}

/// The two lowercase hex digits (ASCII) of `b`.
fn hex_pair(b: u8) -> [u8; 2] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 0x0f)]]
}

/// A stable 24-hex id derived from `parts` (FNV-1a, 96 bits). Used where a
/// pure function needs a fresh-looking id, such as rotated block ids.
pub fn derived_id(parts: &[&str]) -> String {
    hex(&DerivedPrefix::new(parts).finish(&[]))
}

/// [`derived_id`] as a [`ShortStr`] (inline, no heap allocation).
pub fn derived_short_id(parts: &[&str]) -> ShortStr {
    short_hex(DerivedPrefix::new(parts).finish(&[]))
}

/// The FNV-1a state of [`derived_id`] after a prefix of its parts (12
/// bytes): `DerivedPrefix::new(&[a, b]).finish(&[c])` gives the bytes of
/// `derived_id(&[a, b, c])`. Lets a caller store one prefix and derive the
/// ids that extend it only when they are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DerivedPrefix([u32; 3]);

impl DerivedPrefix {
    const PRIME: u32 = 0x0100_0193;

    /// The state after hashing `parts`.
    pub fn new(parts: &[&str]) -> Self {
        let mut lanes = [0u32; 3];
        for (lane, h) in lanes.iter_mut().enumerate() {
            *h = 0x811c_9dc5 ^ u32::try_from(lane).unwrap_or(0).wrapping_mul(Self::PRIME);
        }
        Self(lanes).extend(parts)
    }

    fn extend(mut self, parts: &[&str]) -> Self {
        // Byte by byte, all three lanes at once: the lanes are independent
        // chains of multiplies, so the processor overlaps them (the same
        // result as hashing one lane after the other).
        for p in parts {
            for b in p.bytes().chain(std::iter::once(0xff)) {
                for h in &mut self.0 {
                    *h ^= u32::from(b);
                    *h = h.wrapping_mul(Self::PRIME);
                }
            }
        }
        self
    }

    /// The state as 24 hex digits (three big-endian lanes), as a snapshot
    /// stores it.
    pub fn to_hex(self) -> String {
        self.0.iter().map(|h| format!("{h:08x}")).collect()
    }

    /// Reads [`DerivedPrefix::to_hex`]'s form; `None` unless it is 24 hex
    /// digits.
    pub fn from_hex(s: &str) -> Option<Self> {
        if s.len() != 24 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let lane = |i: usize| u32::from_str_radix(s.get(i * 8..i * 8 + 8)?, 16).ok();
        Some(Self([lane(0)?, lane(1)?, lane(2)?]))
    }

    /// The 12 id bytes of the prefix's parts followed by `rest`.
    pub fn finish(self, rest: &[&str]) -> [u8; 12] {
        let mut out = [0u8; 12];
        for (chunk, h) in out.chunks_mut(4).zip(self.extend(rest).0) {
            chunk.copy_from_slice(&h.to_be_bytes());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Derived ids are stored in snapshots and named by clients: their
    /// values never change (these were computed lane after lane).
    #[test]
    fn derived_ids_keep_their_values() {
        assert_eq!(derived_id(&["org", "sk_test"]), "c0472a7e937e7089ca0a98b0");
        let main = ["branch", "0123456789abcdef01234567", "Main"];
        assert_eq!(derived_id(&main), "09ec9557f7d06b6eb1e85885");
        assert_eq!(derived_short_id(&main), "09ec9557f7d06b6eb1e85885");
        assert_eq!(derived_id(&[]), "811c9dc5801c9c56831c9ee3");
    }

    #[test]
    fn a_derived_prefix_finishes_to_the_derived_id() {
        // The value main computed before ids could be derived from a prefix.
        assert_eq!(derived_id(&["abc", "1", "prompt"]), "86aba5a32df991660974f3a1");
        let lazy = DerivedPrefix::new(&["abc", "1"]).finish(&["prompt"]);
        assert_eq!(hex(&lazy), derived_id(&["abc", "1", "prompt"]));
    }

    #[test]
    fn object_ids_are_24_hex_and_unique() {
        let g = IdGen::new(None);
        let a = g.object_id(1_778_226_705_739);
        let b = g.object_id(1_778_226_705_739);
        assert!(is_object_id(&a), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn short_object_ids_are_the_same_ids_inline() {
        let (a, b) = (IdGen::new(Some(7)), IdGen::new(Some(7)));
        for now in [0, 1_778_226_705_739] {
            let short = a.short_object_id(now);
            assert_eq!(short, b.object_id(now));
            assert!(!short.is_heap_allocated(), "{short}");
        }
    }

    #[test]
    fn seeded_generators_repeat() {
        let (a, b) = (IdGen::new(Some(7)), IdGen::new(Some(7)));
        assert_eq!(a.object_id(0), b.object_id(0));
        assert_eq!(a.uuid(), b.uuid());
    }

    #[test]
    fn call_ids_have_the_platform_shape() {
        let id = IdGen::new(Some(1)).call_id(1_778_226_705_739);
        assert_eq!(id.len(), "CALL-1778226705739-7e4c17".len());
        assert!(id.starts_with("CALL-1778226705739-"));
    }

    #[test]
    fn phone_and_call_id_shapes() {
        assert!(is_e164("+14155550123") && !is_e164("14155550123") && !is_e164("+0123456789"));
        assert!(is_phone("14155550123") && !is_phone("+1415"));
        assert!(is_call_id("CALL-1778226705739-7e4c17"));
        assert!(!is_call_id("CALL-1778226705739-7E4C17") && !is_call_id("60d0fe4f5311236168a109ca"));
    }

    #[test]
    fn object_id_check_rejects_upper_case_and_length() {
        assert!(!is_object_id("60D0FE4F5311236168A109CA"));
        assert!(!is_object_id("abc"));
        assert!(is_object_id("60d0fe4f5311236168a109ca"));
    }
}
