//! The oracle: what each end must have observed, given the session, and
//! the deliberate deviations of spec/07 (and the documented quirks of
//! spec/06) that apply, each named when it does.
//!
//! Every message and every value of return data is compared by value
//! (integers by their digits, floats by their bits, NaN equal to NaN);
//! every raw frame byte for byte; a JPEG frame by its shape, its padding
//! channels, and its PSNR against what the encoder's own library decodes
//! from the same bitstream (`LUMA_AGREEMENT_DB` and the bounds after it).

use std::collections::BTreeSet;

use netgear::json::Value;
use netgear::wire::Colorspace;
use netgear::{Dtype, Frame};

use super::model::{FrameSpec, Jpeg, Mode, Ret, Session};
use super::normalize::{truthy, wire_value};
use super::run::{Answer, End, Got, Observed};
use super::strategy::MAX_ACCEPTED_DEPTH;
use super::Direction;
use crate::jpegcheck::{check_padding, kept};
use crate::matrix::check::{same, show};

// A decoded JPEG frame is compared (PSNR, dB) with what the encoder's own
// library decodes from the same bitstream: libjpeg-turbo (simplejpeg) for
// vidgear, netgear's own decoder for netgear. Decoders may differ where
// JPEG leaves them free: the fast integer IDCT against the accurate one
// (vidgear decodes with the fast one whenever either end asks for it,
// 03-payload.md §3.3.4), and chroma upsampling, most at the right edge of
// frames 3 or 4 pixels wide. Over 5,000 generated frames of every
// colourspace, 1 × 1 to 47 × 47, quality 10 to 100, both directions, the
// agreement of two decodes with the same IDCT never fell below 40.4 dB in
// luma or gray, 22.7 dB in the colour channels together and 27.7 dB in
// CMYK (4 pixels wide); with the fast IDCT against the accurate one, 31.2
// dB in luma (quality 100). A wrong channel order, colourspace conversion
// or size, or a damaged bitstream, lands far below the bounds.

/// Colour frames: the luma (JFIF's Y) of the two decodes...
pub const LUMA_AGREEMENT_DB: f64 = 36.0;
/// ...and all colour channels together (chroma upsampling); CMYK frames,
/// which have no luma to separate out, likewise.
pub const CHROMA_AGREEMENT_DB: f64 = 20.0;
/// Luma and gray levels when one decoder used the fast integer IDCT and
/// the other the accurate one: near quality 100 their difference is
/// several levels.
pub const FAST_IDCT_AGREEMENT_DB: f64 = 28.0;

/// A deviation or quirk the oracle applied.
pub type Deviation = &'static str;

/// spec/07 §7.1.
pub const FALSY_AS_NONE: Deviation = "spec/07 §7.1: vidgear delivers a falsy message as None";
/// spec/07 §7.10.
pub const NO_TERMINATION_P2_MULTICLIENT: Deviation =
    "spec/07 §7.10: vidgear sends no termination message on Multi-Client pattern 2 (or before any client replied)";
/// spec/07 §7.12.
pub const LOST_TERMINATION_P2: Deviation =
    "spec/07 §7.12: vidgear's pattern-2 termination message was lost (linger 0 at close); the harness or the subscriber timeout (§7.16) ended the receiver";
/// spec/07 §7.8.
pub const REJECTION_ANSWER: Deviation =
    "spec/07 §7.8: vidgear took netgear's rejection answer for a None reply (or a confirmation)";
/// spec/07 §7.15.
pub const DEPTH_LIMIT: Deviation =
    "spec/07 §7.15: netgear rejects JSON nested deeper than its limit (too-deep); vidgear has none";
/// spec/06 §6.3.4.
pub const ROUND_ROBIN_MISSED: Deviation =
    "spec/06 §6.3.4: the round robin left a client the server never counted (no reply it could decode) without a termination message";
/// spec/07 §7.12, Multi-Client mode.
pub const LOST_TERMINATION_MULTICLIENT: Deviation =
    "spec/07 §7.12: vidgear's Multi-Client server sent its termination messages back to back and closed with linger 0; one still queued was lost, and the harness ended that client";
/// vidgear's API.
pub const NO_MESSAGE_IN_API: Deviation =
    "spec/06 §6.3.3: vidgear's recv() hands over no message outside Bidirectional and Multi-Server mode";

/// The oracle's judgement of one session.
#[derive(Debug, Default)]
pub struct Verdict {
    /// What is wrong (empty: the session passed).
    pub failures: Vec<String>,
    /// The deviations and quirks that applied.
    pub deviations: BTreeSet<Deviation>,
    /// Pattern 2: frames PUB/SUB dropped (per receiver, summed).
    pub dropped: usize,
    /// JPEG frames: how each compared.
    pub psnr: Vec<JpegScore>,
}

impl Verdict {
    fn fail(&mut self, text: String) {
        self.failures.push(text);
    }
}

/// Judges what `obs` saw of `session` run in `direction`.
pub fn judge(session: &Session, direction: Direction, obs: &Observed) -> Verdict {
    let mut v = Verdict::default();
    for e in &obs.errors {
        v.fail(format!("harness: {e}"));
    }
    let owners = assign(session, direction, obs, &mut v);
    check_answers(session, direction, obs, &owners, &mut v);
    check_ends(session, direction, obs, &mut v);
    v
}

/// Which receiver each step reached, and as its how-manieth frame.
type Owners = Vec<Option<(usize, usize)>>;

/// Matches every frame each receiver got against the steps, in order:
/// all of them (patterns 0 and 1), one receiver's share of them
/// (Multi-Client, pattern 1), or a subsequence (pattern 2, where PUB
/// drops by design: counted, never wrong).
fn assign(session: &Session, direction: Direction, obs: &Observed, v: &mut Verdict) -> Owners {
    let mut owners: Owners = vec![None; session.steps.len()];
    let steps = 0..session.steps.len();
    if session.pattern < 2 && matches!(session.mode, Mode::MultiClient { .. }) {
        deal(session, direction, obs, &mut owners, v);
        return owners;
    }
    let (rejects, expected): (Vec<usize>, Vec<usize>) =
        steps.partition(|&k| netgear_rejects(session, direction, k));
    for (c, rx) in obs.receivers.iter().enumerate() {
        check_rejections(session, c, &rx.rejected, rejects.len(), v);
        if session.pattern < 2 {
            every_one(session, direction, obs, c, &expected, &mut owners, v);
        } else {
            subsequence(session, direction, obs, c, &expected, &mut owners, v);
        }
    }
    owners
}

/// Patterns 0 and 1, one receiver: exactly the `expected` steps, in order.
fn every_one(
    session: &Session,
    direction: Direction,
    obs: &Observed,
    c: usize,
    expected: &[usize],
    owners: &mut Owners,
    v: &mut Verdict,
) {
    let got = &obs.receivers[c].got;
    if got.len() != expected.len() {
        v.fail(format!(
            "receiver {c} got {} frame(s), expected {} (steps {expected:?})",
            got.len(),
            expected.len()
        ));
    }
    for (j, (frame, &k)) in got.iter().zip(expected).enumerate() {
        if let Err(e) = matches(session, direction, obs, k, frame, v) {
            v.fail(format!("receiver {c}, its frame {j} (step {k}): {e}"));
            break;
        }
        owners[k] = Some((c, j));
    }
}

/// Pattern 2: what receiver `c` got is a subsequence of the steps.
fn subsequence(
    session: &Session,
    direction: Direction,
    obs: &Observed,
    c: usize,
    expected: &[usize],
    owners: &mut Owners,
    v: &mut Verdict,
) {
    let got = &obs.receivers[c].got;
    let fits =
        |k: usize, frame: &Got| matches(session, direction, obs, k, frame, &mut Verdict::default());
    let mut cursor = 0;
    for (j, frame) in got.iter().enumerate() {
        match (cursor..expected.len()).find(|&i| fits(expected[i], frame).is_ok()) {
            Some(i) => {
                let _ = matches(session, direction, obs, expected[i], frame, v);
                owners[expected[i]].get_or_insert((c, j));
                cursor = i + 1;
            }
            None => {
                let why = expected
                    .get(cursor)
                    .map(|&k| fits(k, frame))
                    .and_then(Result::err)
                    .unwrap_or_else(|| "no frame was left to come".into());
                v.fail(format!(
                    "receiver {c}, its frame {j}: none of the frames still to come \
                     (duplicated, reordered or corrupt); against step {cursor}: {why}"
                ));
                return;
            }
        }
    }
    v.dropped += expected.len().saturating_sub(got.len());
}

/// Multi-Client, pattern 1: every step reaches exactly one receiver, as
/// its next frame, and it is the receiver the answer's `port` names (when
/// the answer could be decoded; else the one whose next frame it is).
fn deal(
    session: &Session,
    direction: Direction,
    obs: &Observed,
    owners: &mut Owners,
    v: &mut Verdict,
) {
    let n = obs.receivers.len();
    let mut next = vec![0usize; n];
    let mut rejects = vec![0usize; n];
    #[allow(clippy::needless_range_loop)] // `k` also names the step in messages
    for k in 0..session.steps.len() {
        let named = answered_by(obs, k);
        if netgear_rejects(session, direction, k) {
            match named {
                Some(c) => rejects[c] += 1,
                None => v.fail(format!("step {k}: its rejection answer names no receiver")),
            }
            continue;
        }
        let candidates: Vec<usize> = (0..n)
            .filter(|&c| {
                obs.receivers[c].got.get(next[c]).is_some_and(|frame| {
                    matches(session, direction, obs, k, frame, &mut Verdict::default()).is_ok()
                })
            })
            .collect();
        match named.or(candidates.first().copied()) {
            Some(c) if candidates.contains(&c) => {
                let _ = matches(
                    session,
                    direction,
                    obs,
                    k,
                    &obs.receivers[c].got[next[c]],
                    v,
                );
                owners[k] = Some((c, next[c]));
                next[c] += 1;
            }
            Some(c) => {
                let why = obs.receivers[c]
                    .got
                    .get(next[c])
                    .map(|frame| {
                        matches(session, direction, obs, k, frame, &mut Verdict::default())
                    })
                    .and_then(Result::err)
                    .unwrap_or_else(|| "it got no more frames".into());
                v.fail(format!(
                    "step {k}: its answer names receiver {c}, whose next frame is not it: {why}"
                ));
                return;
            }
            None => {
                v.fail(format!("step {k} is the next frame of no receiver"));
                return;
            }
        }
    }
    for (c, rx) in obs.receivers.iter().enumerate() {
        check_rejections(session, c, &rx.rejected, rejects[c], v);
        if next[c] != rx.got.len() {
            v.fail(format!(
                "receiver {c} got {} frame(s), of which {} are accounted for",
                rx.got.len(),
                next[c]
            ));
        }
    }
}

/// netgear's receiver rejects step `k`: its message is nested deeper than
/// netgear's limit (vidgear has none, spec/07 §7.15).
fn netgear_rejects(session: &Session, direction: Direction, k: usize) -> bool {
    direction == Direction::FromVidgear && session.steps[k].message.depth() > MAX_ACCEPTED_DEPTH
}

/// The rejections a receiver reported: `too-deep` ones, one per message
/// over the limit that reached it (pattern 2: at most, PUB may drop).
fn check_rejections(
    session: &Session,
    c: usize,
    rejected: &[String],
    expected: usize,
    v: &mut Verdict,
) {
    if let Some(r) = rejected.iter().find(|r| !r.starts_with("too-deep")) {
        v.fail(format!("receiver {c} rejected a message: {r}"));
    }
    let counts = if session.pattern < 2 {
        rejected.len() == expected
    } else {
        rejected.len() <= expected
    };
    if !counts {
        v.fail(format!(
            "receiver {c} rejected {} message(s) as too deep, expected {expected}",
            rejected.len()
        ));
    }
    if !rejected.is_empty() {
        v.deviations.insert(DEPTH_LIMIT);
    }
}

/// Multi-Client pattern 1: the receiver whose port the answer to step `k` names.
fn answered_by(obs: &Observed, k: usize) -> Option<usize> {
    let port = obs.sent.get(k)?.as_ref()?.port.as_ref()?;
    obs.ports
        .iter()
        .position(|p| Value::from(p.as_str()) == *port)
}

/// Checks one received frame against step `k`: port, message, pixels.
fn matches(
    session: &Session,
    direction: Direction,
    obs: &Observed,
    k: usize,
    got: &Got,
    v: &mut Verdict,
) -> Result<(), String> {
    let step = &session.steps[k];
    if let Mode::MultiServer { .. } = session.mode {
        let want = Value::from(obs.ports[step.server].as_str());
        if got.port.as_ref() != Some(&want) {
            return Err(format!(
                "port {:?}, expected {}",
                got.port.as_ref().map(show),
                show(&want)
            ));
        }
    }
    let sent = wire_value(&step.message);
    let want = match direction {
        Direction::FromVidgear => Some(sent),
        Direction::ToVidgear => vidgear_message(session, sent, v),
    };
    match (&got.message, &want) {
        (None, None) => {}
        (Some(m), Some(w)) if same(m, w) => {}
        (m, w) => {
            return Err(format!(
                "message {}, expected {}",
                m.as_ref().map_or("(none)".into(), show),
                w.as_ref().map_or("(none)".into(), show)
            ))
        }
    }
    let frame = got.frame.as_ref().map_err(Clone::clone)?;
    let encoder = match direction {
        Direction::ToVidgear => Encoder::Netgear,
        Direction::FromVidgear => Encoder::Vidgear(obs.frame_refs.get(k).and_then(Option::as_ref)),
    };
    check_frame(session.jpeg.as_ref(), encoder, &step.frame, frame, v)
}

/// Who JPEG-compressed a frame, and so what its receiver should decode.
#[derive(Debug, Clone, Copy)]
enum Encoder<'a> {
    /// netgear: its own encoder and decoder give the reference.
    Netgear,
    /// vidgear: simplejpeg's own decode of its bitstream, as the control
    /// peer reported it.
    Vidgear(Option<&'a Frame>),
}

/// What vidgear's `recv()` hands its application for a message.
fn vidgear_message(session: &Session, sent: Value, v: &mut Verdict) -> Option<Value> {
    let hands_over = match session.mode {
        Mode::MultiServer { .. } | Mode::Bidirectional => true,
        Mode::MultiClient { bidirectional, .. } => bidirectional,
        Mode::Plain => false,
    };
    if !hands_over {
        v.deviations.insert(NO_MESSAGE_IN_API);
        return None;
    }
    if truthy(&sent) {
        Some(sent)
    } else {
        if !sent.is_null() {
            v.deviations.insert(FALSY_AS_NONE);
        }
        Some(Value::Null)
    }
}

/// A frame as it must arrive: the same bytes raw, or within the PSNR
/// bound as JPEG.
fn check_frame(
    jpeg: Option<&Jpeg>,
    encoder: Encoder<'_>,
    spec: &FrameSpec,
    got: &Frame,
    v: &mut Verdict,
) -> Result<(), String> {
    let original = spec.frame();
    let Some(jpeg) = jpeg else {
        if got.dtype() != original.dtype() || got.shape() != original.shape() {
            return Err(format!(
                "frame {} {:?}, expected {} {:?}",
                got.dtype(),
                got.shape(),
                original.dtype(),
                original.shape()
            ));
        }
        return match got
            .data()
            .iter()
            .zip(original.data())
            .position(|(a, b)| a != b)
        {
            None if got.data().len() == original.data().len() => Ok(()),
            None => Err("frame size differs".into()),
            Some(i) => Err(format!(
                "frame bytes differ from byte {i} ({} vs {})",
                got.data()[i],
                original.data()[i]
            )),
        };
    };
    let score = jpeg_psnr(jpeg, encoder, &original, got)?;
    v.psnr.push(score.clone());
    // vidgear decodes netgear's JPEG with the fast IDCT when asked to, and
    // the reference then is netgear's own decode with another IDCT.
    let fast_against_accurate =
        matches!(encoder, Encoder::Netgear) && jpeg.fast_dct && !jpeg.netgear_decodes_fast();
    let levels = if fast_against_accurate {
        FAST_IDCT_AGREEMENT_DB
    } else {
        LUMA_AGREEMENT_DB
    };
    let (what, db, bound) = match (jpeg.colorspace(), score.luma_agreement) {
        (_, Some(luma)) if luma < levels => ("its luma", luma, levels),
        (_, Some(_)) => ("its colour channels", score.agreement, CHROMA_AGREEMENT_DB),
        (Colorspace::Cmyk, None) => ("its CMYK channels", score.agreement, CHROMA_AGREEMENT_DB),
        (_, None) => ("its gray levels", score.agreement, levels),
    };
    if db < bound {
        return Err(format!(
            "JPEG frame {:?}: {what} decoded {db:.2} dB from the encoder's own decode of the same \
             bitstream (at least {bound} dB expected); {:.2} dB from the original where the encoder's \
             own decode is at {:.2} dB",
            got.shape(),
            score.fidelity,
            score.reference
        ));
    }
    Ok(())
}

/// The JPEG frame `got` against the original and against what the
/// encoder's own library decodes from the same bitstream, over the colour
/// channels, after checking the decoded shape and the padding channels.
fn jpeg_psnr(
    jpeg: &Jpeg,
    encoder: Encoder<'_>,
    original: &Frame,
    got: &Frame,
) -> Result<JpegScore, String> {
    let cs = jpeg.colorspace();
    let (h, w) = (original.shape()[0], original.shape()[1]);
    let want: Vec<usize> = if cs == Colorspace::Gray {
        vec![h, w]
    } else {
        vec![h, w, cs.channels()]
    };
    if got.dtype() != Dtype::Uint8 || got.shape() != want.as_slice() {
        return Err(format!(
            "JPEG frame decoded as {} {:?}, expected uint8 {want:?}",
            got.dtype(),
            got.shape()
        ));
    }
    let own;
    let reference = match encoder {
        Encoder::Vidgear(Some(f)) => f,
        Encoder::Vidgear(None) => {
            return Err("the control peer reported no reference decode".into())
        }
        Encoder::Netgear => {
            let options = jpeg.options();
            own = netgear::jpeg::encode(original, &options)
                .and_then(|p| netgear::jpeg::decode(&p, &options))
                .map_err(|e| format!("netgear cannot round-trip the original: {e}"))?;
            &own
        }
    };
    if reference.shape() != got.shape() {
        return Err(format!(
            "the reference decode has shape {:?}",
            reference.shape()
        ));
    }
    let n = cs.channels();
    check_padding(cs, got)?;
    let pick = |data: &[u8]| kept(cs, data);
    let (base, mine, theirs) = (
        pick(original.data()),
        pick(got.data()),
        pick(reference.data()),
    );
    let luma_agreement = rgb_order(cs).map(|rgb| {
        let y = |data: &[u8]| -> Vec<u8> {
            data.chunks(n)
                .map(|px| {
                    let (r, g, b) = (
                        f64::from(px[rgb[0]]),
                        f64::from(px[rgb[1]]),
                        f64::from(px[rgb[2]]),
                    );
                    (0.299 * r + 0.587 * g + 0.114 * b).round() as u8
                })
                .collect()
        };
        netgear_testkit::psnr(&y(reference.data()), &y(got.data()))
    });
    Ok(JpegScore {
        luma_agreement,
        shape: got.shape().to_vec(),
        by_vidgear: matches!(encoder, Encoder::Vidgear(_)),
        fidelity: netgear_testkit::psnr(&base, &mine),
        reference: netgear_testkit::psnr(&base, &theirs),
        agreement: netgear_testkit::psnr(&theirs, &mine),
    })
}

/// Where R, G and B sit in a pixel of `cs` (none for GRAY and CMYK).
fn rgb_order(cs: Colorspace) -> Option<[usize; 3]> {
    match cs {
        Colorspace::Rgb | Colorspace::Rgbx | Colorspace::Rgba => Some([0, 1, 2]),
        Colorspace::Bgr | Colorspace::Bgrx | Colorspace::Bgra => Some([2, 1, 0]),
        Colorspace::Xbgr | Colorspace::Abgr => Some([3, 2, 1]),
        Colorspace::Xrgb | Colorspace::Argb => Some([1, 2, 3]),
        Colorspace::Gray | Colorspace::Cmyk => None,
    }
}

/// How a decoded JPEG frame compares, in dB.
#[derive(Debug, Clone)]
pub struct JpegScore {
    /// The decoded shape.
    pub shape: Vec<usize>,
    /// vidgear compressed it (else netgear).
    pub by_vidgear: bool,
    /// Against the original.
    pub fidelity: f64,
    /// The encoder's own decode against the original.
    pub reference: f64,
    /// Against the encoder's own decode of the same bitstream.
    pub agreement: f64,
    /// The same for the luma (Y of JFIF's YCbCr) alone, where there is
    /// chroma: chroma upsampling is left to the decoder, luma is not.
    pub luma_agreement: Option<f64>,
}

/// The sender's outcome of every step: the return data of the receiver
/// that got it (as its how-manieth frame), a confirmation, or nothing.
fn check_answers(
    session: &Session,
    direction: Direction,
    obs: &Observed,
    owners: &Owners,
    v: &mut Verdict,
) {
    for (k, sent) in obs.sent.iter().enumerate() {
        let Some(sent) = sent else {
            v.fail(format!("step {k}: the sender reported no outcome"));
            continue;
        };
        if let Answer::Failed(e) = &sent.answer {
            v.fail(format!("step {k}: the send failed: {e}"));
            continue;
        }
        let problem = if netgear_rejects(session, direction, k) {
            // The rejection answer: vidgear's send() returns None.
            if session.pattern < 2 {
                v.deviations.insert(REJECTION_ANSWER);
            }
            (!matches!(sent.answer, Answer::Nothing))
                .then(|| format!("answer {:?} to a rejected frame", sent.answer))
        } else if session.pattern == 2 || !session.replies_with_data() {
            let want_ok = match (direction, &sent.answer) {
                (Direction::ToVidgear, Answer::Published) => session.pattern == 2,
                (Direction::ToVidgear, Answer::Delivered) => session.pattern < 2,
                (Direction::FromVidgear, Answer::Nothing) => true,
                _ => false,
            };
            (!want_ok).then(|| format!("answer {:?}", sent.answer))
        } else {
            match owners.get(k).copied().flatten() {
                None => Some("no receiver got it".into()),
                Some((c, j)) => {
                    // Returned frames are compressed by the receiving end.
                    let encoder = match direction {
                        Direction::ToVidgear => Encoder::Vidgear(
                            obs.return_refs
                                .get(c)
                                .and_then(|refs| refs.get(j).or(refs.last()))
                                .and_then(Option::as_ref),
                        ),
                        Direction::FromVidgear => Encoder::Netgear,
                    };
                    answer_problem(
                        session,
                        direction,
                        encoder,
                        session.ret(c, j),
                        &sent.answer,
                        v,
                    )
                }
            }
        };
        if let Some(p) = problem {
            v.fail(format!("step {k}: {p}"));
        }
    }
}

fn answer_problem(
    session: &Session,
    direction: Direction,
    encoder: Encoder<'_>,
    ret: Option<&Ret>,
    got: &Answer,
    v: &mut Verdict,
) -> Option<String> {
    let want = match ret {
        None => Value::Null,
        Some(Ret::Json(p))
            if direction == Direction::ToVidgear && p.depth() > MAX_ACCEPTED_DEPTH =>
        {
            v.deviations.insert(DEPTH_LIMIT);
            return match got {
                Answer::BadReply(e) if e.starts_with("too-deep") => None,
                other => Some(format!(
                    "answer {other:?}, expected netgear's too-deep BadReply"
                )),
            };
        }
        Some(Ret::Json(p)) => wire_value(p),
        Some(Ret::Frame(spec)) => {
            return match got {
                Answer::Frame(Ok(f)) => check_frame(session.jpeg.as_ref(), encoder, spec, f, v)
                    .err()
                    .map(|e| format!("returned frame: {e}")),
                other => Some(format!("answer {other:?}, expected a frame")),
            }
        }
    };
    match (direction, got) {
        (Direction::FromVidgear, Answer::Nothing) if want.is_null() => None,
        (_, Answer::Json(j)) if same(j, &want) => None,
        (_, other) => Some(format!(
            "answer {}, expected {}",
            match other {
                Answer::Json(j) => show(j),
                o => format!("{o:?}"),
            },
            show(&want)
        )),
    }
}

/// How every receiver ended, and how every netgear close went.
fn check_ends(session: &Session, direction: Direction, obs: &Observed, v: &mut Verdict) {
    let multiclient = matches!(session.mode, Mode::MultiClient { .. });
    // The clients a Multi-Client server counts: the ports of the answers it
    // could decode (spec/05 §5.6.1).
    let seen: BTreeSet<usize> = (0..obs.sent.len())
        .filter_map(|k| answered_by(obs, k))
        .collect();
    let mut by_harness = 0;
    for (c, rx) in obs.receivers.iter().enumerate() {
        match &rx.end {
            None => v.fail(format!("receiver {c} never ended")),
            Some(End::Failed(e)) => v.fail(format!("receiver {c} failed: {e}")),
            Some(End::PublisherSilent)
                if session.pattern == 2 && direction == Direction::FromVidgear =>
            {
                by_harness += 1;
                v.deviations.insert(if multiclient {
                    NO_TERMINATION_P2_MULTICLIENT
                } else {
                    LOST_TERMINATION_P2
                });
            }
            Some(End::PublisherSilent) => {
                v.fail(format!("receiver {c} ended by its subscriber timeout"))
            }
            Some(End::Terminated) if rx.harness_terminated => by_harness += 1,
            Some(End::Terminated) => {}
        }
    }
    let ended_by_sender = obs.receivers.len() - by_harness;
    // How many receivers the sender's termination messages should reach.
    let reach = match (direction, session.pattern, multiclient) {
        (_, 0 | 1, false) => obs.receivers.len(),
        (Direction::ToVidgear, 1, true) => seen.len().max(1),
        (Direction::FromVidgear, 1, true) => seen.len(),
        (Direction::ToVidgear, _, _) => obs.receivers.len(),
        // vidgear on pattern 2: one, lost or not; none in Multi-Client mode.
        (Direction::FromVidgear, _, true) => 0,
        (Direction::FromVidgear, _, false) => ended_by_sender,
    };
    // vidgear's Multi-Client close may lose all but one of its termination
    // messages (spec/07 §7.12); at least one gets out when it counted any.
    let lossy = direction == Direction::FromVidgear && session.pattern == 1 && multiclient;
    if lossy && (1..reach).contains(&ended_by_sender) {
        v.deviations.insert(LOST_TERMINATION_MULTICLIENT);
    } else if ended_by_sender != reach {
        v.fail(format!(
            "{ended_by_sender} receiver(s) ended by the sender's termination, expected {reach}"
        ));
    }
    if by_harness > 0 {
        v.deviations
            .insert(match (direction, session.pattern, multiclient) {
                (Direction::FromVidgear, 2, true) => NO_TERMINATION_P2_MULTICLIENT,
                (Direction::FromVidgear, 1, true) if seen.is_empty() => {
                    NO_TERMINATION_P2_MULTICLIENT
                }
                (Direction::FromVidgear, 2, false) => LOST_TERMINATION_P2,
                _ => ROUND_ROBIN_MISSED,
            });
    }
    for (i, close) in obs.closes.iter().enumerate() {
        match close {
            Err(e) => v.fail(format!("netgear server {i}: close failed: {e}")),
            Ok(ack) if *ack != (session.pattern == 1) => {
                v.fail(format!("netgear server {i}: close acknowledged: {ack}"))
            }
            Ok(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::property::model::{Content, PyValue, Step};
    use crate::property::run::{ReceiverObs, SentObs};

    fn raw(dtype: &str, shape: &[usize], seed: u64) -> FrameSpec {
        FrameSpec {
            dtype: dtype.into(),
            shape: shape.to_vec(),
            content: Content::Random(seed),
        }
    }

    fn session(pattern: u8, mode: Mode, message: PyValue, frame: FrameSpec) -> Session {
        Session {
            pattern,
            mode,
            jpeg: None,
            steps: vec![Step {
                server: 0,
                message,
                frame,
            }],
            returns: vec![vec![Ret::Json(PyValue::Str("ok".into()))]],
        }
    }

    /// What a faithful run of a one-frame session observes.
    fn faithful(s: &Session, direction: Direction, message: Option<Value>) -> Observed {
        let mut obs = Observed::new(s, vec!["7000".into()]);
        obs.receivers[0] = ReceiverObs {
            got: vec![Got {
                port: None,
                message,
                frame: Ok(s.steps[0].frame.frame()),
            }],
            end: Some(End::Terminated),
            ..ReceiverObs::default()
        };
        let answer = match (s.pattern, direction) {
            (2, Direction::ToVidgear) => Answer::Published,
            (2, Direction::FromVidgear) => Answer::Nothing,
            _ => Answer::Json(Value::from("ok")),
        };
        obs.sent[0] = Some(SentObs { port: None, answer });
        if direction == Direction::ToVidgear {
            obs.closes.push(Ok(s.pattern == 1));
        }
        obs
    }

    /// Multi-Client, pattern 1, three clients: the first two answered (under
    /// ports 7000 and 7001), and `by_sender` of the clients ended by the
    /// server's termination messages, the others by the harness's.
    fn multiclient_ends(by_sender: usize) -> (Session, Observed) {
        let mut s = session(
            1,
            Mode::MultiClient {
                clients: 3,
                bidirectional: false,
            },
            PyValue::None,
            raw("uint8", &[2], 4),
        );
        s.steps.push(s.steps[0].clone());
        let ports = vec!["7000".into(), "7001".into(), "7002".into()];
        let mut obs = Observed::new(&s, ports);
        for (k, port) in ["7000", "7001"].into_iter().enumerate() {
            obs.sent[k] = Some(SentObs {
                port: Some(Value::from(port)),
                answer: Answer::Json(Value::from("ok")),
            });
        }
        for (c, rx) in obs.receivers.iter_mut().enumerate() {
            rx.end = Some(End::Terminated);
            rx.harness_terminated = c >= by_sender;
        }
        (s, obs)
    }

    #[test]
    fn a_vidgear_multiclient_termination_lost_at_close_is_named_but_none_reaching_fails() {
        let (s, obs) = multiclient_ends(1);
        let mut v = Verdict::default();
        check_ends(&s, Direction::FromVidgear, &obs, &mut v);
        assert!(v.failures.is_empty(), "{:?}", v.failures);
        assert!(v.deviations.contains(LOST_TERMINATION_MULTICLIENT));
        // netgear's server must reach every client it counted.
        let mut v = Verdict::default();
        check_ends(&s, Direction::ToVidgear, &obs, &mut v);
        assert!(
            v.failures[0].contains("1 receiver(s) ended by the sender's termination, expected 2"),
            "{:?}",
            v.failures
        );
        // vidgear gets at least one termination out.
        let (s, obs) = multiclient_ends(0);
        let mut v = Verdict::default();
        check_ends(&s, Direction::FromVidgear, &obs, &mut v);
        assert!(
            v.failures[0].contains("0 receiver(s) ended by the sender's termination, expected 2"),
            "{:?}",
            v.failures
        );
    }

    #[test]
    fn a_faithful_session_passes_and_names_vidgears_falsy_message_deviation() {
        let s = session(
            1,
            Mode::Bidirectional,
            PyValue::Int("0".into()),
            raw("uint16", &[2, 3], 1),
        );
        let v = judge(
            &s,
            Direction::ToVidgear,
            &faithful(&s, Direction::ToVidgear, Some(Value::Null)),
        );
        assert!(v.failures.is_empty(), "{:?}", v.failures);
        assert!(v.deviations.contains(FALSY_AS_NONE));
        // netgear must deliver the 0 itself.
        let v = judge(
            &s,
            Direction::FromVidgear,
            &faithful(&s, Direction::FromVidgear, Some(Value::Null)),
        );
        assert!(
            v.failures[0].contains("message null, expected 0"),
            "{:?}",
            v.failures
        );
    }

    #[test]
    fn one_changed_byte_fails() {
        let s = session(
            0,
            Mode::Bidirectional,
            PyValue::None,
            raw("float32", &[4], 2),
        );
        let mut obs = faithful(&s, Direction::FromVidgear, Some(Value::Null));
        let frame = s.steps[0].frame.frame();
        let mut bytes = frame.data().to_vec();
        bytes[5] ^= 1;
        obs.receivers[0].got[0].frame =
            netgear::Frame::new(frame.dtype(), frame.shape().to_vec(), bytes)
                .map_err(|e| e.to_string());
        let v = judge(&s, Direction::FromVidgear, &obs);
        assert!(
            v.failures[0].contains("bytes differ from byte 5"),
            "{:?}",
            v.failures
        );
    }

    #[test]
    fn a_lost_frame_fails_on_pattern_1_and_is_counted_on_pattern_2() {
        for (pattern, mode) in [(1, Mode::Plain), (2, Mode::Plain)] {
            let s = session(pattern, mode, PyValue::None, raw("bool", &[3], 3));
            let mut obs = faithful(&s, Direction::ToVidgear, None);
            obs.receivers[0].got.clear();
            if pattern == 1 {
                obs.sent[0] = Some(SentObs {
                    port: None,
                    answer: Answer::Delivered,
                });
            }
            let v = judge(&s, Direction::ToVidgear, &obs);
            if pattern == 1 {
                assert!(
                    v.failures
                        .iter()
                        .any(|f| f.contains("got 0 frame(s), expected 1")),
                    "{:?}",
                    v.failures
                );
            } else {
                assert!(v.failures.is_empty(), "{:?}", v.failures);
                assert_eq!(v.dropped, 1);
            }
        }
    }

    #[test]
    fn a_jpeg_frame_with_red_and_blue_swapped_fails() {
        let mut s = session(
            0,
            Mode::Plain,
            PyValue::None,
            FrameSpec {
                dtype: "uint8".into(),
                shape: vec![32, 40, 3],
                content: Content::Natural(7),
            },
        );
        let jpeg = Jpeg {
            colorspace: "RGB".into(),
            quality: 90,
            fast_dct: true,
        };
        s.jpeg = Some(jpeg.clone());
        let original = s.steps[0].frame.frame();
        let options = jpeg.options();
        let decoded = netgear::jpeg::decode(
            &netgear::jpeg::encode(&original, &options).unwrap(),
            &options,
        )
        .unwrap();
        let mut obs = faithful(&s, Direction::ToVidgear, None);
        obs.sent[0] = Some(SentObs {
            port: None,
            answer: Answer::Delivered,
        });
        obs.receivers[0].got[0].frame = Ok(decoded.clone());
        assert!(judge(&s, Direction::ToVidgear, &obs).failures.is_empty());
        let swapped: Vec<u8> = decoded
            .data()
            .chunks(3)
            .flat_map(|p| [p[2], p[1], p[0]])
            .collect();
        obs.receivers[0].got[0].frame =
            netgear::Frame::new(Dtype::Uint8, vec![32, 40, 3], swapped).map_err(|e| e.to_string());
        let v = judge(&s, Direction::ToVidgear, &obs);
        assert!(
            v.failures[0].contains("its luma decoded"),
            "{:?}",
            v.failures
        );
    }
}
