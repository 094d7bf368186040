#!/usr/bin/env node
// The Node.js side of the cross-language gRPC test: an echo server and
// client instrumented with the official @opentelemetry/instrumentation-grpc,
// exporting spans with the official OTLP/gRPC exporter to tracewired.
//
//   node node_peer.mjs server  <tracewired host:port> <port file>
//   node node_peer.mjs client  <tracewired host:port> <echo host:port> <out.json>
//   node node_peer.mjs compare <file-sink dir> <node-client.json> <cpp-client.json>
//
// server: serves tracewire.test.Echo (tests/proto) on 127.0.0.1:0, writes the
//   port to the port file, and on SIGTERM flushes its spans and exits 0.
// client: calls Unary and ServerStream, each inside a parent span of its own,
//   and writes what it knows of each exchange (the parent's ids, what the
//   server reported) to out.json; flushes its spans and exits.
// compare: checks, for every exchange both clients (this one and the C++
//   peer, which writes the same out.json) made, that the parent, the client
//   span and the server span are one trace with the right parents, kinds,
//   names and attributes. Prints PASS/FAIL lines; exits 1 on any FAIL.

import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const PROTO = path.join(HERE, '..', 'proto', 'tracewire', 'test', 'echo.proto');

function die(msg) {
  console.error(`node_peer.mjs: ${msg}`);
  process.exit(2);
}

// The SDK and the instrumentation, registered before @grpc/grpc-js is loaded
// (the instrumentation patches it as it is required).
function setUpTracing(endpoint, serviceName) {
  const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node');
  const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-grpc');
  const { resourceFromAttributes } = require('@opentelemetry/resources');
  const { registerInstrumentations } = require('@opentelemetry/instrumentation');
  const { GrpcInstrumentation } = require('@opentelemetry/instrumentation-grpc');
  const grpcForExporter = require('@grpc/grpc-js');
  const exporter = new OTLPTraceExporter({
    url: `http://${endpoint}`,
    credentials: grpcForExporter.credentials.createInsecure(),
  });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 100 })],
  });
  provider.register();
  registerInstrumentations({
    tracerProvider: provider,
    // The exporter's own Export calls are not traced.
    instrumentations: [new GrpcInstrumentation({ ignoreGrpcMethods: [/Export/] })],
  });
  return provider;
}

function loadEcho() {
  const grpc = require('@grpc/grpc-js');
  const loader = require('@grpc/proto-loader');
  const def = loader.loadSync(PROTO, { keepCase: true, longs: String, defaults: true });
  return { grpc, Echo: grpc.loadPackageDefinition(def).tracewire.test.Echo };
}

function seen(api) {
  const span = api.trace.getActiveSpan();
  const ctx = span ? span.spanContext() : { traceId: '', spanId: '' };
  const baggage = api.propagation.getActiveBaggage();
  const pairs = baggage ? baggage.getAllEntries().map(([k, v]) => `${k}=${v.value}`) : [];
  return { trace_id: ctx.traceId, span_id: ctx.spanId, baggage: pairs.join(',') };
}

async function server(endpoint, portFile) {
  const provider = setUpTracing(endpoint, 'node-server');
  const api = require('@opentelemetry/api');
  const { grpc, Echo } = loadEcho();
  const s = new grpc.Server();
  s.addService(Echo.service, {
    Unary(call, callback) {
      callback(null, { message: call.request.message, ...seen(api) });
    },
    ServerStream(call) {
      const n = Math.max(1, call.request.response_count);
      for (let i = 0; i < n; i++) call.write({ message: `${call.request.message}#${i}`, ...seen(api) });
      call.end();
    },
    ClientStream(call, callback) {
      const got = [];
      call.on('data', (r) => got.push(r.message));
      call.on('end', () => callback(null, { message: got.join(','), ...seen(api) }));
    },
    BidiStream(call) {
      call.on('data', (r) => call.write({ message: r.message, ...seen(api) }));
      call.on('end', () => call.end());
    },
  });
  const port = await new Promise((resolve, reject) =>
    s.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p)));
  fs.writeFileSync(`${portFile}.tmp`, `${port}\n`);
  fs.renameSync(`${portFile}.tmp`, portFile);
  await new Promise((resolve) => process.once('SIGTERM', resolve));
  await new Promise((resolve) => s.tryShutdown(() => resolve()));
  await provider.shutdown();
}

async function client(endpoint, target, outFile) {
  const provider = setUpTracing(endpoint, 'node-client');
  const api = require('@opentelemetry/api');
  const { grpc, Echo } = loadEcho();
  const stub = new Echo(target, grpc.credentials.createInsecure());
  const tracer = api.trace.getTracer('interop');
  const exchanges = [];
  const baggage = api.propagation.createBaggage({ 'interop.from': { value: 'node' } });
  const withParent = (name, fn) =>
    api.context.with(api.propagation.setBaggage(api.context.active(), baggage), () =>
      tracer.startActiveSpan(name, async (parent) => {
        try {
          const replies = await fn();
          const p = parent.spanContext();
          exchanges.push({ method: name.split(' ')[1], parent_trace_id: p.traceId,
                           parent_span_id: p.spanId, replies });
        } finally {
          parent.end();
        }
      }));
  await withParent('parent Unary', () => new Promise((resolve, reject) =>
    stub.Unary({ message: 'hi' }, { deadline: Date.now() + 10000 }, (err, r) =>
      err ? reject(err) : resolve([r]))));
  await withParent('parent ServerStream', () => new Promise((resolve, reject) => {
    const got = [];
    const call = stub.ServerStream({ message: 's', response_count: 3 }, { deadline: Date.now() + 10000 });
    call.on('data', (r) => got.push(r));
    call.on('error', reject);
    call.on('end', () => resolve(got));
  }));
  stub.close();
  fs.writeFileSync(outFile, JSON.stringify({ client: 'node', exchanges }, null, 1));
  await provider.shutdown();
}

// ---- compare -------------------------------------------------------------------

function readSpans(sinkDir) {
  const file = path.join(sinkDir, 'traces.jsonl');
  if (!fs.existsSync(file)) die(`${file} does not exist`);
  const spans = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const req = JSON.parse(line);
    for (const rs of req.resourceSpans ?? []) {
      const svc = (rs.resource?.attributes ?? []).find((a) => a.key === 'service.name');
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          const attrs = {};
          for (const a of s.attributes ?? []) attrs[a.key] = Object.values(a.value ?? {})[0];
          spans.push({ service: svc?.value?.stringValue, name: s.name, kind: s.kind,
                       traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId ?? '',
                       attrs, status: s.status ?? {} });
        }
      }
    }
  }
  return spans;
}

function compare(sinkDir, ...clientFiles) {
  const spans = readSpans(sinkDir);
  let passed = 0;
  let failed = 0;
  const check = (ok, what, detail = '') => {
    if (ok) { passed++; console.log(`PASS ${what}`); } else { failed++; console.log(`FAIL ${what} ${detail}`); }
  };
  const SERVER = 2;
  const CLIENT = 3;
  for (const file of clientFiles) {
    const { client: who, exchanges } = JSON.parse(fs.readFileSync(file, 'utf8'));
    const other = who === 'node' ? 'cpp' : 'node';
    check(exchanges.length === 2, `${who} client made 2 exchanges`, `(${exchanges.length})`);
    for (const ex of exchanges) {
      const label = `${who} client -> ${other} server, ${ex.method}`;
      // The semantic conventions' span name; the JS instrumentation still
      // prefixes it with "grpc.".
      const name = `tracewire.test.Echo/${ex.method}`;
      const nameOf = (lang) => (lang === 'node' ? `grpc.${name}` : name);
      const inTrace = spans.filter((s) => s.traceId === ex.parent_trace_id);
      const parent = inTrace.find((s) => s.spanId === ex.parent_span_id);
      const cli = inTrace.find((s) => s.kind === CLIENT && s.name === nameOf(who));
      const srv = inTrace.find((s) => s.kind === SERVER && s.name === nameOf(other));
      check(parent && parent.service === `${who}-client`, `${label}: the parent span arrived`);
      check(cli && cli.service === `${who}-client`, `${label}: a CLIENT span named ${nameOf(who)} from ${who}-client`);
      check(srv && srv.service === `${other}-server`, `${label}: a SERVER span named ${nameOf(other)} from ${other}-server, same trace`,
            `(spans in the trace: ${JSON.stringify(inTrace.map((s) => [s.service, s.name, s.kind]))})`);
      if (!cli || !srv || !parent) continue;
      check(cli.parentSpanId === parent.spanId, `${label}: the client span's parent is the caller's span`);
      check(srv.parentSpanId === cli.spanId, `${label}: the server span's parent is the client span`,
            `(${srv.parentSpanId} != ${cli.spanId})`);
      for (const s of [cli, srv]) {
        const side = s === cli ? 'client' : 'server';
        check(s.attrs['rpc.system'] === 'grpc' && s.attrs['rpc.service'] === 'tracewire.test.Echo' &&
              s.attrs['rpc.method'] === ex.method,
              `${label}: ${side} span has rpc.system, rpc.service, rpc.method`, JSON.stringify(s.attrs));
        check(String(s.attrs['rpc.grpc.status_code']) === '0', `${label}: ${side} span has rpc.grpc.status_code 0`,
              JSON.stringify(s.attrs));
      }
      const r = ex.replies[0] ?? {};
      check(r.trace_id === ex.parent_trace_id && r.span_id === srv.spanId,
            `${label}: the handler ran with the server span current`, JSON.stringify(r));
      check(ex.replies.every((x) => x.baggage === `interop.from=${who}`),
            `${label}: the caller's baggage reached the handler`, JSON.stringify(ex.replies.map((x) => x.baggage)));
      if (ex.method === 'ServerStream') check(ex.replies.length === 3, `${label}: 3 responses in one stream span`);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'server' && args.length === 2) await server(...args);
else if (mode === 'client' && args.length === 3) await client(...args);
else if (mode === 'compare' && args.length >= 2) compare(...args);
else die('usage: server <endpoint> <portfile> | client <endpoint> <target> <out.json> | compare <sink> <client.json>...');
