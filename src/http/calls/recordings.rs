//! `GET /_recordings/{file}`: the recording files behind the URLs of
//! R116 (`recordingUrl`, `recordingDualUrl`, `presignedUrl`,
//! `call_recording`). A mock extension with no platform auth: like a
//! presigned S3 URL, the `sig` query parameter is the credential.
//!
//! The file is a real, playable WAV (RIFF, PCM 16-bit little-endian,
//! 8000 Hz) exactly as long as the call's recording: `<callId>.wav` is
//! mono, `<callId>-dual.wav` has two channels (agent left, user right).
//! The audio is a quiet tone, not speech. Bodies are generated in chunks
//! while streaming, so a long recording never sits in memory.
//!
//! Errors use the envelope: a missing or wrong `sig` is 403 `Invalid
//! signature`; an unknown file, call or a call without a recording is 404.

use crate::http::routes::{router, OpenApiRouter};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;
use utoipa::IntoParams;

use super::sse::is_call_id;
use crate::calls::recording_sig;
use crate::domain::DomainError;
use crate::http::error::{ApiError, Reply};
use crate::http::extract::ApiQuery;
use crate::state::AppState;

/// Samples per second of every recording.
pub(crate) const SAMPLE_RATE: u32 = 8000;
/// Length of the canonical PCM WAV header, bytes.
pub(crate) const HEADER_LEN: usize = 44;
/// Samples (per channel) generated per streamed chunk: one second.
const CHUNK_FRAMES: u64 = SAMPLE_RATE as u64;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    router![get_recording]
}

/// Query of `GET /_recordings/{file}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RecordingQuery {
    /// The signature from the recording URL.
    sig: Option<String>,
}

/// The canonical 44-byte header of a PCM16 LE WAV with `channels`
/// channels at `rate` Hz holding `frames` samples per channel.
pub(crate) fn wav_header(channels: u16, rate: u32, frames: u32) -> [u8; HEADER_LEN] {
    let block = u32::from(channels) * 2;
    let data = frames.saturating_mul(block);
    let mut h = [0u8; HEADER_LEN];
    let fields: [(usize, &[u8]); 13] = [
        (0, b"RIFF"),
        (4, &data.saturating_add(36).to_le_bytes()),
        (8, b"WAVE"),
        (12, b"fmt "),
        (16, &16u32.to_le_bytes()),
        (20, &1u16.to_le_bytes()),
        (22, &channels.to_le_bytes()),
        (24, &rate.to_le_bytes()),
        (28, &(rate * block).to_le_bytes()),
        (32, &u16::try_from(block).unwrap_or(u16::MAX).to_le_bytes()),
        (34, &16u16.to_le_bytes()),
        (36, b"data"),
        (40, &data.to_le_bytes()),
    ];
    for (at, bytes) in fields {
        h[at..at + bytes.len()].copy_from_slice(bytes);
    }
    h
}

/// Interleaved PCM16 LE samples of frames `from..to`: a quiet sine
/// (amplitude 1/32 of full scale), 440 Hz on channel 0 and 330 Hz on
/// channel 1. Pure and position-based, so chunks join seamlessly.
pub(crate) fn pcm_chunk(channels: u16, rate: u32, from: u64, to: u64) -> Vec<u8> {
    const TONES: [f64; 2] = [440.0, 330.0];
    let mut out = Vec::with_capacity(usize::try_from((to - from) * u64::from(channels) * 2).unwrap_or(0));
    for n in from..to {
        let t = n as f64 / f64::from(rate);
        for ch in 0..usize::from(channels) {
            let v = (t * TONES[ch % 2] * std::f64::consts::TAU).sin() * 1024.0;
            out.extend_from_slice(&(v.round() as i16).to_le_bytes());
        }
    }
    out
}

/// A recording file name split into its call id and whether it is the
/// two-channel version; `None` unless `<callId>.wav` or
/// `<callId>-dual.wav`.
fn parse_file(file: &str) -> Option<(&str, bool)> {
    let stem = file.strip_suffix(".wav")?;
    let (id, dual) = stem.strip_suffix("-dual").map_or((stem, false), |s| (s, true));
    is_call_id(id).then_some((id, dual))
}

/// Download a call's recording as WAV (mock extension; R116's URL
/// target). `file` is `<callId>.wav` (mono) or `<callId>-dual.wav`
/// (stereo); PCM16 LE at 8000 Hz, as long as the recording. Wrong or
/// missing `sig`: 403; unknown file or call, or no recording: 404.
#[utoipa::path(get, path = "/_recordings/{file}", tag = "Control API",
    params(("file" = String, Path, description = "`<callId>.wav` or `<callId>-dual.wav`"), RecordingQuery),
    responses((status = 200, description = "`audio/wav`", content_type = "audio/wav"),
              (status = 403, description = "Invalid signature"), (status = 404, description = "No recording")))]
async fn get_recording(
    State(s): State<AppState>,
    Path(file): Path<String>,
    ApiQuery(q): ApiQuery<RecordingQuery>,
) -> Reply {
    let no_recording = || ApiError::Rule(DomainError::NotFound("No recording found".into()));
    let (call_id, dual) = parse_file(&file).ok_or_else(no_recording)?;
    if q.sig.as_deref() != Some(recording_sig(call_id).as_str()) {
        return Err(ApiError::Rule(DomainError::Forbidden("Invalid signature".into())));
    }
    let book = s.calls.owner(call_id).ok_or_else(no_recording)?;
    let (call, _) = book.get(call_id).ok_or_else(no_recording)?;
    let ms = call.recording_ms().filter(|ms| *ms > 0).ok_or_else(no_recording)?;
    Ok(wav(ms, if dual { 2 } else { 1 }))
}

/// A `ms`-long WAV of `channels` channels, streamed in one-second chunks
/// with its `Content-Length`.
fn wav(ms: u64, channels: u16) -> Response {
    let frames = ms * u64::from(SAMPLE_RATE) / 1000;
    let header = wav_header(channels, SAMPLE_RATE, u32::try_from(frames).unwrap_or(u32::MAX));
    let len = HEADER_LEN as u64 + frames * u64::from(channels) * 2;
    let chunks = futures_util::stream::iter((0..frames.div_ceil(CHUNK_FRAMES)).map(move |i| {
        let from = i * CHUNK_FRAMES;
        let to = (from + CHUNK_FRAMES).min(frames);
        Ok::<_, std::convert::Infallible>(Bytes::from(pcm_chunk(channels, SAMPLE_RATE, from, to)))
    }));
    let head = futures_util::stream::once(async move { Ok(Bytes::copy_from_slice(&header)) });
    let body = Body::from_stream(futures_util::StreamExt::chain(head, chunks));
    ([(header::CONTENT_TYPE, "audio/wav".to_string()), (header::CONTENT_LENGTH, len.to_string())], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u16_at(b: &[u8], at: usize) -> u16 {
        u16::from_le_bytes([b[at], b[at + 1]])
    }

    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }

    #[test]
    fn the_header_parses_back_to_its_format_and_length() {
        let frames = 8000 * 3 + 4;
        let h = wav_header(2, 8000, frames);
        assert_eq!(
            (&h[0..4], &h[8..12], &h[12..16], &h[36..40]),
            (&b"RIFF"[..], &b"WAVE"[..], &b"fmt "[..], &b"data"[..])
        );
        assert_eq!((u32_at(&h, 16), u16_at(&h, 20), u16_at(&h, 22)), (16, 1, 2));
        assert_eq!((u32_at(&h, 24), u32_at(&h, 28), u16_at(&h, 32), u16_at(&h, 34)), (8000, 32000, 4, 16));
        let data = u32_at(&h, 40);
        assert_eq!(data, frames * 4);
        assert_eq!(u32_at(&h, 4), data + 36);
        let secs = f64::from(data) / f64::from(u32_at(&h, 28));
        assert!((secs - 3.0005).abs() < 1e-9, "{secs}");
    }

    #[test]
    fn chunks_are_quiet_interleaved_and_join_seamlessly() {
        let whole = pcm_chunk(2, 8000, 0, 100);
        let parts = [pcm_chunk(2, 8000, 0, 37), pcm_chunk(2, 8000, 37, 100)].concat();
        assert_eq!(whole, parts);
        assert_eq!(whole.len(), 100 * 2 * 2);
        let peak = whole.chunks(2).map(|s| i16::from_le_bytes([s[0], s[1]]).unsigned_abs()).max();
        assert!(peak.is_some_and(|p| p > 0 && p <= 1024), "{peak:?}");
    }

    #[test]
    fn file_names_are_call_ids_with_wav_or_dual_wav() {
        assert_eq!(parse_file("CALL-1767225600000-0a1b2c.wav"), Some(("CALL-1767225600000-0a1b2c", false)));
        assert_eq!(parse_file("CALL-1767225600000-0a1b2c-dual.wav"), Some(("CALL-1767225600000-0a1b2c", true)));
        assert_eq!(parse_file("CALL-1767225600000-0a1b2c.mp3"), None);
        assert_eq!(parse_file("../etc/passwd.wav"), None);
    }
}
