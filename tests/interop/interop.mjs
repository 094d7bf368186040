#!/usr/bin/env node
// Interop test: the official OpenTelemetry JS SDK (OTLP/gRPC and OTLP/HTTP
// exporters) against tracewired's file sink.
//
//   node interop.mjs send    <endpoint host:port> <mode> <workdir> [<ca.pem> <token>]
//        mode: plain|gzip|tls (OTLP/gRPC; endpoint = the gRPC port) or
//              http-proto|http-json|http-tls (OTLP/HTTP; endpoint = the OTLP/HTTP port)
//   node interop.mjs compare <file-sink dir> <workdir>
//   node interop.mjs shape   <JS file-sink dir> <C++ file-sink dir> <workdir>
//
// "send" emits traces, metrics and logs through the JS SDK with the mode's
// OTLP exporters (SEND_MODES). Every exporter is wrapped in a recording "tee" exporter, so the
// exact batches handed to the OTLP exporters are known; each batch is turned
// into the OTLP/JSON document (proto3 JSON mapping, as the OTLP spec defines
// it) that the daemon must write for it. The result is <workdir>/sent.json.
// In-memory exporters (second processor) cross-check that the tee saw every
// span/log record.
//
// "compare" reads sent.json and DIR/{traces,metrics,logs}.jsonl, matches every
// expected request with one line of the file and compares them field by field
// (every field, every type, 64-bit integers as strings, ids as hex, bytes as
// base64, proto3 defaults omitted). It also runs spot checks against
// hard-coded values, so a bug shared by this script's JSON mapping and the
// daemon cannot go unnoticed. It prints "PASS ..."/"FAIL ..." lines and a
// summary and writes <workdir>/compare-result.json ({passed, failed}).
//
// "shape" compares the metrics and logs a daemon wrote for the JS SDK (a
// plain round's sink) with what one wrote for tracewire's C++ SDK emitting
// the same instruments and records (interop_shape_peer): not values, but
// names, data types, temporality, buckets, value types and field types.
// Same PASS/FAIL output and compare-result.json.

import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);

// ---------------------------------------------------------------------------
// Generic helpers
// ---------------------------------------------------------------------------

function die(msg) {
  console.error(`interop.mjs: ${msg}`);
  process.exit(2);
}

function hrToNanos(hr) {
  return BigInt(Math.trunc(hr[0])) * 1000000000n + BigInt(Math.trunc(hr[1]));
}

// fixed64/uint64 timestamps: proto3 JSON prints 64-bit ints as decimal
// strings and omits the field when it is 0.
function setNanos(obj, key, hr) {
  const n = hrToNanos(hr);
  if (n !== 0n) obj[key] = n.toString();
}

// proto3 JSON for a double: a number, or "NaN"/"Infinity"/"-Infinity".
function jsonDouble(v) {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

function base64(u8) {
  return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength).toString('base64');
}

// ---------------------------------------------------------------------------
// SDK objects -> OTLP/JSON (what the protobuf bytes the JS SDK put on the wire
// look like once printed with the proto3 JSON mapping). Field presence mirrors
// @opentelemetry/otlp-transformer's protobuf serializer: scalar fields with
// default values are omitted, message fields that are written are present
// (even if empty), oneof members and proto3 `optional` fields are present
// when set, even with a default value.
// ---------------------------------------------------------------------------

const MIN_INT64 = -(2 ** 63);
const MAX_INT64_EXCL = 2 ** 63;

function anyValueJson(v) {
  const t = typeof v;
  if (t === 'string') return { stringValue: v };
  if (t === 'boolean') return { boolValue: v };
  if (t === 'number') {
    if (Number.isInteger(v) && v >= MIN_INT64 && v < MAX_INT64_EXCL) {
      return { intValue: BigInt(v).toString() };
    }
    return { doubleValue: jsonDouble(v) };
  }
  if (v instanceof Uint8Array) return { bytesValue: base64(v) };
  if (Array.isArray(v)) {
    const arr = {};
    if (v.length > 0) arr.values = v.map(anyValueJson);
    return { arrayValue: arr };
  }
  if (t === 'object' && v !== null) {
    const kv = {};
    const values = attributesJson(v);
    if (values.length > 0) kv.values = values;
    return { kvlistValue: kv };
  }
  return {}; // null / undefined: an empty AnyValue
}

function keyValueJson(key, value) {
  const kv = {};
  if (key !== '') kv.key = key;
  kv.value = anyValueJson(value); // KeyValue.value is always written
  return kv;
}

function attributesJson(attrs) {
  const out = [];
  if (!attrs) return out;
  for (const key in attrs) {
    if (!Object.prototype.hasOwnProperty.call(attrs, key)) continue;
    out.push(keyValueJson(key, attrs[key]));
  }
  return out;
}

function putAttributes(obj, attrs) {
  const a = attributesJson(attrs);
  if (a.length > 0) obj.attributes = a;
}

function putUint(obj, key, n) {
  if (n) obj[key] = n;
}

function putString(obj, key, s) {
  if (s) obj[key] = s;
}

function resourceJson(resource) {
  const r = {};
  putAttributes(r, resource.attributes);
  // dropped_attributes_count is always 0 in the JS serializer
  return r;
}

function scopeJson(scope) {
  const s = {};
  putString(s, 'name', scope.name);
  putString(s, 'version', scope.version);
  if (scope.attributes) putAttributes(s, scope.attributes);
  putUint(s, 'droppedAttributesCount', scope.droppedAttributesCount);
  return s;
}

const SPAN_FLAGS_HAS_IS_REMOTE = 0x100;
const SPAN_FLAGS_IS_REMOTE = 0x200;
function spanFlags(traceFlags, isRemote) {
  let f = (traceFlags & 0xff) | SPAN_FLAGS_HAS_IS_REMOTE;
  if (isRemote) f |= SPAN_FLAGS_IS_REMOTE;
  return f;
}

// Group items by resource object, then by scope object (first-seen order),
// like the JS protobuf serializers do.
function groupByResourceAndScope(items) {
  const byResource = new Map();
  for (const item of items) {
    let scopes = byResource.get(item.resource);
    if (!scopes) {
      scopes = new Map();
      byResource.set(item.resource, scopes);
    }
    let list = scopes.get(item.instrumentationScope);
    if (!list) {
      list = [];
      scopes.set(item.instrumentationScope, list);
    }
    list.push(item);
  }
  return byResource;
}

function spanJson(span) {
  const ctx = span.spanContext();
  const s = {};
  s.traceId = ctx.traceId;
  s.spanId = ctx.spanId;
  putString(s, 'traceState', ctx.traceState?.serialize());
  if (span.parentSpanContext?.spanId) s.parentSpanId = span.parentSpanContext.spanId;
  putString(s, 'name', span.name);
  const kind = span.kind == null ? 0 : span.kind + 1; // API SpanKind is 0-based
  putUint(s, 'kind', kind);
  setNanos(s, 'startTimeUnixNano', span.startTime);
  setNanos(s, 'endTimeUnixNano', span.endTime);
  putAttributes(s, span.attributes);
  putUint(s, 'droppedAttributesCount', span.droppedAttributesCount);
  if (span.events.length > 0) {
    s.events = span.events.map((ev) => {
      const e = {};
      setNanos(e, 'timeUnixNano', ev.time);
      putString(e, 'name', ev.name);
      putAttributes(e, ev.attributes);
      putUint(e, 'droppedAttributesCount', ev.droppedAttributesCount);
      return e;
    });
  }
  putUint(s, 'droppedEventsCount', span.droppedEventsCount);
  if (span.links.length > 0) {
    s.links = span.links.map((link) => {
      const l = {};
      l.traceId = link.context.traceId;
      l.spanId = link.context.spanId;
      putString(l, 'traceState', link.context.traceState?.serialize());
      putAttributes(l, link.attributes);
      putUint(l, 'droppedAttributesCount', link.droppedAttributesCount);
      putUint(l, 'flags', spanFlags(link.context.traceFlags, link.context.isRemote));
      return l;
    });
  }
  putUint(s, 'droppedLinksCount', span.droppedLinksCount);
  const st = {}; // Span.status is always written
  putString(st, 'message', span.status.message);
  putUint(st, 'code', span.status.code);
  s.status = st;
  putUint(s, 'flags', spanFlags(ctx.traceFlags, span.parentSpanContext?.isRemote));
  return s;
}

function traceRequestJson(spans) {
  const resourceSpans = [];
  for (const [resource, scopes] of groupByResourceAndScope(spans)) {
    const rs = { resource: resourceJson(resource) };
    const scopeSpans = [];
    for (const [scope, list] of scopes) {
      const ss = { scope: scopeJson(scope) };
      if (list.length > 0) ss.spans = list.map(spanJson);
      putString(ss, 'schemaUrl', scope.schemaUrl);
      scopeSpans.push(ss);
    }
    if (scopeSpans.length > 0) rs.scopeSpans = scopeSpans;
    putString(rs, 'schemaUrl', resource.schemaUrl);
    resourceSpans.push(rs);
  }
  const req = {};
  if (resourceSpans.length > 0) req.resourceSpans = resourceSpans;
  return req;
}

function logRecordJson(rec) {
  const l = {};
  setNanos(l, 'timeUnixNano', rec.hrTime);
  putUint(l, 'severityNumber', rec.severityNumber);
  putString(l, 'severityText', rec.severityText);
  if (rec.body !== undefined) l.body = anyValueJson(rec.body);
  putAttributes(l, rec.attributes);
  putUint(l, 'droppedAttributesCount', rec.droppedAttributesCount);
  putUint(l, 'flags', rec.spanContext?.traceFlags);
  putString(l, 'traceId', rec.spanContext?.traceId);
  putString(l, 'spanId', rec.spanContext?.spanId);
  setNanos(l, 'observedTimeUnixNano', rec.hrTimeObserved);
  putString(l, 'eventName', rec.eventName);
  return l;
}

function logsRequestJson(records) {
  const resourceLogs = [];
  for (const [resource, scopes] of groupByResourceAndScope(records)) {
    const rl = { resource: resourceJson(resource) };
    const scopeLogs = [];
    for (const [scope, list] of scopes) {
      const sl = { scope: scopeJson(scope) };
      if (list.length > 0) sl.logRecords = list.map(logRecordJson);
      putString(sl, 'schemaUrl', scope.schemaUrl);
      scopeLogs.push(sl);
    }
    if (scopeLogs.length > 0) rl.scopeLogs = scopeLogs;
    putString(rl, 'schemaUrl', resource.schemaUrl);
    resourceLogs.push(rl);
  }
  const req = {};
  if (resourceLogs.length > 0) req.resourceLogs = resourceLogs;
  return req;
}

function metricsRequestJson(resourceMetrics, sdkMetrics) {
  const { DataPointType, AggregationTemporality } = sdkMetrics;
  const { ValueType } = require('@opentelemetry/api');
  const temporality = (t) =>
    t === AggregationTemporality.DELTA ? 1 : t === AggregationTemporality.CUMULATIVE ? 2 : 0;

  const numberPoint = (dp, valueType) => {
    const p = {};
    setNanos(p, 'startTimeUnixNano', dp.startTime);
    setNanos(p, 'timeUnixNano', dp.endTime);
    if (valueType === ValueType.INT) p.asInt = BigInt(Math.trunc(dp.value)).toString();
    else p.asDouble = jsonDouble(dp.value);
    putAttributes(p, dp.attributes);
    return p;
  };
  const histogramPoint = (dp) => {
    const h = dp.value;
    const p = {};
    setNanos(p, 'startTimeUnixNano', dp.startTime);
    setNanos(p, 'timeUnixNano', dp.endTime);
    if (h.count) p.count = BigInt(h.count).toString();
    if (h.sum !== undefined) p.sum = jsonDouble(h.sum); // optional double
    if (h.buckets.counts.length > 0) p.bucketCounts = h.buckets.counts.map((c) => BigInt(c).toString());
    if (h.buckets.boundaries.length > 0) p.explicitBounds = h.buckets.boundaries.map(jsonDouble);
    putAttributes(p, dp.attributes);
    if (h.min !== undefined) p.min = jsonDouble(h.min); // optional double
    if (h.max !== undefined) p.max = jsonDouble(h.max); // optional double
    return p;
  };
  const metricJson = (m) => {
    const out = {};
    putString(out, 'name', m.descriptor.name);
    putString(out, 'description', m.descriptor.description);
    putString(out, 'unit', m.descriptor.unit);
    const points = (fn) => (m.dataPoints.length > 0 ? { dataPoints: m.dataPoints.map(fn) } : {});
    switch (m.dataPointType) {
      case DataPointType.GAUGE:
        out.gauge = points((dp) => numberPoint(dp, m.descriptor.valueType));
        break;
      case DataPointType.SUM: {
        const s = points((dp) => numberPoint(dp, m.descriptor.valueType));
        putUint(s, 'aggregationTemporality', temporality(m.aggregationTemporality));
        if (m.isMonotonic) s.isMonotonic = true;
        out.sum = s;
        break;
      }
      case DataPointType.HISTOGRAM: {
        const s = points(histogramPoint);
        putUint(s, 'aggregationTemporality', temporality(m.aggregationTemporality));
        out.histogram = s;
        break;
      }
      default:
        throw new Error(`metric ${m.descriptor.name}: data point type ${m.dataPointType} not modelled by this test`);
    }
    return out;
  };

  const rm = { resource: resourceJson(resourceMetrics.resource) };
  const scopeMetrics = resourceMetrics.scopeMetrics.map((sm) => {
    const o = { scope: scopeJson(sm.scope) };
    if (sm.metrics.length > 0) o.metrics = sm.metrics.map(metricJson);
    putString(o, 'schemaUrl', sm.scope.schemaUrl);
    return o;
  });
  if (scopeMetrics.length > 0) rm.scopeMetrics = scopeMetrics;
  putString(rm, 'schemaUrl', resourceMetrics.resource.schemaUrl);
  return { resourceMetrics: [rm] };
}

// ---------------------------------------------------------------------------
// Test data constants (shared by send and the compare spot checks)
// ---------------------------------------------------------------------------

const SERVICE_NAME = 'tracewire-interop-js';
const TRACER_NAME = 'interop-tracer';
const TRACER_VERSION = '0.1.0';
const SCHEMA_URL = 'https://opentelemetry.io/schemas/1.26.0';
const REMOTE_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const REMOTE_SPAN_ID = '00f067aa0ba902b7';
const REMOTE_TRACE_STATE = 'vendor=value,other=x';
const ERROR_MESSAGE = 'boom: "quoted" \\ back\\slash\nnew line\ttab \u0001 ctl ünïcödé 🚀 </script>';
const UNICODE_STRING = 'ünïcödé ✓ 🚀 \u2028 "q" \\ /';
const BIG_INT = 2 ** 60; // exact in a double, beyond 2^53
const BYTES = new Uint8Array([0xfb, 0xff, 0xbf, 0x00, 0x01]); // base64 "+/+/AAE="
const BYTES_B64 = '+/+/AAE=';
const SEV_ERROR = 17;
const SEV_INFO = 9;
const SEV_WARN = 13;

function hr(sec, nsec) {
  return [sec, nsec];
}

// ---------------------------------------------------------------------------
// send mode
// ---------------------------------------------------------------------------

// Transparent TCP relay 127.0.0.1:<random> -> target that parses the
// client->server HTTP/2 (h2c) DATA frames into gRPC length-prefixed messages
// and counts their compressed flag.
async function startGrpcTap(target) {
  const net = await import('node:net');
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';
  const stats = { messages: 0, compressed: 0, uncompressed: 0, flags: [], errors: [] };
  const sockets = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, host);
    sockets.add(client);
    sockets.add(upstream);
    const kill = () => { client.destroy(); upstream.destroy(); };
    client.on('error', kill);
    upstream.on('error', kill);
    client.on('close', () => { sockets.delete(client); upstream.end(); });
    upstream.on('close', () => { sockets.delete(upstream); client.end(); });
    client.pipe(upstream);
    upstream.pipe(client);
    let buf = Buffer.alloc(0);
    let preface = false;
    const streams = new Map();
    client.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (!preface) {
        if (buf.length < 24) return;
        if (buf.subarray(0, 24).toString('latin1') !== PREFACE) stats.errors.push('client did not start with the HTTP/2 preface');
        buf = buf.subarray(24);
        preface = true;
      }
      while (buf.length >= 9) {
        const len = buf.readUIntBE(0, 3);
        if (buf.length < 9 + len) break;
        const type = buf[3];
        const flags = buf[4];
        const sid = buf.readUInt32BE(5) & 0x7fffffff;
        let payload = buf.subarray(9, 9 + len);
        buf = buf.subarray(9 + len);
        if (type !== 0) continue; // DATA frames only
        if (flags & 0x8) payload = payload.subarray(1, payload.length - payload[0]); // PADDED
        let s = Buffer.concat([streams.get(sid) ?? Buffer.alloc(0), payload]);
        while (s.length >= 5) {
          const mlen = s.readUInt32BE(1);
          if (s.length < 5 + mlen) break;
          stats.messages++;
          stats.flags.push(s[0] & 1);
          if (s[0] & 1) stats.compressed++;
          else stats.uncompressed++;
          s = s.subarray(5 + mlen);
        }
        streams.set(sid, s);
      }
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    endpoint: `127.0.0.1:${server.address().port}`,
    stats,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

// Recording HTTP relay 127.0.0.1:<random> -> target (plain HTTP only): every
// request is buffered, recorded (method, path, Content-Type, Content-Encoding,
// body size, the response's status and Content-Type) and forwarded unchanged.
async function startHttpTap(target) {
  const http = await import('node:http');
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const stats = { requests: [], errors: [] };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const rec = {
        method: req.method,
        path: req.url,
        contentType: req.headers['content-type'] ?? '',
        contentEncoding: req.headers['content-encoding'] ?? '',
        bytes: body.length,
        status: 0,
        responseType: '',
      };
      stats.requests.push(rec);
      const up = http.request({ host, port, method: req.method, path: req.url, headers: { ...req.headers, host: target } }, (ur) => {
        rec.status = ur.statusCode;
        rec.responseType = ur.headers['content-type'] ?? '';
        res.writeHead(ur.statusCode, ur.headers);
        if (ur.statusCode !== 200) { // keep the error for the report
          const parts = [];
          ur.on('data', (c) => parts.push(c));
          ur.on('end', () => { rec.error = Buffer.concat(parts).toString('latin1').slice(0, 400); });
        }
        ur.pipe(res);
      });
      up.on('error', (e) => {
        stats.errors.push(`${req.method} ${req.url}: ${e.message}`);
        res.destroy();
      });
      up.end(body);
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    endpoint: `127.0.0.1:${server.address().port}`,
    stats,
    close: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}

// Send modes: which transport and exporter family carries the telemetry.
// The emitted telemetry, the tees, sent.json and compare are the same for all.
const SEND_MODES = {
  plain: { family: 'grpc' },
  gzip: { family: 'grpc', gzip: true },
  tls: { family: 'grpc', tls: true },
  'http-proto': { family: 'proto' },                 // OTLP/HTTP, binary protobuf
  'http-json': { family: 'http', gzip: true },       // OTLP/HTTP, OTLP/JSON, gzip
  'http-tls': { family: 'proto', tls: true },        // OTLP/HTTP protobuf over https, bearer token
};
const EXPORTER_PACKAGES = {
  grpc: ['trace-otlp-grpc', 'metrics-otlp-grpc', 'logs-otlp-grpc'],
  proto: ['trace-otlp-proto', 'metrics-otlp-proto', 'logs-otlp-proto'],
  http: ['trace-otlp-http', 'metrics-otlp-http', 'logs-otlp-http'],
};

async function send(argv) {
  const [endpoint, mode, workdir, caPath, token] = argv;
  const modes = Object.keys(SEND_MODES).join('|');
  if (!endpoint || !mode || !workdir) die(`usage: send <host:port> <${modes}> <workdir> [<ca.pem> <token>]`);
  if (!Object.hasOwn(SEND_MODES, mode)) die(`unknown mode ${mode} (want ${modes})`);
  const { family, gzip = false, tls = false } = SEND_MODES[mode];
  const httpFamily = family !== 'grpc';
  // The JS SDK's OTLP/JSON encoder (exporter-*-otlp-http) has bugs the
  // protobuf encoders do not have; see JSON_QUIRKS and the README.
  const jsonMode = family === 'http';
  if (tls && (!caPath || !token)) die(`${mode} mode needs <ca.pem> <token>`);
  if (!/^127\.0\.0\.1:\d+$/.test(endpoint) && !/^localhost:\d+$/.test(endpoint)) {
    die(`endpoint must be a loopback host:port, got ${endpoint}`);
  }

  const watchdog = setTimeout(() => {
    console.error('interop.mjs send: timed out after 120 s');
    process.exit(3);
  }, 120000);
  watchdog.unref();

  const grpc = require('@grpc/grpc-js');
  const api = require('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
  const { resourceFromAttributes } = require('@opentelemetry/resources');
  const traceSdk = require('@opentelemetry/sdk-trace-base');
  const sdkMetrics = require('@opentelemetry/sdk-metrics');
  const logsSdk = require('@opentelemetry/sdk-logs');
  const [tracePkg, metricsPkg, logsPkg] = EXPORTER_PACKAGES[family].map((p) => `@opentelemetry/exporter-${p}`);
  const { OTLPTraceExporter } = require(tracePkg);
  const { OTLPMetricExporter } = require(metricsPkg);
  const { OTLPLogExporter } = require(logsPkg);
  const { ExportResultCode } = require('@opentelemetry/core');

  // SDK diagnostics, one short line each (export errors are also reported
  // through the tee exporters).
  const diagLine = (level) => (msg, ...args) => {
    const rest = args.map((a) => (a instanceof Error || a?.message ? a.message : typeof a === 'string' ? a : JSON.stringify(a)));
    let m = msg;
    try {
      if (typeof msg === 'string' && msg.startsWith('{')) m = JSON.parse(msg).message ?? msg;
    } catch {
      // not JSON: keep as is
    }
    console.error(`otel ${level}: ${[m, ...rest].join(' ').slice(0, 300)}`);
  };
  const noop = () => {};
  api.diag.setLogger({ error: diagLine('error'), warn: diagLine('warn'), info: noop, debug: noop, verbose: noop }, api.DiagLogLevel.WARN);
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

  const ca = tls ? fs.readFileSync(caPath) : null;
  // Without TLS the exporters talk to the daemon through a loopback tap: for
  // gRPC a transparent TCP relay that reads the gRPC message framing, so the
  // test can prove that requests really were (gzip) / were not (plain)
  // compressed on the wire; for OTLP/HTTP a recording HTTP relay (path,
  // Content-Type, Content-Encoding, response status and Content-Type).
  const tap = tls ? null : httpFamily ? await startHttpTap(endpoint) : await startGrpcTap(endpoint);
  const target = tap ? tap.endpoint : endpoint;
  const exporterConfig = (authToken, useTls = tls, signal = 'traces') => {
    if (httpFamily) {
      return {
        url: `${useTls ? 'https' : 'http'}://${useTls ? endpoint : target}/v1/${signal}`,
        headers: authToken !== undefined ? { authorization: `Bearer ${authToken}` } : {},
        compression: gzip ? 'gzip' : 'none',
        timeoutMillis: 10000,
        ...(useTls ? { httpAgentOptions: { ca } } : {}),
      };
    }
    const md = new grpc.Metadata();
    if (authToken !== undefined) md.set('authorization', `Bearer ${authToken}`);
    return {
      url: `${useTls ? 'https' : 'http'}://${useTls ? endpoint : target}`,
      credentials: useTls ? grpc.credentials.createSsl(ca) : grpc.credentials.createInsecure(),
      metadata: md,
      compression: gzip ? 'gzip' : 'none',
      timeoutMillis: 10000,
    };
  };
  const cfg = (signal) => exporterConfig(tls ? token : undefined, tls, signal);

  const problems = [];
  const transportChecks = [];
  // A failed flush must not stop the run: record it and carry on, so that
  // sent.json is still written and compare shows what did (not) arrive.
  const step = async (name, fn) => {
    try {
      await fn();
    } catch (e) {
      problems.push(`${name} failed: ${e?.message ?? e}`);
    }
  };

  // Tee exporters: record every batch given to the OTLP exporter and its
  // result. Requests are sent strictly one after the other; sendOrder keeps
  // the order (the tap sees the messages in the same order).
  const sendOrder = [];
  let teeIds = 0;
  const teeSignals = [];
  class TeeSpanExporter {
    constructor(inner, signal) { this.inner = inner; this.batches = []; this.id = teeIds++; teeSignals[this.id] = signal; }
    export(spans, cb) {
      const rec = { items: spans.slice(), result: null };
      sendOrder.push(this.id);
      this.batches.push(rec);
      this.inner.export(spans, (res) => { rec.result = res; cb(res); });
    }
    shutdown() { return this.inner.shutdown(); }
    forceFlush() { return this.inner.forceFlush ? this.inner.forceFlush() : Promise.resolve(); }
  }
  class TeeLogExporter extends TeeSpanExporter {}
  class TeeMetricExporter {
    constructor(inner) { this.inner = inner; this.batches = []; this.id = teeIds++; teeSignals[this.id] = 'metrics'; }
    export(rm, cb) {
      const rec = { items: rm, result: null };
      sendOrder.push(this.id);
      this.batches.push(rec);
      this.inner.export(rm, (res) => { rec.result = res; cb(res); });
    }
    selectAggregationTemporality(t) { return this.inner.selectAggregationTemporality(t); }
    selectAggregation(t) { return this.inner.selectAggregation(t); }
    shutdown() { return this.inner.shutdown(); }
    forceFlush() { return this.inner.forceFlush(); }
  }

  const resourceBase = {
    'service.name': SERVICE_NAME,
    'service.version': '1.2.3',
    'interop.mode': mode,
    'interop.pid': process.pid,
    'interop.flag': true,
    'interop.ratio': 0.75,
    'interop.tags': ['a', 'b'],
  };

  // ---- transportChecks checks (tls/http-tls only): wrong / missing bearer token, plaintext ----
  if (tls) {
    const scratch = new traceSdk.InMemorySpanExporter();
    const scratchProvider = new traceSdk.BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': SERVICE_NAME }),
      spanProcessors: [new traceSdk.SimpleSpanProcessor(scratch)],
    });
    scratchProvider.getTracer('interop-rejected').startSpan('interop.rejected-span').end();
    const rejectedSpans = scratch.getFinishedSpans();
    const attempt = (name, config, wantCode) =>
      new Promise((resolve) => {
        const ex = new OTLPTraceExporter(config);
        ex.export(rejectedSpans, async (res) => {
          await ex.shutdown().catch(() => {});
          const code = res.error?.code;
          const ok = res.code === ExportResultCode.FAILED && (wantCode === undefined || code === wantCode);
          transportChecks.push({
            name,
            ok,
            detail: `result=${res.code === ExportResultCode.SUCCESS ? 'SUCCESS' : 'FAILED'} ${httpFamily ? 'http_status' : 'grpc_code'}=${code} ${res.error?.message ?? ''}`.trim(),
          });
          resolve();
        });
      });
    const [UNAUTHENTICATED, refused] = httpFamily ? [401, '401 Unauthorized'] : [grpc.status.UNAUTHENTICATED, 'UNAUTHENTICATED'];
    const where = httpFamily ? 'header' : 'metadata';
    await attempt(`${mode}: export with a wrong bearer token is rejected with ${refused}`,
      exporterConfig(`${token}-wrong`), UNAUTHENTICATED);
    await attempt(`${mode}: export without authorization ${where} is rejected with ${refused}`,
      exporterConfig(undefined), UNAUTHENTICATED);
    const plainCfg = exporterConfig(token, false);
    // The OTLP/HTTP exporters retry a reset connection (1 s backoff +-20%) until
    // the timeout: 700 ms allows the one attempt and no retry.
    plainCfg.timeoutMillis = httpFamily ? 700 : 5000;
    await attempt(`${mode}: plaintext (non-TLS) export to the TLS listener fails`, plainCfg, undefined);
    await scratchProvider.shutdown();
  }

  // ---- JSON_QUIRKS (b) (http-json only): the JS SDK's OTLP/JSON encoder writes
  // an integral double outside the int64 range as {"intValue": 1.7976931348623157e+308};
  // that is not an int64, and the daemon must refuse the request (400) and write nothing.
  if (jsonMode) {
    const probe = new traceSdk.InMemorySpanExporter();
    const probeProvider = new traceSdk.BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': SERVICE_NAME }),
      spanProcessors: [new traceSdk.SimpleSpanProcessor(probe)],
    });
    probeProvider.getTracer('interop-json-quirk').startSpan('interop.json-quirk', { attributes: { 'attr.double_huge': 1.7976931348623157e308 } }).end();
    const ex = new OTLPTraceExporter({ ...cfg('traces'), url: `http://${endpoint}/v1/traces` });
    const res = await new Promise((resolve) => ex.export(probe.getFinishedSpans(), resolve));
    await ex.shutdown().catch(() => {});
    await probeProvider.shutdown();
    const body = String(res.error?.data ?? '');
    transportChecks.push({
      name: `${mode}: the JS SDK's {"intValue": 1.7976931348623157e+308} (an integral double beyond int64) is refused with 400`,
      ok: res.code === ExportResultCode.FAILED && res.error?.code === 400 && /int_value/.test(body),
      detail: `result=${res.code === ExportResultCode.SUCCESS ? 'SUCCESS' : 'FAILED'} http_status=${res.error?.code} ${body}`.trim(),
    });
  }

  // ---------------------------------------------------------------- traces
  const spanTee = new TeeSpanExporter(new OTLPTraceExporter(cfg('traces')), 'traces');
  const spanMem = new traceSdk.InMemorySpanExporter();
  const tracerProvider = new traceSdk.BasicTracerProvider({
    resource: resourceFromAttributes({ ...resourceBase, 'interop.signal': 'traces' }, { schemaUrl: SCHEMA_URL }),
    spanLimits: {
      attributeCountLimit: 32,
      eventCountLimit: 8,
      linkCountLimit: 4,
      attributePerEventCountLimit: 4,
      attributePerLinkCountLimit: 4,
    },
    spanProcessors: [
      new traceSdk.BatchSpanProcessor(spanTee, { scheduledDelayMillis: 3600000, maxExportBatchSize: 1000, maxQueueSize: 2000 }),
      new traceSdk.SimpleSpanProcessor(spanMem),
    ],
  });
  const tracer = tracerProvider.getTracer(TRACER_NAME, TRACER_VERSION, { schemaUrl: SCHEMA_URL });
  const tracer2 = tracerProvider.getTracer('interop-tracer-noversion');
  const { SpanKind, SpanStatusCode, ROOT_CONTEXT } = api;

  const allTypes = {
    'attr.string': 'hello',
    'attr.string_empty': '',
    'attr.string_unicode': UNICODE_STRING,
    'attr.bool_true': true,
    'attr.bool_false': false,
    'attr.int': 42,
    'attr.int_zero': 0,
    'attr.int_negative': -7,
    'attr.int_big': BIG_INT,
    'attr.int_max_safe': Number.MAX_SAFE_INTEGER,
    'attr.int_min_safe': Number.MIN_SAFE_INTEGER,
    'attr.double': 3.25,
    'attr.double_negative': -0.5,
    'attr.double_tiny': 5e-324,
    // JSON_QUIRKS (b): not sent in http-json (the JS SDK writes it as an invalid intValue)
    ...(jsonMode ? {} : { 'attr.double_huge': 1.7976931348623157e308 }),
    'attr.double_inexact': 0.1 + 0.2,
    'attr.string_array': ['a', 'b', ''],
    'attr.int_array': [1, -2, 3],
    'attr.double_array': [1.5, -2.25],
    'attr.mixed_number_array': [1, 2.5],
    'attr.bool_array': [true, false],
    'attr.empty_array': [],
    'attr.array_with_null': ['x', null, 'z'],
  };

  const server = tracer.startSpan('interop.server', {
    kind: SpanKind.SERVER,
    startTime: hr(1700000000, 123456789),
    attributes: allTypes,
  });
  server.addEvent('interop.event.request-received', { 'event.string': 'v', 'event.int': 1, 'event.double': 2.5, 'event.bool': true }, hr(1700000000, 500000000));
  server.addEvent('interop.event.no-attributes', undefined, hr(1700000000, 600000000));
  server.setStatus({ code: SpanStatusCode.OK });
  const serverCtx = api.trace.setSpan(ROOT_CONTEXT, server);

  const client = tracer.startSpan('interop.client', {
    kind: SpanKind.CLIENT,
    startTime: hr(1700000000, 200000000),
    attributes: { 'peer.service': 'backend', 'net.peer.port': 443 },
  }, serverCtx);
  client.addEvent('exception', { 'exception.type': 'Error', 'exception.message': ERROR_MESSAGE }, hr(1700000000, 300000000));
  client.setStatus({ code: SpanStatusCode.ERROR, message: ERROR_MESSAGE });
  const clientCtx = api.trace.setSpan(ROOT_CONTEXT, client);

  const internal = tracer.startSpan('interop.internal ünïcödé', { kind: SpanKind.INTERNAL, startTime: hr(1700000000, 210000000) }, clientCtx);
  internal.end(hr(1700000000, 220000000));
  client.end(hr(1700000000, 400000000));

  const producer = tracer.startSpan('interop.producer', {
    kind: SpanKind.PRODUCER,
    startTime: hr(1700000000, 700000000),
    links: [{ context: client.spanContext(), attributes: { 'link.reason': 'caused-by', 'link.n': 3 } }],
  }, serverCtx);
  producer.end(hr(1700000000, 710000000));
  server.end(hr(1700000001, 987654321));

  const consumer = tracer.startSpan('interop.consumer', {
    kind: SpanKind.CONSUMER,
    startTime: hr(1700000002, 0),
    links: [{ context: producer.spanContext(), attributes: { 'messaging.operation': 'process', 'link.double': 0.5 } }],
  }, ROOT_CONTEXT); // new trace
  consumer.addLink({ context: server.spanContext() }); // link without attributes, added after start
  consumer.setAttribute('late.attribute', 'set-after-start');
  consumer.end(hr(1700000002, 1000));

  // child of a remote parent: traceState and the IS_REMOTE span flags
  const remoteParent = api.trace.setSpanContext(ROOT_CONTEXT, {
    traceId: REMOTE_TRACE_ID,
    spanId: REMOTE_SPAN_ID,
    traceFlags: api.TraceFlags.SAMPLED,
    isRemote: true,
    traceState: api.createTraceState(REMOTE_TRACE_STATE),
  });
  const remoteChild = tracer.startSpan('interop.remote-child', {
    kind: SpanKind.SERVER,
    startTime: hr(1700000003, 0),
    links: [{ context: api.trace.getSpanContext(remoteParent), attributes: { 'link.remote': true } }],
  }, remoteParent);
  remoteChild.end(hr(1700000003, 5));

  // limits: dropped attributes / events / links counts
  const limits = tracer2.startSpan('interop.limits', { kind: SpanKind.INTERNAL, startTime: hr(1700000004, 0) }, ROOT_CONTEXT);
  for (let i = 0; i < 36; i++) limits.setAttribute(`limit.attr.${String(i).padStart(2, '0')}`, i);
  for (let i = 0; i < 10; i++) {
    limits.addEvent(`limit.event.${i}`, { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 }, hr(1700000004, 1000 + i));
  }
  for (let i = 0; i < 6; i++) {
    limits.addLink({ context: server.spanContext(), attributes: { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 } });
  }
  limits.end(hr(1700000004, 2000000));

  // parent of log records (trace context in logs); real wall-clock times
  let logParentSpan;

  // ------------------------------------------------------------------ logs
  const logTee = new TeeLogExporter(new OTLPLogExporter(cfg('logs')), 'logs');
  const logMem = new logsSdk.InMemoryLogRecordExporter();
  const loggerProvider = new logsSdk.LoggerProvider({
    resource: resourceFromAttributes({ ...resourceBase, 'interop.signal': 'logs' }),
    processors: [
      new logsSdk.BatchLogRecordProcessor({ exporter: logTee, scheduledDelayMillis: 3600000, maxExportBatchSize: 1000, maxQueueSize: 2000 }),
      new logsSdk.SimpleLogRecordProcessor({ exporter: logMem }),
    ],
  });
  const logger = loggerProvider.getLogger('interop-logger', '0.2.0', {
    schemaUrl: SCHEMA_URL,
    attributes: { 'scope.attr': 'scope-value', 'scope.int': 7 },
  });
  const logger2 = loggerProvider.getLogger('interop-logger-2');

  logger.emit({
    timestamp: hr(1700000010, 1),
    observedTimestamp: hr(1700000010, 999999999),
    severityNumber: SEV_INFO,
    severityText: 'INFO',
    body: 'hello from the JS SDK',
    attributes: { 'log.string': 'v', 'log.int': 12, 'log.double': 1.5, 'log.bool': false, 'log.array': ['p', 'q'] },
  });

  tracer.startActiveSpan('interop.log-parent', { kind: SpanKind.INTERNAL }, (span) => {
    logParentSpan = span;
    // implicit context: the active span
    logger.emit({
      timestamp: hr(1700000011, 0),
      observedTimestamp: hr(1700000011, 5),
      severityNumber: SEV_ERROR,
      severityText: 'ERROR',
      body: {
        message: 'structured body',
        code: 500,
        ratio: 0.25,
        ok: false,
        nested: { deep: ['a', 1, 2.5, true, null, { x: 'y' }], empty_map: {}, empty_list: [] },
        raw: BYTES,
      },
      attributes: {
        'log.bytes': BYTES,
        'log.bytes_empty': new Uint8Array(0),
        'log.kvlist': { k1: 'v1', k2: 2, k3: { k4: [true] } },
        'log.null': null,
        'log.heterogeneous': ['s', 1, 1.25, false, BYTES],
      },
    });
    span.end();
  });

  // explicit context argument, bytes body, event name
  logger.emit({
    timestamp: hr(1700000012, 0),
    observedTimestamp: hr(1700000012, 0),
    severityNumber: SEV_WARN,
    severityText: 'WARN',
    body: BYTES,
    context: api.trace.setSpan(ROOT_CONTEXT, client),
    eventName: 'interop.log-event',
  });
  // no body, no severity, only attributes and exception attributes
  logger2.emit({
    timestamp: hr(1700000013, 0),
    observedTimestamp: hr(1700000013, 0),
    exception: Object.assign(new Error(ERROR_MESSAGE), { name: 'InteropError' }),
    attributes: { 'log.only': 'attributes' },
  });
  // numeric bodies
  logger2.emit({ timestamp: hr(1700000014, 0), observedTimestamp: hr(1700000014, 0), body: -123 });
  // JSON_QUIRKS (b): not sent in http-json (the JS SDK writes it as an invalid intValue)
  if (!jsonMode) logger2.emit({ timestamp: hr(1700000015, 0), observedTimestamp: hr(1700000015, 0), body: 6.02e23 + 0.5 });
  logger2.emit({ timestamp: hr(1700000016, 0), observedTimestamp: hr(1700000016, 0), body: ['list', 'body', 3] });

  // A separate provider (one request of its own) for non-finite doubles:
  // proto3 JSON writes them as the strings "NaN", "Infinity", "-Infinity".
  const edgeLogTee = new TeeLogExporter(new OTLPLogExporter(cfg('logs')), 'logs');
  const edgeLoggerProvider = new logsSdk.LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': SERVICE_NAME, 'interop.signal': 'logs-nonfinite' }),
    processors: [new logsSdk.BatchLogRecordProcessor({ exporter: edgeLogTee, scheduledDelayMillis: 3600000 })],
  });
  edgeLoggerProvider.getLogger('interop-logger-nonfinite').emit({
    timestamp: hr(1700000020, 0),
    observedTimestamp: hr(1700000020, 0),
    severityNumber: SEV_INFO,
    body: Infinity,
    attributes: { 'd.nan': NaN, 'd.inf': Infinity, 'd.neginf': -Infinity, 'd.list': [NaN, 1.5] },
  });

  // --------------------------------------------------------------- flushing
  // Everything is sent strictly one request after the other, so the daemon
  // receives the requests in a known order (compare does not rely on it).
  await step('tracerProvider.forceFlush()', () => tracerProvider.forceFlush());
  // second trace request: spans ended after the first flush
  const late = tracer2.startSpan('interop.after-flush', { kind: SpanKind.PRODUCER, attributes: { phase: 2 } }, ROOT_CONTEXT);
  late.end();
  await step('loggerProvider.forceFlush()', () => loggerProvider.forceFlush());
  logger.emit({ severityNumber: SEV_INFO, severityText: 'INFO', body: 'second request' });
  await step('edgeLoggerProvider.shutdown()', () => edgeLoggerProvider.shutdown());

  // ---------------------------------------------------------------- metrics
  const { AggregationTemporality, PeriodicExportingMetricReader, MeterProvider } = sdkMetrics;
  const { ValueType } = api;
  function makeMeterProvider(label, temporality) {
    const tee = new TeeMetricExporter(new OTLPMetricExporter({ ...cfg('metrics'), temporalityPreference: temporality }));
    const reader = new PeriodicExportingMetricReader({ exporter: tee, exportIntervalMillis: 3600000, exportTimeoutMillis: 15000 });
    const provider = new MeterProvider({
      resource: resourceFromAttributes({ ...resourceBase, 'interop.signal': 'metrics', 'interop.temporality': label }),
      readers: [reader],
    });
    const meter = provider.getMeter('interop-meter', '0.3.0', { schemaUrl: SCHEMA_URL });
    const inst = {
      requests: meter.createCounter('interop.requests', { description: 'Number of requests', unit: '{request}', valueType: ValueType.INT }),
      bytes: meter.createCounter('interop.bytes', { description: 'Bytes processed', unit: 'By' }),
      big: meter.createCounter('interop.big', { valueType: ValueType.INT }),
      queue: meter.createUpDownCounter('interop.queue.depth', { description: 'Queue depth', unit: '{item}', valueType: ValueType.INT }),
      balance: meter.createUpDownCounter('interop.balance', { description: 'Balance', unit: '1' }),
      latency: meter.createHistogram('interop.latency', {
        description: 'Latency', unit: 'ms', advice: { explicitBucketBoundaries: [0, 5, 10, 25.5, 100] },
      }),
      single: meter.createHistogram('interop.single_bucket', { unit: 'By', advice: { explicitBucketBoundaries: [] } }),
      gauge: meter.createGauge('interop.sync_gauge', { description: 'Synchronous gauge', valueType: ValueType.INT }),
    };
    meter.createObservableGauge('interop.temperature', { description: 'Temperature', unit: 'Cel' })
      .addCallback((r) => {
        r.observe(21.5, { sensor: 'a' });
        r.observe(-3.75, { sensor: 'b' });
        r.observe(0, { sensor: 'zero' });
      });
    meter.createObservableGauge('interop.threads', { valueType: ValueType.INT })
      .addCallback((r) => {
        r.observe(12);
        r.observe(0, { pool: 'idle' });
      });
    inst.requests.add(5, { route: '/a' });
    inst.requests.add(7, { route: '/b', 'http.status_code': 200 });
    inst.requests.add(3, { route: '/a' });
    inst.bytes.add(0.5);
    inst.bytes.add(1.25);
    inst.big.add(BIG_INT);
    inst.queue.add(10, { queue: 'q1' });
    inst.queue.add(-15, { queue: 'q1' });
    inst.balance.add(-2.5);
    for (const v of [0, 3, 7.5, 30, 250, 1000]) inst.latency.record(v, { route: '/a' });
    inst.latency.record(0, { route: '/zero' });
    inst.single.record(1);
    inst.single.record(2);
    inst.gauge.record(-42, { core: 3 });
    return { provider, reader, tee, inst };
  }
  const cumulative = makeMeterProvider('cumulative', AggregationTemporality.CUMULATIVE);
  const delta = makeMeterProvider('delta', AggregationTemporality.DELTA);
  await step('cumulative.reader.forceFlush()', () => cumulative.reader.forceFlush());
  await step('delta.reader.forceFlush()', () => delta.reader.forceFlush());
  for (const m of [cumulative, delta]) {
    m.inst.requests.add(1, { route: '/a' });
    m.inst.latency.record(12, { route: '/a' });
  }

  // Snapshot the in-memory exporters now: shutdown() clears them.
  const memSpanIds = spanMem.getFinishedSpans().map((s) => s.spanContext().spanId);
  const memLogs = logMem.getFinishedLogRecords().length;

  // shutdown flushes once more (second request per provider)
  await step('tracerProvider.shutdown()', () => tracerProvider.shutdown());
  await step('loggerProvider.shutdown()', () => loggerProvider.shutdown());
  await step('cumulative.provider.shutdown()', () => cumulative.provider.shutdown());
  await step('delta.provider.shutdown()', () => delta.provider.shutdown());

  // ------------------------------------------------------------ bookkeeping
  if (tap && httpFamily) {
    await tap.close();
    const st = tap.stats;
    const requests = sendOrder.length;
    const wantType = family === 'proto' ? 'application/x-protobuf' : 'application/json';
    const wantEncoding = gzip ? 'gzip' : '';
    const media = (t) => t.split(';')[0].trim().toLowerCase();
    const bad = [];
    if (st.requests.length !== requests) bad.push(`tap saw ${st.requests.length} requests, the tees ${requests}`);
    st.requests.forEach((r, i) => {
      const want = `POST /v1/${teeSignals[sendOrder[i]]}`;
      if (`${r.method} ${r.path}` !== want) bad.push(`request #${i + 1}: ${r.method} ${r.path}, want ${want}`);
      if (media(r.contentType) !== wantType) bad.push(`request #${i + 1}: Content-Type "${r.contentType}", want ${wantType}`);
      if (r.contentEncoding !== wantEncoding) bad.push(`request #${i + 1}: Content-Encoding "${r.contentEncoding}", want "${wantEncoding}"`);
      if (r.status !== 200) bad.push(`request #${i + 1}: response status ${r.status}, want 200 (body: ${r.error ?? ''})`);
      if (media(r.responseType) !== wantType) bad.push(`request #${i + 1}: response Content-Type "${r.responseType}", want ${wantType} (the request's)`);
    });
    bad.push(...st.errors);
    transportChecks.push({
      name: `${mode}: all ${requests} export requests were POSTs to /v1/<signal> with Content-Type ${wantType}` +
        `${gzip ? ', Content-Encoding gzip' : ', uncompressed'}, answered 200 with the same Content-Type`,
      ok: bad.length === 0 && requests > 0,
      detail: bad.length ? bad.join('; ') : `tap saw ${st.requests.map((r) => `${r.path} ${r.bytes}B${r.contentEncoding ? ` ${r.contentEncoding}` : ''}`).join(', ')}`,
    });
  } else if (tap) {
    await tap.close();
    const st = tap.stats;
    const requests = sendOrder.length;
    const seen = `tap saw ${st.messages} gRPC messages, compressed flags in send order: [${st.flags.join(',')}]` +
      `${st.errors.length ? `; ${st.errors.join('; ')}` : ''}`;
    const framingOk = st.errors.length === 0 && st.messages === requests;
    if (mode === 'plain') {
      transportChecks.push({
        name: `plain: all ${requests} export requests went over the wire uncompressed (flag 0)`,
        ok: framingOk && st.uncompressed === requests,
        detail: seen,
      });
    } else {
      // grpc-js drops to identity on a channel once a response advertises
      // "grpc-accept-encoding: identity, deflate, gzip" (grpc core's format):
      // it splits on ',' without trimming and does not find "gzip". So only
      // the first request of each exporter is guaranteed to be gzip'ed;
      // later ones are accepted either way (and reported).
      const first = sendOrder.map((id, i) => (sendOrder.indexOf(id) === i ? i : -1)).filter((i) => i >= 0);
      transportChecks.push({
        name: `gzip: the first request of each of the ${first.length} exporters went over the wire gzip-compressed ` +
          `(${st.compressed} of ${requests} requests compressed)`,
        ok: framingOk && first.every((i) => st.flags[i] === 1),
        detail: `${seen}; first request of each exporter at positions [${first.join(',')}]`,
      });
    }
  }

  const out = { mode, traces: [], metrics: [], logs: [], transportChecks, problems, info: {} };
  if (jsonMode) out.quirks = { jsonNumbers: true, omitted: ['attr.double_huge', 'log body 6.02e23'] };
  const checkBatches = (signal, tees, toJson) => {
    for (const tee of tees) {
      for (const b of tee.batches) {
        if (!b.result) problems.push(`${signal}: an export never completed`);
        else if (b.result.code !== ExportResultCode.SUCCESS) {
          problems.push(`${signal}: export failed: ${b.result.error?.message ?? b.result.error}`);
        }
        out[signal].push(toJson(b.items));
      }
    }
  };
  checkBatches('traces', [spanTee], traceRequestJson);
  checkBatches('logs', [logTee, edgeLogTee], logsRequestJson);
  checkBatches('metrics', [cumulative.tee, delta.tee], (rm) => metricsRequestJson(rm, sdkMetrics));

  // cross-check the tee against the in-memory exporters
  const teeSpanIds = new Set(spanTee.batches.flatMap((b) => b.items.map((s) => s.spanContext().spanId)));
  if (memSpanIds.length !== teeSpanIds.size || !memSpanIds.every((id) => teeSpanIds.has(id))) {
    problems.push(`traces: in-memory exporter saw ${memSpanIds.length} spans, OTLP exporter got ${teeSpanIds.size}`);
  }
  const teeLogs = logTee.batches.reduce((n, b) => n + b.items.length, 0);
  if (teeLogs !== memLogs) problems.push(`logs: in-memory exporter saw ${memLogs} records, OTLP exporter got ${teeLogs}`);
  if (spanTee.batches.length !== 2) problems.push(`traces: expected 2 export requests, got ${spanTee.batches.length}`);
  if (logTee.batches.length !== 2) problems.push(`logs: expected 2 export requests, got ${logTee.batches.length}`);
  for (const [label, m] of [['cumulative', cumulative], ['delta', delta]]) {
    if (m.tee.batches.length !== 2) problems.push(`metrics(${label}): expected 2 export requests, got ${m.tee.batches.length}`);
  }

  out.info = {
    logParent: { traceId: logParentSpan.spanContext().traceId, spanId: logParentSpan.spanContext().spanId },
    client: { traceId: client.spanContext().traceId, spanId: client.spanContext().spanId },
    spans: memSpanIds.length,
    logRecords: memLogs,
  };
  fs.writeFileSync(path.join(workdir, 'sent.json'), JSON.stringify(out, null, 1));

  for (const n of transportChecks) console.log(`${n.ok ? 'ok  ' : 'BAD '} ${n.name}: ${n.detail}`);
  for (const p of problems) console.error(`send problem: ${p}`);
  console.log(`send(${mode}): ${out.traces.length} trace, ${out.metrics.length} metrics, ${out.logs.length} logs requests; ` +
    `${memSpanIds.length} spans, ${memLogs + 1} log records`);
  process.exitCode = problems.length > 0 ? 1 : 0;
}

// ---------------------------------------------------------------------------
// compare mode
// ---------------------------------------------------------------------------

function fmt(v) {
  const s = JSON.stringify(v);
  if (s === undefined) return String(v);
  return s.length > 160 ? `${s.slice(0, 157)}...` : s;
}

// A readable label for array elements: spans by name, attributes by key...
function elemLabel(v) {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    if (typeof v.key === 'string') return `key=${JSON.stringify(v.key)}`;
    if (typeof v.name === 'string') return `name=${JSON.stringify(v.name)}`;
    if (v.scope && typeof v.scope.name === 'string') return `scope=${JSON.stringify(v.scope.name)}`;
  }
  return '';
}

function typeOf(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function diff(exp, act, p, out) {
  const te = typeOf(exp);
  const ta = typeOf(act);
  if (te !== ta) {
    out.push(`${p}: expected ${te} ${fmt(exp)}, got ${ta} ${fmt(act)}`);
    return;
  }
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
    for (const k of Object.keys(act)) {
      if (!(k in exp)) out.push(`${p}.${k}: unexpected field ${fmt(act[k])}`);
    }
    return;
  }
  if (exp !== act) out.push(`${p}: expected ${fmt(exp)}, got ${fmt(act)}`);
}

function readJsonl(file) {
  if (!fs.existsSync(file)) return { missing: true, lines: [], errors: [] };
  const text = fs.readFileSync(file, 'utf8');
  const lines = [];
  const errors = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      lines.push({ n: i + 1, doc: JSON.parse(line) });
    } catch (e) {
      errors.push(`${path.basename(file)}:${i + 1}: not valid JSON (${e.message}): ${line.slice(0, 200)}`);
    }
  });
  if (text.length > 0 && !text.endsWith('\n')) errors.push(`${path.basename(file)}: last line is not newline-terminated`);
  return { missing: false, lines, errors };
}

// JSON_QUIRKS: OTLP/JSON as the JS SDK's exporter-*-otlp-http (0.223.0)
// writes it (@opentelemetry/otlp-transformer: JSON.stringify of the object its
// toAnyValue/metrics transformers build with JSON_ENCODER) departs from the
// proto3 JSON mapping that OTLP/JSON uses:
//  (a) int64 values (AnyValue.intValue, NumberDataPoint.asInt) are JSON
//      numbers, not decimal strings; beyond 2^53 the number printed is the
//      double's shortest form (2^60 -> 1152921504606847000), which a receiver
//      reads, exactly, as that integer. Tolerated: the expected value becomes
//      the integer the JSON text says.
//  (b) an integral double outside the int64 range (Number.isInteger(1.79e308)
//      is true) is written as {"intValue": 1.7976931348623157e+308}, which is
//      no int64 (the JS protobuf encoder writes double_value); the receiver
//      refuses the request with 400. Not sent in http-json; `send` probes it
//      once and checks the 400.
//  (c) NaN and +-Infinity become null (JSON.stringify), not "NaN"/"Infinity";
//      null is "not set" in proto3 JSON, so the AnyValue arrives empty.
//      Tolerated: the expected AnyValue is empty.
//  (d) a log record without a body is written with "body": {} (toAnyValue(undefined);
//      the protobuf encoder leaves the field out): the receiver reads a set,
//      empty AnyValue, and the file sink writes "body": {}. Tolerated: the
//      expected record has an empty body.
const TWO_53 = 2n ** 53n;
function applyJsonQuirks(v, tolerated, p = '') {
  if (Array.isArray(v)) return v.map((e, i) => applyJsonQuirks(e, tolerated, `${p}[${i}]`));
  if (v === null || typeof v !== 'object') return v;
  const out = {};
  for (const [k, x] of Object.entries(v)) {
    const q = `${p}.${k}`;
    if ((k === 'intValue' || k === 'asInt') && typeof x === 'string') {
      const b = BigInt(x);
      const sentAs = JSON.stringify(Number(b)); // what JSON.stringify writes for it
      if ((b > TWO_53 || b < -TWO_53) && BigInt(sentAs) !== b) {
        tolerated.push(`(a) ${q.replace(/^\./, '')}: ${x} was sent as the JSON number ${sentAs}`);
        out[k] = BigInt(sentAs).toString();
        continue;
      }
    }
    if (k === 'logRecords' && Array.isArray(x)) {
      out[k] = x.map((r, i) => {
        if (r === null || typeof r !== 'object' || 'body' in r) return applyJsonQuirks(r, tolerated, `${q}[${i}]`);
        tolerated.push(`(d) ${q.replace(/^\./, '')}[${i}].body: a record without a body was sent with "body": {}`);
        return { ...applyJsonQuirks(r, tolerated, `${q}[${i}]`), body: {} };
      });
      continue;
    }
    if (k === 'doubleValue' && ['NaN', 'Infinity', '-Infinity'].includes(x)) {
      tolerated.push(`(c) ${q.replace(/^\./, '')}: ${x} was sent as null`);
      continue;
    }
    out[k] = applyJsonQuirks(x, tolerated, q);
  }
  return out;
}

function compare(argv) {
  const [fileDir, workdir] = argv;
  if (!fileDir || !workdir) die('usage: compare <file-dir> <workdir>');
  const sent = JSON.parse(fs.readFileSync(path.join(workdir, 'sent.json'), 'utf8'));
  let passed = 0;
  let failed = 0;
  const check = (name, ok, details = []) => {
    if (ok) {
      passed++;
      console.log(`PASS ${sent.mode}: ${name}`);
    } else {
      failed++;
      console.log(`FAIL ${sent.mode}: ${name}`);
      const shown = details.slice(0, 40);
      for (const d of shown) console.log(`     ${d}`);
      if (details.length > shown.length) console.log(`     ... ${details.length - shown.length} more`);
    }
  };

  check('send: every OTLP export succeeded and the tee saw all telemetry', sent.problems.length === 0, sent.problems);
  const tolerated = [];
  if (sent.quirks?.jsonNumbers) { // JSON_QUIRKS (a) and (c)
    for (const signal of ['traces', 'metrics', 'logs']) {
      sent[signal] = sent[signal].map((d, i) => {
        const t = [];
        const q = applyJsonQuirks(d, t);
        tolerated.push(...t.map((x) => `${x.slice(0, 3)} ${signal} request #${i + 1}: ${x.slice(4)}`));
        return q;
      });
    }
  }
  for (const n of sent.transportChecks) check(n.name, n.ok, [n.detail]);

  const actual = {};
  for (const [signal, file] of [['traces', 'traces.jsonl'], ['metrics', 'metrics.jsonl'], ['logs', 'logs.jsonl']]) {
    const r = readJsonl(path.join(fileDir, file));
    actual[signal] = r.lines.map((l) => l.doc);
    const probs = [...r.errors];
    if (r.missing) probs.push(`${file} does not exist in ${fileDir}`);
    check(`${signal}: ${file} exists and every line is a JSON document`, probs.length === 0, probs);

    // Match expected requests with lines (order-insensitive), exact equality.
    const exp = sent[signal];
    const act = r.lines;
    const used = new Set();
    const unmatched = [];
    exp.forEach((e, i) => {
      const j = act.findIndex((a, k) => {
        if (used.has(k)) return false;
        const d = [];
        diff(e, a.doc, '', d);
        return d.length === 0;
      });
      if (j >= 0) used.add(j);
      else unmatched.push(i);
    });
    const details = [];
    if (act.length !== exp.length) details.push(`${file}: expected ${exp.length} lines (one per export request), got ${act.length}`);
    for (const i of unmatched) {
      // best candidate: the unused line with the fewest differences
      let best = null;
      act.forEach((a, k) => {
        if (used.has(k)) return;
        const d = [];
        diff(exp[i], a.doc, '', d);
        if (!best || d.length < best.d.length) best = { k, d };
      });
      if (!best) {
        details.push(`request #${i + 1} (${summarize(signal, exp[i])}): no line in ${file}`);
        continue;
      }
      used.add(best.k);
      details.push(`request #${i + 1} (${summarize(signal, exp[i])}) vs ${file}:${act[best.k].n}: ${best.d.length} difference(s):`);
      for (const d of best.d) details.push(`  ${d.replace(/^\./, '')}`);
    }
    act.forEach((a, k) => {
      if (!used.has(k)) details.push(`${file}:${a.n}: unexpected line: ${fmt(a.doc)}`);
    });
    check(`${signal}: ${exp.length} request(s) written field-by-field identical to what the JS SDK sent`, details.length === 0 && exp.length > 0, details);
  }

  spotChecks(sent, actual, check);

  for (const t of tolerated) console.log(`     info: tolerated JS SDK OTLP/JSON quirk ${t}`);
  for (const o of sent.quirks?.omitted ?? []) console.log(`     info: not sent in this mode (JS SDK OTLP/JSON quirk (b)): ${o}`);
  console.log(`compare(${sent.mode}): ${passed} passed, ${failed} failed` +
    `${tolerated.length ? `, ${tolerated.length} tolerated JS SDK OTLP/JSON quirk(s)` : ''}`);
  fs.writeFileSync(path.join(workdir, 'compare-result.json'), JSON.stringify({ passed, failed }));
  process.exitCode = failed > 0 ? 1 : 0;
}

function summarize(signal, req) {
  const key = { traces: 'resourceSpans', metrics: 'resourceMetrics', logs: 'resourceLogs' }[signal];
  const inner = { traces: ['scopeSpans', 'spans'], metrics: ['scopeMetrics', 'metrics'], logs: ['scopeLogs', 'logRecords'] }[signal];
  let n = 0;
  for (const r of req[key] ?? []) for (const s of r[inner[0]] ?? []) n += (s[inner[1]] ?? []).length;
  return `${n} ${inner[1]}`;
}

// ---------------------------------------------------------------------------
// Spot checks: hard-coded expectations on the daemon's output, independent of
// the SDK->JSON mapping above.
// ---------------------------------------------------------------------------

class NotFound extends Error {}

function spotChecks(sent, actual, check) {
  const spans = [];
  for (const req of actual.traces) {
    for (const rs of req.resourceSpans ?? []) {
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) spans.push({ s, scope: ss.scope, scopeSchema: ss.schemaUrl, resource: rs.resource, rsSchema: rs.schemaUrl });
      }
    }
  }
  const span = (name) => spans.find((x) => x.s.name === name);
  const attr = (list, key) => (list ?? []).find((a) => a.key === key)?.value;
  const probs = [];
  const jsonQuirks = !!sent.quirks?.jsonNumbers;
  const omitted = (what) => (sent.quirks?.omitted ?? []).includes(what);
  const expectEq = (what, got, want) => {
    const d = [];
    // JSON_QUIRKS (a), (c): the hard-coded values as the JS SDK's OTLP/JSON carries them
    diff(jsonQuirks ? applyJsonQuirks(want, []) : want, got, what, d);
    probs.push(...d);
  };
  const run = (name, fn) => {
    probs.length = 0;
    try {
      fn();
    } catch (e) {
      probs.push(e instanceof NotFound ? e.message : `exception: ${e.stack}`);
    }
    check(name, probs.length === 0, [...probs]);
  };
  const need = (name) => {
    const x = span(name);
    if (!x) throw new NotFound(`span ${JSON.stringify(name)} not found in traces.jsonl`);
    return x;
  };
  const HEX32 = /^[0-9a-f]{32}$/;
  const HEX16 = /^[0-9a-f]{16}$/;

  run('traces spot check: ids are lowercase hex, kinds 1..5, parent/child links', () => {
    const server = need('interop.server').s;
    const client = need('interop.client').s;
    const internal = need('interop.internal ünïcödé').s;
    const producer = need('interop.producer').s;
    const consumer = need('interop.consumer').s;
    for (const x of spans) {
      if (!HEX32.test(x.s.traceId)) probs.push(`${x.s.name}: traceId ${fmt(x.s.traceId)} is not 32 lowercase hex digits`);
      if (!HEX16.test(x.s.spanId)) probs.push(`${x.s.name}: spanId ${fmt(x.s.spanId)} is not 16 lowercase hex digits`);
      if ('parentSpanId' in x.s && !HEX16.test(x.s.parentSpanId)) probs.push(`${x.s.name}: parentSpanId ${fmt(x.s.parentSpanId)} is not hex`);
    }
    expectEq('server.kind (SERVER)', server.kind, 2);
    expectEq('client.kind (CLIENT)', client.kind, 3);
    expectEq('internal.kind (INTERNAL)', internal.kind, 1);
    expectEq('producer.kind (PRODUCER)', producer.kind, 4);
    expectEq('consumer.kind (CONSUMER)', consumer.kind, 5);
    expectEq('server.parentSpanId', server.parentSpanId, undefined);
    expectEq('client.parentSpanId', client.parentSpanId, server.spanId);
    expectEq('client.traceId', client.traceId, server.traceId);
    expectEq('internal.parentSpanId', internal.parentSpanId, client.spanId);
    expectEq('producer.parentSpanId', producer.parentSpanId, server.spanId);
    if (consumer.traceId === server.traceId) probs.push('consumer should start a new trace');
    expectEq('server.flags', server.flags, 0x101);
  });

  run('traces spot check: timestamps in ns as decimal strings, status OK/ERROR', () => {
    const server = need('interop.server').s;
    const client = need('interop.client').s;
    expectEq('server.startTimeUnixNano', server.startTimeUnixNano, '1700000000123456789');
    expectEq('server.endTimeUnixNano', server.endTimeUnixNano, '1700000001987654321');
    expectEq('server.status', server.status, { code: 1 });
    expectEq('client.status', client.status, { code: 2, message: ERROR_MESSAGE });
    expectEq('consumer.endTimeUnixNano', need('interop.consumer').s.endTimeUnixNano, '1700000002000001000');
  });

  run('traces spot check: attribute value types', () => {
    const a = need('interop.server').s.attributes;
    expectEq('attr.string', attr(a, 'attr.string'), { stringValue: 'hello' });
    expectEq('attr.string_empty', attr(a, 'attr.string_empty'), { stringValue: '' });
    expectEq('attr.string_unicode', attr(a, 'attr.string_unicode'), { stringValue: UNICODE_STRING });
    expectEq('attr.bool_true', attr(a, 'attr.bool_true'), { boolValue: true });
    expectEq('attr.bool_false', attr(a, 'attr.bool_false'), { boolValue: false });
    expectEq('attr.int', attr(a, 'attr.int'), { intValue: '42' });
    expectEq('attr.int_zero', attr(a, 'attr.int_zero'), { intValue: '0' });
    expectEq('attr.int_negative', attr(a, 'attr.int_negative'), { intValue: '-7' });
    expectEq('attr.int_big', attr(a, 'attr.int_big'), { intValue: '1152921504606846976' });
    expectEq('attr.int_max_safe', attr(a, 'attr.int_max_safe'), { intValue: '9007199254740991' });
    expectEq('attr.int_min_safe', attr(a, 'attr.int_min_safe'), { intValue: '-9007199254740991' });
    expectEq('attr.double', attr(a, 'attr.double'), { doubleValue: 3.25 });
    expectEq('attr.double_negative', attr(a, 'attr.double_negative'), { doubleValue: -0.5 });
    expectEq('attr.double_tiny', attr(a, 'attr.double_tiny'), { doubleValue: 5e-324 });
    if (!omitted('attr.double_huge')) expectEq('attr.double_huge', attr(a, 'attr.double_huge'), { doubleValue: 1.7976931348623157e308 });
    expectEq('attr.double_inexact', attr(a, 'attr.double_inexact'), { doubleValue: 0.30000000000000004 });
    expectEq('attr.string_array', attr(a, 'attr.string_array'), { arrayValue: { values: [{ stringValue: 'a' }, { stringValue: 'b' }, { stringValue: '' }] } });
    expectEq('attr.int_array', attr(a, 'attr.int_array'), { arrayValue: { values: [{ intValue: '1' }, { intValue: '-2' }, { intValue: '3' }] } });
    expectEq('attr.double_array', attr(a, 'attr.double_array'), { arrayValue: { values: [{ doubleValue: 1.5 }, { doubleValue: -2.25 }] } });
    expectEq('attr.mixed_number_array', attr(a, 'attr.mixed_number_array'), { arrayValue: { values: [{ intValue: '1' }, { doubleValue: 2.5 }] } });
    expectEq('attr.bool_array', attr(a, 'attr.bool_array'), { arrayValue: { values: [{ boolValue: true }, { boolValue: false }] } });
    expectEq('attr.empty_array', attr(a, 'attr.empty_array'), { arrayValue: {} });
    expectEq('attr.array_with_null', attr(a, 'attr.array_with_null'), { arrayValue: { values: [{ stringValue: 'x' }, {}, { stringValue: 'z' }] } });
  });

  run('traces spot check: events, links, traceState, remote flags, dropped counts', () => {
    const server = need('interop.server').s;
    const client = need('interop.client').s;
    const producer = need('interop.producer').s;
    const consumer = need('interop.consumer').s;
    expectEq('server.events', server.events, [
      {
        timeUnixNano: '1700000000500000000',
        name: 'interop.event.request-received',
        attributes: [
          { key: 'event.string', value: { stringValue: 'v' } },
          { key: 'event.int', value: { intValue: '1' } },
          { key: 'event.double', value: { doubleValue: 2.5 } },
          { key: 'event.bool', value: { boolValue: true } },
        ],
      },
      { timeUnixNano: '1700000000600000000', name: 'interop.event.no-attributes' },
    ]);
    expectEq('producer.links', producer.links, [{
      traceId: client.traceId,
      spanId: client.spanId,
      attributes: [
        { key: 'link.reason', value: { stringValue: 'caused-by' } },
        { key: 'link.n', value: { intValue: '3' } },
      ],
      flags: 0x101,
    }]);
    expectEq('consumer.links[1]', consumer.links?.[1], { traceId: server.traceId, spanId: server.spanId, flags: 0x101 });
    expectEq('consumer.links[0].spanId', consumer.links?.[0]?.spanId, producer.spanId);
    const remote = need('interop.remote-child').s;
    expectEq('remote-child.traceId', remote.traceId, REMOTE_TRACE_ID);
    expectEq('remote-child.parentSpanId', remote.parentSpanId, REMOTE_SPAN_ID);
    expectEq('remote-child.traceState', remote.traceState, REMOTE_TRACE_STATE);
    expectEq('remote-child.flags', remote.flags, 0x301);
    expectEq('remote-child.links[0]', remote.links?.[0], {
      traceId: REMOTE_TRACE_ID, spanId: REMOTE_SPAN_ID, traceState: REMOTE_TRACE_STATE,
      attributes: [{ key: 'link.remote', value: { boolValue: true } }], flags: 0x301,
    });
    const limits = need('interop.limits').s;
    expectEq('limits.droppedAttributesCount', limits.droppedAttributesCount, 4);
    expectEq('limits.droppedEventsCount', limits.droppedEventsCount, 2);
    expectEq('limits.droppedLinksCount', limits.droppedLinksCount, 2);
    expectEq('limits.events[0].droppedAttributesCount', limits.events?.[0]?.droppedAttributesCount, 2);
    expectEq('limits.links[0].droppedAttributesCount', limits.links?.[0]?.droppedAttributesCount, 2);
  });

  run('traces spot check: resource, scope and schemaUrl', () => {
    const x = need('interop.server');
    expectEq('resource service.name', attr(x.resource.attributes, 'service.name'), { stringValue: SERVICE_NAME });
    expectEq('resource interop.mode', attr(x.resource.attributes, 'interop.mode'), { stringValue: sent.mode });
    expectEq('resource interop.ratio', attr(x.resource.attributes, 'interop.ratio'), { doubleValue: 0.75 });
    expectEq('scope', x.scope, { name: TRACER_NAME, version: TRACER_VERSION });
    expectEq('scopeSpans.schemaUrl', x.scopeSchema, SCHEMA_URL);
    expectEq('resourceSpans.schemaUrl', x.rsSchema, SCHEMA_URL);
    expectEq('scope without version', need('interop.limits').scope, { name: 'interop-tracer-noversion' });
    if (spans.some((y) => y.s.name === 'interop.rejected-span')) probs.push('a span sent with a rejected token was written');
  });

  // ---- metrics
  const metrics = [];
  for (const req of actual.metrics) {
    for (const rm of req.resourceMetrics ?? []) {
      const temporality = attr(rm.resource?.attributes, 'interop.temporality')?.stringValue;
      for (const sm of rm.scopeMetrics ?? []) for (const m of sm.metrics ?? []) metrics.push({ m, temporality, scope: sm.scope });
    }
  }
  const metric = (name, temporality) => {
    const x = metrics.find((y) => y.m.name === name && y.temporality === temporality);
    if (!x) throw new NotFound(`metric ${name} (${temporality}) not found in metrics.jsonl`);
    return x.m;
  };
  const point = (points, key, value) => (points ?? []).find((p) => {
    const v = attr(p.attributes, key);
    return value === undefined ? !p.attributes : v && v.stringValue === value;
  });
  run('metrics spot check: counters (monotonic sums), up-down counters, temporality', () => {
    const req = metric('interop.requests', 'cumulative');
    expectEq('requests.description', req.description, 'Number of requests');
    expectEq('requests.unit', req.unit, '{request}');
    expectEq('requests.sum.isMonotonic', req.sum?.isMonotonic, true);
    expectEq('requests.sum.aggregationTemporality', req.sum?.aggregationTemporality, 2);
    expectEq('requests /a asInt', point(req.sum?.dataPoints, 'route', '/a')?.asInt, '8');
    expectEq('requests /b attributes', point(req.sum?.dataPoints, 'route', '/b')?.attributes,
      [{ key: 'route', value: { stringValue: '/b' } }, { key: 'http.status_code', value: { intValue: '200' } }]);
    const d = metric('interop.requests', 'delta');
    expectEq('delta requests.aggregationTemporality', d.sum?.aggregationTemporality, 1);
    expectEq('bytes asDouble', metric('interop.bytes', 'cumulative').sum?.dataPoints?.[0]?.asDouble, 1.75);
    expectEq('big', { asInt: metric('interop.big', 'cumulative').sum?.dataPoints?.[0]?.asInt }, { asInt: '1152921504606846976' });
    const q = metric('interop.queue.depth', 'cumulative');
    expectEq('queue isMonotonic (absent = false)', q.sum?.isMonotonic, undefined);
    expectEq('queue asInt', q.sum?.dataPoints?.[0]?.asInt, '-5');
    expectEq('balance asDouble', metric('interop.balance', 'cumulative').sum?.dataPoints?.[0]?.asDouble, -2.5);
    const p0 = req.sum?.dataPoints?.[0];
    if (!/^[1-9][0-9]{18}$/.test(p0?.timeUnixNano ?? '')) probs.push(`requests timeUnixNano ${fmt(p0?.timeUnixNano)} is not a ns decimal string`);
    if (!/^[1-9][0-9]{18}$/.test(p0?.startTimeUnixNano ?? '')) probs.push(`requests startTimeUnixNano ${fmt(p0?.startTimeUnixNano)} is not a ns decimal string`);
  });
  run('metrics spot check: gauges (zero values are oneof members and must be present)', () => {
    const t = metric('interop.temperature', 'cumulative');
    expectEq('temperature.unit', t.unit, 'Cel');
    expectEq('temperature a', point(t.gauge?.dataPoints, 'sensor', 'a')?.asDouble, 21.5);
    expectEq('temperature b', point(t.gauge?.dataPoints, 'sensor', 'b')?.asDouble, -3.75);
    expectEq('temperature zero', point(t.gauge?.dataPoints, 'sensor', 'zero')?.asDouble, 0);
    const th = metric('interop.threads', 'cumulative');
    expectEq('threads (no attributes)', point(th.gauge?.dataPoints, 'x', undefined)?.asInt, '12');
    expectEq('threads idle', point(th.gauge?.dataPoints, 'pool', 'idle')?.asInt, '0');
    expectEq('sync gauge', metric('interop.sync_gauge', 'cumulative').gauge?.dataPoints?.[0]?.asInt, '-42');
  });
  run('metrics spot check: explicit-bucket histograms', () => {
    const h = metric('interop.latency', 'cumulative');
    expectEq('latency.unit', h.unit, 'ms');
    expectEq('latency.aggregationTemporality', h.histogram?.aggregationTemporality, 2);
    const a = point(h.histogram?.dataPoints, 'route', '/a');
    // the first cumulative request (before the extra 12 ms recording) has count 6
    const first = metrics.find((y) => y.m.name === 'interop.latency' && y.temporality === 'cumulative');
    const a1 = point(first?.m.histogram?.dataPoints, 'route', '/a');
    expectEq('latency /a count', a1?.count, '6');
    expectEq('latency /a sum', a1?.sum, 1290.5);
    expectEq('latency /a min', a1?.min, 0);
    expectEq('latency /a max', a1?.max, 1000);
    expectEq('latency /a explicitBounds', a1?.explicitBounds, [0, 5, 10, 25.5, 100]);
    expectEq('latency /a bucketCounts', a1?.bucketCounts, ['1', '1', '1', '0', '1', '2']);
    if (!a) probs.push('latency /a point missing');
    const z = point(first?.m.histogram?.dataPoints, 'route', '/zero');
    expectEq('latency /zero (optional sum/min/max = 0 present)', z && { count: z.count, sum: z.sum, min: z.min, max: z.max, bucketCounts: z.bucketCounts },
      { count: '1', sum: 0, min: 0, max: 0, bucketCounts: ['1', '0', '0', '0', '0', '0'] });
    const s = metric('interop.single_bucket', 'cumulative').histogram?.dataPoints?.[0];
    expectEq('single bucket', s && { count: s.count, sum: s.sum, bucketCounts: s.bucketCounts, explicitBounds: s.explicitBounds },
      { count: '2', sum: 3, bucketCounts: ['2'], explicitBounds: undefined });
    const d = metric('interop.latency', 'delta');
    expectEq('delta latency.aggregationTemporality', d.histogram?.aggregationTemporality, 1);
    expectEq('metrics scope', metrics[0]?.scope, { name: 'interop-meter', version: '0.3.0' });
  });

  // ---- logs
  const logs = [];
  for (const req of actual.logs) {
    for (const rl of req.resourceLogs ?? []) {
      for (const sl of rl.scopeLogs ?? []) for (const l of sl.logRecords ?? []) logs.push({ l, scope: sl.scope, resource: rl.resource });
    }
  }
  const logAt = (sec) => {
    const want = `${sec}`;
    const x = logs.find((y) => (y.l.timeUnixNano ?? '').startsWith(want));
    if (!x) throw new NotFound(`log record with timestamp ${sec}s not found in logs.jsonl`);
    return x;
  };
  run('logs spot check: string body, severity, attributes, scope attributes', () => {
    const x = logAt(1700000010);
    expectEq('record', x.l, {
      timeUnixNano: '1700000010000000001',
      observedTimeUnixNano: '1700000010999999999',
      severityNumber: SEV_INFO,
      severityText: 'INFO',
      body: { stringValue: 'hello from the JS SDK' },
      attributes: [
        { key: 'log.string', value: { stringValue: 'v' } },
        { key: 'log.int', value: { intValue: '12' } },
        { key: 'log.double', value: { doubleValue: 1.5 } },
        { key: 'log.bool', value: { boolValue: false } },
        { key: 'log.array', value: { arrayValue: { values: [{ stringValue: 'p' }, { stringValue: 'q' }] } } },
      ],
    });
    expectEq('scope', x.scope, {
      name: 'interop-logger',
      version: '0.2.0',
      attributes: [
        { key: 'scope.attr', value: { stringValue: 'scope-value' } },
        { key: 'scope.int', value: { intValue: '7' } },
      ],
    });
    expectEq('resource service.name', attr(x.resource.attributes, 'service.name'), { stringValue: SERVICE_NAME });
  });
  run('logs spot check: kvlist body, bytes as base64, trace context from the active span', () => {
    const x = logAt(1700000011).l;
    expectEq('severityNumber', x.severityNumber, SEV_ERROR);
    expectEq('traceId', x.traceId, sent.info.logParent.traceId);
    expectEq('spanId', x.spanId, sent.info.logParent.spanId);
    expectEq('flags', x.flags, 1);
    const parent = span('interop.log-parent')?.s;
    expectEq('traceId equals the interop.log-parent span in traces.jsonl', x.traceId, parent?.traceId);
    expectEq('body', x.body, {
      kvlistValue: {
        values: [
          { key: 'message', value: { stringValue: 'structured body' } },
          { key: 'code', value: { intValue: '500' } },
          { key: 'ratio', value: { doubleValue: 0.25 } },
          { key: 'ok', value: { boolValue: false } },
          {
            key: 'nested',
            value: {
              kvlistValue: {
                values: [
                  {
                    key: 'deep',
                    value: {
                      arrayValue: {
                        values: [
                          { stringValue: 'a' }, { intValue: '1' }, { doubleValue: 2.5 }, { boolValue: true }, {},
                          { kvlistValue: { values: [{ key: 'x', value: { stringValue: 'y' } }] } },
                        ],
                      },
                    },
                  },
                  { key: 'empty_map', value: { kvlistValue: {} } },
                  { key: 'empty_list', value: { arrayValue: {} } },
                ],
              },
            },
          },
          { key: 'raw', value: { bytesValue: BYTES_B64 } },
        ],
      },
    });
    expectEq('log.bytes', attr(x.attributes, 'log.bytes'), { bytesValue: BYTES_B64 });
    expectEq('log.bytes_empty', attr(x.attributes, 'log.bytes_empty'), { bytesValue: '' });
    expectEq('log.null', attr(x.attributes, 'log.null'), {});
  });
  run('logs spot check: bytes body, explicit context, eventName, exception, numeric bodies', () => {
    const x = logAt(1700000012).l;
    expectEq('bytes body', x.body, { bytesValue: BYTES_B64 });
    expectEq('eventName', x.eventName, 'interop.log-event');
    expectEq('traceId (explicit context)', x.traceId, sent.info.client.traceId);
    expectEq('spanId (explicit context)', x.spanId, sent.info.client.spanId);
    const e = logAt(1700000013);
    expectEq('no body', e.l.body, jsonQuirks ? {} : undefined); // JSON_QUIRKS (d)
    expectEq('no severityNumber', e.l.severityNumber, undefined);
    expectEq('exception.message', attr(e.l.attributes, 'exception.message'), { stringValue: ERROR_MESSAGE });
    expectEq('exception.type', attr(e.l.attributes, 'exception.type'), { stringValue: 'InteropError' });
    expectEq('scope without version', e.scope, { name: 'interop-logger-2' });
    expectEq('int body', logAt(1700000014).l.body, { intValue: '-123' });
    if (!omitted('log body 6.02e23')) expectEq('double body', logAt(1700000015).l.body, { doubleValue: 6.02e23 + 0.5 });
    expectEq('array body', logAt(1700000016).l.body, { arrayValue: { values: [{ stringValue: 'list' }, { stringValue: 'body' }, { intValue: '3' }] } });
  });
  run('logs spot check: non-finite doubles as "NaN"/"Infinity"/"-Infinity"', () => {
    const x = logAt(1700000020).l;
    expectEq('body', x.body, { doubleValue: 'Infinity' });
    expectEq('attributes', x.attributes, [
      { key: 'd.nan', value: { doubleValue: 'NaN' } },
      { key: 'd.inf', value: { doubleValue: 'Infinity' } },
      { key: 'd.neginf', value: { doubleValue: '-Infinity' } },
      { key: 'd.list', value: { arrayValue: { values: [{ doubleValue: 'NaN' }, { doubleValue: 1.5 }] } } },
    ]);
  });
}

// ---------------------------------------------------------------------------
// shape mode: the JS SDK's metrics/logs (a plain round's sink) against
// tracewire's C++ SDK emitting the same instruments and records
// (interop_shape_peer, run.sh's shape round). Values differ; the shape must
// not: per metric and temporality the data type, monotonicity, temporality,
// unit, description, histogram bounds and bucket count, int vs double
// values; per log record the fields present, severity, event name and the
// types of the body and attributes. Resource differences are informative.
// ---------------------------------------------------------------------------

// Differences the OpenTelemetry specification allows either way; each one is
// explained in README.md ("shape round"). Keyed by signal and shape field.
// `applies(js, cpp)` gets the two sides' distinct JSON values of the field.
const SHAPE_TOLERATED = [
  {
    // The JS SDK sets timestamp = now when a record is emitted without one
    // (LogRecordImpl: `timestamp ?? now`); tracewire leaves it unset and sets
    // only observedTimestamp, as the logs data model allows (Timestamp is
    // optional; ObservedTimestamp SHOULD be set to the current time).
    signal: 'logs',
    field: 'fields',
    why: 'Timestamp is optional; JS fills it with the emit time, tracewire leaves it unset and sets only observedTimeUnixNano',
    applies: (js, cpp) => {
      if (js.length !== 1 || cpp.length !== 1) return false;
      const j = JSON.parse(js[0]);
      const c = JSON.parse(cpp[0]);
      return j.includes('timeUnixNano') && !c.includes('timeUnixNano') && c.includes('observedTimeUnixNano') &&
        JSON.stringify(j.filter((k) => k !== 'timeUnixNano')) === JSON.stringify(c);
    },
  },
];

function attrValue(attrs, key) {
  const kv = (attrs ?? []).find((a) => a.key === key);
  return kv ? kv.value : undefined;
}

function sortedKeys(attrs) {
  return (attrs ?? []).map((a) => a.key).sort();
}

// The type tree of an OTLP/JSON AnyValue: 'string', 'int', ..., arrays and
// kvlists with their elements' types.
function anyType(v) {
  if (!v || typeof v !== 'object') return `not an AnyValue: ${fmt(v)}`;
  const keys = Object.keys(v);
  if (keys.length === 0) return 'empty';
  if (keys.length > 1) return `several values: ${keys.join(',')}`;
  const k = keys[0];
  switch (k) {
    case 'stringValue': return 'string';
    case 'boolValue': return 'bool';
    case 'intValue': return 'int';
    case 'doubleValue': return 'double';
    case 'bytesValue': return 'bytes';
    case 'arrayValue': return { array: (v.arrayValue.values ?? []).map(anyType) };
    case 'kvlistValue': return { kvlist: attrTypes(v.kvlistValue.values) };
    default: return `unknown ${k}`;
  }
}

function attrTypes(attrs) {
  const out = {};
  for (const a of [...(attrs ?? [])].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0))) {
    out[a.key ?? ''] = anyType(a.value);
  }
  return out;
}

const METRIC_TYPES = ['sum', 'gauge', 'histogram', 'exponentialHistogram', 'summary'];

// One metric of one request -> its shape (everything but values).
function metricShape(m, sm) {
  const type = METRIC_TYPES.filter((t) => t in m);
  const data = m[type[0]] ?? {};
  const points = data.dataPoints ?? [];
  const s = {
    'data type': type.join('+') || 'none',
    unit: m.unit ?? '',
    description: m.description ?? '',
    scope: { name: sm.scope?.name ?? '', version: sm.scope?.version ?? '', schemaUrl: sm.schemaUrl ?? '' },
  };
  if ('sum' in m) s.isMonotonic = data.isMonotonic === true;
  if ('sum' in m || 'histogram' in m || 'exponentialHistogram' in m) {
    s.aggregationTemporality = data.aggregationTemporality ?? 0;
  }
  const union = (f) => [...new Set(points.flatMap(f))].sort();
  if ('sum' in m || 'gauge' in m) s['value field'] = union((p) => ['asInt', 'asDouble'].filter((k) => k in p));
  if ('histogram' in m) {
    s.explicitBounds = union((p) => [JSON.stringify(p.explicitBounds ?? [])]);
    s['number of bucketCounts'] = union((p) => [(p.bucketCounts ?? []).length]);
  }
  s['data point fields'] = union((p) => Object.keys(p).filter((k) => k !== 'attributes' && k !== 'exemplars'));
  s['data point attribute keys'] = union((p) => [JSON.stringify(sortedKeys(p.attributes))]);
  s['data points present'] = points.length > 0;
  return s;
}

// metrics.jsonl -> { metrics: Map("<temporality> <name>" -> [shape per request]),
//                    resources: Map(temporality -> Set(attribute keys)), requests: Map(temporality -> n) }
function metricShapes(lines) {
  const metrics = new Map();
  const resources = new Map();
  const requests = new Map();
  const perRequest = new Map(); // temporality -> [[metric name, data type], ...] per request, in file order
  for (const { doc } of lines) {
    for (const rm of doc.resourceMetrics ?? []) {
      const label = attrValue(rm.resource?.attributes, 'interop.temporality')?.stringValue ?? '(no interop.temporality)';
      requests.set(label, (requests.get(label) ?? 0) + 1);
      const names = [];
      if (!perRequest.has(label)) perRequest.set(label, []);
      perRequest.get(label).push(names);
      const keys = resources.get(label) ?? new Set();
      for (const k of sortedKeys(rm.resource?.attributes)) keys.add(k);
      resources.set(label, keys);
      for (const sm of rm.scopeMetrics ?? []) {
        for (const m of sm.metrics ?? []) {
          const key = `${label} ${m.name}`;
          if (!metrics.has(key)) metrics.set(key, []);
          metrics.get(key).push(metricShape(m, sm));
          names.push([m.name, METRIC_TYPES.find((t) => t in m)]);
        }
      }
    }
  }
  return { metrics, resources, requests, perRequest };
}

// Merge a metric's per-request shapes: each field -> the distinct values.
function mergeShapes(list) {
  const out = {};
  for (const s of list) {
    for (const [k, v] of Object.entries(s)) {
      const j = JSON.stringify(v);
      out[k] = out[k] ?? [];
      if (!out[k].includes(j)) out[k].push(j);
    }
  }
  for (const k of Object.keys(out)) out[k].sort();
  return out;
}

function logKey(rec) {
  if (rec.body?.stringValue === 'second request') return 'body "second request"';
  return rec.timeUnixNano ? `timeUnixNano ${rec.timeUnixNano}` : `(no timeUnixNano) ${fmt(rec.body)}`;
}

function logShape(rec, sl) {
  return {
    scope: {
      name: sl.scope?.name ?? '',
      'has version': 'version' in (sl.scope ?? {}),
      'attribute types': attrTypes(sl.scope?.attributes),
      'has schemaUrl': 'schemaUrl' in sl,
    },
    fields: Object.keys(rec).sort(),
    severityNumber: rec.severityNumber ?? 0,
    severityText: rec.severityText ?? '',
    eventName: rec.eventName ?? '',
    flags: rec.flags ?? 0,
    body: 'body' in rec ? anyType(rec.body) : '(no body)',
    'attribute types': attrTypes(rec.attributes),
  };
}

function logShapes(lines) {
  const records = new Map();
  const resources = new Set();
  for (const { doc } of lines) {
    for (const rl of doc.resourceLogs ?? []) {
      for (const k of sortedKeys(rl.resource?.attributes)) resources.add(k);
      for (const sl of rl.scopeLogs ?? []) {
        for (const r of sl.logRecords ?? []) {
          const key = logKey(r);
          if (!records.has(key)) records.set(key, []);
          records.get(key).push(logShape(r, sl));
        }
      }
    }
  }
  return { records, resources };
}

function shapeCompare(argv) {
  const [jsDir, cppDir, workdir] = argv;
  if (!jsDir || !cppDir || !workdir) die('usage: shape <js file-sink dir> <cpp file-sink dir> <workdir>');
  let passed = 0;
  let failed = 0;
  const tolerated = [];
  const check = (name, ok, details = []) => {
    if (ok) passed++;
    else failed++;
    console.log(`${ok ? 'PASS' : 'FAIL'} shape: ${name}`);
    if (!ok) for (const d of details.slice(0, 40)) console.log(`     ${d}`);
  };
  const info = (msg) => console.log(`     info: ${msg}`);
  const read = (side, dir, file) => {
    const r = readJsonl(path.join(dir, file));
    const probs = [...r.errors];
    if (r.missing) probs.push(`${file} does not exist in ${dir}`);
    if (!r.missing && r.lines.length === 0) probs.push(`${path.join(dir, file)} is empty`);
    check(`${side}: ${file} exists and holds JSON documents`, probs.length === 0, probs);
    return r.lines;
  };
  // Compare two merged shapes field by field; tolerated differences are
  // reported, not failed.
  const compareShape = (signal, label, js, cpp) => {
    const out = [];
    for (const k of [...new Set([...Object.keys(js), ...Object.keys(cpp)])]) {
      const a = JSON.stringify(js[k] ?? null);
      const b = JSON.stringify(cpp[k] ?? null);
      if (a === b) continue;
      const t = SHAPE_TOLERATED.find((x) => x.signal === signal && x.field === k && x.applies(js[k], cpp[k]));
      const line = `${k}: JS ${(js[k] ?? ['(absent)']).join(' | ')}, C++ ${(cpp[k] ?? ['(absent)']).join(' | ')}`;
      if (t) tolerated.push(`${signal}: ${label}: ${line} (tolerated: ${t.why})`);
      else out.push(line);
    }
    return out;
  };

  // -------------------------------------------------------------- metrics
  const jsM = metricShapes(read('JS (plain round)', jsDir, 'metrics.jsonl'));
  const cppM = metricShapes(read('C++ (interop_shape_peer)', cppDir, 'metrics.jsonl'));
  for (const label of ['cumulative', 'delta']) {
    const nj = jsM.requests.get(label) ?? 0;
    const nc = cppM.requests.get(label) ?? 0;
    check(`metrics(${label}): both SDKs exported (JS ${nj}, C++ ${nc} request(s))`, nj > 0 && nc > 0 && nj === nc);
    const rj = jsM.resources.get(label) ?? new Set();
    const rc = cppM.resources.get(label) ?? new Set();
    check(`metrics(${label}): both resources have service.name`, rj.has('service.name') && rc.has('service.name'),
      [`JS resource keys: ${[...rj].join(', ')}`, `C++ resource keys: ${[...rc].join(', ')}`]);
    const onlyJs = [...rj].filter((k) => !rc.has(k));
    const onlyCpp = [...rc].filter((k) => !rj.has(k));
    if (onlyJs.length || onlyCpp.length) {
      info(`metrics(${label}) resource attributes only JS has: ${onlyJs.join(', ') || '-'}; only C++ has: ${onlyCpp.join(', ') || '-'}`);
    }
  }
  const metricKeys = [...new Set([...jsM.metrics.keys(), ...cppM.metrics.keys()])].sort();
  for (const key of metricKeys) {
    const js = jsM.metrics.get(key);
    const cpp = cppM.metrics.get(key);
    if (!js || !cpp) {
      check(`metrics: ${key} exported by both SDKs`, false, [`only the ${js ? 'JS' : 'C++'} SDK exported it`]);
      continue;
    }
    const d = compareShape('metrics', key, mergeShapes(js), mergeShapes(cpp));
    const s = js[0];
    const what = [s['data type'], s.aggregationTemporality ? `temporality ${s.aggregationTemporality}` : '',
      s.isMonotonic ? 'monotonic' : '', ...(s['value field'] ?? []), s.explicitBounds ? `bounds ${s.explicitBounds.join(' ')}` : '']
      .filter((x) => x).join(', ');
    check(`metrics: ${key}: same shape (${what})`, d.length === 0, d);
  }
  // Which metrics each request carries (a delta reader leaves out what saw
  // no measurement). Tolerated: the JS SDK's delta temporality selector
  // makes synchronous gauges delta too (a gauge not recorded in the interval
  // is left out); tracewire keeps a gauge's last value (gauges have no
  // temporality in OTLP and the specification's temporality preferences do
  // not name them).
  for (const label of ['cumulative', 'delta']) {
    const rj = jsM.perRequest.get(label) ?? [];
    const rc = cppM.perRequest.get(label) ?? [];
    const details = [];
    for (let i = 0; i < Math.max(rj.length, rc.length); i++) {
      const nj = new Set((rj[i] ?? []).map(([n]) => n));
      const onlyJs = [...nj].filter((n) => !(rc[i] ?? []).some(([m]) => m === n));
      const onlyCpp = (rc[i] ?? []).filter(([n]) => !nj.has(n));
      const gaugeOnlyCpp = onlyCpp.filter(([, t]) => t === 'gauge');
      if (label === 'delta' && i > 0 && gaugeOnlyCpp.length > 0) {
        tolerated.push(`metrics: ${label} request #${i + 1}: only C++ exported ${gaugeOnlyCpp.map(([n]) => n).join(', ')} ` +
          '(tolerated: JS makes gauges delta under the delta preference and leaves out a gauge not recorded in the interval; ' +
          'tracewire keeps the last value)');
      }
      const bad = onlyCpp.filter((x) => !(label === 'delta' && i > 0 && x[1] === 'gauge'));
      if (onlyJs.length || bad.length) {
        details.push(`request #${i + 1}: only JS exported ${onlyJs.join(', ') || '-'}; only C++ exported ${bad.map(([n]) => n).join(', ') || '-'}`);
      }
    }
    check(`metrics(${label}): each request carries the same metrics`, details.length === 0, details);
  }
  const expectedMetrics = 20; // 10 instruments x 2 temporalities
  check(`metrics: ${expectedMetrics} (temporality, metric) pairs compared`, metricKeys.length === expectedMetrics,
    [`got ${metricKeys.length}: ${metricKeys.join(', ')}`]);

  // ----------------------------------------------------------------- logs
  const jsL = logShapes(read('JS (plain round)', jsDir, 'logs.jsonl'));
  const cppL = logShapes(read('C++ (interop_shape_peer)', cppDir, 'logs.jsonl'));
  check('logs: both resources have service.name', jsL.resources.has('service.name') && cppL.resources.has('service.name'));
  {
    const onlyJs = [...jsL.resources].filter((k) => !cppL.resources.has(k));
    const onlyCpp = [...cppL.resources].filter((k) => !jsL.resources.has(k));
    if (onlyJs.length || onlyCpp.length) info(`logs resource attributes only JS has: ${onlyJs.join(', ') || '-'}; only C++ has: ${onlyCpp.join(', ') || '-'}`);
  }
  const logKeys = [...new Set([...jsL.records.keys(), ...cppL.records.keys()])].sort();
  for (const key of logKeys) {
    const js = jsL.records.get(key);
    const cpp = cppL.records.get(key);
    if (!js || !cpp) {
      check(`logs: record ${key} emitted by both SDKs`, false, [`only the ${js ? 'JS' : 'C++'} SDK emitted it`]);
      continue;
    }
    const d = compareShape('logs', `record ${key}`, mergeShapes(js), mergeShapes(cpp));
    check(`logs: record ${key}: same shape (scope ${js[0].scope.name}, body ${typeof js[0].body === 'string' ? js[0].body : Object.keys(js[0].body)[0]})`, d.length === 0, d);
  }
  const expectedLogs = 9;
  check(`logs: ${expectedLogs} records compared`, logKeys.length === expectedLogs, [`got ${logKeys.length}: ${logKeys.join(', ')}`]);

  for (const t of tolerated) info(t);
  console.log(`shape: ${passed} passed, ${failed} failed${tolerated.length ? `, ${tolerated.length} tolerated difference(s)` : ''}`);
  fs.writeFileSync(path.join(workdir, 'compare-result.json'), JSON.stringify({ passed, failed }));
  process.exitCode = failed > 0 ? 1 : 0;
}

// ---------------------------------------------------------------------------

const [cmd, ...rest] = process.argv.slice(2);
if (cmd === 'send') {
  send(rest).catch((e) => {
    console.error(`interop.mjs send failed: ${e.stack ?? e}`);
    process.exit(1);
  });
} else if (cmd === 'compare') {
  compare(rest);
} else if (cmd === 'shape') {
  shapeCompare(rest);
} else {
  die('usage: interop.mjs send|compare|shape ...');
}
