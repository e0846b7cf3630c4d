//! The libjpeg-turbo backend (feature `jpeg-turbo`, the default): a minimal
//! safe layer over the TurboJPEG 3 API of libjpeg-turbo (the library
//! simplejpeg wraps), one compressor and one decompressor handle per thread.

use std::cell::RefCell;
use std::ffi::CStr;

use turbojpeg_sys as tj;

use super::{output_size, Header, JpegError};
use crate::wire::Colorspace;

/// The JPEG library compiled in.
pub const BACKEND: &str = "libjpeg-turbo 3.1.0 (turbojpeg-sys, vendored)";

/// An owned `tjhandle`.
struct Handle(tj::tjhandle);

impl Handle {
    fn new(kind: tj::TJINIT) -> Result<Handle, JpegError> {
        // SAFETY: tj3Init has no preconditions; a null result is checked.
        let ptr = unsafe { tj::tj3Init(kind as std::ffi::c_int) };
        if ptr.is_null() {
            return Err(JpegError::Codec(
                "libjpeg-turbo could not allocate a handle".into(),
            ));
        }
        Ok(Handle(ptr))
    }

    fn set(&mut self, param: tj::TJPARAM, value: i32) -> Result<(), JpegError> {
        // SAFETY: the handle is valid for the lifetime of self.
        if unsafe { tj::tj3Set(self.0, param as std::ffi::c_int, value) } != 0 {
            return Err(self.error());
        }
        Ok(())
    }

    fn get(&mut self, param: tj::TJPARAM) -> i32 {
        // SAFETY: the handle is valid for the lifetime of self.
        unsafe { tj::tj3Get(self.0, param as std::ffi::c_int) }
    }

    fn error(&mut self) -> JpegError {
        // SAFETY: tj3GetErrorStr returns a NUL-terminated string owned by the
        // handle (or a static one); it is copied at once.
        let text = unsafe { CStr::from_ptr(tj::tj3GetErrorStr(self.0)) };
        JpegError::Codec(text.to_string_lossy().into_owned())
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: the handle came from tj3Init and is destroyed once.
        unsafe { tj::tj3Destroy(self.0) }
    }
}

thread_local! {
    static COMPRESSOR: RefCell<Option<Handle>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<Handle>> = const { RefCell::new(None) };
}

fn with_handle<T>(
    slot: &'static std::thread::LocalKey<RefCell<Option<Handle>>>,
    kind: tj::TJINIT,
    f: impl FnOnce(&mut Handle) -> Result<T, JpegError>,
) -> Result<T, JpegError> {
    slot.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.is_none() {
            *cell = Some(Handle::new(kind)?);
        }
        let result = f(cell.as_mut().expect("handle just made"));
        if result.is_err() {
            // libjpeg-turbo can leave a handle half-way through a stream it
            // gave up on (the next header read then fails): start afresh.
            *cell = None;
        }
        result
    })
}

/// libjpeg-turbo's pixel format for a layout (same numbering as simplejpeg's
/// colorspace names).
fn pixel_format(cs: Colorspace) -> tj::TJPF {
    use Colorspace as C;
    match cs {
        C::Rgb => tj::TJPF_TJPF_RGB,
        C::Bgr => tj::TJPF_TJPF_BGR,
        C::Rgbx => tj::TJPF_TJPF_RGBX,
        C::Bgrx => tj::TJPF_TJPF_BGRX,
        C::Xbgr => tj::TJPF_TJPF_XBGR,
        C::Xrgb => tj::TJPF_TJPF_XRGB,
        C::Gray => tj::TJPF_TJPF_GRAY,
        C::Rgba => tj::TJPF_TJPF_RGBA,
        C::Bgra => tj::TJPF_TJPF_BGRA,
        C::Abgr => tj::TJPF_TJPF_ABGR,
        C::Argb => tj::TJPF_TJPF_ARGB,
        C::Cmyk => tj::TJPF_TJPF_CMYK,
    }
}

/// Compresses `pixels` (`height` rows of `width` pixels in `cs`'s layout,
/// packed) as simplejpeg's `encode_jpeg` does: gray images without chroma,
/// colour images with 4:2:2 subsampling.
pub(super) fn compress(
    pixels: &[u8],
    width: usize,
    height: usize,
    cs: Colorspace,
    quality: u8,
    fast_dct: bool,
) -> Result<Vec<u8>, JpegError> {
    let format = pixel_format(cs);
    let subsamp = if format == tj::TJPF_TJPF_GRAY {
        tj::TJSAMP_TJSAMP_GRAY
    } else {
        tj::TJSAMP_TJSAMP_422
    };
    with_handle(&COMPRESSOR, tj::TJINIT_TJINIT_COMPRESS, |h| {
        h.set(tj::TJPARAM_TJPARAM_QUALITY, i32::from(quality))?;
        h.set(tj::TJPARAM_TJPARAM_SUBSAMP, subsamp)?;
        h.set(tj::TJPARAM_TJPARAM_FASTDCT, i32::from(fast_dct))?;
        let mut buf: *mut u8 = std::ptr::null_mut();
        let mut size: tj::size_t = 0;
        // SAFETY: `pixels` holds width × height pixels of `format` (checked
        // by the caller), pitch 0 means packed rows; libjpeg-turbo allocates
        // `buf`, which is copied and freed below.
        let status = unsafe {
            tj::tj3Compress8(
                h.0,
                pixels.as_ptr(),
                width as std::ffi::c_int,
                0,
                height as std::ffi::c_int,
                format,
                &mut buf,
                &mut size,
            )
        };
        let result = if status == 0 {
            // SAFETY: on success buf holds `size` bytes.
            Ok(unsafe { std::slice::from_raw_parts(buf, size as usize) }.to_vec())
        } else {
            Err(h.error())
        };
        // SAFETY: buf is null or was allocated by libjpeg-turbo.
        unsafe { tj::tj3Free(buf.cast()) };
        result
    })
}

/// Decompresses `jpeg` into packed pixels in `cs`'s layout. Warnings (a
/// truncated or damaged stream) are errors, as with simplejpeg's default
/// `strict=True`. `max_bytes` bounds the output size the header may ask for.
pub(super) fn decompress(
    jpeg: &[u8],
    cs: Colorspace,
    fast_dct: bool,
    fast_upsample: bool,
    max_bytes: usize,
) -> Result<(Header, Vec<u8>), JpegError> {
    let format = pixel_format(cs);
    with_handle(&DECOMPRESSOR, tj::TJINIT_TJINIT_DECOMPRESS, |h| {
        h.set(tj::TJPARAM_TJPARAM_STOPONWARNING, 1)?;
        // A progressive JPEG of many scans costs time out of all proportion
        // to its size; libjpeg-turbo suggests this bound for untrusted input.
        h.set(tj::TJPARAM_TJPARAM_SCANLIMIT, 500)?;
        // SAFETY: jpeg is a valid slice of jpeg.len() bytes.
        if unsafe { tj::tj3DecompressHeader(h.0, jpeg.as_ptr(), jpeg.len() as tj::size_t) } != 0 {
            return Err(h.error());
        }
        let width = usize::try_from(h.get(tj::TJPARAM_TJPARAM_JPEGWIDTH)).unwrap_or(0);
        let height = usize::try_from(h.get(tj::TJPARAM_TJPARAM_JPEGHEIGHT)).unwrap_or(0);
        let size = output_size(width, height, cs.channels(), jpeg.len(), max_bytes)?;
        h.set(tj::TJPARAM_TJPARAM_FASTDCT, i32::from(fast_dct))?;
        h.set(tj::TJPARAM_TJPARAM_FASTUPSAMPLE, i32::from(fast_upsample))?;
        // Not zero-filled first: libjpeg-turbo writes every byte (a frame
        // of 1280×720 would otherwise be cleared, 2.7 MB, for nothing).
        let mut out = Vec::with_capacity(size);
        // SAFETY: out has room for width × height pixels of `format` (pitch
        // 0 = packed rows), as the header just read announced; libjpeg-turbo
        // only writes through the pointer.
        let status = unsafe {
            tj::tj3Decompress8(
                h.0,
                jpeg.as_ptr(),
                jpeg.len() as tj::size_t,
                out.as_mut_ptr(),
                0,
                format,
            )
        };
        if status != 0 {
            return Err(h.error());
        }
        // SAFETY: a successful decompression wrote all `size` bytes: every
        // one of the `height` rows, in full (warnings, such as a truncated
        // stream whose missing rows it would leave unwritten, stop it with
        // an error: TJPARAM_STOPONWARNING above).
        unsafe { out.set_len(size) };
        Ok((Header { width, height }, out))
    })
}
