//! Flags shared by `send` and `receive`, and the parsers of argument values
//! (JSON with `@PATH`, shapes, durations).

use std::time::Duration;

use clap::Args;
use netgear::jpeg::JpegOptions;
use netgear::json::{self, Value};
use netgear::media::Media;
use netgear::session::{Config, Pattern};
use netgear::transport::zmq::Protocol;
use netgear::wire::Colorspace;

/// Connection flags common to both ends.
#[derive(Args, Debug, Clone)]
pub struct ConnArgs {
    /// Address: the receiver's host for `send` (default localhost), the
    /// interface to bind for `receive` (default *); with `--protocol ipc`,
    /// the socket path prefix (the file is named ADDRESS:PORT)
    #[arg(long, value_name = "ADDR")]
    pub address: Option<String>,

    /// Port; a comma-separated list in the multi modes (the receivers' ports
    /// for `send --multiclient`, the senders' ports for `receive --multiserver`)
    #[arg(long, value_name = "PORT[,PORT...]", default_value = "5555", value_parser = parse_ports)]
    pub port: Ports,

    /// Transport protocol
    #[arg(long, value_name = "PROTO", default_value = "tcp", value_parser = ["tcp", "ipc"])]
    pub protocol: String,

    /// Messaging pattern: 0 = PAIR, 1 = REQ/REP, 2 = PUB/SUB
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=2))]
    pub pattern: u8,

    /// Bidirectional mode: the receiver answers every frame with return data
    /// (needs pattern 0 or 1)
    #[arg(long)]
    pub bidirectional: bool,

    /// Multi-server mode: many senders, one receiver (pattern 1 or 2)
    #[arg(long, conflicts_with = "multiclient")]
    pub multiserver: bool,

    /// Multi-client mode: one sender, many receivers (pattern 1 or 2)
    #[arg(long)]
    pub multiclient: bool,

    /// Silent periods tolerated before the peer is declared gone
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub max_retries: u32,

    /// How long the sender waits for an answer before reconnecting and
    /// resending (the receiver waits three times as long for a frame), in
    /// seconds (fractions allowed)
    #[arg(long, value_name = "SECS", default_value = "4", value_parser = parse_secs)]
    pub request_timeout: Duration,

    /// Stop after N frames (default: until Ctrl-C; a receiver also stops
    /// when the sender terminates)
    #[arg(long, value_name = "N")]
    pub frames: Option<u64>,

    /// Print one JSON object per frame on stdout
    #[arg(long)]
    pub json: bool,
}

/// vidgear's JPEG options, shared by `send` (frames) and `receive` (frames
/// returned); the fast-DCT and fast-upsampling flags also apply locally when
/// decoding what arrives.
#[derive(Args, Debug, Clone)]
pub struct JpegArgs {
    /// JPEG-compress the frames sent (`receive`: the frames returned) from
    /// this channel layout: RGB, BGR, RGBX, BGRX, XBGR, XRGB, GRAY, RGBA,
    /// BGRA, ABGR, ARGB, CMYK (bare --jpeg: BGR). Received JPEG frames are
    /// decoded in any case
    #[arg(long, value_name = "COLORSPACE", num_args = 0..=1, default_missing_value = "BGR")]
    pub jpeg: Option<Colorspace>,

    /// JPEG quality, 10 to 100
    #[arg(long, value_name = "Q", default_value_t = 90, value_parser = clap::value_parser!(u8).range(10..=100), requires = "jpeg")]
    pub jpeg_quality: u8,

    /// Use the accurate DCT: encode with it, and decode with it unless the
    /// sender's header asks for the fast one
    #[arg(long)]
    pub no_fastdct: bool,

    /// Ask the receiver for fast chroma upsampling, and decode with it
    #[arg(long)]
    pub fastupsample: bool,
}

impl JpegArgs {
    /// The media layer these flags describe: compression when --jpeg is
    /// given, the local decoding flags in any case.
    pub fn media(&self) -> Media {
        match self.options() {
            Some(options) => Media::new().jpeg(options),
            None => Media::new().decode_flags(self.local()),
        }
    }

    /// The compression options, when --jpeg is given.
    pub fn options(&self) -> Option<JpegOptions> {
        self.jpeg
            .map(|colorspace| (self.local()).colorspace(colorspace))
    }

    /// The local flags for decoding (and the rest of the options).
    pub fn local(&self) -> JpegOptions {
        JpegOptions::default()
            .colorspace(self.jpeg.unwrap_or(Colorspace::Bgr))
            .quality(self.jpeg_quality)
            .fast_dct(!self.no_fastdct)
            .fast_upsample(self.fastupsample)
    }
}

/// What synthetic frames look like.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Content {
    /// Flat element i of frame k is (k + i) mod 251 (any dtype): exact
    /// checks by hash
    #[default]
    Ramp,
    /// A smooth gradient with moving shapes and mild noise (uint8, (H, W)
    /// or (H, W, C)): what JPEG is made for
    Natural,
}

/// A reduction percentage for `--reduce`: above 0 and below 90.
pub fn parse_percentage(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(p) if p > 0.0 && p < 90.0 => Ok(p),
        _ => Err(format!("{s:?} is not a percentage above 0 and below 90")),
    }
}

/// Checks that frames of `shape` and `dtype` can be JPEG-compressed as
/// `colorspace` (vidgear's encoder would raise otherwise).
pub fn check_jpeg_fits(
    shape: &[usize],
    dtype: netgear::Dtype,
    colorspace: Colorspace,
) -> Result<(), String> {
    let channels = colorspace.channels();
    let fits = dtype == netgear::Dtype::Uint8
        && match shape {
            [_, _, c] => *c == channels,
            [_, _] => colorspace == Colorspace::Gray,
            _ => false,
        };
    if fits {
        Ok(())
    } else {
        Err(format!(
            "--jpeg {colorspace} needs uint8 frames of shape H,W,{channels}{}, not {dtype} {shape:?}",
            if channels == 1 { " or H,W" } else { "" }
        ))
    }
}

/// A comma-separated port list.
#[derive(Debug, Clone)]
pub struct Ports(pub Vec<String>);

impl ConnArgs {
    /// The session configuration these flags describe (not yet validated).
    pub fn config(&self) -> Config {
        Config::new()
            .pattern(Pattern::try_from(self.pattern).expect("clap checks the range"))
            .bidirectional(self.bidirectional)
            .multiserver(self.multiserver)
            .multiclient(self.multiclient)
            .max_retries(self.max_retries)
            .request_timeout(self.request_timeout)
    }

    /// The protocol (clap restricts the names).
    pub fn protocol(&self) -> Protocol {
        self.protocol.parse().expect("clap checks the name")
    }
}

fn parse_ports(s: &str) -> Result<Ports, String> {
    let ports: Vec<String> = s.split(',').map(|p| p.trim().to_owned()).collect();
    if ports.iter().any(String::is_empty) {
        return Err("empty port in the list".into());
    }
    Ok(Ports(ports))
}

/// Non-negative seconds, fractions allowed (`0.3`, `4`).
pub fn parse_secs(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("{s:?} is not a usable number of seconds"))
}

/// A JSON value, or `@PATH` to read the JSON text from a file (one trailing
/// newline is ignored). Python's dialect: `NaN`, `Infinity` and big integers
/// are accepted and kept exactly.
pub fn parse_json_arg(s: &str) -> Result<Value, String> {
    let owned;
    let text = match s.strip_prefix('@') {
        Some(path) => {
            owned = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
            let mut t = owned.as_slice();
            if let Some(rest) = t.strip_suffix(b"\n") {
                t = rest.strip_suffix(b"\r").unwrap_or(rest);
            }
            t
        }
        None => s.as_bytes(),
    };
    json::parse(text).map_err(|e| format!("invalid JSON: {e}"))
}

/// A frame shape (a newtype so clap takes it as one value).
#[derive(Debug, Clone)]
pub struct Shape(pub Vec<usize>);

/// A shape `H,W[,C]`: one or more comma-separated dimensions, each at least 1.
pub fn parse_shape(s: &str) -> Result<Shape, String> {
    let dims = s
        .split(',')
        .map(|d| match d.trim().parse::<usize>() {
            Ok(0) => Err(format!("dimension {d:?} must be at least 1")),
            Ok(n) => Ok(n),
            Err(_) => Err(format!(
                "{d:?} is not a dimension (expected H,W[,C], e.g. 480,640,3)"
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if dims.len() > netgear::wire::MAX_DIMS {
        return Err(format!(
            "{} dimensions, more than numpy's {}",
            dims.len(),
            netgear::wire::MAX_DIMS
        ));
    }
    Ok(Shape(dims))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(parse_shape("480,640,3").unwrap().0, [480, 640, 3]);
        assert_eq!(parse_shape("7").unwrap().0, [7]);
        assert_eq!(parse_shape("1, 1").unwrap().0, [1, 1]);
        assert!(parse_shape("").is_err());
        assert!(parse_shape("4,0").is_err());
        assert!(parse_shape("4,x").is_err());
    }

    #[test]
    fn seconds() {
        assert_eq!(parse_secs("0.3").unwrap(), Duration::from_millis(300));
        assert_eq!(parse_secs("4").unwrap(), Duration::from_secs(4));
        assert!(parse_secs("-1").is_err());
        assert!(parse_secs("NaN").is_err());
    }

    #[test]
    fn json_keeps_python_values() {
        let v = parse_json_arg(r#"{"x": NaN, "n": 1267650600228229401496703205376}"#).unwrap();
        assert_eq!(
            v.to_python_json(),
            r#"{"x": NaN, "n": 1267650600228229401496703205376}"#
        );
        assert!(parse_json_arg("{").is_err());
    }
}
