//! The hessian2 writer: [`Encoder`] appends values to a byte buffer in exactly the forms that
//! hessian-lite's `Hessian2Output` chooses (smallest compact int/long forms, "milli" doubles,
//! minute dates, CESU-8 strings counted in UTF-16 units, fixed-length lists, type and class-def
//! tables), so Java peers see the bytes a Java client would have sent.
//!
//! One encoder owns one set of class-definition and type-name tables, i.e. one Dubbo message body.
//! Back references are never generated automatically: a [`Value::Ref`] (or [`Encoder::write_ref`])
//! is written as given.

mod strings;
mod table;

use super::value::{ClassDef, Value};
use table::Table;

/// The padding value for objects with fewer values than fields.
static NULL: Value = Value::Null;

/// Writes hessian2 values into a byte buffer, byte-compatible with hessian-lite.
///
/// ```
/// use tianlu_protocol::hessian2::Encoder;
/// let mut enc = Encoder::new();
/// enc.write_int(48);
/// enc.write_str("😀");
/// assert_eq!(enc.as_bytes(), [0xc8, 0x30, 0x02, 0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80]);
/// ```
#[derive(Debug, Default)]
pub struct Encoder {
    buf: Vec<u8>,
    classes: Table<ClassDef>,
    types: Table<String>,
}

/// Pending work of the iterative [`Encoder::write_value`].
enum Task<'v> {
    /// List items or object field values still to write.
    Seq(std::slice::Iter<'v, Value>),
    /// Map entries still to write; `Z` follows the last one.
    Entries(std::slice::Iter<'v, (Value, Value)>),
    /// One value (a map value waiting for its key to be written).
    One(&'v Value),
}

impl Encoder {
    /// A new encoder with an empty buffer and empty tables.
    pub fn new() -> Self {
        Self::default()
    }

    /// An encoder that appends to `buf` (existing bytes are kept).
    pub fn with_buffer(buf: Vec<u8>) -> Self {
        Self {
            buf,
            ..Self::default()
        }
    }

    /// Writes any value. Containers are written iteratively, so deep trees cannot overflow the
    /// stack. An object whose `values` do not match its class's field count is written with the
    /// class's field count (missing values as null, extra values dropped) so the stream stays
    /// well-formed.
    pub fn write_value(&mut self, v: &Value) {
        let mut stack: Vec<Task<'_>> = Vec::new();
        self.write_one(v, &mut stack);
        while let Some(task) = stack.last_mut() {
            match task {
                Task::Seq(iter) => match iter.next() {
                    Some(item) => self.write_one(item, &mut stack),
                    None => {
                        stack.pop();
                    }
                },
                Task::Entries(iter) => match iter.next() {
                    Some((key, value)) => {
                        stack.push(Task::One(value));
                        self.write_one(key, &mut stack);
                    }
                    None => {
                        stack.pop();
                        self.write_map_end();
                    }
                },
                Task::One(item) => {
                    let item: &Value = item;
                    stack.pop();
                    self.write_one(item, &mut stack);
                }
            }
        }
    }

    /// Writes a scalar completely, or the header of a container and pushes its children.
    fn write_one<'v>(&mut self, v: &'v Value, stack: &mut Vec<Task<'v>>) {
        match v {
            Value::Null => self.write_null(),
            Value::Bool(b) => self.write_bool(*b),
            Value::Int(i) => self.write_int(*i),
            Value::Long(l) => self.write_long(*l),
            Value::Double(d) => self.write_double(*d),
            Value::Date(ms) => self.write_date(*ms),
            Value::String(s) => self.write_str(s),
            Value::Binary(b) => self.write_binary(b),
            Value::Ref(i) => self.write_ref(*i),
            Value::List(list) => {
                self.write_list_begin(list.items.len(), list.type_name.as_deref());
                if !list.items.is_empty() {
                    stack.push(Task::Seq(list.items.iter()));
                }
            }
            Value::Map(map) => {
                self.write_map_begin(map.type_name.as_deref());
                stack.push(Task::Entries(map.entries.iter()));
            }
            Value::Object(obj) => {
                self.write_object_begin(&obj.class);
                let n = obj.class.fields.len();
                let values = obj.values.get(..n).unwrap_or(&obj.values);
                // Pad a short value list with nulls before queueing the real values, which are
                // written first (the stack is LIFO).
                for _ in values.len()..n {
                    stack.push(Task::One(&NULL));
                }
                stack.push(Task::Seq(values.iter()));
            }
        }
    }

    /// Writes `N`.
    #[inline]
    pub fn write_null(&mut self) {
        self.buf.push(b'N');
    }

    /// Writes `T` or `F`.
    #[inline]
    pub fn write_bool(&mut self, v: bool) {
        self.buf.push(if v { b'T' } else { b'F' });
    }

    /// Writes an int in the smallest form: 1 byte (−16…47), 2 bytes (−2048…2047), 3 bytes
    /// (−262144…262143), else `I` + 4 bytes.
    #[inline]
    pub fn write_int(&mut self, v: i32) {
        let b = v.to_be_bytes();
        match v {
            -0x10..=0x2f => self.buf.push((0x90 + v) as u8),
            -0x800..=0x7ff => self.buf.extend_from_slice(&[(0xc8 + (v >> 8)) as u8, b[3]]),
            -0x40000..=0x3ffff => {
                self.buf
                    .extend_from_slice(&[(0xd4 + (v >> 16)) as u8, b[2], b[3]]);
            }
            _ => self.buf.extend_from_slice(&[b'I', b[0], b[1], b[2], b[3]]),
        }
    }

    /// Writes a long in the smallest form: 1 byte (−8…15), 2 bytes (−2048…2047), 3 bytes
    /// (−262144…262143), `Y` + 4 bytes when it fits an int, else `L` + 8 bytes.
    #[inline]
    pub fn write_long(&mut self, v: i64) {
        let b = v.to_be_bytes();
        match v {
            -0x08..=0x0f => self.buf.push((0xe0 + v) as u8),
            -0x800..=0x7ff => self.buf.extend_from_slice(&[(0xf8 + (v >> 8)) as u8, b[7]]),
            -0x40000..=0x3ffff => {
                self.buf
                    .extend_from_slice(&[(0x3c + (v >> 16)) as u8, b[6], b[7]]);
            }
            -0x8000_0000..=0x7fff_ffff => {
                self.buf.extend_from_slice(&[0x59, b[4], b[5], b[6], b[7]]);
            }
            _ => {
                self.buf.push(b'L');
                self.buf.extend_from_slice(&b);
            }
        }
    }

    /// Writes a double the way `Hessian2Output.writeDouble` does: integral values as `5b` (0),
    /// `5c` (1), `5d` (byte) or `5e` (short); values that are a whole number of thousandths as
    /// `5f` + int32 milli-units; everything else as `D` + 8 bytes. One deliberate difference:
    /// `-0.0` is written as `D` so its sign survives (Java would write `5b`).
    #[inline]
    pub fn write_double(&mut self, v: f64) {
        // `as i32` saturates and maps NaN to 0, exactly like Java's `(int)` cast.
        let int = v as i32;
        if f64::from(int) == v && !(int == 0 && v.is_sign_negative()) {
            match int {
                0 => return self.buf.push(0x5b),
                1 => return self.buf.push(0x5c),
                -0x80..=0x7f => return self.buf.extend_from_slice(&[0x5d, int as u8]),
                -0x8000..=0x7fff => {
                    let b = (int as i16).to_be_bytes();
                    return self.buf.extend_from_slice(&[0x5e, b[0], b[1]]);
                }
                _ => {}
            }
        }
        let mills = (v * 1000.0) as i32;
        if 0.001 * f64::from(mills) == v && !(mills == 0 && v.is_sign_negative()) {
            self.buf.push(0x5f);
            self.buf.extend_from_slice(&mills.to_be_bytes());
        } else {
            self.buf.push(b'D');
            self.buf.extend_from_slice(&v.to_bits().to_be_bytes());
        }
    }

    /// Writes a `java.util.Date` given in milliseconds since the epoch (UTC): `4b` + int32
    /// minutes when it is a whole minute that fits, else `4a` + int64 milliseconds.
    #[inline]
    pub fn write_date(&mut self, millis: i64) {
        if millis % 60_000 == 0 {
            if let Ok(minutes) = i32::try_from(millis / 60_000) {
                self.buf.push(0x4b);
                self.buf.extend_from_slice(&minutes.to_be_bytes());
                return;
            }
        }
        self.buf.push(0x4a);
        self.buf.extend_from_slice(&millis.to_be_bytes());
    }

    /// Writes a string; see the `strings` submodule for the exact chunking and CESU-8 rules.
    pub fn write_str(&mut self, s: &str) {
        strings::write_str(&mut self.buf, s);
    }

    /// Writes binary data: `20+n` (≤ 15 bytes), `34+` 2-byte form (≤ 1023), `B` (≤ 32768),
    /// preceded by `A` chunks of 32768 bytes for larger data.
    pub fn write_binary(&mut self, b: &[u8]) {
        strings::write_binary(&mut self.buf, b);
    }

    /// Starts a list of `len` elements (the caller then writes exactly `len` values): `70+n`
    /// typed / `78+n` untyped for up to 7 elements, else `V` type int-length / `X` int-length.
    /// A type already used in this encoder is written as its int index. Lengths beyond
    /// `i32::MAX` cannot be represented and are written as `i32::MAX`.
    pub fn write_list_begin(&mut self, len: usize, type_name: Option<&str>) {
        match (len, type_name) {
            (0..=7, Some(t)) => {
                self.buf.push(0x70 + len as u8);
                self.write_type(t);
            }
            (0..=7, None) => self.buf.push(0x78 + len as u8),
            (_, Some(t)) => {
                self.buf.push(b'V');
                self.write_type(t);
                self.write_int(i32::try_from(len).unwrap_or(i32::MAX));
            }
            (_, None) => {
                self.buf.push(b'X');
                self.write_int(i32::try_from(len).unwrap_or(i32::MAX));
            }
        }
    }

    /// Starts a map: `H` (untyped, Java `HashMap`) or `M` + type. The caller writes key/value
    /// pairs and then [`Encoder::write_map_end`].
    pub fn write_map_begin(&mut self, type_name: Option<&str>) {
        match type_name {
            Some(t) => {
                self.buf.push(b'M');
                self.write_type(t);
            }
            None => self.buf.push(b'H'),
        }
    }

    /// Ends a map with `Z`.
    #[inline]
    pub fn write_map_end(&mut self) {
        self.buf.push(b'Z');
    }

    /// Starts an object instance of `class`. The first time this encoder sees the class (same
    /// name and fields) its `C` definition is written first; then the instance header `60+i`
    /// (i ≤ 15) or `O` int-i. The caller then writes one value per field, in order.
    pub fn write_object_begin(&mut self, class: &ClassDef) {
        let idx = match self.classes.find(class) {
            Some(idx) => idx,
            None => {
                self.buf.push(b'C');
                self.write_str(&class.name);
                self.write_int(i32::try_from(class.fields.len()).unwrap_or(i32::MAX));
                for field in &class.fields {
                    self.write_str(field);
                }
                self.classes.insert(class.clone())
            }
        };
        if idx <= 0x0f {
            self.buf.push(0x60 + idx as u8);
        } else {
            self.buf.push(b'O');
            self.write_int(i32::try_from(idx).unwrap_or(i32::MAX));
        }
    }

    /// Writes a back reference `Q` + int index to the `index`-th map/list/object started in
    /// this stream.
    pub fn write_ref(&mut self, index: u32) {
        self.buf.push(b'Q');
        self.write_int(i32::try_from(index).unwrap_or(i32::MAX));
    }

    /// Writes a type name, or its int index when this encoder already wrote it.
    fn write_type(&mut self, type_name: &str) {
        match self.types.find(type_name) {
            Some(idx) => self.write_int(i32::try_from(idx).unwrap_or(i32::MAX)),
            None => {
                self.types.insert(type_name.to_owned());
                self.write_str(type_name);
            }
        }
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Consumes the encoder and returns its buffer.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Number of bytes in the buffer.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether the buffer is empty.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Clears the buffer (keeping its allocation) and the class-definition and type tables, so
    /// the encoder can write the next message body.
    pub fn reset(&mut self) {
        self.buf.clear();
        self.classes.clear();
        self.types.clear();
    }
}
