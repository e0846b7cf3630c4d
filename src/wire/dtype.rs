//! Element types of raw frames, named as numpy names them.

use std::fmt;
use std::str::FromStr;

/// The element type of a raw frame: every fixed-size numeric dtype numpy has.
///
/// On the wire a dtype is numpy's `str(array.dtype)`, e.g. `"uint8"`, and the
/// bytes are little-endian (numpy's native order on every platform vidgear
/// runs on).
///
/// ```
/// use netgear::Dtype;
/// let d: Dtype = "float32".parse().unwrap();
/// assert_eq!(d.itemsize(), 4);
/// assert_eq!(d.name(), "float32");
/// assert!("object".parse::<Dtype>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Dtype {
    Bool,
    Int8,
    Int16,
    Int32,
    Int64,
    Uint8,
    Uint16,
    Uint32,
    Uint64,
    Float16,
    Float32,
    Float64,
}

impl Dtype {
    /// Every dtype, in a stable order.
    pub const ALL: [Dtype; 12] = [
        Dtype::Bool,
        Dtype::Int8,
        Dtype::Int16,
        Dtype::Int32,
        Dtype::Int64,
        Dtype::Uint8,
        Dtype::Uint16,
        Dtype::Uint32,
        Dtype::Uint64,
        Dtype::Float16,
        Dtype::Float32,
        Dtype::Float64,
    ];

    /// numpy's name for the dtype, as written in headers.
    pub const fn name(self) -> &'static str {
        match self {
            Dtype::Bool => "bool",
            Dtype::Int8 => "int8",
            Dtype::Int16 => "int16",
            Dtype::Int32 => "int32",
            Dtype::Int64 => "int64",
            Dtype::Uint8 => "uint8",
            Dtype::Uint16 => "uint16",
            Dtype::Uint32 => "uint32",
            Dtype::Uint64 => "uint64",
            Dtype::Float16 => "float16",
            Dtype::Float32 => "float32",
            Dtype::Float64 => "float64",
        }
    }

    /// Bytes per element.
    pub const fn itemsize(self) -> usize {
        match self {
            Dtype::Bool | Dtype::Int8 | Dtype::Uint8 => 1,
            Dtype::Int16 | Dtype::Uint16 | Dtype::Float16 => 2,
            Dtype::Int32 | Dtype::Uint32 | Dtype::Float32 => 4,
            Dtype::Int64 | Dtype::Uint64 | Dtype::Float64 => 8,
        }
    }

    /// The `<code>` form numpy uses in `.npy` headers (`|u1`, `<f4`, ...).
    pub const fn numpy_descr(self) -> &'static str {
        match self {
            Dtype::Bool => "|b1",
            Dtype::Int8 => "|i1",
            Dtype::Int16 => "<i2",
            Dtype::Int32 => "<i4",
            Dtype::Int64 => "<i8",
            Dtype::Uint8 => "|u1",
            Dtype::Uint16 => "<u2",
            Dtype::Uint32 => "<u4",
            Dtype::Uint64 => "<u8",
            Dtype::Float16 => "<f2",
            Dtype::Float32 => "<f4",
            Dtype::Float64 => "<f8",
        }
    }
}

/// An unknown dtype name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown dtype {0:?} (expected a numpy name such as uint8, int16, float32, bool)")]
pub struct UnknownDtype(pub String);

impl FromStr for Dtype {
    type Err = UnknownDtype;
    fn from_str(s: &str) -> Result<Dtype, UnknownDtype> {
        Dtype::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .ok_or_else(|| UnknownDtype(s.to_owned()))
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
