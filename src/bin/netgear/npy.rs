//! A writer of NumPy's `.npy` format, version 1.0 (what `numpy.save` writes
//! for these arrays and `numpy.load` reads).

use std::io::{self, Write};
use std::path::Path;

use netgear::Frame;

/// The header: magic, version 1.0, little-endian header length, and the
/// dict padded with spaces and ended by `\n` so that the data starts at a
/// multiple of 64 bytes.
pub fn header(frame: &Frame) -> Vec<u8> {
    let shape = match frame.shape() {
        [] => "()".to_owned(),
        [one] => format!("({one},)"),
        dims => format!(
            "({})",
            dims.iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut dict = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {shape}, }}",
        frame.dtype().numpy_descr()
    );
    // 6 magic + 2 version + 2 length, then the dict and its final newline.
    let unpadded = 10 + dict.len() + 1;
    dict.extend(std::iter::repeat_n(
        ' ',
        unpadded.next_multiple_of(64) - unpadded,
    ));
    dict.push('\n');
    let mut out = Vec::with_capacity(10 + dict.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(
        &u16::try_from(dict.len())
            .expect("32 dims fit in a v1.0 header")
            .to_le_bytes(),
    );
    out.extend_from_slice(dict.as_bytes());
    out
}

/// Writes `frame` to `path` as a `.npy` file.
pub fn save(path: &Path, frame: &Frame) -> io::Result<()> {
    let mut file = io::BufWriter::new(std::fs::File::create(path)?);
    file.write_all(&header(frame))?;
    file.write_all(frame.data())?;
    file.into_inner()
        .map_err(io::IntoInnerError::into_error)?
        .sync_data()
}

#[cfg(test)]
mod tests {
    use super::*;
    use netgear::Dtype;

    #[test]
    fn header_like_numpy() {
        let f = Frame::new(
            Dtype::Uint16,
            vec![480, 640, 3],
            vec![0u8; 480 * 640 * 3 * 2],
        )
        .unwrap();
        let h = header(&f);
        assert_eq!(h.len() % 64, 0);
        assert_eq!(&h[..8], b"\x93NUMPY\x01\x00");
        assert_eq!(usize::from(u16::from_le_bytes([h[8], h[9]])), h.len() - 10);
        let dict = std::str::from_utf8(&h[10..]).unwrap();
        assert!(
            dict.starts_with("{'descr': '<u2', 'fortran_order': False, 'shape': (480, 640, 3), }")
        );
        assert!(dict.ends_with(" \n"));
        let one = Frame::new(Dtype::Bool, vec![7], vec![0u8; 7]).unwrap();
        assert!(std::str::from_utf8(&header(&one)[10..])
            .unwrap()
            .contains("'descr': '|b1', 'fortran_order': False, 'shape': (7,), }"));
        let zero = Frame::new(Dtype::Float64, vec![], vec![0u8; 8]).unwrap();
        assert!(std::str::from_utf8(&header(&zero)[10..])
            .unwrap()
            .contains("'shape': (), }"));
    }
}
