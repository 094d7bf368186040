#!/usr/bin/env node
// Interop test, "http-exporter" round: tracewire's OTLP/HTTP exporter against
// a test receiver written with the JS protobuf libraries.
//
//   node otlp_receiver.mjs <interop_http_peer binary> <workdir>
//
// Starts a node:http server on 127.0.0.1 (port 0) that takes POST
// /v1/traces, /v1/metrics and /v1/logs, undoes Content-Encoding (gzip,
// deflate), and decodes the body with protobufjs code generated from the
// official opentelemetry-proto files (the static module shipped in
// @opentelemetry/otlp-transformer 0.214.0, the last release that carried it;
// package.json pins it as `otlp-proto-generated`, and protobufjs itself),
// or, for application/json, with the same generated code's fromObject after
// the OTLP/JSON hex ids are turned back into bytes. It answers 200 with an
// empty Export*ServiceResponse in the request's encoding.
//
// It then runs the C++ peer (http_peer.cc) three times: http/protobuf
// uncompressed, http/protobuf gzip, http/json. Every run must produce, per
// signal, exactly the document in EXPECTED (below, written by hand from
// http_peer.cc: ids, timestamps, attributes of every type, kinds, status,
// events, links, dropped counts, flags, metric points and buckets, log
// bodies, severities, trace context). Checks, as PASS/FAIL lines:
//   - each request: POST to its signal's path, the Content-Type of the
//     protocol, Content-Encoding as configured, a body that decodes, and (for
//     protobuf) re-encodes to the same bytes (no field unknown to the
//     official schema, nothing written twice, default values not written);
//     for JSON: every key of the request is a field of the schema;
//   - per run and signal: the decoded documents, merged over requests and
//     put in a canonical order (scopes by name, spans by id, metrics by name,
//     points by attributes, log records by time), equal EXPECTED field by
//     field (paths named on a difference); metric timestamps must be set,
//     start <= time, and within the run; they are then masked.
// Writes <workdir>/received.jsonl (every request as decoded) and
// <workdir>/compare-result.json ({passed, failed}).

import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';

const require = createRequire(import.meta.url);
const root = require('otlp-proto-generated/build/src/generated/root.js');
const pb = root.opentelemetry.proto;

const SIGNALS = {
  '/v1/traces': {
    name: 'traces',
    req: pb.collector.trace.v1.ExportTraceServiceRequest,
    resp: pb.collector.trace.v1.ExportTraceServiceResponse,
  },
  '/v1/metrics': {
    name: 'metrics',
    req: pb.collector.metrics.v1.ExportMetricsServiceRequest,
    resp: pb.collector.metrics.v1.ExportMetricsServiceResponse,
  },
  '/v1/logs': {
    name: 'logs',
    req: pb.collector.logs.v1.ExportLogsServiceRequest,
    resp: pb.collector.logs.v1.ExportLogsServiceResponse,
  },
};

const RUNS = [
  { protocol: 'http/protobuf', compression: 'none' },
  { protocol: 'http/protobuf', compression: 'gzip' },
  { protocol: 'http/json', compression: 'none' },
];
const PEER_TIMEOUT_MS = 60000;

let passed = 0;
let failed = 0;
function pass(msg) {
  passed++;
  console.log(`PASS ${msg}`);
}
function fail(msg, details = []) {
  failed++;
  console.log(`FAIL ${msg}`);
  for (const d of details.slice(0, 40)) console.log(`     ${d}`);
  if (details.length > 40) console.log(`     ... ${details.length - 40} more`);
}
function check(ok, msg, details) {
  if (ok) pass(msg);
  else fail(msg, details);
}

// ---------------------------------------------------------------- decoding

// protobufjs message -> plain object in the OTLP/JSON shape: 64-bit integers
// as decimal strings, enums as numbers, bytes as base64 except the ids,
// which are hex (as OTLP/JSON has them); fields absent on the wire absent.
const TO_OBJECT = { longs: String, enums: Number, bytes: String, defaults: false, oneofs: false };
const ID_KEYS = new Set(['traceId', 'spanId', 'parentSpanId']);

function mapIds(v, fn) {
  if (Array.isArray(v)) return v.map((x) => mapIds(x, fn));
  if (v && typeof v === 'object') {
    const out = {};
    for (const [k, x] of Object.entries(v)) {
      out[k] = ID_KEYS.has(k) && typeof x === 'string' ? fn(x) : mapIds(x, fn);
    }
    return out;
  }
  return v;
}
const b64ToHex = (s) => Buffer.from(s, 'base64').toString('hex');
const hexToB64 = (s) => Buffer.from(s, 'hex').toString('base64');

function toPlain(type, msg) {
  return mapIds(type.toObject(msg, TO_OBJECT), b64ToHex);
}

// Every key of an OTLP/JSON document must survive fromObject/toObject: a key
// that is not a field of the schema (a misspelled or snake_case-only name...)
// is dropped by fromObject and reported here.
function lostKeys(orig, back, p, out) {
  if (Array.isArray(orig)) {
    if (!Array.isArray(back)) return void out.push(`${p}: array became ${typeof back}`);
    orig.forEach((x, i) => lostKeys(x, back[i], `${p}[${i}]`, out));
    return;
  }
  if (orig && typeof orig === 'object') {
    if (!back || typeof back !== 'object') return void out.push(`${p}: object lost`);
    for (const k of Object.keys(orig)) {
      if (!(k in back)) out.push(`${p}.${k}: not a field of the official schema (dropped)`);
      else lostKeys(orig[k], back[k], `${p}.${k}`, out);
    }
  }
}

function decodeRequest(sig, contentType, body) {
  if (contentType === 'application/x-protobuf') {
    const msg = sig.req.decode(body);
    const again = Buffer.from(sig.req.encode(msg).finish());
    return { doc: toPlain(sig.req, msg), reencodedSame: again.equals(body), notes: [] };
  }
  if (contentType === 'application/json') {
    const json = JSON.parse(body.toString('utf8'));
    const msg = sig.req.fromObject(mapIds(json, hexToB64));
    const err = sig.req.verify(msg);
    const doc = toPlain(sig.req, msg);
    const notes = [];
    lostKeys(json, doc, '', notes);
    if (err) notes.push(`verify: ${err}`);
    return { doc, reencodedSame: null, notes };
  }
  throw new Error(`unsupported Content-Type ${JSON.stringify(contentType)}`);
}

// ---------------------------------------------------------------- server

function startServer(requests) {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const ct = (req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
      const ce = (req.headers['content-encoding'] || '').trim().toLowerCase();
      const rec = {
        method: req.method,
        path: req.url,
        contentType: ct,
        contentEncoding: ce,
        userAgent: req.headers['user-agent'] || '',
        wireBytes: raw.length,
      };
      requests.push(rec);
      const sig = SIGNALS[req.url];
      if (req.method !== 'POST' || !sig) {
        rec.error = 'not a POST to /v1/{traces,metrics,logs}';
        res.writeHead(404).end();
        return;
      }
      try {
        let body = raw;
        if (ce === 'gzip') body = zlib.gunzipSync(raw);
        else if (ce === 'deflate') body = zlib.inflateSync(raw);
        else if (ce !== '' && ce !== 'identity') throw new Error(`unsupported Content-Encoding ${ce}`);
        rec.bodyBytes = body.length;
        Object.assign(rec, decodeRequest(sig, ct, body));
        rec.signal = sig.name;
      } catch (e) {
        rec.error = String(e && e.stack ? e.stack.split('\n')[0] : e);
        res.writeHead(400, { 'Content-Type': 'text/plain' }).end(rec.error);
        return;
      }
      // An empty Export*ServiceResponse, in the request's encoding.
      if (ct === 'application/json') {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(sig.resp.toObject(sig.resp.create())));
      } else {
        res.writeHead(200, { 'Content-Type': 'application/x-protobuf' }).end(Buffer.from(sig.resp.encode({}).finish()));
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function runPeer(peer, args, logFile) {
  return new Promise((resolve) => {
    const out = fs.openSync(logFile, 'w');
    const child = spawn(peer, args, { stdio: ['ignore', out, out] });
    const timer = setTimeout(() => child.kill('SIGKILL'), PEER_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      fs.closeSync(out);
      resolve({ code: -1, error: String(e) });
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      fs.closeSync(out);
      resolve({ code, signal });
    });
  });
}

// ---------------------------------------------------------------- comparing

function fmt(v) {
  const s = JSON.stringify(v);
  if (s === undefined) return String(v);
  return s.length > 160 ? `${s.slice(0, 157)}...` : s;
}
function typeOf(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}
function elemLabel(v) {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    if (typeof v.key === 'string') return `key=${JSON.stringify(v.key)}`;
    if (typeof v.name === 'string') return `name=${JSON.stringify(v.name)}`;
    if (v.scope && typeof v.scope.name === 'string') return `scope=${JSON.stringify(v.scope.name)}`;
    if (typeof v.timeUnixNano === 'string') return `time=${v.timeUnixNano}`;
  }
  return '';
}
function diff(exp, act, p, out) {
  const te = typeOf(exp);
  const ta = typeOf(act);
  if (te !== ta) return void out.push(`${p}: expected ${te} ${fmt(exp)}, got ${ta} ${fmt(act)}`);
  if (te === 'array') {
    if (exp.length !== act.length) out.push(`${p}: expected ${exp.length} elements, got ${act.length}`);
    const n = Math.min(exp.length, act.length);
    for (let i = 0; i < n; i++) {
      const l = elemLabel(exp[i]);
      diff(exp[i], act[i], `${p}[${i}]${l ? `(${l})` : ''}`, out);
    }
    for (let i = n; i < exp.length; i++) out.push(`${p}[${i}]: missing element ${fmt(exp[i])}`);
    for (let i = n; i < act.length; i++) out.push(`${p}[${i}]: unexpected element ${fmt(act[i])}`);
    return;
  }
  if (te === 'object') {
    for (const k of Object.keys(exp)) {
      if (!(k in act)) out.push(`${p}.${k}: missing field (expected ${fmt(exp[k])})`);
      else diff(exp[k], act[k], `${p}.${k}`, out);
    }
    for (const k of Object.keys(act)) if (!(k in exp)) out.push(`${p}.${k}: unexpected field ${fmt(act[k])}`);
    return;
  }
  if (exp !== act) out.push(`${p}: expected ${fmt(exp)}, got ${fmt(act)}`);
}

const cmpStr = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
const ITEMS = { traces: ['resourceSpans', 'scopeSpans', 'spans'], metrics: ['resourceMetrics', 'scopeMetrics', 'metrics'], logs: ['resourceLogs', 'scopeLogs', 'logRecords'] };

// Merges the requests of one run and signal into one canonical document:
// one resource (all must be equal), scopes merged by name and sorted, items
// sorted (spans by trace and span id, metrics by name, log records by time),
// resource attributes sorted by key.
function canonical(signal, docs, problems) {
  const [rk, sk, ik] = ITEMS[signal];
  let resource;
  let resourceSchema;
  const scopes = new Map();
  for (const d of docs) {
    for (const r of d[rk] || []) {
      const res = r.resource || {};
      if (resource === undefined) {
        resource = res;
        resourceSchema = r.schemaUrl;
      } else if (JSON.stringify(res) !== JSON.stringify(resource) || r.schemaUrl !== resourceSchema) {
        problems.push(`${rk}: two different resources in one run: ${fmt(resource)} and ${fmt(res)}`);
      }
      for (const s of r[sk] || []) {
        const key = JSON.stringify([s.scope, s.schemaUrl]);
        if (!scopes.has(key)) scopes.set(key, { ...s, [ik]: [] });
        scopes.get(key)[ik].push(...(s[ik] || []));
      }
    }
  }
  const sortKey = {
    traces: (x) => `${x.traceId}/${x.spanId}`,
    metrics: (x) => x.name,
    logs: (x) => x.timeUnixNano || '',
  }[signal];
  const scopeList = [...scopes.values()].sort((a, b) => cmpStr((a.scope || {}).name || '', (b.scope || {}).name || ''));
  for (const s of scopeList) s[ik].sort((a, b) => cmpStr(sortKey(a), sortKey(b)));
  const out = { resource: { ...(resource || {}) } };
  if (out.resource.attributes) out.resource.attributes = [...out.resource.attributes].sort((a, b) => cmpStr(a.key, b.key));
  if (resourceSchema !== undefined) out.schemaUrl = resourceSchema;
  out[sk] = scopeList;
  return out;
}

const POINT_KINDS = ['sum', 'gauge', 'histogram', 'exponentialHistogram', 'summary'];

// Metric points: sorted by attributes; their clock timestamps must be set,
// start <= time, within [t0, t1]; then replaced by "<start>"/"<time>".
function maskMetricTimes(doc, t0, t1, problems) {
  for (const s of doc.scopeMetrics || []) {
    for (const m of s.metrics || []) {
      for (const kind of POINT_KINDS) {
        if (!m[kind]) continue;
        const pts = m[kind].dataPoints || [];
        pts.sort((a, b) => cmpStr(JSON.stringify(a.attributes || []), JSON.stringify(b.attributes || [])));
        pts.forEach((pt, i) => {
          const where = `metric ${m.name} point ${i}`;
          const time = BigInt(pt.timeUnixNano || '0');
          if (time < t0 || time > t1) problems.push(`${where}: timeUnixNano ${pt.timeUnixNano} outside the run [${t0}, ${t1}]`);
          else pt.timeUnixNano = '<time>';
          // Gauges too: the SDK sets their (optional) start time.
          {
            const start = BigInt(pt.startTimeUnixNano || '0');
            if (start < t0 || start > time) problems.push(`${where}: startTimeUnixNano ${pt.startTimeUnixNano} not in [run start, timeUnixNano]`);
            else pt.startTimeUnixNano = '<start>';
          }
        });
      }
    }
  }
}

// ---------------------------------------------------------------- expected

// Written by hand from http_peer.cc. Attribute helpers:
const str = (key, v) => ({ key, value: { stringValue: v } });
const int = (key, v) => ({ key, value: { intValue: String(v) } });
const dbl = (key, v) => ({ key, value: { doubleValue: v } });
const bool = (key, v) => ({ key, value: { boolValue: v } });
const arr = (...values) => ({ arrayValue: { values } });
const S = (v) => ({ stringValue: v });
const I = (v) => ({ intValue: String(v) });
const D = (v) => ({ doubleValue: v });
const B = (v) => ({ boolValue: v });

const SCHEMA_URL = 'https://opentelemetry.io/schemas/1.26.0';
const T0 = 1700000000123456789n;
const t = (n) => String(T0 + BigInt(n));
const TRACE = (n) => `0af7651916cd43dd8448eb211c8031${n}`;
const SPAN = (n) => `00f067aa0ba902${n}`;
// RemoteContext(seed) of http_peer.cc: trace id bytes seed..seed+15, span id e0..e7.
const remoteTrace = (seed) => Array.from({ length: 16 }, (_, i) => (seed + i).toString(16).padStart(2, '0')).join('');
const REMOTE_SPAN = 'e0e1e2e3e4e5e6e7';
const BYTES_B64 = Buffer.from([0xfb, 0xff, 0xbf, 0x00, 0x01]).toString('base64'); // "+/+/AAE="
// Span flags: W3C flags (sampled = 1) | HAS_IS_REMOTE (0x100) | IS_REMOTE (0x200).
const LOCAL = 0x101;
const REMOTE = 0x301;
// Links are made with SpanLink{..., flags = 0}: W3C flags 0, and the SDK adds
// HAS_IS_REMOTE (is-remote not set).
const LINK = 0x100;

function resourceOf(run, signal) {
  return {
    resource: {
      attributes: [
        str('interop.run', run),
        str('interop.signal', signal),
        str('service.name', 'tracewire-http-peer'),
        str('telemetry.sdk.language', 'cpp'),
        str('telemetry.sdk.name', 'tracewire'),
        str('telemetry.sdk.version', '<version>'),
      ],
    },
    schemaUrl: SCHEMA_URL,
  };
}

function expectedTraces(run) {
  const server = {
    traceId: TRACE('01'),
    spanId: SPAN('01'),
    flags: LOCAL,
    name: 'interop.server',
    kind: 2,
    startTimeUnixNano: t(0),
    endTimeUnixNano: t(1000000000),
    attributes: [
      str('attr.string', 'value'),
      int('attr.int', 42),
      str('attr.string_empty', ''),
      str('attr.unicode', 'héllo ✓ 日本'),
      str('attr.escapes', 'quote" backslash\\ nl\n tab\t nul-free'),
      bool('attr.bool_true', true),
      bool('attr.bool_false', false),
      int('attr.int_zero', 0),
      int('attr.int_negative', -42),
      int('attr.int_big', 2n ** 60n),
      int('attr.int_min', -(2n ** 63n)),
      dbl('attr.double', 3.14),
      dbl('attr.double_tiny', 5e-324),
      dbl('attr.double_huge', 1.7976931348623157e308),
      dbl('attr.double_negative', -0.5),
      { key: 'attr.strings', value: arr(S('a'), S('b'), S('')) },
      { key: 'attr.ints', value: arr(I(1), I(2), I(2n ** 60n)) },
      { key: 'attr.doubles', value: arr(D(1.5), D(-2.25)) },
      { key: 'attr.bools', value: arr(B(true), B(false)) },
      { key: 'attr.mixed', value: arr(S('s'), I(1), D(2.5), B(true), {}) },
      { key: 'attr.empty_array', value: { arrayValue: {} } },
      { key: 'attr.bytes', value: { bytesValue: BYTES_B64 } },
      {
        key: 'attr.kvlist',
        value: { kvlistValue: { values: [str('k', 'v'), { key: 'n', value: { kvlistValue: { values: [int('i', 1)] } } }] } },
      },
    ],
    events: [
      { timeUnixNano: t(10), name: 'event.with_attributes', attributes: [str('event.attr', 'x'), int('event.int', 7)] },
      { timeUnixNano: t(20), name: 'event.plain' },
      {
        timeUnixNano: '<exception time>',
        name: 'exception',
        // attributes_per_event is 2: exception.stacktrace is dropped.
        attributes: [str('exception.type', 'InteropError'), str('exception.message', 'boom')],
        droppedAttributesCount: 1,
      },
    ],
    status: { message: 'something failed', code: 2 },
  };
  const client = {
    traceId: TRACE('01'),
    spanId: SPAN('02'),
    parentSpanId: SPAN('01'),
    flags: LOCAL,
    name: 'interop.client',
    kind: 3,
    startTimeUnixNano: t(100),
    endTimeUnixNano: t(900),
    attributes: [str('http.request.method', 'GET')],
    links: [
      { traceId: remoteTrace(0x10), spanId: REMOTE_SPAN, traceState: 'vendor=value,other=1', attributes: [str('link.attr', 'l'), int('link.int', 3)], flags: LINK },
      { traceId: remoteTrace(0x20), spanId: REMOTE_SPAN, flags: LINK },
    ],
    status: { code: 1 },
  };
  const internal = {
    traceId: TRACE('02'),
    spanId: SPAN('03'),
    flags: LOCAL,
    name: 'interop.internal',
    kind: 1,
    startTimeUnixNano: t(2000),
    endTimeUnixNano: t(3000),
  };
  const producer = {
    traceId: remoteTrace(0x30),
    spanId: SPAN('04'),
    traceState: 'rojo=00f067aa0ba902b7',
    parentSpanId: REMOTE_SPAN,
    flags: REMOTE,
    name: 'interop.producer',
    kind: 4,
    startTimeUnixNano: t(4000),
    endTimeUnixNano: t(5000),
  };
  const consumer = {
    traceId: TRACE('03'),
    spanId: SPAN('05'),
    flags: LOCAL,
    name: 'interop.consumer.limits',
    kind: 5,
    startTimeUnixNano: t(6000),
    endTimeUnixNano: t(7000),
    attributes: Array.from({ length: 40 }, (_, i) => int(`limit.attr.${i}`, i)),
    droppedAttributesCount: 3,
    events: [
      { timeUnixNano: t(6001), name: 'limit.event.0', attributes: [int('e.a', 1), int('e.b', 2)], droppedAttributesCount: 1 },
      { timeUnixNano: t(6002), name: 'limit.event.1' },
      { timeUnixNano: t(6003), name: 'limit.event.2' },
      { timeUnixNano: t(6004), name: 'limit.event.3' },
    ],
    droppedEventsCount: 2,
    links: [
      { traceId: remoteTrace(0x40), spanId: REMOTE_SPAN, attributes: [int('l.a', 1), int('l.b', 2)], droppedAttributesCount: 1, flags: LINK },
      { traceId: remoteTrace(0x50), spanId: REMOTE_SPAN, flags: LINK },
    ],
    droppedLinksCount: 1,
  };
  const byId = (a, b) => cmpStr(`${a.traceId}/${a.spanId}`, `${b.traceId}/${b.spanId}`);
  return {
    ...resourceOf(run, 'traces'),
    scopeSpans: [
      {
        scope: { name: 'interop-http-tracer', version: '1.2.3', attributes: [str('scope.attr', 'scope-value')] },
        spans: [server, client, internal].sort(byId),
        schemaUrl: SCHEMA_URL,
      },
      { scope: { name: 'interop-http-tracer-2' }, spans: [producer, consumer].sort(byId) },
    ],
  };
}

function expectedMetrics(run) {
  const pt = (extra) => ({ startTimeUnixNano: '<start>', timeUnixNano: '<time>', ...extra });
  const cumulativeSum = (dataPoints, isMonotonic) => ({
    sum: { dataPoints, aggregationTemporality: 2, ...(isMonotonic ? { isMonotonic: true } : {}) },
  });
  const metrics = [
    { name: 'interop.big', ...cumulativeSum([pt({ asInt: String(2n ** 60n) })], true) },
    { name: 'interop.bytes', description: 'Bytes processed', unit: 'By', ...cumulativeSum([pt({ asDouble: 1.75 })], true) },
    {
      name: 'interop.expo',
      description: 'Exponential',
      unit: 's',
      // 1, 2, 4 and a zero; max_size 4 buckets: scale 1 (base sqrt 2)
      // puts 1 in index -1 ((0.707, 1]), 2 in 1 and 4 in 3: offset -1, 5 buckets > 4,
      // so scale 0 (base 2): 1 -> index -1, 2 -> 0, 4 -> 1: offset -1, [1, 1, 1].
      exponentialHistogram: {
        dataPoints: [
          // scale 0 is proto3's default (not on the wire); no negative buckets.
          pt({ count: '4', sum: 7, zeroCount: '1', positive: { offset: -1, bucketCounts: ['1', '1', '1'] }, min: 0, max: 4 }),
        ],
        aggregationTemporality: 2,
      },
    },
    {
      name: 'interop.latency',
      description: 'Latency',
      unit: 'ms',
      histogram: {
        dataPoints: [
          pt({
            attributes: [str('route', '/a')],
            count: '6',
            sum: 1290.5,
            bucketCounts: ['1', '1', '1', '0', '1', '2'],
            explicitBounds: [0, 5, 10, 25.5, 100],
            min: 0,
            max: 1000,
          }),
        ],
        aggregationTemporality: 2,
      },
    },
    {
      name: 'interop.queue.depth',
      description: 'Queue depth',
      unit: '{item}',
      ...cumulativeSum([pt({ attributes: [str('queue', 'q1')], asInt: '-5' })], false),
    },
    {
      name: 'interop.requests',
      description: 'Number of requests',
      unit: '{request}',
      ...cumulativeSum(
        [
          // The SDK sorts a point's attributes by key; points are sorted by attributes.
          pt({ attributes: [int('http.status_code', 200), str('route', '/b')], asInt: '7' }),
          pt({ attributes: [str('route', '/a')], asInt: '8' }),
        ],
        true,
      ),
    },
    {
      name: 'interop.temperature',
      description: 'Temperature',
      unit: 'Cel',
      gauge: { dataPoints: [pt({ attributes: [str('sensor', 'a')], asDouble: -3.75 })] },
    },
    {
      name: 'interop.threads',
      gauge: {
        dataPoints: [
          pt({ asInt: '12' }),
          pt({ attributes: [str('pool', 'idle')], asInt: '0' }),
        ],
      },
    },
  ];
  return {
    ...resourceOf(run, 'metrics'),
    scopeMetrics: [{ scope: { name: 'interop-http-meter', version: '0.3.0' }, metrics, schemaUrl: SCHEMA_URL }],
  };
}

function expectedLogs(run) {
  const at = (n) => String(1700000010000000000n + BigInt(n));
  return {
    ...resourceOf(run, 'logs'),
    scopeLogs: [
      {
        scope: { name: 'interop-http-logger', version: '0.2.0', attributes: [int('scope.int', 7)] },
        logRecords: [
          {
            timeUnixNano: at(1),
            observedTimeUnixNano: at(2),
            severityNumber: 9,
            severityText: 'INFO',
            body: S('hello from tracewire'),
            attributes: [str('log.string', 'v'), int('log.int', 12), dbl('log.double', 1.5), bool('log.bool', false), { key: 'log.array', value: arr(S('p'), S('q')) }],
          },
          {
            timeUnixNano: at(3),
            observedTimeUnixNano: at(4),
            severityNumber: 17,
            severityText: 'ERROR',
            body: {
              kvlistValue: {
                values: [
                  str('message', 'structured'),
                  int('code', 500),
                  {
                    key: 'nested',
                    value: { kvlistValue: { values: [{ key: 'list', value: arr(S('a'), I(1), D(2.5), B(true)) }, { key: 'empty_map', value: { kvlistValue: {} } }] } },
                  },
                  { key: 'raw', value: { bytesValue: BYTES_B64 } },
                ],
              },
            },
            attributes: [{ key: 'log.bytes', value: { bytesValue: BYTES_B64 } }],
            flags: 1,
            traceId: remoteTrace(0x70),
            spanId: REMOTE_SPAN,
          },
          {
            timeUnixNano: at(5),
            observedTimeUnixNano: at(6),
            severityNumber: 16,
            severityText: 'WARN4',
            body: { bytesValue: BYTES_B64 },
            eventName: 'interop.log-event',
          },
        ],
        schemaUrl: SCHEMA_URL,
      },
      {
        scope: { name: 'interop-http-logger-2' },
        logRecords: [
          { timeUnixNano: at(7), observedTimeUnixNano: at(8), severityNumber: 21, body: I(-123) },
          { timeUnixNano: at(9), observedTimeUnixNano: at(10), body: D(6.02e23) },
          {
            timeUnixNano: at(11),
            observedTimeUnixNano: at(12),
            body: arr(S('list'), S('body'), I(3)),
            attributes: [str('exception.type', 'InteropError')],
          },
          { timeUnixNano: at(13), observedTimeUnixNano: at(14), severityNumber: 5, severityText: 'DEBUG', attributes: [str('log.only', 'attributes')] },
        ],
      },
    ],
  };
}

const EXPECTED = { traces: expectedTraces, metrics: expectedMetrics, logs: expectedLogs };

// Values only the running SDK knows: its version; the exception event's time
// (RecordException stamps "now"), which must lie within the run.
function maskRuntimeValues(signal, doc, t0, t1, problems) {
  for (const a of (doc.resource && doc.resource.attributes) || []) {
    if (a.key === 'telemetry.sdk.version') {
      const v = a.value && a.value.stringValue;
      if (typeof v === 'string' && /^\d+\.\d+\.\d+/.test(v)) a.value.stringValue = '<version>';
      else problems.push(`resource telemetry.sdk.version ${fmt(a.value)} is not a version`);
    }
  }
  if (signal === 'traces') {
    for (const s of doc.scopeSpans || []) {
      for (const sp of s.spans || []) {
        for (const e of sp.events || []) {
          if (e.name !== 'exception') continue;
          const time = BigInt(e.timeUnixNano || '0');
          if (time < t0 || time > t1) problems.push(`span ${sp.name}: exception event time ${e.timeUnixNano} outside the run`);
          else e.timeUnixNano = '<exception time>';
        }
      }
    }
  }
  if (signal === 'metrics') maskMetricTimes(doc, t0, t1, problems);
}

// ---------------------------------------------------------------- main

async function main() {
  const [peer, work] = process.argv.slice(2);
  if (!peer || !work) {
    console.error('usage: node otlp_receiver.mjs <interop_http_peer> <workdir>');
    process.exit(2);
  }
  fs.mkdirSync(work, { recursive: true });
  const requests = [];
  const server = await startServer(requests);
  const port = server.address().port;
  console.log(`     test receiver (protobufjs, official OTLP protos) on http://127.0.0.1:${port}`);
  const runs = [];
  for (const run of RUNS) {
    const label = `${run.protocol}+${run.compression}`;
    const first = requests.length;
    const t0 = BigInt(Date.now() - 1000) * 1000000n;
    const r = await runPeer(peer, [`http://127.0.0.1:${port}`, run.protocol, run.compression], path.join(work, `peer-${label.replace('/', '-')}.log`));
    const t1 = BigInt(Date.now() + 1000) * 1000000n;
    const log = fs.readFileSync(path.join(work, `peer-${label.replace('/', '-')}.log`), 'utf8').trim();
    if (log) console.log(log.split('\n').map((l) => `     ${l}`).join('\n'));
    check(r.code === 0, `http-exporter ${label}: interop_http_peer exported traces, metrics and logs (exit ${r.code}${r.signal ? `, ${r.signal}` : ''}${r.error ? `, ${r.error}` : ''})`);
    runs.push({ ...run, label, t0, t1, requests: requests.slice(first) });
  }
  await new Promise((resolve) => server.close(resolve));
  fs.writeFileSync(path.join(work, 'received.jsonl'), requests.map((r) => JSON.stringify(r)).join('\n') + '\n');

  for (const run of runs) {
    const { label } = run;
    const wantCt = run.protocol === 'http/json' ? 'application/json' : 'application/x-protobuf';
    const wantCe = run.compression === 'none' ? '' : run.compression;
    // Per request.
    const bad = [];
    for (const [i, r] of run.requests.entries()) {
      const where = `request ${i} (${r.method} ${r.path})`;
      if (r.method !== 'POST' || !SIGNALS[r.path]) bad.push(`${where}: not a POST to /v1/{traces,metrics,logs}`);
      if (r.contentType !== wantCt) bad.push(`${where}: Content-Type ${fmt(r.contentType)}, want ${wantCt}`);
      if (r.contentEncoding !== wantCe) bad.push(`${where}: Content-Encoding ${fmt(r.contentEncoding)}, want ${fmt(wantCe)}`);
      if (!/tracewire/i.test(r.userAgent)) bad.push(`${where}: User-Agent ${fmt(r.userAgent)} does not name tracewire`);
      if (r.error) bad.push(`${where}: ${r.error}`);
      if (r.reencodedSame === false) bad.push(`${where}: the decoded message re-encodes to other bytes than were sent (a field unknown to the official schema, a repeated scalar, or a default value written)`);
      for (const n of r.notes || []) bad.push(`${where}: ${n}`);
    }
    const counts = { traces: 0, metrics: 0, logs: 0 };
    for (const r of run.requests) if (r.signal) counts[r.signal]++;
    check(
      bad.length === 0 && run.requests.length > 0,
      `http-exporter ${label}: ${run.requests.length} request(s) (traces ${counts.traces}, metrics ${counts.metrics}, logs ${counts.logs}): POST /v1/<signal>, Content-Type ${wantCt}, Content-Encoding ${wantCe || 'none'}, decoded by the official schema${run.protocol === 'http/json' ? ' (every key a schema field)' : ', re-encoded byte for byte'}`,
      bad,
    );
    if (wantCe) {
      const ratios = run.requests.filter((r) => r.bodyBytes).map((r) => `${r.signal} ${r.wireBytes}/${r.bodyBytes}`);
      console.log(`     info: ${label}: compressed/uncompressed bytes: ${ratios.join(', ')}`);
    }
    // Per signal: the merged document against EXPECTED.
    // Traces and logs: all requests merged (a batch may be split). Metrics:
    // each request (ForceFlush, then Shutdown: two cumulative collections of
    // the same values) on its own.
    for (const signal of ['traces', 'metrics', 'logs']) {
      const docs = run.requests.filter((r) => r.signal === signal && r.doc).map((r) => r.doc);
      const want = signal === 'metrics' ? 2 : 1;
      if (signal === 'metrics' ? docs.length !== want : docs.length < want) {
        fail(`http-exporter ${label}: ${signal}: ${docs.length} request(s) decoded, want ${signal === 'metrics' ? '' : 'at least '}${want}`);
        continue;
      }
      const groups = signal === 'metrics' ? docs.map((d) => [d]) : [docs];
      groups.forEach((group, i) => {
        const problems = [];
        const got = canonical(signal, group, problems);
        maskRuntimeValues(signal, got, run.t0, run.t1, problems);
        diff(EXPECTED[signal](label), got, signal, problems);
        const what = signal === 'metrics' ? `metrics (request ${i + 1} of ${groups.length})` : signal;
        check(problems.length === 0, `http-exporter ${label}: ${what}: what the JS side decoded equals what interop_http_peer sent, field by field`, problems);
      });
    }
  }
  fs.writeFileSync(path.join(work, 'compare-result.json'), JSON.stringify({ passed, failed }));
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
