//! Tests of the frame header and [`FrameCodec`]: the protocol's example headers byte for byte,
//! partial input, payload limit and malformed headers.

use super::*;

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

fn decode_all(codec: &mut FrameCodec, buf: &mut BytesMut) -> Vec<Inbound> {
    let mut out = Vec::new();
    while let Some(item) = codec.decode(buf).unwrap() {
        out.push(item);
    }
    out
}

#[test]
fn header_table() {
    // (bytes, request, two_way, event, serialization, status, id, len)
    let table = [
        // §2.2: the generic call with a 245-byte body.
        (
            "da bb c2 00 0000000000000001 000000f5",
            true,
            true,
            false,
            2,
            0,
            1,
            245,
        ),
        // Heartbeat request and its reply.
        (
            "da bb e2 00 0000000000000001 00000001",
            true,
            true,
            true,
            2,
            0,
            1,
            1,
        ),
        (
            "da bb 22 14 0000000000000001 00000001",
            false,
            false,
            true,
            2,
            20,
            1,
            1,
        ),
        // Read-only event, a plain response, a one-way request, a status-70 response.
        (
            "da bb a2 00 0000000000000009 00000002",
            true,
            false,
            true,
            2,
            0,
            9,
            2,
        ),
        (
            "da bb 02 14 7fffffffffffffff 000004c4",
            false,
            false,
            false,
            2,
            20,
            i64::MAX,
            1220,
        ),
        (
            "da bb 82 00 ffffffffffffffff 00000000",
            true,
            false,
            false,
            2,
            0,
            -1,
            0,
        ),
        (
            "da bb 02 46 0000000000000102 00000000",
            false,
            false,
            false,
            2,
            70,
            258,
            0,
        ),
    ];
    for (bytes, request, two_way, event, ser, status, id, len) in table {
        let raw: [u8; HEADER_LEN] = hex(bytes).try_into().unwrap();
        let h = Header::parse(&raw).unwrap();
        assert_eq!(h.is_request(), request, "{bytes}");
        assert_eq!(h.is_two_way(), two_way, "{bytes}");
        assert_eq!(h.is_event(), event, "{bytes}");
        assert_eq!(h.serialization_id(), ser, "{bytes}");
        assert_eq!(h.status.code(), status, "{bytes}");
        assert_eq!(h.id, id, "{bytes}");
        assert_eq!(h.body_len, len, "{bytes}");
        assert_eq!(h.to_bytes(), raw, "{bytes}");
    }
}

#[test]
fn constructors_produce_the_documented_bytes() {
    let cases = [
        (
            Frame::heartbeat_request(1),
            "da bb e2 00 0000000000000001 00000001 4e",
        ),
        (
            Frame::heartbeat_response(1),
            "da bb 22 14 0000000000000001 00000001 4e",
        ),
        (
            Frame::readonly_event(5),
            "da bb a2 00 0000000000000005 00000002 01 52",
        ),
        (
            Frame::request(1, vec![0x91]),
            "da bb c2 00 0000000000000001 00000001 91",
        ),
        (
            Frame::response(3, Status::Ok, vec![0x92]),
            "da bb 02 14 0000000000000003 00000001 92",
        ),
    ];
    for (frame, expected) in cases {
        assert_eq!(
            frame.to_bytes().as_ref(),
            hex(expected).as_slice(),
            "{expected}"
        );
    }
    assert!(Frame::heartbeat_request(1).is_heartbeat());
    assert!(Frame::heartbeat_response(1).is_heartbeat());
    assert!(!Frame::request(1, &b"N"[..]).is_heartbeat());
    assert!(Frame::readonly_event(1).is_readonly_event());
    assert!(!Frame::readonly_event(1).is_heartbeat());
}

#[test]
fn begin_and_finish_frame_wrap_a_body_in_place() {
    let mut buf = b"xx".to_vec();
    let start = begin_frame(&mut buf);
    buf.extend_from_slice(&[1, 2, 3]);
    let len = finish_frame(&mut buf, start, 0xc2, Status::Unknown(0), 42, 3).unwrap();
    assert_eq!(len, 3);
    let expected = [
        b"xx".to_vec(),
        hex("da bb c2 00 000000000000002a 00000003 010203"),
    ]
    .concat();
    assert_eq!(buf, expected);
    let err = finish_frame(&mut buf, start, 0xc2, Status::Unknown(0), 42, 2).unwrap_err();
    assert!(matches!(
        err,
        ProtocolError::BodyTooLarge { size: 3, limit: 2 }
    ));
}

#[test]
fn decodes_frames_fed_one_byte_at_a_time() {
    let frames = [
        Frame::request(1, vec![1u8, 2, 3]),
        Frame::heartbeat_request(2),
        Frame::response(1, Status::ServiceError, Bytes::new()),
    ];
    let mut wire = BytesMut::new();
    for f in &frames {
        f.encode_into(&mut wire);
    }
    let mut codec = FrameCodec::default();
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    for b in wire.iter() {
        buf.put_u8(*b);
        got.extend(decode_all(&mut codec, &mut buf));
    }
    let expected: Vec<Inbound> = frames.iter().cloned().map(Inbound::Frame).collect();
    assert_eq!(got, expected);
    assert!(buf.is_empty());
}

#[test]
fn several_frames_in_one_buffer() {
    let mut buf = BytesMut::new();
    for id in 0..10 {
        Frame::request(id, vec![id as u8; id as usize]).encode_into(&mut buf);
    }
    let got = decode_all(&mut FrameCodec::default(), &mut buf);
    assert_eq!(got.len(), 10);
    for (id, item) in got.into_iter().enumerate() {
        let Inbound::Frame(f) = item else {
            panic!("oversized")
        };
        assert_eq!(f.id, id as i64);
        assert_eq!(f.body.len(), id);
    }
}

#[test]
fn bad_magic_is_rejected_after_two_bytes() {
    let mut buf = BytesMut::from(&b"ls"[..]);
    let err = FrameCodec::default().decode(&mut buf).unwrap_err();
    assert!(matches!(err, ProtocolError::BadMagic(0x6c73)), "{err}");
}

#[test]
fn negative_length_is_rejected() {
    let mut buf = BytesMut::from(hex("da bb 02 14 0000000000000001 ffffffff").as_slice());
    let err = FrameCodec::default().decode(&mut buf).unwrap_err();
    assert!(matches!(err, ProtocolError::NegativeLength(-1)), "{err}");
}

#[test]
fn oversized_body_is_reported_then_skipped() {
    let mut codec = FrameCodec::new(4);
    let mut wire = BytesMut::new();
    Frame::response(7, Status::Ok, vec![9u8; 10]).encode_into(&mut wire);
    Frame::response(8, Status::Ok, vec![1u8, 2]).encode_into(&mut wire);
    // Feed in chunks of 5 so the skip spans several reads.
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    for chunk in wire.chunks(5) {
        buf.extend_from_slice(chunk);
        got.extend(decode_all(&mut codec, &mut buf));
    }
    assert_eq!(got.len(), 2);
    match &got[0] {
        Inbound::Oversized(h) => {
            assert_eq!(h.id, 7);
            assert_eq!(h.body_len, 10);
        }
        other => panic!("expected oversized, got {other:?}"),
    }
    assert_eq!(
        got[1],
        Inbound::Frame(Frame::response(8, Status::Ok, vec![1u8, 2]))
    );
}

#[test]
fn declared_length_is_not_allocated_up_front() {
    let mut codec = FrameCodec::new(DEFAULT_MAX_PAYLOAD);
    let mut buf = BytesMut::new();
    buf.extend_from_slice(&hex("da bb 02 14 0000000000000001 00800000"));
    assert_eq!(codec.decode(&mut buf).unwrap(), None);
    assert!(buf.capacity() < 1024 * 1024, "capacity {}", buf.capacity());
}

#[test]
fn encoder_refuses_bodies_over_the_limit() {
    let mut codec = FrameCodec::new(2);
    let mut dst = BytesMut::new();
    let err = codec
        .encode(Frame::request(1, vec![0u8; 3]), &mut dst)
        .unwrap_err();
    assert!(matches!(
        err,
        ProtocolError::BodyTooLarge { size: 3, limit: 2 }
    ));
    assert!(dst.is_empty());
    codec
        .encode(Frame::request(1, vec![0u8; 2]), &mut dst)
        .unwrap();
    assert_eq!(dst.len(), HEADER_LEN + 2);
}

/// Runs the decoder over `data` split at `split` and decodes every body, as the fuzz target does.
fn decode_anything(data: &[u8], split: usize) {
    let mut codec = FrameCodec::new(4096);
    let mut buf = BytesMut::new();
    let split = split.min(data.len());
    'feed: for part in [&data[..split], &data[split..]] {
        buf.extend_from_slice(part);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(Inbound::Frame(frame))) => {
                    assert!(frame.body.len() <= 4096);
                    if frame.is_request() {
                        let _ = crate::dubbo::decode_request_body(&frame.body);
                    } else {
                        let _ = crate::dubbo::decode_response_body(frame.status, &frame.body);
                    }
                }
                Ok(Some(Inbound::Oversized(header))) => assert!(header.body_len > 4096),
                Ok(None) => break,
                Err(_) => break 'feed,
            }
        }
    }
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..512), split in 0usize..512) {
        decode_anything(&data, split);
    }

    #[test]
    fn mutated_frames_never_panic(
        body in proptest::collection::vec(proptest::num::u8::ANY, 0..64),
        flips in proptest::collection::vec((0usize..96, proptest::num::u8::ANY), 0..4),
        split in 0usize..96,
    ) {
        let mut wire = BytesMut::new();
        Frame::response(1, Status::Ok, body.clone()).encode_into(&mut wire);
        Frame::request(2, body).encode_into(&mut wire);
        let mut wire = wire.to_vec();
        for (at, byte) in flips {
            if let Some(b) = wire.get_mut(at) {
                *b = byte;
            }
        }
        decode_anything(&wire, split);
    }
}
