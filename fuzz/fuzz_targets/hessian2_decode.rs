//! Fuzz target: decode one hessian2 value from arbitrary bytes with default limits. Decoding must
//! never panic, and a decoded value without back references must survive encode → decode exactly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tianlu_protocol::hessian2::{Decoder, Encoder};

fuzz_target!(|data: &[u8]| {
    let Ok(value) = Decoder::new(data).read_value() else {
        return;
    };
    if value.contains_ref() {
        return;
    }
    let mut enc = Encoder::new();
    enc.write_value(&value);
    let again = Decoder::new(enc.as_bytes())
        .read_value()
        .expect("re-encoded value must decode");
    assert!(
        again.bitwise_eq(&value),
        "round trip changed {value:?} into {again:?}"
    );
});
