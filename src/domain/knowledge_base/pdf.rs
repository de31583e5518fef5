//! Reading an uploaded PDF: recognising one, and the text of its
//! uncompressed content streams (what the mock indexes for an uploaded
//! knowledge-base item).

/// True when `bytes` is a PDF: `%PDF-` within the first 1024 bytes (PDF
/// 1.7 §7.5.2 tolerates leading junk; readers search that far).
pub fn is_pdf(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(1024)].windows(5).any(|w| w == b"%PDF-")
}

/// The text shown by a PDF's *uncompressed* content streams: the literal
/// strings of `Tj`, `'`, `"` and `TJ` operators inside `BT … ET`, one line
/// per text object. Compressed streams yield nothing; the control API can
/// supply an item's text instead. Never panics, whatever the bytes.
pub fn pdf_text(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut rest = bytes;
    while let Some(bt) = find(rest, b"BT") {
        let body = &rest[bt + 2..];
        let end = find(body, b"ET").unwrap_or(body.len());
        let line = literal_strings(&body[..end]);
        if !line.trim().is_empty() {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(line.trim());
        }
        rest = &body[end.min(body.len())..];
        if rest.len() >= 2 {
            rest = &rest[2..];
        }
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The `( … )` strings of a text object, with escapes and nesting
/// (PDF 1.7 §7.3.4.2); a new `Tj`-style operator starts a new word.
fn literal_strings(obj: &[u8]) -> String {
    let mut out = Vec::new();
    let mut i = 0;
    while i < obj.len() {
        match obj[i] {
            b'(' => {
                let (s, next) = read_string(obj, i + 1);
                out.extend_from_slice(&s);
                i = next;
            }
            b'T' if obj.get(i + 1) == Some(&b'j') || obj.get(i + 1) == Some(&b'J') => {
                out.push(b' ');
                i += 2;
            }
            _ => i += 1,
        }
    }
    String::from_utf8_lossy(&out).split_whitespace().collect::<Vec<_>>().join(" ")
}

fn read_string(obj: &[u8], mut i: usize) -> (Vec<u8>, usize) {
    let (mut s, mut depth) = (Vec::new(), 1u32);
    while i < obj.len() {
        let c = obj[i];
        i += 1;
        match c {
            b'\\' => {
                let Some(&e) = obj.get(i) else { break };
                i += 1;
                match e {
                    b'n' => s.push(b'\n'),
                    b'r' => s.push(b'\r'),
                    b't' => s.push(b'\t'),
                    b'0'..=b'7' => {
                        let mut v = u32::from(e - b'0');
                        for _ in 0..2 {
                            match obj.get(i) {
                                Some(&d @ b'0'..=b'7') => {
                                    v = v * 8 + u32::from(d - b'0');
                                    i += 1;
                                }
                                _ => break,
                            }
                        }
                        s.push(u8::try_from(v & 0xff).unwrap_or(b'?'));
                    }
                    b'\r' | b'\n' => {}
                    other => s.push(other),
                }
            }
            b'(' => {
                depth += 1;
                s.push(c);
            }
            b')' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
                s.push(c);
            }
            _ => s.push(c),
        }
    }
    (s, i)
}
