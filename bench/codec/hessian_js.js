'use strict';
// hessian.js side of the codec benchmark: the same values as `tlbench codec` (src/main.rs):
// the scenario-1 generic request body ($invoke echo("hello") with its attachments) and a response
// body carrying the 4 KiB POJO as Java objects (Order, Address, Item), encoded and decoded N times.
//
//   node hessian_js.js POJO_JSON [ITERATIONS] [DUMP_DIR]   -> one JSON line
//
// hessian.js is resolved from NODE_PATH (bench/run.sh points it at an installed copy).
const fs = require('fs');
const hessian = require('hessian.js');

const [pojoPath, itersArg, dumpDir] = process.argv.slice(2);
const N = Number(itersArg || 200000);
const pojoJson = JSON.parse(fs.readFileSync(pojoPath, 'utf8'));

function asJava(obj, cls) {
  const fields = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'address') fields[k] = asJava(v, 'org.tianlu.bench.Address');
    else if (k === 'items') fields[k] = v.map((x) => asJava(x, 'org.tianlu.bench.Item'));
    else fields[k] = v;
  }
  return { $class: cls, $: fields };
}
const pojo = asJava(pojoJson, 'org.tianlu.bench.Order');
const service = 'org.tianlu.sample.EchoService';
const descriptor = 'Ljava/lang/String;[Ljava/lang/String;[Ljava/lang/Object;';

const enc = new hessian.EncoderV2({ size: 16384 });

function encodeRequest() {
  enc.reset();
  enc.write('2.0.2');
  enc.write(service);
  enc.writeNull(); // no version
  enc.write('$invoke');
  enc.write(descriptor);
  enc.write('echo');
  enc.write({ $class: '[string', $: ['java.lang.String'] });
  enc.write({ $class: '[object', $: ['hello'] });
  enc.write({ path: service, interface: service, generic: 'true', timeout: '3000' });
  return enc.get();
}

function decodeRequest(buf) {
  const d = new hessian.DecoderV2(buf);
  const out = [];
  for (let i = 0; i < 9; i++) out.push(d.read());
  return out;
}

function encodeResponse() {
  enc.reset();
  enc.write(4); // RESPONSE_VALUE_WITH_ATTACHMENTS
  enc.write(pojo);
  enc.write({});
  return enc.get();
}

function decodeResponse(buf) {
  const d = new hessian.DecoderV2(buf);
  return [d.read(), d.read(), d.read()];
}

function time(f) {
  for (let i = 0; i < N / 10; i++) f();
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) f();
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  return N / s;
}

const reqBytes = Buffer.from(encodeRequest());
const respBytes = Buffer.from(encodeResponse());
// Sanity: the decoded values are what was encoded.
const r = decodeRequest(reqBytes);
if (r[5] !== 'echo' || r[7][0] !== 'hello') throw new Error('request did not round-trip');
const p = decodeResponse(respBytes)[1];
if (p.items.length !== pojoJson.items.length || p.items[3].sku !== pojoJson.items[3].sku) {
  throw new Error('response did not round-trip');
}
if (dumpDir) {
  fs.writeFileSync(dumpDir + '/js-request.bin', reqBytes);
  fs.writeFileSync(dumpDir + '/js-response.bin', respBytes);
}

let sink = 0;
const reqOps = time(() => { sink += decodeRequest(encodeRequest()).length; });
const respOps = time(() => { sink += decodeResponse(encodeResponse()).length; });
console.log(JSON.stringify({
  impl: 'hessian.js ' + require('hessian.js/package.json').version,
  node: process.version,
  iterations: N,
  request_bytes: reqBytes.length,
  response_bytes: respBytes.length,
  request_ops: reqOps,
  response_ops: respOps,
  sink: sink > 0,
}));
