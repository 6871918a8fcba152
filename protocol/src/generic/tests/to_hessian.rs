//! `json_to_hessian`: scalars, numbers with range edges, dates, strings, nulls.

use serde_json::{json, Value as Json};

use crate::generic::{json_to_hessian, ArgError, InputPolicy, JavaType};
use crate::hessian2::Value;

/// Converts `json` for the type named `ty` under the type's default policy at `args[0]`.
pub(super) fn conv(json: Json, ty: &str) -> Result<Value, ArgError> {
    let ty = JavaType::parse(ty).unwrap();
    let policy = InputPolicy::for_types(std::slice::from_ref(&ty));
    json_to_hessian(json, &ty, "args[0]", &policy)
}

/// Asserts an error at `path` whose reason contains `needle`.
pub(super) fn assert_err(result: Result<Value, ArgError>, path: &str, needle: &str) {
    match result {
        Ok(v) => panic!("expected an error at {path} ({needle}), got {v:?}"),
        Err(e) => {
            assert_eq!(e.path, path, "reason: {}", e.reason);
            assert!(
                e.reason.contains(needle),
                "{needle:?} not in {:?}",
                e.reason
            );
            assert_eq!(e.to_string(), format!("{}: {}", e.path, e.reason));
        }
    }
}

#[test]
fn integers_in_range() {
    let cases: Vec<(Json, &str, Value)> = vec![
        (json!(1), "int", Value::Int(1)),
        (json!(2147483647), "int", Value::Int(i32::MAX)),
        (json!(-2147483648), "int", Value::Int(i32::MIN)),
        (json!("-17"), "int", Value::Int(-17)),
        (json!("+5"), "java.lang.Integer", Value::Int(5)),
        (json!(1.0), "int", Value::Int(1)),
        (json!(-128), "byte", Value::Int(-128)),
        (json!(127), "java.lang.Byte", Value::Int(127)),
        (json!(32767), "short", Value::Int(32767)),
        (json!("-32768"), "short", Value::Int(-32768)),
        (json!(5), "long", Value::Long(5)),
        (json!("123"), "long", Value::Long(123)),
        (
            json!(9007199254740993_i64),
            "long",
            Value::Long(9_007_199_254_740_993),
        ),
        (
            json!("9007199254740993"),
            "java.lang.Long",
            Value::Long(9_007_199_254_740_993),
        ),
        (json!(i64::MAX), "long", Value::Long(i64::MAX)),
        (json!("-9223372036854775808"), "long", Value::Long(i64::MIN)),
        (json!("007"), "long", Value::Long(7)),
    ];
    for (input, ty, expected) in cases {
        assert_eq!(conv(input.clone(), ty), Ok(expected), "{input} as {ty}");
    }
}

#[test]
fn integers_out_of_range_or_malformed() {
    let cases: Vec<(Json, &str, &str)> = vec![
        (
            json!(2147483648_i64),
            "int",
            "2147483648 is out of range for int",
        ),
        (json!(-2147483649_i64), "int", "out of range for int"),
        (
            json!("2147483648"),
            "java.lang.Integer",
            "out of range for java.lang.Integer",
        ),
        (json!(128), "byte", "out of range for byte (-128..=127)"),
        (json!(32768), "short", "out of range for short"),
        (json!(u64::MAX), "long", "out of range for long"),
        (
            json!("9223372036854775808"),
            "long",
            "out of range for long",
        ),
        (
            json!("99999999999999999999999999999"),
            "long",
            "out of range",
        ),
        (json!(1.5), "int", "1.5 is not an integer"),
        (json!(1e300), "long", "too large to be exact"),
        (json!("12.5"), "long", "\"12.5\" is not an integer"),
        (json!("abc"), "int", "is not an integer"),
        (json!(""), "int", "is not an integer"),
        (json!(" 1"), "int", "is not an integer"),
        (
            json!(true),
            "int",
            "expected a JSON number or numeric string for int, found boolean",
        ),
        (json!([1]), "long", "found array"),
    ];
    for (input, ty, needle) in cases {
        assert_err(conv(input, ty), "args[0]", needle);
    }
}

#[test]
fn floating_point() {
    assert_eq!(conv(json!(1.5), "double"), Ok(Value::Double(1.5)));
    assert_eq!(conv(json!(2), "java.lang.Double"), Ok(Value::Double(2.0)));
    assert_eq!(conv(json!("-2.5e3"), "float"), Ok(Value::Double(-2500.0)));
    assert_eq!(
        conv(json!("Infinity"), "double"),
        Ok(Value::Double(f64::INFINITY))
    );
    assert_eq!(
        conv(json!("-Infinity"), "double"),
        Ok(Value::Double(f64::NEG_INFINITY))
    );
    match conv(json!("NaN"), "double") {
        Ok(Value::Double(d)) => assert!(d.is_nan()),
        other => panic!("{other:?}"),
    }
    assert_err(
        conv(json!(1e300), "float"),
        "args[0]",
        "out of range for float",
    );
    assert_err(
        conv(json!("1e999"), "double"),
        "args[0]",
        "out of range for double",
    );
    assert_err(conv(json!("inf"), "double"), "args[0]", "is not a number");
    assert_err(conv(json!("0x10"), "double"), "args[0]", "is not a number");
    assert_err(conv(json!(false), "double"), "args[0]", "found boolean");
}

#[test]
fn booleans_chars_strings() {
    let ok: Vec<(Json, &str, Value)> = vec![
        (json!(true), "boolean", Value::Bool(true)),
        (json!("false"), "java.lang.Boolean", Value::Bool(false)),
        (json!("a"), "char", Value::string("a")),
        (json!("é"), "java.lang.Character", Value::string("é")),
        (json!("hi"), "java.lang.String", Value::string("hi")),
        (json!(""), "string", Value::string("")),
        (json!("abc"), "char[]", Value::string("abc")),
    ];
    for (input, ty, expected) in ok {
        assert_eq!(conv(input.clone(), ty), Ok(expected), "{input} as {ty}");
    }
    let bad: Vec<(Json, &str, &str)> = vec![
        (json!("yes"), "boolean", "expected true/false"),
        (json!(1), "boolean", "found 1"),
        (json!("ab"), "char", "exactly one UTF-16 character"),
        (json!("😀"), "char", "exactly one UTF-16 character"),
        (
            json!(5),
            "java.lang.String",
            "found number (numbers and booleans are not converted)",
        ),
        (json!(true), "string", "found boolean"),
        (json!(["a"]), "char[]", "expected a JSON string for char[]"),
    ];
    for (input, ty, needle) in bad {
        assert_err(conv(input, ty), "args[0]", needle);
    }
}

#[test]
fn nulls() {
    for ty in [
        "java.lang.Integer",
        "string",
        "org.example.User",
        "int[]",
        "java.util.Date",
    ] {
        assert_eq!(conv(Json::Null, ty), Ok(Value::Null), "{ty}");
    }
    assert_err(
        conv(Json::Null, "int"),
        "args[0]",
        "null is not allowed for primitive int (use java.lang.Integer)",
    );
    assert_err(conv(Json::Null, "boolean"), "args[0]", "primitive boolean");
}

#[test]
fn big_numbers_travel_as_exact_strings() {
    let ok: Vec<(Json, &str, &str)> = vec![
        (json!("123.4500"), "java.math.BigDecimal", "123.4500"),
        (json!("-1E+5"), "java.math.BigDecimal", "-1E+5"),
        (json!(".5"), "java.math.BigDecimal", ".5"),
        (json!(1.5), "java.math.BigDecimal", "1.5"),
        (json!(10), "java.math.BigDecimal", "10"),
        (
            json!("123456789012345678901234567890"),
            "java.math.BigInteger",
            "123456789012345678901234567890",
        ),
        (json!(42), "java.math.BigInteger", "42"),
        (
            json!(u64::MAX),
            "java.math.BigInteger",
            "18446744073709551615",
        ),
        (json!(-7.0), "java.math.BigInteger", "-7"),
    ];
    for (input, ty, expected) in ok {
        assert_eq!(
            conv(input.clone(), ty),
            Ok(Value::string(expected)),
            "{input} as {ty}"
        );
    }
    let bad: Vec<(Json, &str, &str)> = vec![
        (
            json!("1.2.3"),
            "java.math.BigDecimal",
            "not a decimal number",
        ),
        (json!(""), "java.math.BigDecimal", "not a decimal number"),
        (json!("NaN"), "java.math.BigDecimal", "not a decimal number"),
        (
            json!("1e99999999999"),
            "java.math.BigDecimal",
            "not a decimal number",
        ),
        (json!(true), "java.math.BigDecimal", "found boolean"),
        (json!("1.5"), "java.math.BigInteger", "not an integer"),
        (json!(1.5), "java.math.BigInteger", "not an integer"),
        (json!(1e300), "java.math.BigInteger", "send it as a string"),
    ];
    for (input, ty, needle) in bad {
        assert_err(conv(input, ty), "args[0]", needle);
    }
}

#[test]
fn dates() {
    let ok: Vec<(Json, i64)> = vec![
        (json!("2024-01-02T03:04:05Z"), 1_704_164_645_000),
        (json!("2024-01-02T03:04:05.123Z"), 1_704_164_645_123),
        (json!("2024-01-02T03:04:05.1234567Z"), 1_704_164_645_123),
        (json!("2024-01-02T03:04:05+08:00"), 1_704_135_845_000),
        (json!("2024-01-02T03:04:05+0800"), 1_704_135_845_000),
        (json!("2024-01-02T03:04:05+08"), 1_704_135_845_000),
        (json!("2024-01-02T03:04:05-05:30"), 1_704_184_445_000),
        (json!("2024-01-02T03:04:05"), 1_704_164_645_000),
        (json!("2024-01-02 03:04:05"), 1_704_164_645_000),
        (json!("2024-01-02"), 1_704_153_600_000),
        (json!("1969-07-20T20:17:40Z"), -14_182_940_000),
        (json!(1_704_164_645_000_i64), 1_704_164_645_000),
        (json!(-1), -1),
    ];
    for (input, ms) in ok {
        assert_eq!(
            conv(input.clone(), "java.util.Date"),
            Ok(Value::Date(ms)),
            "{input}"
        );
    }
    let bad: Vec<(Json, &str)> = vec![
        (json!("2024-02-30"), "is not a date"),
        (json!("2023-02-29T00:00:00Z"), "is not a date"),
        (json!("2024-01-02T24:00:00Z"), "is not a date"),
        (json!("2024-01-02T03:04:05+19:00"), "is not a date"),
        (json!("2024-01-02T03:04:05Zjunk"), "is not a date"),
        (json!("02/01/2024"), "is not a date"),
        (json!(1.5), "not an integer (epoch milliseconds)"),
        (
            json!(true),
            "expected an ISO-8601 string or epoch milliseconds for java.util.Date",
        ),
    ];
    for (input, needle) in bad {
        assert_err(conv(input, "date"), "args[0]", needle);
    }
}

#[test]
fn java_time_strings_are_validated_and_kept() {
    let ok = [
        ("2024-02-29", "java.time.LocalDate"),
        ("23:59:59.999999999", "java.time.LocalTime"),
        ("03:04", "java.time.LocalTime"),
        ("2024-01-02T03:04", "java.time.LocalDateTime"),
        ("2024-01-02T03:04:05.5", "java.time.LocalDateTime"),
    ];
    for (text, ty) in ok {
        assert_eq!(
            conv(json!(text), ty),
            Ok(Value::string(text)),
            "{text} as {ty}"
        );
    }
    let bad = [
        ("2023-02-29", "java.time.LocalDate", "not an ISO local date"),
        (
            "2024-01-02T00:00",
            "java.time.LocalDate",
            "not an ISO local date",
        ),
        ("24:00", "java.time.LocalTime", "not an ISO local time"),
        (
            "03:04:05.1234567890",
            "java.time.LocalTime",
            "not an ISO local time",
        ),
        (
            "2024-01-02 03:04",
            "java.time.LocalDateTime",
            "not an ISO local date-time",
        ),
        (
            "2024-01-02T03:04Z",
            "java.time.LocalDateTime",
            "not an ISO local date-time",
        ),
    ];
    for (text, ty, needle) in bad {
        assert_err(conv(json!(text), ty), "args[0]", needle);
    }
    assert_err(
        conv(json!(5), "java.time.LocalDate"),
        "args[0]",
        "found number",
    );
}

#[test]
fn long_beyond_2_pow_53_round_trips_as_string() {
    use crate::generic::{hessian_to_json, OutputOptions};
    let v = conv(json!("9007199254740993"), "long").unwrap();
    assert_eq!(v, Value::Long(9_007_199_254_740_993));
    let back = hessian_to_json(&v, &OutputOptions::full()).unwrap();
    assert_eq!(back, json!("9007199254740993"));
    let again = conv(back, "long").unwrap();
    assert_eq!(again, v);
}

#[test]
fn long_bad_values_are_not_echoed_back() {
    let huge = "9".repeat(20_000) + "x";
    for ty in [
        "java.math.BigDecimal",
        "java.math.BigInteger",
        "long",
        "java.util.Date",
    ] {
        let err = conv(Json::String(huge.clone()), ty).unwrap_err();
        assert!(err.reason.len() < 300, "{ty}: {} bytes", err.reason.len());
        assert!(
            err.reason.contains("20001 characters"),
            "{ty}: {}",
            err.reason
        );
    }
}

#[test]
fn error_paths_name_indexes_odd_keys_and_map_keys_from_any_root() {
    let ty = JavaType::parse("java.util.Map<java.lang.Integer, java.util.List<int>>").unwrap();
    let policy = InputPolicy::for_types(std::slice::from_ref(&ty));
    let at = |json: Json, root: &str| json_to_hessian(json, &ty, root, &policy).unwrap_err();
    let e = at(json!({"1": [1, 2], "a b": [3, "x"]}), "requestBody");
    assert_eq!(e.path, "requestBody[\"a b\"]");
    assert!(e.reason.starts_with("map key: "), "{}", e.reason);
    let e = at(json!({"7": [1, "x"]}), "requestBody");
    assert_eq!(e.path, "requestBody[\"7\"][1]");
    // An empty root: a plain key is written bare, an index or odd key in brackets.
    let by_name = JavaType::parse("java.util.Map<java.lang.String, java.util.List<int>>").unwrap();
    let e = json_to_hessian(json!({"n": [1, "x"]}), &by_name, "", &policy).unwrap_err();
    assert_eq!(e.path, "n[1]");
    let list = JavaType::parse("java.util.List<java.util.Map<java.lang.String, int>>").unwrap();
    let e = json_to_hessian(json!([{"k": 1}, {"q\"": "z"}]), &list, "", &policy).unwrap_err();
    assert_eq!(e.path, "[1][\"q\\\"\"]");
}
