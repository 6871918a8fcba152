//! Fuzzes the Dubbo2 frame decoder with arbitrary input split at an arbitrary point, then decodes
//! each frame's body as a request or response; also feeds the raw input to both body decoders.
//! Nothing may panic, and no frame over the limit may come out whole.

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use tianlu_protocol::dubbo::{
    decode_request_body, decode_response_body, FrameCodec, Inbound, Status,
};
use tokio_util::codec::Decoder;

fuzz_target!(|data: &[u8]| {
    let split = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
    let mut codec = FrameCodec::new(4096);
    let mut buf = BytesMut::new();
    'feed: for part in [&data[..split], &data[split..]] {
        buf.extend_from_slice(part);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(Inbound::Frame(frame))) => {
                    assert!(frame.body.len() <= 4096);
                    if frame.is_request() {
                        let _ = decode_request_body(&frame.body);
                    } else {
                        let _ = decode_response_body(frame.status, &frame.body);
                    }
                }
                Ok(Some(Inbound::Oversized(header))) => assert!(header.body_len > 4096),
                Ok(None) => break,
                Err(_) => break 'feed,
            }
        }
    }
    let _ = decode_response_body(Status::Ok, data);
    let _ = decode_request_body(data);
});
