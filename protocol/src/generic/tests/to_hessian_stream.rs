//! `json_text_to_hessian`: the one-pass conversion gives exactly what parsing and then
//! `json_to_hessian` give, values and errors alike, for well-formed and broken texts.

use proptest::prelude::*;
use serde_json::Value as Json;

use crate::generic::{
    json_text_to_hessian, json_to_hessian, ArgError, InputPolicy, JavaType, TextArgError,
};
use crate::hessian2::Value;

#[derive(Debug, PartialEq)]
enum Outcome {
    Value(Value),
    Syntax(String),
    Arg(ArgError),
}

fn two_step(text: &[u8], ty: &JavaType, policy: &InputPolicy) -> Outcome {
    match serde_json::from_slice::<Json>(text) {
        Err(e) => Outcome::Syntax(e.to_string()),
        Ok(json) => match json_to_hessian(json, ty, "requestBody", policy) {
            Ok(v) => Outcome::Value(v),
            Err(e) => Outcome::Arg(e),
        },
    }
}

fn one_pass(text: &[u8], ty: &JavaType, policy: &InputPolicy) -> Outcome {
    match json_text_to_hessian(text, ty, "requestBody", policy) {
        Ok(v) => Outcome::Value(v),
        Err(TextArgError::Syntax(e)) => Outcome::Syntax(e.to_string()),
        Err(TextArgError::Arg(e)) => Outcome::Arg(e),
    }
}

fn types() -> Vec<JavaType> {
    [
        "java.lang.Object",
        "org.example.A",
        "java.util.List<java.lang.Object>",
    ]
    .iter()
    .map(|t| JavaType::parse(t).unwrap())
    .collect()
}

fn policy() -> InputPolicy {
    InputPolicy::new(vec!["org.example.A".into(), "org.example.C".into()], vec![])
}

#[test]
fn known_cases_agree() {
    let cases = [
        r#"{"class":"org.example.A","n":1,"list":[1,"x",null,2.5]}"#,
        r#"{"n":18446744073709551615,"class":"org.example.B"}"#,
        r#"{"class":"org.example.B","n":18446744073709551615}"#,
        r#"{"a":1,"a":{"class":"org.example.B"},"a":3}"#,
        r#"{"a":{"class":"org.example.B"},"a":3}"#,
        r#"{"class":5,"x":[18446744073709551615]}"#,
        r#"{"class":"org.example.A","class":"org.example.C"}"#,
        r#"{"x":[1,{"y":18446744073709551615}],"z":2"#,
        r#"[{"class":"org.example.B"}] x"#,
        r#""org.example.Enum""#,
        r#"null"#,
        r#"[1,2]"#,
        r#"-9223372036854775808"#,
        r#"{"q\"":"\u00e9\ud83d\ude00","":{}}"#,
    ];
    let policy = policy();
    for text in cases {
        for ty in types() {
            assert_eq!(
                one_pass(text.as_bytes(), &ty, &policy),
                two_step(text.as_bytes(), &ty, &policy),
                "{text} as {ty}"
            );
        }
    }
    // Objects large enough that repeated keys are found by position lookup.
    let members: Vec<String> = (0..40).map(|i| format!("\"k{i}\":{i}")).collect();
    let wide = format!(
        "{{{},\"k7\":\"last\",\"class\":\"org.example.A\"}}",
        members.join(",")
    );
    for ty in types().iter().take(2) {
        let one = one_pass(wide.as_bytes(), ty, &policy);
        assert!(matches!(one, Outcome::Value(_)), "{one:?}");
        assert_eq!(one, two_step(wide.as_bytes(), ty, &policy), "{ty}");
    }
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let ty = JavaType::Object;
    assert!(matches!(
        one_pass(deep.as_bytes(), &ty, &policy),
        Outcome::Syntax(_)
    ));
}

fn leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("null".to_string()),
        Just("true".to_string()),
        Just("\"org.example.A\"".to_string()),
        Just("\"org.example.B\"".to_string()),
        Just("18446744073709551615".to_string()),
        Just("-2147483649".to_string()),
        Just("\"a\\u0000\\\"\"".to_string()),
        any::<i64>().prop_map(|i| i.to_string()),
        any::<f64>()
            .prop_filter("finite", |d| d.is_finite())
            .prop_map(|d| format!("{d:e}")),
        "[a-z]{0,6}".prop_map(|s| format!("\"{s}\"")),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("class".to_string()),
        Just("a".to_string()),
        Just("b".to_string()),
        Just("x y".to_string()),
    ]
    .prop_map(|k| format!("\"{k}\""))
}

fn text() -> impl Strategy<Value = String> {
    leaf().prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((key(), inner), 0..6).prop_map(|members| {
                let m: Vec<String> = members.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                format!("{{{}}}", m.join(","))
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn one_pass_equals_parse_then_convert(text in text(), cut in any::<prop::sample::Index>(), broken in 0u8..4) {
        let bytes = text.as_bytes();
        let input: Vec<u8> = match broken {
            0 => bytes[..cut.index(bytes.len() + 1)].to_vec(),
            1 => [bytes, b" }"].concat(),
            _ => bytes.to_vec(),
        };
        let policy = policy();
        for ty in types() {
            prop_assert_eq!(one_pass(&input, &ty, &policy), two_step(&input, &ty, &policy));
        }
    }
}
