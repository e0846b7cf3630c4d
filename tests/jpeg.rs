//! JPEG frame compression (spec/03 §3.3) and the reducer, in the library
//! and through the command. The comparisons with vidgear's own simplejpeg
//! and reducer are in conformance/tests/jpeg_vidgear.rs; video files
//! through ffmpeg in system-tests/tests/video_source.rs.

#![cfg(all(feature = "cli", feature = "jpeg", feature = "reducer"))]

use std::process::Command;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use bytes::Bytes;
use netgear::jpeg::{decode, decode_jpeg, encode, JpegError, JpegOptions};
use netgear::json::Value;
use netgear::media::{Media, MediaError};
use netgear::reducer::{reducer, ReduceError};
use netgear::session::ClientEvent;
use netgear::session::{Config, Pattern};
use netgear::transport::zmq::{Client, ClientOptions, Outcome, Protocol, Server, ServerOptions};
use netgear::wire::{Colorspace, Compression};
use netgear::{Dtype, Frame, Payload, ReturnData};
use netgear_testkit::{natural_frame, psnr, Ipc, Proc};

const NETGEAR: &str = env!("CARGO_BIN_EXE_netgear");
const H: usize = 480;
const W: usize = 640;

fn jpeg_bytes(p: &Payload) -> &Bytes {
    match p {
        Payload::Jpeg { data, .. } => data,
        Payload::Raw(_) => panic!("expected a JPEG payload"),
    }
}

/// The samples of the colour channels of a (H, W, C) buffer in `cs`'s
/// layout, in R, G, B order (gray: the one channel).
fn colour_planes(data: &[u8], cs: Colorspace) -> Vec<u8> {
    let idx: &[usize] = match cs {
        Colorspace::Gray => &[0],
        Colorspace::Rgb | Colorspace::Rgbx | Colorspace::Rgba => &[0, 1, 2],
        Colorspace::Bgr | Colorspace::Bgrx | Colorspace::Bgra => &[2, 1, 0],
        Colorspace::Xbgr | Colorspace::Abgr => &[3, 2, 1],
        Colorspace::Xrgb | Colorspace::Argb => &[1, 2, 3],
        Colorspace::Cmyk => &[0, 1, 2, 3],
    };
    let c = cs.channels();
    data.chunks_exact(c)
        .flat_map(|px| idx.iter().map(move |&i| px[i]))
        .collect()
}

fn natural(cs: Colorspace, k: u64) -> Frame {
    if cs == Colorspace::Gray {
        natural_frame(&[H, W], k)
    } else {
        natural_frame(&[H, W, cs.channels()], k)
    }
}

#[test]
fn round_trips_in_every_colorspace_keep_quality() {
    for cs in Colorspace::ALL {
        let frame = natural(cs, 3);
        let options = JpegOptions::with_colorspace(cs);
        let payload = encode(&frame, &options).unwrap_or_else(|e| panic!("{cs}: {e}"));
        let Payload::Jpeg { data, compression } = &payload else {
            unreachable!()
        };
        assert_eq!(&data[..2], b"\xff\xd8", "{cs}: a JPEG starts with SOI");
        assert_eq!(*compression, options.compression());
        let back = decode(&payload, &options).unwrap();
        assert_eq!(back.dtype(), Dtype::Uint8);
        assert_eq!(back.shape(), frame.shape(), "{cs}");
        let db = psnr(
            &colour_planes(frame.data(), cs),
            &colour_planes(back.data(), cs),
        );
        // CMYK travels as YCCK; the others are ordinary 4:2:2 colour JPEGs.
        let floor = if cs == Colorspace::Cmyk { 30.0 } else { 38.0 };
        assert!(db >= floor, "{cs}: PSNR {db:.2} dB below {floor}");
    }
}

#[test]
fn quality_90_on_natural_content_is_above_35_db_at_both_sizes() {
    for (h, w) in [(480, 640), (1080, 1920)] {
        for k in [0, 17] {
            let frame = natural_frame(&[h, w, 3], k);
            let payload = encode(&frame, &JpegOptions::default()).unwrap();
            let back = decode(&payload, &JpegOptions::default()).unwrap();
            let db = psnr(frame.data(), back.data());
            assert!(db >= 35.0, "{h}x{w} frame {k}: {db:.2} dB");
            let ratio = frame.data().len() as f64 / jpeg_bytes(&payload).len() as f64;
            assert!(ratio > 10.0, "{h}x{w}: compression ratio only {ratio:.1}");
        }
    }
}

#[test]
fn gray_frames_gain_and_lose_their_trailing_axis_as_in_vidgear() {
    let options = JpegOptions::with_colorspace(Colorspace::Gray);
    let two_d = natural_frame(&[H, W], 0);
    let three_d = Frame::new(Dtype::Uint8, vec![H, W, 1], two_d.data().clone()).unwrap();
    let a = encode(&two_d, &options).unwrap();
    let b = encode(&three_d, &options).unwrap();
    assert_eq!(
        jpeg_bytes(&a),
        jpeg_bytes(&b),
        "(H, W) is sent as (H, W, 1)"
    );
    let back = decode(&b, &options).unwrap();
    assert_eq!(back.shape(), [H, W], "a gray frame always arrives 2-D");
}

#[test]
fn encoding_refuses_what_vidgear_cannot_send() {
    let opts = JpegOptions::default();
    let f32_frame = Frame::new(Dtype::Float32, vec![4, 4, 3], vec![0u8; 4 * 4 * 3 * 4]).unwrap();
    assert_eq!(
        encode(&f32_frame, &opts).unwrap_err(),
        JpegError::NotUint8(Dtype::Float32)
    );
    let four = natural_frame(&[8, 8, 4], 0);
    assert!(matches!(
        encode(&four, &opts),
        Err(JpegError::Shape { channels: 3, .. })
    ));
    let two_d = natural_frame(&[8, 8], 0);
    let err = encode(&two_d, &opts).unwrap_err();
    assert!(err.to_string().contains("(H, W, 3)"), "{err}");
    for quality in [9, 101] {
        let bad = (opts).quality(quality);
        assert_eq!(
            encode(&natural_frame(&[8, 8, 3], 0), &bad).unwrap_err(),
            JpegError::Quality(quality)
        );
    }
}

#[test]
fn decoding_uses_the_fast_paths_when_either_end_asks() {
    let frame = natural_frame(&[H, W, 3], 5);
    let accurate = JpegOptions::default().fast_dct(false).fast_upsample(false);
    let payload = encode(&frame, &accurate).unwrap();
    let data = jpeg_bytes(&payload).clone();
    let header = |dct: bool, ups: bool| Compression {
        fast_dct: dct,
        fast_upsample: ups,
        colorspace: Colorspace::Bgr,
    };
    let limit = 1 << 30;
    let fast_local = (accurate).fast_dct(true);
    let ups_local = (accurate).fast_upsample(true);
    let plain = decode_jpeg(&data, &header(false, false), &accurate, limit).unwrap();
    let dct_by_header = decode_jpeg(&data, &header(true, false), &accurate, limit).unwrap();
    let dct_by_local = decode_jpeg(&data, &header(false, false), &fast_local, limit).unwrap();
    let ups_by_header = decode_jpeg(&data, &header(false, true), &accurate, limit).unwrap();
    let ups_by_local = decode_jpeg(&data, &header(false, false), &ups_local, limit).unwrap();
    assert_eq!(dct_by_header, dct_by_local);
    assert_eq!(ups_by_header, ups_by_local);
    if cfg!(feature = "jpeg-turbo") {
        assert_ne!(plain, dct_by_header, "the fast DCT changes some pixels");
        assert_ne!(plain, ups_by_header, "fast upsampling changes some pixels");
    } else {
        // The pure-Rust backend has neither fast path: the flags are
        // accepted (and announced, below) but change nothing.
        assert_eq!(plain, dct_by_header, "jpeg-rust has no fast DCT");
        assert_eq!(plain, ups_by_header, "jpeg-rust has no fast upsampling");
    }
    // The header announces the sender's flags.
    let flagged = encode(
        &frame,
        &JpegOptions::default()
            .fast_dct(false)
            .fast_upsample(true)
            .colorspace(Colorspace::Rgb)
            .quality(75),
    )
    .unwrap();
    let Payload::Jpeg { compression, .. } = flagged else {
        unreachable!()
    };
    assert_eq!(
        compression,
        Compression {
            fast_dct: false,
            fast_upsample: true,
            colorspace: Colorspace::Rgb
        }
    );
}

#[test]
fn decoding_into_another_layout_converts_as_libjpeg_turbo_does() {
    let limit = 1 << 30;
    let opts = JpegOptions::default();
    let header = |cs| Compression {
        colorspace: cs,
        ..opts.compression()
    };
    // A gray JPEG gives every colour layout the gray repeated, padding 0xFF.
    let gray = encode(
        &natural_frame(&[24, 40], 1),
        &JpegOptions::with_colorspace(Colorspace::Gray),
    )
    .unwrap();
    let gray_data = jpeg_bytes(&gray);
    let luma = decode(&gray, &opts).unwrap();
    for cs in Colorspace::ALL {
        if matches!(cs, Colorspace::Gray | Colorspace::Cmyk) {
            continue;
        }
        let got = decode_jpeg(gray_data, &header(cs), &opts, limit).unwrap();
        assert_eq!(got.shape(), [24, 40, cs.channels()], "{cs}");
        let rgb = colour_planes(got.data(), cs);
        let repeated: Vec<u8> = luma.data().iter().flat_map(|&g| [g; 3]).collect();
        assert_eq!(rgb, repeated, "{cs}: gray repeated");
        if cs.channels() == 4 {
            let pad = usize::from(matches!(
                cs,
                Colorspace::Rgbx | Colorspace::Rgba | Colorspace::Bgrx | Colorspace::Bgra
            )) * 3;
            assert!(
                got.data().chunks(4).all(|px| px[pad] == 0xff),
                "{cs}: padding"
            );
        }
    }
    // A colour JPEG gives gray as its luma.
    let colour = encode(&natural_frame(&[24, 40, 3], 1), &opts).unwrap();
    let colour_data = jpeg_bytes(&colour);
    let y = decode_jpeg(colour_data, &header(Colorspace::Gray), &opts, limit).unwrap();
    let rgb = decode_jpeg(colour_data, &header(Colorspace::Rgb), &opts, limit).unwrap();
    let y_of_rgb: Vec<u8> = rgb
        .data()
        .chunks(3)
        .map(|p| {
            (0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2])).round()
                as u8
        })
        .collect();
    assert!(psnr(y.data(), &y_of_rgb) >= 40.0);
    // CMYK comes only from a CMYK JPEG, and a CMYK JPEG gives only CMYK.
    let cmyk = encode(
        &natural_frame(&[24, 40, 4], 1),
        &JpegOptions::with_colorspace(Colorspace::Cmyk),
    )
    .unwrap();
    for (data, cs) in [
        (gray_data, Colorspace::Cmyk),
        (colour_data, Colorspace::Cmyk),
        (jpeg_bytes(&cmyk), Colorspace::Rgb),
        (jpeg_bytes(&cmyk), Colorspace::Gray),
    ] {
        let err = decode_jpeg(data, &header(cs), &opts, limit).unwrap_err();
        assert!(matches!(err, JpegError::Codec(_)), "{cs}: {err:?}");
    }
}

#[test]
fn corrupt_truncated_and_oversized_jpegs_are_errors() {
    let opts = JpegOptions::default();
    let good = encode(&natural_frame(&[64, 64, 3], 0), &opts).unwrap();
    let data = jpeg_bytes(&good);
    let compression = opts.compression();
    let limit = 1 << 30;
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    for (what, bytes) in [
        ("garbage", garbage.as_slice()),
        ("empty", &[][..]),
        ("truncated", &data[..data.len() / 2]),
        ("header only", &data[..200]),
    ] {
        let err = decode_jpeg(bytes, &compression, &opts, limit).unwrap_err();
        assert!(matches!(err, JpegError::Codec(_)), "{what}: {err:?}");
    }
    // A valid JPEG that decodes to more bytes than allowed.
    let err = decode_jpeg(data, &compression, &opts, 64 * 64 * 3 - 1).unwrap_err();
    assert!(
        matches!(
            err,
            JpegError::TooLarge {
                width: 64,
                height: 64,
                ..
            }
        ),
        "{err:?}"
    );
    // An impossible conversion is an error too (CMYK from a YCbCr JPEG).
    let cmyk = Compression {
        colorspace: Colorspace::Cmyk,
        ..compression
    };
    assert!(decode_jpeg(data, &cmyk, &opts, limit).is_err());
}

// ---------------------------------------------------------------------------
// Through the zmq adapters.

fn pair_config(pattern: Pattern, bidirectional: bool) -> Config {
    Config::new()
        .pattern(pattern)
        .bidirectional(bidirectional)
        .request_timeout(Duration::from_secs(4))
}

/// A client bound at the ipc `address`, with [`pair_config`].
fn ipc_client(address: String, pattern: Pattern, bidirectional: bool) -> Client {
    Client::bind(
        ClientOptions::new()
            .address(address)
            .protocol(Protocol::Ipc)
            .config(pair_config(pattern, bidirectional)),
    )
    .unwrap()
}

/// A server connected to the ipc `address`, with [`pair_config`].
fn ipc_server(address: String, pattern: Pattern, bidirectional: bool) -> Server {
    Server::connect(
        ServerOptions::new()
            .address(address)
            .protocol(Protocol::Ipc)
            .config(pair_config(pattern, bidirectional)),
    )
    .unwrap()
}

/// The documented receive loop with the media layer: every frame that
/// arrives is delivered as an event, and one whose JPEG cannot be decoded
/// is a typed value the loop reports, never the end of it.
#[test]
fn media_over_the_adapters_decodes_frames_and_reports_bad_jpegs_without_ending_the_loop() {
    let ipc = Ipc::new();
    let address = ipc.address();
    let (tx, rx) = mpsc::channel();
    let client = thread::spawn(move || {
        let mut client = ipc_client(address, Pattern::ReqRep, false);
        tx.send(()).unwrap();
        let media = Media::new();
        let mut outcomes = Vec::new();
        while let Some(event) = client.recv().unwrap() {
            let ClientEvent::Frame(frame) = event else {
                continue;
            };
            let compression = match &frame.payload {
                Payload::Jpeg { compression, .. } => Some(*compression),
                Payload::Raw(_) => None,
            };
            outcomes.push((frame.seq, compression, frame.payload));
        }
        client.close().unwrap();
        // Decoded after the session: the client answers (and acknowledges
        // the termination) only inside `recv`, so a slow decode in the loop
        // would make the server wait.
        outcomes
            .into_iter()
            .map(|(seq, compression, payload)| (seq, compression, media.decode(payload)))
            .collect::<Vec<_>>()
    });
    rx.recv().unwrap();
    let options = JpegOptions::with_colorspace(Colorspace::Rgb);
    let media = Media::new().jpeg(options);
    let mut server = ipc_server(ipc.address(), Pattern::ReqRep, false);
    let frame0 = natural_frame(&[H, W, 3], 0);
    let frame3 = natural_frame(&[H, W, 3], 3);
    let good = media.encode(frame0.clone()).unwrap();
    assert_eq!(
        server.send(good.clone(), &()).unwrap().outcome,
        Outcome::Delivered
    );
    // Broken JPEG payloads travel (the wire does not look inside them).
    let truncated = Bytes::copy_from_slice(&jpeg_bytes(&good)[..jpeg_bytes(&good).len() / 3]);
    for data in [Bytes::from_static(b"not a jpeg at all"), truncated] {
        let broken = Payload::Jpeg {
            data,
            compression: options.compression(),
        };
        server.send(broken, &()).unwrap();
    }
    server
        .send(media.encode(frame3.clone()).unwrap(), &())
        .unwrap();
    // A frame JPEG cannot carry is refused by the media layer, before any send.
    let depth = Frame::new(Dtype::Uint16, vec![4, 4], vec![0u8; 32]).unwrap();
    let err = media.encode(depth).unwrap_err();
    assert!(
        matches!(err, MediaError::Jpeg(JpegError::NotUint8(_))),
        "{err}"
    );
    assert_eq!(err.code(), "media-cannot-compress");
    assert!(
        server.close().unwrap(),
        "pattern 1 acknowledges termination"
    );
    let outcomes = client.join().unwrap();
    assert_eq!(outcomes.len(), 4, "{outcomes:?}");
    for (k, original) in [(0usize, &frame0), (3, &frame3)] {
        let (seq, Some(c), Ok(got)) = &outcomes[k] else {
            panic!("outcome {k}: {:?}", outcomes[k])
        };
        assert_eq!(*seq, k as u64);
        assert_eq!(c.colorspace, Colorspace::Rgb);
        assert_eq!(got.shape(), [H, W, 3]);
        assert!(psnr(original.data(), got.data()) >= 35.0);
    }
    for (seq, _, outcome) in &outcomes[1..3] {
        let Err(e) = outcome else {
            panic!("frame {seq} should not decode: {outcome:?}")
        };
        assert_eq!(e.code(), "media-bad-jpeg", "frame {seq}: {e}");
    }
}

/// Return data through the media layer: the client compresses the frame it
/// returns, the server decodes it; a broken returned JPEG is a value, and
/// the next answer arrives as usual.
#[test]
fn returned_frames_are_compressed_by_the_client_and_decoded_by_the_server() {
    let ipc = Ipc::new();
    let address = ipc.address();
    let (tx, rx) = mpsc::channel();
    let natural_return = natural_frame(&[H, W], 0);
    let expected = natural_return.clone();
    let client = thread::spawn(move || {
        let mut client = ipc_client(address, Pattern::Pair, true);
        let media = Media::new().jpeg(JpegOptions::with_colorspace(Colorspace::Gray));
        // A frame JPEG cannot carry as GRAY is refused before it is set.
        assert!(media.encode_return(natural_frame(&[8, 8, 3], 0)).is_err());
        client.set_return_data(media.encode_return(natural_return).unwrap());
        tx.send(()).unwrap();
        let mut n = 0;
        while let Some(event) = client.recv().unwrap() {
            if !matches!(event, ClientEvent::Frame(_)) {
                continue;
            }
            n += 1;
            if n == 1 {
                // Answer the next frame with a broken JPEG, then with text.
                client.set_return_data(ReturnData::Frame(Payload::Jpeg {
                    data: Bytes::from_static(b"\xff\xd8\xff garbage"),
                    compression: JpegOptions::with_colorspace(Colorspace::Gray).compression(),
                }));
            } else if n == 2 {
                client.set_return("text again").unwrap();
            }
        }
        n
    });
    rx.recv().unwrap();
    let mut server = ipc_server(ipc.address(), Pattern::Pair, true);
    let media = Media::new();
    let tiny = Frame::new(Dtype::Uint8, vec![2, 2], vec![1, 2, 3, 4]).unwrap();
    let sent = server.send(tiny.clone(), "frame please").unwrap();
    let Some(ReturnData::Frame(payload)) = sent.reply().cloned() else {
        panic!("{sent:?}")
    };
    let got = media.decode(payload).unwrap();
    assert_eq!(got.shape(), [H, W]);
    let db = psnr(expected.data(), got.data());
    assert!(db >= 35.0, "{db:.2} dB");
    let sent = server.send(tiny.clone(), &()).unwrap();
    assert_eq!(sent.seq, 1);
    let err = media
        .decode_return(sent.reply().cloned().unwrap())
        .unwrap_err();
    assert_eq!(err.code(), "media-bad-jpeg", "{err}");
    let sent = server.send(tiny, &()).unwrap();
    assert_eq!(
        sent.reply(),
        Some(&ReturnData::Json(Value::from("text again")))
    );
    server.close().unwrap();
    assert_eq!(client.join().unwrap(), 3);
}

#[test]
fn reducer_keeps_dtype_and_axes_and_refuses_bad_input() {
    let gray = natural_frame(&[100, 200], 0);
    let small = reducer(&gray, 50.0).unwrap();
    assert_eq!(small.shape(), [50, 100]);
    let flat16: Vec<u8> = (0..40 * 60).flat_map(|_| 1000u16.to_le_bytes()).collect();
    let depth = Frame::new(Dtype::Uint16, vec![40, 60], flat16).unwrap();
    let d = reducer(&depth, 25.0).unwrap();
    assert_eq!((d.shape(), d.dtype()), (&[30usize, 45][..], Dtype::Uint16));
    assert!(d
        .data()
        .chunks(2)
        .all(|b| u16::from_le_bytes([b[0], b[1]]) == 1000));
    let flat32: Vec<u8> = (0..20 * 20 * 4)
        .flat_map(|_| 0.5f32.to_le_bytes())
        .collect();
    let f = Frame::new(Dtype::Float32, vec![20, 20, 4], flat32).unwrap();
    let r = reducer(&f, 50.0).unwrap();
    assert_eq!(r.shape(), [10, 10, 4]);
    assert!(r
        .data()
        .chunks(4)
        .all(|b| (f32::from_le_bytes([b[0], b[1], b[2], b[3]]) - 0.5).abs() < 1e-6));
    for p in [0.0, -5.0, 90.0, 95.0, f64::NAN] {
        assert!(
            matches!(reducer(&gray, p), Err(ReduceError::Percentage(_))),
            "{p}"
        );
    }
    let i8_frame = Frame::new(Dtype::Int8, vec![4, 4], vec![0u8; 16]).unwrap();
    assert_eq!(
        reducer(&i8_frame, 50.0).unwrap_err(),
        ReduceError::Dtype(Dtype::Int8)
    );
    let one_d = Frame::new(Dtype::Uint8, vec![16], vec![0u8; 16]).unwrap();
    assert!(matches!(reducer(&one_d, 50.0), Err(ReduceError::Shape(_))));
    let tiny = Frame::new(Dtype::Uint8, vec![1, 1], vec![0u8]).unwrap();
    assert!(matches!(
        reducer(&tiny, 50.0),
        Err(ReduceError::Empty { .. })
    ));
}

// ---------------------------------------------------------------------------
// The command line.

fn cli_pair(send: &[&str], receive: &[&str], frames: usize) -> (Vec<Value>, Vec<Value>, String) {
    let ipc = Ipc::new();
    let mut rx = Command::new(NETGEAR);
    rx.args(["receive", "--json"])
        .args(ipc.cli_args(5555))
        .args(receive);
    let mut rx = Proc::start(rx);
    rx.wait_bound_ipc(&ipc, 5555);
    let mut tx = Command::new(NETGEAR);
    tx.args(["send", "--json", "--frames", &frames.to_string()])
        .args(ipc.cli_args(5555))
        .args(send);
    let (tx_status, tx_lines, tx_err) = Proc::start(tx).finish(Duration::from_secs(60));
    assert!(tx_status.success(), "send failed: {tx_err}");
    let (rx_status, rx_lines, rx_err) = rx.finish(Duration::from_secs(30));
    assert!(rx_status.success(), "receive failed: {rx_err}");
    (tx_lines, rx_lines, rx_err)
}

#[test]
fn cli_jpeg_both_ways_with_reduce() {
    // Bare --jpeg is BGR; the receiver decodes without being told.
    let (_, rx, _) = cli_pair(&["--jpeg", "--content", "natural"], &[], 3);
    assert_eq!(rx.len(), 3);
    for line in &rx {
        assert_eq!(
            line.get("shape"),
            Some(&Value::from(vec![480usize, 640, 3]))
        );
        assert_eq!(line.get("dtype").and_then(Value::as_str), Some("uint8"));
    }
    // --reduce on both ends, a GRAY JPEG frame returned.
    let (tx, rx, _) = cli_pair(
        &[
            "--bidirectional",
            "--reduce",
            "50",
            "--jpeg",
            "RGB",
            "--jpeg-quality",
            "80",
            "--no-fastdct",
        ],
        &[
            "--bidirectional",
            "--return-frame",
            "480,640",
            "--content",
            "natural",
            "--reduce",
            "25",
            "--jpeg",
            "gray",
            "--fastupsample",
        ],
        2,
    );
    assert_eq!(
        rx[0].get("shape"),
        Some(&Value::from(vec![240usize, 320, 3]))
    );
    let reply = tx[0].get("reply").unwrap();
    assert_eq!(reply.get("shape"), Some(&Value::from(vec![360usize, 480])));
    assert_eq!(reply.get("dtype").and_then(Value::as_str), Some("uint8"));
}

#[test]
fn cli_refuses_jpeg_settings_that_cannot_work() {
    for args in [
        &["send", "--jpeg", "--jpeg-quality", "5"][..],
        &["send", "--jpeg", "--dtype", "float32"],
        &["send", "--jpeg", "GRAY"],
        &["send", "--jpeg", "PURPLE"],
        &["send", "--reduce", "90"],
        &["send", "--jpeg-quality", "50"],
        &[
            "receive",
            "--bidirectional",
            "--return-frame",
            "48,64,3",
            "--jpeg",
            "RGBA",
        ],
    ] {
        let out = Command::new(NETGEAR)
            .args(args)
            .args(["--port", "1", "--frames", "1"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn cli_receiver_reports_a_corrupt_jpeg_and_goes_on() {
    let ipc = Ipc::new();
    let mut rx = Command::new(NETGEAR);
    rx.args(["receive", "--json", "--pattern", "1"])
        .args(ipc.cli_args(5555));
    let mut rx = Proc::start(rx);
    rx.wait_bound_ipc(&ipc, 5555);
    send_good_bad_good(&ipc);
    let (status, lines, err) = rx.finish(Duration::from_secs(20));
    assert!(status.success(), "{err}");
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[1].get("dtype").and_then(Value::as_str), Some("jpeg"));
    let error = lines[1].get("error").and_then(Value::as_str).unwrap();
    assert!(error.contains("frame 1"), "{error}");
    assert_eq!(lines[1].get("code"), Some(&Value::from("media-bad-jpeg")));
    assert!(
        err.contains("JPEG frame of frame 1 cannot be decoded"),
        "{err}"
    );
    assert_eq!(
        lines[2].get("shape"),
        Some(&Value::from(vec![48usize, 64, 3]))
    );
    assert!(err.contains("1 error(s)"), "{err}");
}

/// Frames 0 and 2 good JPEGs, frame 1 a truncated one, then termination.
fn send_good_bad_good(ipc: &Ipc) {
    let options = JpegOptions::default();
    let media = Media::new().jpeg(options);
    let mut server = ipc_server(ipc.address(), Pattern::ReqRep, false);
    let good = |k| media.encode(natural_frame(&[48, 64, 3], k)).unwrap();
    server.send(good(0), &()).unwrap();
    let bad = Payload::Jpeg {
        data: Bytes::from_static(b"\xff\xd8\xff\xe0 truncated"),
        compression: options.compression(),
    };
    server.send(bad, &()).unwrap();
    server.send(good(2), &()).unwrap();
    server.close().unwrap();
}

/// `receive --frames N` counts intact frames only: a frame that cannot be
/// decoded is printed with its error but does not count, and the exit
/// status says whether N intact frames arrived.
#[test]
fn cli_receive_frames_counts_intact_frames_and_its_status_says_if_they_came() {
    for (asked, status_ok, lines_printed) in [(2, true, 3), (3, false, 3)] {
        let ipc = Ipc::new();
        let mut rx = Command::new(NETGEAR);
        rx.args([
            "receive",
            "--json",
            "--pattern",
            "1",
            "--frames",
            &asked.to_string(),
        ])
        .args(ipc.cli_args(5555));
        let mut rx = Proc::start(rx);
        rx.wait_bound_ipc(&ipc, 5555);
        send_good_bad_good(&ipc);
        let (status, lines, err) = rx.finish(Duration::from_secs(20));
        assert_eq!(
            status.success(),
            status_ok,
            "--frames {asked}: {status}: {err}"
        );
        assert_eq!(lines.len(), lines_printed, "{lines:?}");
        assert!(lines[1].get("error").is_some(), "{lines:?}");
        if !status_ok {
            assert_eq!(status.code(), Some(1));
            assert!(
                err.contains("only 2 of the 3 frames asked for arrived intact"),
                "{err}"
            );
        }
    }
}

#[test]
fn cli_jpeg_workers_send_every_frame_in_order() {
    // Three workers compress frames k, k + 1, k + 2 at once; frame k of the
    // run must still be natural frame k, decoded exactly as here.
    use sha2::Digest;
    let shape = [48usize, 64, 3];
    let (tx, rx, _) = cli_pair(
        &[
            "--jpeg",
            "--content",
            "natural",
            "--shape",
            "48,64,3",
            "--jpeg-workers",
            "3",
        ],
        &[],
        12,
    );
    assert_eq!((tx.len(), rx.len()), (12, 12));
    let media = Media::new();
    for (k, line) in rx.iter().enumerate() {
        assert_eq!(line.get("seq").and_then(Value::as_i64), Some(k as i64));
        let sent = encode(&natural_frame(&shape, k as u64), &JpegOptions::default()).unwrap();
        let decoded = media.decode(sent).unwrap();
        let expected = hex::encode(sha2::Sha256::digest(decoded.data()));
        assert_eq!(
            line.get("sha256").and_then(Value::as_str),
            Some(expected.as_str()),
            "frame {k}"
        );
    }
    for (k, line) in tx.iter().enumerate() {
        assert_eq!(line.get("seq").and_then(Value::as_i64), Some(k as i64));
        assert!(line.get("error").is_none(), "{line:?}");
    }
}
