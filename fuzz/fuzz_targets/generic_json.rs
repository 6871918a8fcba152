//! Fuzz target: the one-pass paths of generic calls against their two-step definitions.
//! Odd first byte: the rest is a request body; `json_text_to_hessian` must give what parsing
//! and `json_to_hessian` give (value or error) for an Object, a POJO and a List parameter.
//! Even first byte: the rest is a hessian2 value; `write_json_text` must write exactly
//! serde_json's text for `hessian_to_json`'s tree, or fail the same way, in both conventions;
//! and when `transcode_json_text` writes the value from its events, the same text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tianlu_protocol::generic::{
    hessian_to_json, json_text_to_hessian, json_to_hessian, transcode_json_text,
    write_json_text, InputPolicy, JavaType, OutputOptions, TextArgError,
};
use tianlu_protocol::hessian2::Decoder;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 1 {
        body(rest);
    } else {
        result(rest);
    }
});

fn body(text: &[u8]) {
    let policy = InputPolicy::new(vec!["org.example.A".into()], vec![]);
    for name in ["java.lang.Object", "org.example.A", "java.util.List<java.lang.Object>"] {
        let ty = JavaType::parse(name).expect("a valid type");
        let one = json_text_to_hessian(text, &ty, "body", &policy);
        match serde_json::from_slice::<serde_json::Value>(text) {
            Err(e) => match one {
                Err(TextArgError::Syntax(s)) => assert_eq!(s.to_string(), e.to_string()),
                other => panic!("{name}: syntax error {e} but one pass gave {other:?}"),
            },
            Ok(json) => match (json_to_hessian(json, &ty, "body", &policy), one) {
                (Ok(a), Ok(b)) => assert!(a.bitwise_eq(&b), "{name}: {a:?} != {b:?}"),
                (Err(a), Err(TextArgError::Arg(b))) => assert_eq!(a, b, "{name}"),
                (a, b) => panic!("{name}: two steps gave {a:?}, one pass {b:?}"),
            },
        }
    }
}

fn result(bytes: &[u8]) {
    let tree = Decoder::new(bytes).read_value();
    for opts in [OutputOptions::full(), OutputOptions::pixiu()] {
        let mut streamed = Vec::new();
        let transcoded = transcode_json_text(&mut Decoder::new(bytes).events(), &opts, &mut streamed);
        let Ok(value) = &tree else {
            assert!(!transcoded, "transcoded what does not decode: {streamed:?}");
            continue;
        };
        let mut text = Vec::new();
        let written = write_json_text(value, &opts, &mut text);
        if transcoded {
            assert_eq!(written, Ok(()));
            assert_eq!(streamed, text);
        }
        match hessian_to_json(value, &opts) {
            Ok(json) => {
                assert_eq!(written, Ok(()));
                assert_eq!(text, serde_json::to_vec(&json).expect("serializable"));
            }
            Err(e) => assert_eq!(written, Err(e)),
        }
    }
}
