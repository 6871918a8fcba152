//! gRPC message framing (the "Length-Prefixed-Message" of the gRPC HTTP/2 protocol): one byte
//! compressed flag, a 4-byte big-endian length, then the message.
//!
//! Only identity encoding is supported: tianlu never sends `grpc-encoding`, so a well-behaved
//! peer never compresses; a frame with the compressed flag set is an error
//! ([`FrameError::Compressed`]), not something we try to inflate.

use bytes::{Buf, BufMut, Bytes, BytesMut};

/// Length of the prefix in front of every gRPC message.
pub const PREFIX_LEN: usize = 5;

/// Default largest message, in either direction (8 MiB, Dubbo's default `payload`).
pub const DEFAULT_MAX_MESSAGE: usize = 8 * 1024 * 1024;

/// A gRPC frame that cannot be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The compressed flag was set (or had a value other than 0 and 1). tianlu only speaks the
    /// identity encoding.
    #[error("compressed gRPC message (flag {0}): only identity encoding is supported")]
    Compressed(u8),
    /// A message larger than the limit in force.
    #[error("gRPC message of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The declared (or actual) message length.
        size: usize,
        /// The limit in force.
        limit: usize,
    },
    /// The stream ended inside a frame.
    #[error("stream ended inside a gRPC frame ({buffered} bytes buffered)")]
    Truncated {
        /// Bytes of the unfinished frame that had arrived.
        buffered: usize,
    },
}

/// Frames `message` (flag 0, identity encoding), refusing messages over `max`.
pub fn encode_frame(message: &[u8], max: usize) -> Result<Bytes, FrameError> {
    if message.len() > max || u32::try_from(message.len()).is_err() {
        return Err(FrameError::TooLarge {
            size: message.len(),
            limit: max,
        });
    }
    let mut out = BytesMut::with_capacity(PREFIX_LEN + message.len());
    out.put_u8(0);
    // Checked above: the length fits in u32.
    out.put_u32(message.len() as u32);
    out.put_slice(message);
    Ok(out.freeze())
}

/// Incremental decoder: feed it the DATA chunks of a stream as they arrive and take out whole
/// messages. The length prefix is checked against the limit before the message is buffered.
#[derive(Debug)]
pub struct FrameDecoder {
    buf: BytesMut,
    max: usize,
}

impl FrameDecoder {
    /// A decoder that refuses messages over `max` bytes.
    pub fn new(max: usize) -> Self {
        FrameDecoder {
            buf: BytesMut::new(),
            max,
        }
    }

    /// The message size limit.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Appends received bytes.
    pub fn push(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
    }

    /// The next complete message, `Ok(None)` when more bytes are needed.
    pub fn next_message(&mut self) -> Result<Option<Bytes>, FrameError> {
        if self.buf.len() < PREFIX_LEN {
            return Ok(None);
        }
        let flag = self.buf[0];
        if flag != 0 {
            return Err(FrameError::Compressed(flag));
        }
        let len = u32::from_be_bytes([self.buf[1], self.buf[2], self.buf[3], self.buf[4]]);
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if len > self.max {
            return Err(FrameError::TooLarge {
                size: len,
                limit: self.max,
            });
        }
        if self.buf.len() - PREFIX_LEN < len {
            self.buf.reserve(PREFIX_LEN + len - self.buf.len());
            return Ok(None);
        }
        self.buf.advance(PREFIX_LEN);
        Ok(Some(self.buf.split_to(len).freeze()))
    }

    /// Bytes received but not yet returned as a message.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Call at end of stream: an error when a frame was left unfinished.
    pub fn finish(&self) -> Result<(), FrameError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(FrameError::Truncated {
                buffered: self.buf.len(),
            })
        }
    }
}

/// Decodes a complete body holding exactly the frames it holds (all of them).
pub fn decode_frames(body: &[u8], max: usize) -> Result<Vec<Bytes>, FrameError> {
    let mut dec = FrameDecoder::new(max);
    dec.push(body);
    let mut out = Vec::new();
    while let Some(msg) = dec.next_message()? {
        out.push(msg);
    }
    dec.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_is_flag_then_big_endian_length() {
        let framed = encode_frame(b"hi", 100).unwrap();
        assert_eq!(&framed[..], &[0, 0, 0, 0, 2, b'h', b'i']);
        let empty = encode_frame(b"", 100).unwrap();
        assert_eq!(&empty[..], &[0, 0, 0, 0, 0]);
        let big = vec![7u8; 0x01_0203];
        let framed = encode_frame(&big, 1 << 20).unwrap();
        assert_eq!(&framed[..PREFIX_LEN], &[0, 0, 0x01, 0x02, 0x03]);
        assert_eq!(framed.len(), PREFIX_LEN + big.len());
    }

    #[test]
    fn encoder_enforces_the_limit() {
        assert_eq!(
            encode_frame(&[0; 11], 10),
            Err(FrameError::TooLarge {
                size: 11,
                limit: 10
            })
        );
        assert!(encode_frame(&[0; 10], 10).is_ok());
    }

    #[test]
    fn decoder_reassembles_any_split() {
        let mut wire = Vec::new();
        for msg in [&b"first"[..], b"", b"third message"] {
            wire.extend_from_slice(&encode_frame(msg, 100).unwrap());
        }
        for chunk in 1..wire.len() {
            let mut dec = FrameDecoder::new(100);
            let mut got = Vec::new();
            for piece in wire.chunks(chunk) {
                dec.push(piece);
                while let Some(m) = dec.next_message().unwrap() {
                    got.push(m);
                }
            }
            dec.finish().unwrap();
            assert_eq!(
                got,
                vec![
                    Bytes::from_static(b"first"),
                    Bytes::new(),
                    Bytes::from_static(b"third message")
                ],
                "chunk size {chunk}"
            );
        }
    }

    #[test]
    fn compressed_flag_is_rejected() {
        let mut dec = FrameDecoder::new(100);
        dec.push(&[1, 0, 0, 0, 1, 0xff]);
        assert_eq!(dec.next_message(), Err(FrameError::Compressed(1)));
        assert_eq!(
            decode_frames(&[2, 0, 0, 0, 0], 100),
            Err(FrameError::Compressed(2))
        );
    }

    #[test]
    fn oversized_length_is_rejected_before_buffering() {
        let mut dec = FrameDecoder::new(10);
        dec.push(&[0, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(
            dec.next_message(),
            Err(FrameError::TooLarge {
                size: 0xffff_ffff,
                limit: 10
            })
        );
    }

    #[test]
    fn truncated_frames_are_reported() {
        assert_eq!(
            decode_frames(&[0, 0, 0, 0, 3, b'a'], 100),
            Err(FrameError::Truncated { buffered: 6 })
        );
        assert_eq!(
            decode_frames(&[0, 0], 100),
            Err(FrameError::Truncated { buffered: 2 })
        );
        assert_eq!(decode_frames(&[], 100), Ok(vec![]));
    }
}
