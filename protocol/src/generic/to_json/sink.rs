//! Where the hessian → JSON traversal puts its output: a [`serde_json::Value`] tree
//! ([`TreeSink`], for callers that inspect the result) or compact JSON text ([`TextSink`], for
//! response bodies, with no tree in between). Both receive the same events, so both produce the
//! same JSON; text is byte for byte what `serde_json::to_vec` writes for the tree.

use serde_json::{Map as JsonMap, Number, Value as Json};

/// Receives a JSON document as events. Numbers given to [`Sink::float`] are finite.
pub(super) trait Sink {
    fn null(&mut self);
    fn bool(&mut self, b: bool);
    fn int(&mut self, i: i64);
    fn float(&mut self, d: f64);
    fn string(&mut self, s: &str);
    fn begin_array(&mut self, len: usize);
    fn end_array(&mut self);
    fn begin_object(&mut self, len: usize);
    /// The key of the next value in the current object.
    fn key(&mut self, k: &str);
    fn end_object(&mut self);
}

/// Builds a `serde_json::Value`. A repeated key keeps its first position and takes the later
/// value (what `serde_json::Map::insert` does with `preserve_order`).
#[derive(Default)]
pub(super) struct TreeSink {
    stack: Vec<Open>,
    root: Option<Json>,
}

enum Open {
    Array(Vec<Json>),
    Object(JsonMap<String, Json>, String),
}

impl TreeSink {
    /// The finished value (`null` if nothing was written).
    pub(super) fn finish(self) -> Json {
        self.root.unwrap_or(Json::Null)
    }

    fn put(&mut self, v: Json) {
        match self.stack.last_mut() {
            None => self.root = Some(v),
            Some(Open::Array(items)) => items.push(v),
            Some(Open::Object(map, key)) => {
                map.insert(std::mem::take(key), v);
            }
        }
    }

    fn close(&mut self) {
        let v = match self.stack.pop() {
            Some(Open::Array(items)) => Json::Array(items),
            Some(Open::Object(map, _)) => Json::Object(map),
            None => return,
        };
        self.put(v);
    }
}

impl Sink for TreeSink {
    fn null(&mut self) {
        self.put(Json::Null);
    }
    fn bool(&mut self, b: bool) {
        self.put(Json::Bool(b));
    }
    fn int(&mut self, i: i64) {
        self.put(Json::from(i));
    }
    fn float(&mut self, d: f64) {
        self.put(Number::from_f64(d).map_or(Json::Null, Json::Number));
    }
    fn string(&mut self, s: &str) {
        self.put(Json::String(s.to_string()));
    }
    fn begin_array(&mut self, len: usize) {
        self.stack.push(Open::Array(Vec::with_capacity(len)));
    }
    fn end_array(&mut self) {
        self.close();
    }
    fn begin_object(&mut self, _len: usize) {
        self.stack.push(Open::Object(JsonMap::new(), String::new()));
    }
    fn key(&mut self, k: &str) {
        if let Some(Open::Object(_, key)) = self.stack.last_mut() {
            *key = k.to_string();
        }
    }
    fn end_object(&mut self) {
        self.close();
    }
}

/// Writes compact JSON text. Scalars go through serde_json's own serializer, so escaping and
/// number formatting are serde_json's. The traversal never repeats a key within an object.
pub(super) struct TextSink<'o> {
    out: &'o mut Vec<u8>,
    /// A value was written at this level, so the next one needs a comma.
    comma: bool,
}

impl<'o> TextSink<'o> {
    pub(super) fn new(out: &'o mut Vec<u8>) -> Self {
        TextSink { out, comma: false }
    }

    fn sep(&mut self) {
        if self.comma {
            self.out.push(b',');
        }
    }
}

// Writing into a Vec cannot fail, and numbers and strings always serialize: the results of
// `serde_json::to_writer` below carry no information.

impl Sink for TextSink<'_> {
    fn null(&mut self) {
        self.sep();
        self.out.extend_from_slice(b"null");
        self.comma = true;
    }
    fn bool(&mut self, b: bool) {
        self.sep();
        self.out
            .extend_from_slice(if b { b"true" as &[u8] } else { b"false" });
        self.comma = true;
    }
    fn int(&mut self, i: i64) {
        self.sep();
        let _ = serde_json::to_writer(&mut *self.out, &i);
        self.comma = true;
    }
    fn float(&mut self, d: f64) {
        self.sep();
        let _ = serde_json::to_writer(&mut *self.out, &d);
        self.comma = true;
    }
    fn string(&mut self, s: &str) {
        self.sep();
        put_str(self.out, s);
        self.comma = true;
    }
    fn begin_array(&mut self, _len: usize) {
        self.sep();
        self.out.push(b'[');
        self.comma = false;
    }
    fn end_array(&mut self) {
        self.out.push(b']');
        self.comma = true;
    }
    fn begin_object(&mut self, _len: usize) {
        self.sep();
        self.out.push(b'{');
        self.comma = false;
    }
    fn key(&mut self, k: &str) {
        self.sep();
        put_str(self.out, k);
        self.out.push(b':');
        self.comma = false;
    }
    fn end_object(&mut self) {
        self.out.push(b'}');
        self.comma = true;
    }
}

/// A JSON string: copied between quotes when nothing in it needs escaping, else escaped by
/// serde_json.
fn put_str(out: &mut Vec<u8>, s: &str) {
    if !may_need_escape(s.as_bytes()) {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

impl TextSink<'_> {
    /// The length written so far.
    pub(super) fn position(&self) -> usize {
        self.out.len()
    }

    /// Inserts the member `"class":"<class>"` at `at` (just after an object's `{`), followed
    /// by a comma when the object has other members.
    pub(super) fn insert_class(&mut self, at: usize, class: &str, more: bool) {
        let mut member = Vec::with_capacity(class.len() + 12);
        put_str(&mut member, "class");
        member.push(b':');
        put_str(&mut member, class);
        if more {
            member.push(b',');
        }
        self.out.splice(at..at, member);
    }
}

/// Whether `bytes` may hold a byte JSON escapes (a control byte, `"` or `\\`), eight bytes at a
/// time. Exact in both directions; a false `true` would only cost the slower path.
fn may_need_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Some byte of `x` is below `n` (n <= 0x80): the classic borrow test.
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let hits = below(x, 0x20) | below(x ^ (ONES * 0x22), 1) | below(x ^ (ONES * 0x5c), 1);
        if hits != 0 {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

#[cfg(test)]
mod tests {
    use super::may_need_escape;

    #[test]
    fn the_word_test_finds_every_escaped_byte_at_every_position() {
        for len in 0..20 {
            for at in 0..len {
                for b in 0u8..=0x7f {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = b;
                    let naive = bytes.iter().any(|&c| c < 0x20 || c == b'"' || c == b'\\');
                    assert_eq!(may_need_escape(&bytes), naive, "{bytes:?}");
                }
            }
        }
        assert!(!may_need_escape("é😀 plain, non-ASCII".as_bytes()));
    }
}
