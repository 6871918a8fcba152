//! Tests of the request body: the §2.2 generic body byte for byte, encode → decode round trips,
//! and decoding of hand-built bodies.

use super::*;
use crate::hessian2::Value;

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

fn greeter_call() -> Invocation {
    Invocation::generic(
        "org.example.Greeter",
        "sayHello",
        vec!["java.lang.String".into()],
        vec![Value::string("world")],
    )
    .with_version(Some("1.0.0".into()))
}

/// The body of protocol.md §2.2, produced by Java Hessian for the same call.
const SAY_HELLO_BODY: &str = "
    05 322e302e32
    13 6f72672e6578616d706c652e47726565746572
    05 312e302e30
    07 24696e766f6b65
    30 38 4c6a6176612f6c616e672f537472696e673b5b4c6a6176612f6c616e672f537472696e673b5b4c6a6176612f6c616e672f4f626a6563743b
    08 73617948656c6c6f
    71 07 5b737472696e67 10 6a6176612e6c616e672e537472696e67
    71 07 5b6f626a656374 05 776f726c64
    48 04 70617468 13 6f72672e6578616d706c652e47726565746572
    09 696e74657266616365 13 6f72672e6578616d706c652e47726565746572
    07 76657273696f6e 05 312e302e30 07 67656e65726963 04 74727565
    07 74696d656f7574 04 33303030 5a";

#[test]
fn generic_body_matches_java_byte_for_byte() {
    let expected = hex(SAY_HELLO_BODY);
    assert_eq!(expected.len(), 245);
    let mut out = Vec::new();
    encode_request_body(&greeter_call(), Some(3000), &mut out);
    assert_eq!(out, expected);
}

#[test]
fn encoding_appends_to_the_buffer() {
    let mut out = b"prefix".to_vec();
    encode_request_body(&greeter_call(), Some(3000), &mut out);
    assert_eq!(&out[..6], b"prefix");
    assert_eq!(out[6..], hex(SAY_HELLO_BODY)[..]);
}

#[test]
fn java_body_decodes_to_the_call() {
    let decoded = decode_request(&hex(SAY_HELLO_BODY)).unwrap();
    assert_eq!(decoded.dubbo_version, "2.0.2");
    assert_eq!(decoded.timeout_ms, Some(3000));
    assert_eq!(decoded.invocation, greeter_call());
}

#[test]
fn round_trips() {
    let plain = Invocation {
        service: "org.example.Calc".into(),
        version: None,
        group: Some("blue".into()),
        method: "add".into(),
        parameter_types: vec!["int".into(), "long".into(), "java.lang.String[]".into()],
        args: vec![
            Value::Int(-3),
            Value::Long(1 << 40),
            Value::typed_list("[string", vec![Value::string("a"), Value::Null]),
        ],
        attachments: vec![("traceparent".into(), "00-abc-def-01".into())],
    };
    let no_args = Invocation {
        service: "org.example.Clock".into(),
        version: Some("2.1".into()),
        group: None,
        method: "now".into(),
        parameter_types: vec![],
        args: vec![],
        attachments: vec![],
    };
    let mut gson = greeter_call().with_group(Some("g1".into()));
    gson.attachments.push(("generic".into(), "gson".into()));
    gson.attachments.push(("token".into(), "secret".into()));
    for (inv, timeout) in [(plain, None), (no_args, Some(1)), (gson, Some(u64::MAX))] {
        let mut body = Vec::new();
        encode_request_body(&inv, timeout, &mut body);
        let decoded = decode_request(&body).unwrap();
        // `[string` lists come back as they were, `java.lang.String[]` as the JVM name.
        let mut expected = inv.clone();
        expected.parameter_types = crate::invocation::parse_descriptor(&inv.descriptor()).unwrap();
        assert_eq!(decoded.invocation, expected);
        assert_eq!(decoded.timeout_ms, timeout);
        assert_eq!(decoded.dubbo_version, "2.0.2");
    }
}

#[test]
fn reserved_attachments_come_from_fields() {
    let mut inv = greeter_call();
    inv.attachments.push(("path".into(), "evil.Service".into()));
    inv.attachments.push(("version".into(), "9.9.9".into()));
    let mut body = Vec::new();
    encode_request_body(&inv, None, &mut body);
    let decoded = decode_request_body(&body).unwrap();
    assert_eq!(decoded.service, "org.example.Greeter");
    assert_eq!(decoded.version.as_deref(), Some("1.0.0"));
    assert!(decoded.attachments.is_empty());
}

#[test]
fn attachments_override_body_fields_and_non_strings_are_dropped() {
    let body = hex("05 322e302e32  03 612e42  4e  01 6d  01 49  91
         48 04 70617468 03 782e59  05 67726f7570 01 67
            01 6b 91  01 74 01 76  07 76657273696f6e 00  5a");
    let decoded = decode_request(&body).unwrap();
    let inv = decoded.invocation;
    assert_eq!(inv.service, "x.Y");
    assert_eq!(inv.group.as_deref(), Some("g"));
    assert_eq!(inv.version, None);
    assert_eq!(inv.method, "m");
    assert_eq!(inv.parameter_types, vec!["int".to_string()]);
    assert_eq!(inv.args, vec![Value::Int(1)]);
    assert_eq!(inv.attachments, vec![("t".to_string(), "v".to_string())]);
    assert_eq!(decoded.timeout_ms, None);
}

#[test]
fn missing_attachments_are_tolerated() {
    let body = hex("05 322e302e32  03 612e42  01 31  01 6d  00");
    let inv = decode_request_body(&body).unwrap();
    assert_eq!(inv.version.as_deref(), Some("1"));
    assert!(inv.args.is_empty() && inv.attachments.is_empty());
}

#[test]
fn malformed_bodies_are_errors() {
    let bad_desc = hex("05 322e302e32  03 612e42  4e  01 6d  01 51  5a");
    assert!(matches!(
        decode_request_body(&bad_desc),
        Err(ProtocolError::BadDescriptor(d)) if d == "Q"
    ));
    let missing_arg = hex("05 322e302e32  03 612e42  4e  01 6d  02 4949  91");
    assert!(matches!(
        decode_request_body(&missing_arg),
        Err(ProtocolError::Hessian(_))
    ));
    let attachments_not_map = hex("05 322e302e32  03 612e42  4e  01 6d  00  91");
    assert!(matches!(
        decode_request_body(&attachments_not_map),
        Err(ProtocolError::Unexpected { found: "int", .. })
    ));
    // Every proper prefix fails, except the one that ends right before the attachments map.
    let full = hex(SAY_HELLO_BODY);
    let attachments_start = full.len() - 97;
    for cut in (0..full.len()).filter(|&c| c != attachments_start) {
        assert!(decode_request_body(&full[..cut]).is_err(), "cut at {cut}");
    }
    assert!(decode_request_body(&full[..attachments_start]).is_ok());
}
