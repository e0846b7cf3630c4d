//! What JPEG keeps of a frame, for the checks of JPEG frames (the matrix's
//! JPEG cells and the property test's oracle): the colour channels, by
//! their position in the pixel. The others are padding (`X`) or alpha
//! (`A`), which JPEG does not carry and decoders fill with 255.

use netgear::wire::Colorspace;
use netgear::Frame;

/// Where the channels JPEG keeps sit in a pixel of `cs`.
pub fn colour_channels(cs: Colorspace) -> &'static [usize] {
    match cs {
        Colorspace::Gray => &[0],
        Colorspace::Rgb | Colorspace::Bgr => &[0, 1, 2],
        Colorspace::Rgbx | Colorspace::Bgrx | Colorspace::Rgba | Colorspace::Bgra => &[0, 1, 2],
        Colorspace::Xbgr | Colorspace::Xrgb | Colorspace::Abgr | Colorspace::Argb => &[1, 2, 3],
        Colorspace::Cmyk => &[0, 1, 2, 3],
    }
}

/// The samples of the kept channels of `data`, pixel by pixel.
pub fn kept(cs: Colorspace, data: &[u8]) -> Vec<u8> {
    let keep = colour_channels(cs);
    data.chunks(cs.channels())
        .flat_map(|px| keep.iter().map(move |&i| px[i]))
        .collect()
}

/// Checks that every padding or alpha channel of a decoded frame is 255.
pub fn check_padding(cs: Colorspace, decoded: &Frame) -> Result<(), String> {
    let (n, keep) = (cs.channels(), colour_channels(cs));
    match decoded
        .data()
        .chunks(n)
        .position(|px| (0..n).any(|i| !keep.contains(&i) && px[i] != 255))
    {
        None => Ok(()),
        Some(i) => Err(format!(
            "pixel {i} has a padding channel other than 255: {:?}",
            &decoded.data()[i * n..i * n + n]
        )),
    }
}

/// The PSNR (dB) of `decoded` against `original` over the kept channels,
/// after checking the padding channels.
pub fn colour_psnr(cs: Colorspace, original: &Frame, decoded: &Frame) -> Result<f64, String> {
    if original.data().len() != decoded.data().len() {
        return Err(format!(
            "decoded {:?}, the original is {:?}",
            decoded.shape(),
            original.shape()
        ));
    }
    check_padding(cs, decoded)?;
    Ok(netgear_testkit::psnr(
        &kept(cs, original.data()),
        &kept(cs, decoded.data()),
    ))
}
