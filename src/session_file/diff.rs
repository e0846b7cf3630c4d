//! Readable differences between two multipart messages.

use std::fmt;

use crate::wire::Parts;

/// Two messages that should have been equal: what the recorded peer sent and
/// what netgear produced. Its `Display` names the first differing part and
/// byte and shows both around it.
#[derive(Debug, Clone, PartialEq)]
pub struct PartsDiff {
    /// What the recorded peer (vidgear) sent.
    pub recorded: Parts,
    /// What netgear produced.
    pub produced: Parts,
}

/// Bytes shown either side of the first difference.
const WINDOW: usize = 60;

impl PartsDiff {
    /// The first differing part and the byte offset in it, if any.
    pub fn first_difference(&self) -> Option<(usize, usize)> {
        let n = self.recorded.len().max(self.produced.len());
        (0..n).find_map(|i| {
            let a = self.recorded.get(i).map(|b| &b[..]);
            let b = self.produced.get(i).map(|b| &b[..]);
            if a == b {
                return None;
            }
            let (a, b) = (a.unwrap_or_default(), b.unwrap_or_default());
            let at = a
                .iter()
                .zip(b)
                .position(|(x, y)| x != y)
                .unwrap_or(a.len().min(b.len()));
            Some((i, at))
        })
    }
}

fn is_text(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|s| !s.chars().any(|c| c.is_control() && c != '\t'))
}

/// A part as one line: text (with an ellipsis beyond `WINDOW` bytes either
/// side of `at`) when it is printable UTF-8, else hexadecimal. Returns the
/// line and the column of byte `at` in it.
pub fn render_part(bytes: &[u8], at: usize) -> (String, usize) {
    let start = at.saturating_sub(WINDOW);
    let end = (at + WINDOW).min(bytes.len());
    if is_text(bytes) {
        // Move the window to character boundaries.
        let text = std::str::from_utf8(bytes).expect("checked");
        let mut s = start;
        while !text.is_char_boundary(s) {
            s -= 1;
        }
        let mut e = end;
        while !text.is_char_boundary(e) {
            e += 1;
        }
        let mut a = at.min(text.len());
        while !text.is_char_boundary(a) {
            a -= 1;
        }
        let mut line = String::new();
        if s > 0 {
            line.push('…');
        }
        let col = line.chars().count() + text[s..a.max(s)].chars().count();
        line.push_str(&text[s..e]);
        if e < text.len() {
            line.push('…');
        }
        (line, col)
    } else {
        let start = start & !1;
        let mut line = String::new();
        if start > 0 {
            line.push_str("… ");
        }
        let mut col = line.len();
        for (i, b) in bytes[start..end].iter().enumerate() {
            if start + i == at {
                col = line.len();
            }
            line.push_str(&format!("{b:02x} "));
        }
        if at >= end {
            col = line.len();
        }
        if end < bytes.len() {
            line.push('…');
        }
        (format!("hex: {line}"), col + 5)
    }
}

impl fmt::Display for PartsDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some((part, at)) = self.first_difference() else {
            return writeln!(f, "    (identical)");
        };
        if self.recorded.len() != self.produced.len() {
            writeln!(
                f,
                "    vidgear sent {} part(s), netgear {}",
                self.recorded.len(),
                self.produced.len()
            )?;
        }
        let a = self.recorded.get(part).map(|b| &b[..]);
        let b = self.produced.get(part).map(|b| &b[..]);
        writeln!(
            f,
            "    part {part}: first difference at byte {at} (vidgear {}, netgear {})",
            a.map_or("no such part".into(), |a| format!("{} bytes", a.len())),
            b.map_or("no such part".into(), |b| format!("{} bytes", b.len())),
        )?;
        let mut caret = 0;
        for (who, bytes) in [("vidgear", a), ("netgear", b)] {
            match bytes {
                Some(bytes) => {
                    let (line, col) = render_part(bytes, at);
                    caret = col;
                    writeln!(f, "      {who}: {line}")?;
                }
                None => writeln!(f, "      {who}: (absent)")?,
            }
        }
        writeln!(f, "               {}^", " ".repeat(caret))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn names_the_first_difference() {
        let d = PartsDiff {
            recorded: vec![Bytes::from_static(br#"{"return_type": "int", "data": 42}"#)],
            produced: vec![Bytes::from_static(br#"{"return_type": "int", "data": 43}"#)],
        };
        assert_eq!(d.first_difference(), Some((0, 32)));
        let text = d.to_string();
        assert!(
            text.contains("part 0: first difference at byte 32"),
            "{text}"
        );
        let lines: Vec<&str> = text.lines().collect();
        let caret = lines[3].find('^').unwrap();
        assert_eq!(&lines[1][caret - 1..caret + 1], "42", "{text}");
        assert_eq!(&lines[2][caret - 1..caret + 1], "43", "{text}");
    }

    #[test]
    fn binary_and_missing_parts() {
        let d = PartsDiff {
            recorded: vec![Bytes::from_static(b"{}"), Bytes::from(vec![0u8, 1, 2, 3])],
            produced: vec![Bytes::from_static(b"{}"), Bytes::from(vec![0u8, 1, 9, 3])],
        };
        assert_eq!(d.first_difference(), Some((1, 2)));
        let text = d.to_string();
        assert!(text.contains("hex: 00 01 02 03"), "{text}");
        let lines: Vec<&str> = text.lines().collect();
        let caret = lines[3].find('^').unwrap();
        assert_eq!(&lines[1][caret..caret + 2], "02", "{text}");
        let d = PartsDiff {
            recorded: vec![Bytes::from_static(b"a")],
            produced: vec![],
        };
        assert!(d.to_string().contains("netgear: (absent)"));
    }
}
