//! hessian2 → JSON text without a value tree: the decoder's [`Events`] are written as they come.
//!
//! Covers what generic-call results are made of (scalars, lists, maps with a `"class"` entry
//! anywhere, objects). Whatever would need the whole tree to decide (a back reference, a key
//! that repeats, a key that is itself a container, a big number to flatten, a `"class"` field
//! holding a container, a limit reached) stops it with `false`, and the caller decodes the tree
//! and uses [`write_json_text`](super::write_json_text), which then writes or reports exactly
//! what it always does. When it succeeds, the text is the one `write_json_text` gives for the
//! decoded tree.

use std::borrow::Cow;

use super::sink::{Sink, TextSink};
use super::{
    scalar_key_text, write_scalar, OutputOptions, Seen, BIG_DECIMAL, BIG_INTEGER, MAX_JSON_DEPTH,
    MAX_JSON_NODES,
};
use crate::hessian2::{ClassDef, Event, Events, Value};

/// The most output a late `"class"` entry may move to get in front (more goes to the tree path,
/// so nested maps cannot make the moves add up to depth × size).
const MAX_MOVED: usize = 64 * 1024;

/// The tree path is needed.
struct Bail;

/// Writes the value `events` yields to `out` as compact JSON text. `false` (with `out` holding a
/// partial document) when the value needs the tree path; see the module docs.
pub fn transcode_json_text(
    events: &mut Events<'_, '_>,
    opts: &OutputOptions,
    out: &mut Vec<u8>,
) -> bool {
    let mut t = Transcoder {
        events,
        opts: *opts,
        nodes: 0,
        depth: 0,
    };
    let mut sink = TextSink::new(out);
    let done = t.next().and_then(|ev| t.value(ev, &mut sink));
    done.is_ok() && t.events.is_done()
}

struct Transcoder<'e, 'd, 'a> {
    events: &'e mut Events<'d, 'a>,
    opts: OutputOptions,
    nodes: usize,
    depth: usize,
}

impl<'a> Transcoder<'_, '_, 'a> {
    fn next(&mut self) -> Result<Event<'a>, Bail> {
        match self.events.next_event() {
            Ok(Some(ev)) => Ok(ev),
            _ => Err(Bail),
        }
    }

    fn value(&mut self, ev: Event<'a>, out: &mut TextSink<'_>) -> Result<(), Bail> {
        self.nodes += 1;
        if self.nodes > MAX_JSON_NODES {
            return Err(Bail);
        }
        match ev {
            Event::Str(s) => {
                out.string(s);
                Ok(())
            }
            Event::Scalar(v) => {
                if write_scalar(&v, out) {
                    Ok(())
                } else {
                    Err(Bail)
                }
            }
            Event::List => {
                out.begin_array(0);
                loop {
                    match self.next()? {
                        Event::End => break,
                        item => self.child(item, out)?,
                    }
                }
                out.end_array();
                Ok(())
            }
            Event::Object(class) => self.object(&class, out),
            Event::Map { typed } => self.map(typed, out),
            Event::End | Event::Ref => Err(Bail),
        }
    }

    fn child(&mut self, ev: Event<'a>, out: &mut TextSink<'_>) -> Result<(), Bail> {
        self.depth += 1;
        let done = if self.depth > MAX_JSON_DEPTH {
            Err(Bail)
        } else {
            self.value(ev, out)
        };
        self.depth -= 1;
        done
    }

    /// A member that is not written: only a scalar can be passed over here.
    fn pass_over(ev: &Event<'_>) -> Result<(), Bail> {
        match ev {
            Event::Str(_) | Event::Scalar(_) => Ok(()),
            _ => Err(Bail),
        }
    }

    fn object(&mut self, class: &ClassDef, out: &mut TextSink<'_>) -> Result<(), Bail> {
        let name = class.name.as_str();
        if self.opts.flatten_big_numbers && (name == BIG_DECIMAL || name == BIG_INTEGER) {
            return Err(Bail);
        }
        let mut seen = Seen::default();
        for field in &class.fields {
            if !seen.insert(field) {
                return Err(Bail);
            }
        }
        out.begin_object(0);
        if self.opts.keep_class {
            out.key("class");
            out.string(name);
        }
        for field in &class.fields {
            let ev = self.next()?;
            if field == "class" {
                Self::pass_over(&ev)?;
                continue;
            }
            if !self.opts.keep_null && ev == Event::Scalar(Value::Null) {
                continue;
            }
            out.key(field);
            self.child(ev, out)?;
        }
        if self.next()? != Event::End {
            return Err(Bail);
        }
        out.end_object();
        Ok(())
    }

    /// A map: its string `"class"` entry (untyped maps) is written first, wherever it came.
    fn map(&mut self, typed: bool, out: &mut TextSink<'_>) -> Result<(), Bail> {
        out.begin_object(0);
        let start = out.position();
        let mut class = None;
        let mut wrote = false;
        let mut seen = Seen::default();
        loop {
            let key: Cow<'a, str> = match self.next()? {
                Event::End => break,
                Event::Str(s) => Cow::Borrowed(s),
                Event::Scalar(Value::String(s)) => Cow::Owned(s),
                Event::Scalar(k) => Cow::Owned(scalar_key_text(&k).ok_or(Bail)?.into_owned()),
                _ => return Err(Bail),
            };
            if !seen.insert(&key) {
                return Err(Bail);
            }
            let ev = self.next()?;
            if key == "class" && !typed {
                let c = match &ev {
                    Event::Str(c) => Some(*c),
                    Event::Scalar(Value::String(c)) => Some(c.as_str()),
                    _ => None,
                };
                if let Some(c) = c {
                    if self.opts.flatten_big_numbers && (c == BIG_DECIMAL || c == BIG_INTEGER) {
                        return Err(Bail);
                    }
                    if self.opts.keep_class {
                        if wrote {
                            class = Some(c.to_string());
                        } else {
                            // Nothing written yet: "class" is first as it is.
                            out.key("class");
                            out.string(c);
                        }
                    }
                    continue;
                }
            }
            if !self.opts.keep_class && key == "class" {
                Self::pass_over(&ev)?;
                continue;
            }
            if !self.opts.keep_null && ev == Event::Scalar(Value::Null) {
                continue;
            }
            out.key(&key);
            self.child(ev, out)?;
            wrote = true;
        }
        out.end_object();
        if let Some(c) = class {
            if out.position() - start > MAX_MOVED {
                return Err(Bail);
            }
            out.insert_class(start, &c, wrote);
        }
        Ok(())
    }
}
