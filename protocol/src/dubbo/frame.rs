//! Dubbo2 framing: the 16-byte header (magic `0xdabb`, flag byte, status, request id, body
//! length), [`Frame`] with constructors for the frames the protocol uses (calls, responses,
//! heartbeats, read-only events), and [`FrameCodec`], a `tokio_util` codec with a payload limit
//! that skips over-limit bodies instead of buffering them.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::error::ProtocolError;
use super::status::Status;

/// The two magic bytes that start every frame.
pub const MAGIC: u16 = 0xdabb;
/// Length of the frame header.
pub const HEADER_LEN: usize = 16;
/// Flag bit: the frame is a request (or a request-side event).
pub const FLAG_REQUEST: u8 = 0x80;
/// Flag bit: the request expects a response.
pub const FLAG_TWO_WAY: u8 = 0x40;
/// Flag bit: the frame is an event (heartbeat, read-only notice).
pub const FLAG_EVENT: u8 = 0x20;
/// The low five bits of the flag byte: the serialization id.
pub const SERIALIZATION_MASK: u8 = 0x1f;
/// The serialization id of hessian2.
pub const HESSIAN2_SERIALIZATION_ID: u8 = 2;
/// Dubbo's default payload limit (`DEFAULT_PAYLOAD`): 8 MiB.
pub const DEFAULT_MAX_PAYLOAD: usize = 8 * 1024 * 1024;
/// The body of a heartbeat: hessian2 `null`.
pub const HEARTBEAT_BODY: &[u8] = b"N";
/// The body of a read-only event: the hessian2 string `"R"`.
pub const READONLY_EVENT_BODY: &[u8] = b"\x01R";
/// The body of a writeable event: the hessian2 string `"W"`.
pub const WRITEABLE_EVENT_BODY: &[u8] = b"\x01W";

/// How much buffer the decoder reserves ahead for a partial body; larger bodies grow as bytes
/// arrive, so a header alone can never make it allocate the declared length.
const MAX_RESERVE: usize = 64 * 1024;

/// A parsed frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The flag byte (request, two-way, event bits and serialization id).
    pub flags: u8,
    /// The status byte (meaningful on responses; requests carry 0).
    pub status: Status,
    /// The request id that pairs a response with its request.
    pub id: i64,
    /// The body length in bytes.
    pub body_len: usize,
}

impl Header {
    /// Parses a 16-byte header. Fails on a wrong magic or a negative length.
    pub fn parse(bytes: &[u8; HEADER_LEN]) -> Result<Header, ProtocolError> {
        let magic = u16::from_be_bytes([bytes[0], bytes[1]]);
        if magic != MAGIC {
            return Err(ProtocolError::BadMagic(magic));
        }
        let mut id = [0u8; 8];
        id.copy_from_slice(&bytes[4..12]);
        let len = i32::from_be_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]);
        let body_len = usize::try_from(len).map_err(|_| ProtocolError::NegativeLength(len))?;
        Ok(Header {
            flags: bytes[2],
            status: Status::from_code(bytes[3]),
            id: i64::from_be_bytes(id),
            body_len,
        })
    }

    /// The 16 header bytes. Lengths above `i32::MAX` are clamped (they exceed any payload
    /// limit and are rejected before a frame is built).
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..2].copy_from_slice(&MAGIC.to_be_bytes());
        out[2] = self.flags;
        out[3] = self.status.code();
        out[4..12].copy_from_slice(&self.id.to_be_bytes());
        let len = i32::try_from(self.body_len).unwrap_or(i32::MAX);
        out[12..16].copy_from_slice(&len.to_be_bytes());
        out
    }

    /// True when the request bit is set.
    pub fn is_request(&self) -> bool {
        self.flags & FLAG_REQUEST != 0
    }

    /// True when the two-way bit is set.
    pub fn is_two_way(&self) -> bool {
        self.flags & FLAG_TWO_WAY != 0
    }

    /// True when the event bit is set.
    pub fn is_event(&self) -> bool {
        self.flags & FLAG_EVENT != 0
    }

    /// The serialization id (2 for hessian2).
    pub fn serialization_id(&self) -> u8 {
        self.flags & SERIALIZATION_MASK
    }
}

/// One complete frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The flag byte.
    pub flags: u8,
    /// The status byte.
    pub status: Status,
    /// The request id.
    pub id: i64,
    /// The body.
    pub body: Bytes,
}

impl Frame {
    /// A two-way hessian2 request (`0xc2`).
    pub fn request(id: i64, body: impl Into<Bytes>) -> Frame {
        Frame::new(
            FLAG_REQUEST | FLAG_TWO_WAY | HESSIAN2_SERIALIZATION_ID,
            Status::Unknown(0),
            id,
            body,
        )
    }

    /// A hessian2 response (`0x02`) with the given status.
    pub fn response(id: i64, status: Status, body: impl Into<Bytes>) -> Frame {
        Frame::new(HESSIAN2_SERIALIZATION_ID, status, id, body)
    }

    /// A two-way heartbeat request (`0xe2`, body `N`).
    pub fn heartbeat_request(id: i64) -> Frame {
        Frame::new(
            FLAG_REQUEST | FLAG_TWO_WAY | FLAG_EVENT | HESSIAN2_SERIALIZATION_ID,
            Status::Unknown(0),
            id,
            Bytes::from_static(HEARTBEAT_BODY),
        )
    }

    /// The reply to a heartbeat (`0x22`, status 20, same id, body `N`).
    pub fn heartbeat_response(id: i64) -> Frame {
        Frame::new(
            FLAG_EVENT | HESSIAN2_SERIALIZATION_ID,
            Status::Ok,
            id,
            Bytes::from_static(HEARTBEAT_BODY),
        )
    }

    /// The one-way read-only event a provider sends when it starts shutting down (`0xa2`).
    pub fn readonly_event(id: i64) -> Frame {
        Frame::new(
            FLAG_REQUEST | FLAG_EVENT | HESSIAN2_SERIALIZATION_ID,
            Status::Unknown(0),
            id,
            Bytes::from_static(READONLY_EVENT_BODY),
        )
    }

    fn new(flags: u8, status: Status, id: i64, body: impl Into<Bytes>) -> Frame {
        Frame {
            flags,
            status,
            id,
            body: body.into(),
        }
    }

    /// The header describing this frame.
    pub fn header(&self) -> Header {
        Header {
            flags: self.flags,
            status: self.status,
            id: self.id,
            body_len: self.body.len(),
        }
    }

    /// True when the request bit is set.
    pub fn is_request(&self) -> bool {
        self.header().is_request()
    }

    /// True when the two-way bit is set.
    pub fn is_two_way(&self) -> bool {
        self.header().is_two_way()
    }

    /// True when the event bit is set.
    pub fn is_event(&self) -> bool {
        self.header().is_event()
    }

    /// True for an event whose body is hessian2 `null`: a heartbeat (request or reply).
    pub fn is_heartbeat(&self) -> bool {
        self.is_event() && self.body.as_ref() == HEARTBEAT_BODY
    }

    /// True for the read-only event (`"R"`) of a provider that is shutting down.
    pub fn is_readonly_event(&self) -> bool {
        self.is_event() && self.body.as_ref() == READONLY_EVENT_BODY
    }

    /// True for the writeable event (`"W"`) that revokes a read-only event.
    pub fn is_writeable_event(&self) -> bool {
        self.is_event() && self.body.as_ref() == WRITEABLE_EVENT_BODY
    }

    /// Appends header and body to `out`.
    pub fn encode_into(&self, out: &mut BytesMut) {
        out.reserve(HEADER_LEN + self.body.len());
        out.put_slice(&self.header().to_bytes());
        out.put_slice(&self.body);
    }

    /// Header and body as one buffer.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::new();
        self.encode_into(&mut out);
        out.freeze()
    }
}

/// Reserves room for a header at the end of `out`; returns where the frame starts. Write the body
/// after it and call [`finish_frame`]. This lets a body be encoded straight into the frame buffer.
pub fn begin_frame(out: &mut Vec<u8>) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0u8; HEADER_LEN]);
    start
}

/// Fills in the header of a frame started with [`begin_frame`] and returns the body length.
/// Fails (leaving `out` untouched) when the body is larger than `max_payload`.
pub fn finish_frame(
    out: &mut [u8],
    start: usize,
    flags: u8,
    status: Status,
    id: i64,
    max_payload: usize,
) -> Result<usize, ProtocolError> {
    let body_len = out.len().saturating_sub(start + HEADER_LEN);
    if body_len > max_payload || i32::try_from(body_len).is_err() {
        return Err(ProtocolError::BodyTooLarge {
            size: body_len,
            limit: max_payload,
        });
    }
    let header = Header {
        flags,
        status,
        id,
        body_len,
    }
    .to_bytes();
    if let Some(slot) = out.get_mut(start..start + HEADER_LEN) {
        slot.copy_from_slice(&header);
    }
    Ok(body_len)
}

/// What [`FrameCodec`] yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// A complete frame within the payload limit.
    Frame(Frame),
    /// A frame whose body exceeds the payload limit; the body is being skipped and never buffered.
    Oversized(Header),
}

#[derive(Debug, Clone, Copy)]
enum State {
    Header,
    Body(Header),
    Skip(usize),
}

/// A `tokio_util` codec for Dubbo2 frames with a payload limit (default 8 MiB).
///
/// Decoding fails on a bad magic or a negative length (the stream cannot be resynchronised).
/// A body over the limit yields [`Inbound::Oversized`] as soon as its header arrives, and its bytes
/// are then discarded as they come in, so the connection stays usable. Encoding refuses bodies over
/// the limit.
#[derive(Debug, Clone)]
pub struct FrameCodec {
    max_payload: usize,
    state: State,
}

impl FrameCodec {
    /// A codec with the given payload limit.
    pub fn new(max_payload: usize) -> Self {
        FrameCodec {
            max_payload,
            state: State::Header,
        }
    }

    /// The payload limit.
    pub fn max_payload(&self) -> usize {
        self.max_payload
    }
}

impl Default for FrameCodec {
    fn default() -> Self {
        FrameCodec::new(DEFAULT_MAX_PAYLOAD)
    }
}

impl Decoder for FrameCodec {
    type Item = Inbound;
    type Error = ProtocolError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Inbound>, ProtocolError> {
        loop {
            match self.state {
                State::Skip(remaining) => {
                    let n = remaining.min(src.len());
                    src.advance(n);
                    if n < remaining {
                        self.state = State::Skip(remaining - n);
                        return Ok(None);
                    }
                    self.state = State::Header;
                }
                State::Header => {
                    if src.len() >= 2 {
                        let magic = u16::from_be_bytes([src[0], src[1]]);
                        if magic != MAGIC {
                            return Err(ProtocolError::BadMagic(magic));
                        }
                    }
                    let Some(head) = src.get(..HEADER_LEN) else {
                        src.reserve(HEADER_LEN);
                        return Ok(None);
                    };
                    let mut bytes = [0u8; HEADER_LEN];
                    bytes.copy_from_slice(head);
                    let header = Header::parse(&bytes)?;
                    src.advance(HEADER_LEN);
                    if header.body_len > self.max_payload {
                        self.state = State::Skip(header.body_len);
                        return Ok(Some(Inbound::Oversized(header)));
                    }
                    self.state = State::Body(header);
                }
                State::Body(header) => {
                    if src.len() < header.body_len {
                        let missing = header.body_len - src.len();
                        src.reserve(missing.min(MAX_RESERVE));
                        return Ok(None);
                    }
                    let body = src.split_to(header.body_len).freeze();
                    self.state = State::Header;
                    return Ok(Some(Inbound::Frame(Frame {
                        flags: header.flags,
                        status: header.status,
                        id: header.id,
                        body,
                    })));
                }
            }
        }
    }
}

impl Encoder<Frame> for FrameCodec {
    type Error = ProtocolError;

    fn encode(&mut self, frame: Frame, dst: &mut BytesMut) -> Result<(), ProtocolError> {
        if frame.body.len() > self.max_payload {
            return Err(ProtocolError::BodyTooLarge {
                size: frame.body.len(),
                limit: self.max_payload,
            });
        }
        frame.encode_into(dst);
        Ok(())
    }
}

#[cfg(test)]
#[path = "frame_tests.rs"]
mod tests;
