//! Tests of the response body: every result flag from hand-built bytes (including the §2.3
//! vector), error statuses, the version rule for attachments, and encode → decode round trips.

use std::sync::Arc;

use super::*;
use crate::dubbo::frame::{Header, HEADER_LEN};
use crate::hessian2::ClassDef;

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

/// `java.io.IOException{detailMessage: "bad", cause: <itself>}` as Java writes it.
const IO_EXCEPTION: &str = "43 13 6a6176612e696f2e494f457863657074696f6e 92
    0d 64657461696c4d657373616765 05 6361757365
    60 03 626164 51 90";

fn io_exception() -> Value {
    let class = Arc::new(ClassDef::new(
        "java.io.IOException",
        ["detailMessage", "cause"],
    ));
    Value::object(class, vec![Value::string("bad"), Value::Ref(0)])
}

fn user_map() -> Value {
    Value::map(vec![(
        Value::string("class"),
        Value::string("org.example.User"),
    )])
}

#[test]
fn every_flag_decodes() {
    let ab = vec![("a".to_string(), "b".to_string())];
    let dubbo = vec![("dubbo".to_string(), "2.0.2".to_string())];
    type Case = (String, RpcOutcome, Vec<(String, String)>);
    let table: Vec<Case> = vec![
        (
            format!("90 {IO_EXCEPTION}"),
            RpcOutcome::Exception(io_exception()),
            vec![],
        ),
        ("91 91".into(), RpcOutcome::Value(Value::Int(1)), vec![]),
        ("91 4e".into(), RpcOutcome::Value(Value::Null), vec![]),
        ("92".into(), RpcOutcome::Null, vec![]),
        (
            format!("93 {IO_EXCEPTION} 48 01 61 01 62 5a"),
            RpcOutcome::Exception(io_exception()),
            ab.clone(),
        ),
        // §2.3: a generalized POJO with the provider's `dubbo` attachment.
        (
            "94 48 05 636c617373 10 6f72672e6578616d706c652e55736572 5a
             48 05 647562626f 05 322e302e32 5a"
                .into(),
            RpcOutcome::Value(user_map()),
            dubbo,
        ),
        // Non-string attachment values are dropped.
        (
            "95 48 01 6b 91 01 61 01 62 5a".into(),
            RpcOutcome::Null,
            ab.clone(),
        ),
        ("95 4e".into(), RpcOutcome::Null, vec![]),
        // Trailing bytes (dubbo-go appends a null) are ignored.
        ("92 4e".into(), RpcOutcome::Null, vec![]),
        (
            "94 91 48 5a 4e".into(),
            RpcOutcome::Value(Value::Int(1)),
            vec![],
        ),
    ];
    for (bytes, outcome, attachments) in table {
        let got = decode_response_body(Status::Ok, &hex(&bytes)).unwrap();
        assert_eq!(got.outcome, outcome, "{bytes}");
        assert_eq!(got.attachments, attachments, "{bytes}");
    }
}

#[test]
fn malformed_ok_bodies_are_decode_errors() {
    let cases = ["", "96", "8f", "91", "94 91", "94 91 91", "4e"];
    for bytes in cases {
        let err = decode_response_body(Status::Ok, &hex(bytes)).unwrap_err();
        assert!(matches!(err, CallError::Decode(_)), "{bytes}: {err}");
    }
    assert!(matches!(
        decode_response_body(Status::Ok, &hex("96")),
        Err(CallError::Decode(ProtocolError::BadResponseFlag(6)))
    ));
}

#[test]
fn other_statuses_carry_error_text() {
    let body = hex("09 737973206572726f72");
    for code in [25u8, 31, 40, 50, 60, 70, 80, 90, 100, 21] {
        match decode_response_body(Status::from_code(code), &body) {
            Err(CallError::Status { status, message }) => {
                assert_eq!(status.code(), code);
                assert_eq!(message, "sys error");
            }
            other => panic!("{code}: {other:?}"),
        }
    }
    assert_eq!(decode_error_message(&hex("4e")), "");
    assert!(decode_error_message(&hex("91")).contains("1 byte"));
}

#[test]
fn response_attachment_versions() {
    let table = [
        ("2.0.2", true),
        ("2.0.99", true),
        ("2.0.10", true),
        ("2.0.2.1", true),
        ("2.0.1", false),
        ("2.0.100", false),
        ("2.7.23", false),
        ("3.0.0", false),
        ("1.0.0", false),
        ("", false),
        ("garbage", false),
        ("99999999999999999999.0.2", false),
    ];
    for (version, expected) in table {
        assert_eq!(
            supports_response_attachments(version),
            expected,
            "{version}"
        );
    }
}

#[test]
fn round_trips_with_and_without_attachments() {
    let attachments = vec![("k".to_string(), "v".to_string())];
    let outcomes = [
        RpcOutcome::Value(user_map()),
        RpcOutcome::Value(Value::Long(-7)),
        RpcOutcome::Null,
        RpcOutcome::Exception(io_exception()),
    ];
    for outcome in outcomes {
        let response = RpcResponse {
            outcome: outcome.clone(),
            attachments: attachments.clone(),
        };
        for with in [true, false] {
            let mut body = Vec::new();
            encode_response_body(&response, with, &mut body);
            let flag = body[0];
            assert_eq!(flag >= 0x93, with, "flag 0x{flag:02x}");
            let got = decode_response_body(Status::Ok, &body).unwrap();
            assert_eq!(got.outcome, outcome);
            let expected: &[(String, String)] = if with { &attachments } else { &[] };
            assert_eq!(got.attachments, expected);
        }
    }
}

#[test]
fn response_frames() {
    let frame = encode_response(9, &RpcResponse::value(Value::Int(1)), true, 1024);
    let header = Header::parse(frame[..HEADER_LEN].try_into().unwrap()).unwrap();
    assert_eq!(
        (header.id, header.status, header.flags),
        (9, Status::Ok, 0x02)
    );
    assert_eq!(header.body_len, frame.len() - HEADER_LEN);
    assert_eq!(&frame[HEADER_LEN..], &hex("94 91 48 5a")[..]);

    let big = RpcResponse::value(Value::Binary(vec![0; 100]));
    let frame = encode_response(3, &big, false, 50);
    let header = Header::parse(frame[..HEADER_LEN].try_into().unwrap()).unwrap();
    assert_eq!(header.status, Status::SerializationError);
    let message = decode_error_message(&frame[HEADER_LEN..]);
    assert!(message.contains("payload limit"), "{message}");

    let frame = encode_error_response(4, Status::BadRequest, &"é".repeat(40_000));
    let header = Header::parse(frame[..HEADER_LEN].try_into().unwrap()).unwrap();
    assert_eq!(header.status, Status::BadRequest);
    let message = decode_error_message(&frame[HEADER_LEN..]);
    assert_eq!(message.len(), 64 * 1024);
}

/// `read_response_value` with a reader that lists the value's events (as their debug text).
fn events_of(body: &[u8]) -> Option<Vec<String>> {
    read_response_value(body, |events| {
        let mut seen = Vec::new();
        while let Ok(Some(ev)) = events.next_event() {
            seen.push(format!("{ev:?}"));
        }
        Some(seen)
    })
}

#[test]
fn a_value_is_read_as_events_and_its_attachments_are_checked() {
    let list = Value::list(vec![Value::string("a"), Value::Int(1)]);
    let expected = ["List", "Str(\"a\")", "Scalar(Int(1))", "End"].map(String::from);
    for with_attachments in [false, true] {
        let mut response = RpcResponse::value(list.clone());
        response.attachments = vec![("k".into(), "v".into())];
        let mut body = Vec::new();
        encode_response_body(&response, with_attachments, &mut body);
        assert_eq!(
            events_of(&body),
            Some(expected.to_vec()),
            "{with_attachments}"
        );
        if with_attachments {
            // A broken attachments map after a good value: the caller must decode (and fail).
            let cut = &body[..body.len() - 1];
            assert_eq!(events_of(cut), None);
            assert!(decode_response_body(Status::Ok, cut).is_err());
        }
    }
    // Null and exceptions are not values.
    let mut body = Vec::new();
    encode_response_body(&RpcResponse::null(), true, &mut body);
    assert_eq!(events_of(&body), None);
    assert_eq!(events_of(&hex(&format!("90 {IO_EXCEPTION}"))), None);
}
