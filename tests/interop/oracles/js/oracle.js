'use strict';
// hessian.js (v2 encoder/decoder) as a byte-level oracle for tianlu's hessian2 codec.
//
//   node oracle.js encode < cases.json   -> one JSON line per case: {"name", "hex"} (or "skipped"/"error")
//   node oracle.js decode < lines.jsonl  -> for each {"name", "hex"} line: {"name", "value"} (or "error")
//
// Values use the typed notation of ../cases.json (see ../README.md). Encoding goes through
// hessian.js's public `write()` with its Java type hints ({$class: 'int', $: 1}, 'long', 'double',
// 'java.util.Date', typed arrays, maps, classes). Decoding uses hessian.js's own v2 byte-code
// dispatch; because its v2 readers return plain JS numbers for int, long and double even with
// `withType`, `read` is wrapped to tag each value with the reader hessian.js chose for its byte code.

const util = require('util');
const fs = require('fs');
const hessian = require('hessian.js');

const EncoderV2 = hessian.EncoderV2;
const DecoderV2 = hessian.DecoderV2;

// ---------------------------------------------------------------------------------------------
// typed notation -> hessian.js input

function singleKey(node, where) {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) {
    throw new Error(where + ': expected a one-key object, got ' + JSON.stringify(node));
  }
  const keys = Object.keys(node);
  if (keys.length !== 1) {
    throw new Error(where + ': expected exactly one key, got ' + JSON.stringify(keys));
  }
  return [keys[0], node[keys[0]]];
}

function expandString(v, where) {
  if (typeof v === 'string') {
    return v;
  }
  const [k, r] = singleKey(v, where);
  if (k !== 'repeat' || typeof r.s !== 'string' || !Number.isInteger(r.n)) {
    throw new Error(where + ': a string is a JSON string or {"repeat": {"s", "n"}}');
  }
  return r.s.repeat(r.n);
}

function expandHex(v, where) {
  let hex;
  if (typeof v === 'string') {
    hex = v;
  } else {
    const [k, r] = singleKey(v, where);
    if (k !== 'repeat' || typeof r.hex !== 'string' || !Number.isInteger(r.n)) {
      throw new Error(where + ': binary is a hex string or {"repeat": {"hex", "n"}}');
    }
    hex = r.hex.repeat(r.n);
  }
  if (!/^([0-9a-f]{2})*$/.test(hex)) {
    throw new Error(where + ': bad hex');
  }
  return Buffer.from(hex, 'hex');
}

function parseDouble(v, where) {
  if (typeof v === 'number') {
    return v;
  }
  switch (v) {
    case 'NaN': return NaN;
    case 'Infinity': return Infinity;
    case '-Infinity': return -Infinity;
    case '-0.0': return -0;
    default: throw new Error(where + ': bad double ' + JSON.stringify(v));
  }
}

// Builds the hessian.js input for one typed-notation value. `ctx.labels` maps a label to the one
// JS object written for it (hessian.js writes a back reference when it meets the same object
// again); `ctx.mapTypes` collects typed map names (hessian.js writes `M <type>` only for names
// registered as map types, anything else with a $class becomes a class instance).
function build(node, ctx, where) {
  const [kind, v] = singleKey(node, where);
  switch (kind) {
    case 'null':
      return null;
    case 'bool':
      return { $class: 'boolean', $: v };
    case 'int':
      return { $class: 'int', $: v };
    case 'long':
      return { $class: 'long', $: v };
    case 'double':
      return { $class: 'double', $: parseDouble(v, where) };
    case 'date':
      return { $class: 'java.util.Date', $: new Date(v) };
    case 'string':
      return { $class: 'java.lang.String', $: expandString(v, where) };
    case 'binary_hex':
      return expandHex(v, where);
    case 'list': {
      const items = v.items.map((it, i) => build(it, ctx, where + '.items[' + i + ']'));
      return v.type === null ? items : { $class: v.type, $: items };
    }
    case 'map': {
      const m = new Map();
      v.entries.forEach((e, i) => {
        m.set(build(e[0], ctx, where + '.entries[' + i + '][0]'), build(e[1], ctx, where + '.entries[' + i + '][1]'));
      });
      if (v.type !== null) {
        ctx.mapTypes[v.type] = true;
      }
      return { $class: v.type === null ? 'java.util.HashMap' : v.type, $: m };
    }
    case 'object': {
      const fields = {};
      v.fields.forEach((f, i) => {
        if (Object.prototype.hasOwnProperty.call(fields, f[0])) {
          throw new Error(where + ': duplicate field ' + f[0]);
        }
        fields[f[0]] = build(f[1], ctx, where + '.fields[' + i + ']');
      });
      const order = Object.keys(fields);
      if (order.join('\u0000') !== v.fields.map((f) => f[0]).join('\u0000')) {
        throw new Error(where + ': a JS object cannot keep this field order: ' + JSON.stringify(v.fields.map((f) => f[0])));
      }
      return { $class: v.class, $: fields };
    }
    case 'label': {
      const built = build(v.value, ctx, where + '.label(' + v.name + ')');
      ctx.labels[v.name] = built;
      return built;
    }
    case 'ref_to':
      if (!Object.prototype.hasOwnProperty.call(ctx.labels, v)) {
        throw new Error(where + ': ref_to unknown label ' + v);
      }
      return ctx.labels[v];
    default:
      throw new Error(where + ': unknown kind ' + kind);
  }
}

function encodeCase(c) {
  const ctx = { labels: {}, mapTypes: {} };
  const input = build(c.value, ctx, c.name);
  const encoder = new EncoderV2({ size: 64 * 1024, mapTypes: ctx.mapTypes });
  encoder.write(input);
  return encoder.get().toString('hex');
}

// ---------------------------------------------------------------------------------------------
// hessian.js output -> typed notation

const PRIM = Symbol('primitive');
const TYPED_LIST = Symbol('typed list');
const UNTYPED_MAP = Symbol('untyped map');
const TYPED_MAP = Symbol('typed map');
const OBJECT = Symbol('object');

function prim(out) {
  const p = { out };
  p[PRIM] = true;
  return p;
}

function mark(obj, sym) {
  Object.defineProperty(obj, sym, { value: true, enumerable: false });
  return obj;
}

function formatDouble(d) {
  if (Number.isNaN(d)) return 'NaN';
  if (d === Infinity) return 'Infinity';
  if (d === -Infinity) return '-Infinity';
  if (Object.is(d, -0)) return '-0.0';
  return d;
}

function TypedDecoder(buf) {
  DecoderV2.call(this, buf);
}
util.inherits(TypedDecoder, DecoderV2);

// hessian.js dispatches every value through `read` (list items, map keys and values, object
// fields); the reader it picks for the byte code tells the Java type.
TypedDecoder.prototype.read = function () {
  const code = this.byteBuffer.get(this.byteBuffer.position());
  const method = this.BYTE_CODES[code];
  const v = DecoderV2.prototype.read.call(this, true);
  switch (method) {
    case 'readNull': return prim({ null: null });
    case 'readBool': return prim({ bool: v.$ });
    case 'readInt': return prim({ int: v });
    case 'readLong': return prim({ long: String(v) });
    case 'readDouble': return prim({ double: formatDouble(v) });
    case 'readDate': {
      const ms = v.getTime();
      if (Number.isNaN(ms)) throw new Error('date outside the JavaScript Date range');
      return prim({ date: ms });
    }
    case 'readString': return prim({ string: v });
    case 'readBytes': return prim({ binary_hex: v.toString('hex') });
    case 'readArray': return Array.isArray(v) ? v : mark(v, TYPED_LIST);
    // readHashMap returns a fresh {$class: 'java.util.HashMap', $: inner} wrapper but registers
    // `inner` for back references, so the mark goes on `inner`.
    case 'readHashMap': mark(v.$, UNTYPED_MAP); return v;
    case 'readMap': return mark(v, TYPED_MAP);
    case 'readObject': return mark(v, OBJECT);
    case 'readRef': return v;
    default: throw new Error('hessian.js has no reader for byte code 0x' + code.toString(16));
  }
};

function toTyped(v, stack) {
  if (v !== null && typeof v === 'object' && v[PRIM]) {
    return v.out;
  }
  if (v === null || typeof v !== 'object') {
    throw new Error('unexpected decoded value ' + JSON.stringify(v));
  }
  if (stack.has(v)) {
    throw new Error('cyclic value graph: the typed notation has no cycles');
  }
  stack.add(v);
  let out;
  const entries = (inner) => Array.from(inner.$map, ([k, x]) => [toTyped(k, stack), toTyped(x, stack)]);
  if (Array.isArray(v)) {
    out = { list: { type: null, items: v.map((x) => toTyped(x, stack)) } };
  } else if (v[TYPED_LIST]) {
    out = { list: { type: v.$class, items: v.$.map((x) => toTyped(x, stack)) } };
  } else if (v[UNTYPED_MAP]) {
    out = { map: { type: null, entries: entries(v) } };
  } else if (v.$ && v.$[UNTYPED_MAP]) {
    out = { map: { type: null, entries: entries(v.$) } };
  } else if (v[TYPED_MAP]) {
    out = { map: { type: v.$class, entries: entries(v.$) } };
  } else if (v[OBJECT]) {
    if (v.$ instanceof Error) {
      throw new Error('hessian.js turned class ' + v.$class + ' into an Error');
    }
    out = { object: { class: v.$class, fields: Object.keys(v.$).map((f) => [f, toTyped(v.$[f], stack)]) } };
  } else {
    throw new Error('unrecognised decoded container ' + util.inspect(v, { depth: 1 }));
  }
  stack.delete(v);
  return out;
}

function decodeHex(hex) {
  const buf = Buffer.from(hex, 'hex');
  if (buf.length === 0) {
    throw new Error('no bytes to decode');
  }
  const decoder = new TypedDecoder(buf);
  const v = decoder.read();
  const used = decoder.byteBuffer.position();
  if (used !== buf.length) {
    throw new Error('value ends at byte ' + used + ' of ' + buf.length);
  }
  return toTyped(v, new Set());
}

// ---------------------------------------------------------------------------------------------

function errorText(e) {
  return (e && e.message) || String(e);
}

function main() {
  const cmd = process.argv[2];
  const input = fs.readFileSync(0, 'utf8');
  const out = [];
  if (cmd === 'encode') {
    for (const c of JSON.parse(input).cases) {
      if (c.skip_js) {
        out.push({ name: c.name, skipped: c.skip_js });
        continue;
      }
      try {
        out.push({ name: c.name, hex: encodeCase(c) });
      } catch (e) {
        out.push({ name: c.name, error: errorText(e) });
      }
    }
  } else if (cmd === 'decode') {
    for (const line of input.split('\n')) {
      if (line.trim() === '') continue;
      const req = JSON.parse(line);
      try {
        out.push({ name: req.name, value: decodeHex(req.hex) });
      } catch (e) {
        out.push({ name: req.name, error: errorText(e) });
      }
    }
  } else {
    process.stderr.write('usage: node oracle.js encode < cases.json | node oracle.js decode < lines.jsonl\n');
    process.exitCode = 2;
    return;
  }
  process.stdout.write(out.map((o) => JSON.stringify(o)).join('\n') + '\n');
}

main();
