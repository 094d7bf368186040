#!/usr/bin/env node
// Interop test, "browser" round: a real browser (Debian's chromium, headless)
// loads a page that sends a span through the official JS SDK's OTLP/HTTP
// exporter to tracewired, cross-origin, through CORS.
//
//   node browser.mjs <tracewired binary> <workdir>
//
// 1. Bundles browser_page.js (WebTracerProvider + OTLPTraceExporter of
//    @opentelemetry/exporter-trace-otlp-http, the versions package.json pins)
//    with esbuild (pinned) for the browser.
// 2. Serves it from two node:http servers on 127.0.0.1 (port 0): origin A
//    (allowed) and origin C (not allowed). Each takes the page's POST /report.
// 3. Starts tracewired (--http-listen 127.0.0.1:0, file sink) with a config
//    whose receiver.http.cors.allowed_origins is exactly origin A, and a
//    recording relay in front of its OTLP/HTTP port (origin B): it passes
//    every request and answer through unchanged and records method, Origin,
//    Access-Control-* headers and status, so the preflight can be checked.
// 4. chromium --headless loads A's page (span "browser.allowed"), which also
//    loads C's page (span "browser.disallowed") in an iframe; both export to
//    B. Waits (bounded) for both reports, then ends chromium and SIGTERMs
//    tracewired (which flushes its file sink).
// 5. Checks: A's export succeeded; the relay saw A's preflight (OPTIONS
//    /v1/traces, Access-Control-Request-Method POST, Access-Control-Request-
//    Headers content-type) answered 204 with Access-Control-Allow-Origin A,
//    -Methods POST and -Headers content-type, then A's POST answered 200
//    with Access-Control-Allow-Origin A; traces.jsonl holds the span with the
//    page's name, ids, kind, attributes, event, status, scope and
//    service.name. C's export failed in the browser, its preflight got no
//    Access-Control-Allow-Origin, no POST came from C, and the sink has no
//    span of C.
// PASS/FAIL lines, "N passed, M failed"; writes <workdir>/compare-result.json.
// A missing chromium is a FAIL (scripts/install-deps.sh installs it), not a skip.

import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const START_TIMEOUT_MS = 30000;
const BROWSER_TIMEOUT_MS = 45000;
const STOP_TIMEOUT_MS = 30000;
const ALLOWED_SPAN = 'browser.allowed';
const DISALLOWED_SPAN = 'browser.disallowed';

let passed = 0;
let failed = 0;
function pass(msg) {
  passed++;
  console.log(`PASS browser: ${msg}`);
}
function fail(msg, details = []) {
  failed++;
  console.log(`FAIL browser: ${msg}`);
  for (const d of details.slice(0, 30)) console.log(`     ${d}`);
}
function check(ok, msg, details = []) {
  if (ok) pass(msg);
  else fail(msg, details);
}

const children = new Set();
function killChildren() {
  for (const c of children) {
    try {
      process.kill(-c.pid, 'SIGKILL');
    } catch {
      try {
        c.kill('SIGKILL');
      } catch {}
    }
  }
}
process.on('exit', killChildren);

function finish(work) {
  fs.writeFileSync(path.join(work, 'compare-result.json'), JSON.stringify({ passed, failed }));
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

function findChromium() {
  for (const name of ['chromium', 'chromium-browser']) {
    for (const dir of (process.env.PATH || '').split(':')) {
      const f = path.join(dir || '.', name);
      try {
        fs.accessSync(f, fs.constants.X_OK);
        return f;
      } catch {}
    }
  }
  return null;
}

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

// The page's origin: GET / (the HTML), GET /bundle.js, POST /report.
function pageServer(bundle, onReport) {
  return http.createServer((req, res) => {
    if (req.method === 'GET' && req.url.startsWith('/page.html')) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end('<!doctype html><html><head><meta charset="utf-8"><title>tracewire interop</title></head><body><script type="module" src="/bundle.js"></script></body></html>');
    } else if (req.method === 'GET' && req.url === '/bundle.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(bundle);
    } else if (req.method === 'POST' && req.url === '/report') {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        res.writeHead(204).end();
        try {
          onReport(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (e) {
          onReport({ error: `bad report: ${e}` });
        }
      });
    } else {
      res.writeHead(404).end();
    }
  });
}

// A transparent relay to tracewired's OTLP/HTTP port that records each
// exchange (the browser's CORS headers and tracewired's answers).
function relay(targetPort, log) {
  return http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const entry = {
        method: req.method,
        path: req.url,
        origin: req.headers.origin || '',
        acRequestMethod: req.headers['access-control-request-method'] || '',
        acRequestHeaders: req.headers['access-control-request-headers'] || '',
        contentType: req.headers['content-type'] || '',
      };
      log.push(entry);
      const headers = { ...req.headers, host: `127.0.0.1:${targetPort}` };
      // agent: false, a connection per exchange (simplest to follow in the
      // log; tracewired ends idle kept-alive connections at SIGTERM anyway).
      const up = http.request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers, agent: false }, (ur) => {
        entry.status = ur.statusCode;
        entry.acao = ur.headers['access-control-allow-origin'] || '';
        entry.acam = ur.headers['access-control-allow-methods'] || '';
        entry.acah = ur.headers['access-control-allow-headers'] || '';
        res.writeHead(ur.statusCode, ur.headers);
        ur.pipe(res);
      });
      up.on('error', (e) => {
        entry.error = String(e);
        res.writeHead(502).end();
      });
      up.end(Buffer.concat(chunks));
    });
  });
}

function startDaemon(daemon, dir, config) {
  return new Promise((resolve) => {
    const out = fs.openSync(path.join(dir, 'daemon.stdout'), 'w');
    const errPath = path.join(dir, 'daemon.stderr');
    const child = spawn(
      daemon,
      ['--listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', '--sink', 'file', '--file-dir', path.join(dir, 'sink'), '--metrics-listen', '127.0.0.1:0', '--config', config],
      { stdio: ['ignore', out, fs.openSync(errPath, 'w')], detached: true },
    );
    children.add(child);
    let done = false;
    const finishWith = (v) => {
      if (done) return;
      done = true;
      clearInterval(poll);
      clearTimeout(timer);
      resolve(v);
    };
    child.on('exit', (code) => finishWith({ child, error: `tracewired exited with status ${code} before announcing its OTLP/HTTP port` }));
    const poll = setInterval(() => {
      const m = /^tracewired: OTLP\/HTTP on http:\/\/127\.0\.0\.1:(\d+)$/m.exec(fs.readFileSync(errPath, 'utf8'));
      if (m) finishWith({ child, port: Number(m[1]) });
    }, 50);
    const timer = setTimeout(() => finishWith({ child, error: `no OTLP/HTTP line on stderr within ${START_TIMEOUT_MS} ms` }), START_TIMEOUT_MS);
  });
}

function stopChild(child, signal, timeoutMs, group) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve({ code: child.exitCode, signal: child.signalCode });
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
      resolve({ code: null, timedOut: true });
    }, timeoutMs);
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, signal: sig });
    });
    try {
      process.kill(group ? -child.pid : child.pid, signal);
    } catch {}
  });
}

function readSpans(file) {
  if (!fs.existsSync(file)) return [];
  const out = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const doc = JSON.parse(line);
    for (const rs of doc.resourceSpans || []) {
      for (const ss of rs.scopeSpans || []) {
        for (const span of ss.spans || []) out.push({ resource: rs.resource || {}, scope: ss.scope || {}, span });
      }
    }
  }
  return out;
}

const attr = (attrs, key) => (attrs || []).find((a) => a.key === key)?.value;

async function main() {
  const [daemon, work] = process.argv.slice(2);
  if (!daemon || !work) {
    console.error('usage: node browser.mjs <tracewired> <workdir>');
    process.exit(2);
  }
  fs.mkdirSync(path.join(work, 'sink'), { recursive: true });

  const chromium = findChromium();
  if (!chromium) {
    fail('chromium is not installed (Debian package `chromium`; scripts/install-deps.sh installs it): cannot run the browser round');
    return finish(work);
  }

  // 1. The bundle.
  let bundle;
  try {
    const esbuild = require('esbuild');
    const r = esbuild.buildSync({
      entryPoints: [path.join(HERE, 'browser_page.js')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      logLevel: 'silent',
    });
    bundle = r.outputFiles[0].text;
    pass(`bundled browser_page.js with esbuild ${esbuild.version} (${bundle.length} bytes)`);
  } catch (e) {
    fail(`esbuild could not bundle browser_page.js: ${e.message}`);
    return finish(work);
  }

  // 2. Origins A (allowed) and C (not allowed).
  const reports = new Map();
  let wake = () => {};
  const onReport = (r) => {
    reports.set(r.span || '?', r);
    fs.appendFileSync(path.join(work, 'reports.jsonl'), `${JSON.stringify(r)}\n`);
    wake();
  };
  const serverA = pageServer(bundle, onReport);
  const serverC = pageServer(bundle, onReport);
  const originA = `http://127.0.0.1:${await listen(serverA)}`;
  const originC = `http://127.0.0.1:${await listen(serverC)}`;

  // 3. tracewired allowing exactly origin A, behind the recording relay (origin B).
  const config = path.join(work, 'tracewired.yaml');
  fs.writeFileSync(config, `receiver:\n  http:\n    cors:\n      allowed_origins: ["${originA}"]\n      allowed_headers: ["X-Interop-Unused"]\n`);
  const d = await startDaemon(daemon, work, config);
  if (d.error) {
    fail(d.error, fs.readFileSync(path.join(work, 'daemon.stderr'), 'utf8').trim().split('\n').slice(-20));
    return finish(work);
  }
  pass(`tracewired started, OTLP/HTTP on 127.0.0.1:${d.port}, CORS allowed_origins ["${originA}"]`);
  const relayLog = [];
  const relayServer = relay(d.port, relayLog);
  const originB = `http://127.0.0.1:${await listen(relayServer)}`;
  console.log(`     page origin A ${originA} (allowed), page origin C ${originC} (not allowed), OTLP/HTTP origin B ${originB} (relay to tracewired)`);

  // 4. The browser.
  const childUrl = `${originC}/page.html?${new URLSearchParams({ otlp: originB, span: DISALLOWED_SPAN, timeout: '1500' })}`;
  const url = `${originA}/page.html?${new URLSearchParams({ otlp: originB, span: ALLOWED_SPAN, timeout: '10000', child: childUrl })}`;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tracewire-chromium-'));
  const browserLog = fs.openSync(path.join(work, 'chromium.log'), 'w');
  const t0 = Date.now();
  const browser = spawn(
    chromium,
    ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', `--user-data-dir=${profile}`, url],
    { stdio: ['ignore', browserLog, browserLog], detached: true },
  );
  children.add(browser);
  let browserExit = null;
  browser.on('exit', (code, sig) => {
    browserExit = { code, sig };
    wake();
  });
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, BROWSER_TIMEOUT_MS);
    wake = () => {
      if ((reports.has(ALLOWED_SPAN) && reports.has(DISALLOWED_SPAN)) || browserExit) {
        clearTimeout(timer);
        resolve();
      }
    };
    wake();
  });
  const browserMs = Date.now() - t0;
  const exitedByItself = browserExit;
  await stopChild(browser, 'SIGTERM', 5000, true);
  fs.rmSync(profile, { recursive: true, force: true });
  const stop = await stopChild(d.child, 'SIGTERM', STOP_TIMEOUT_MS, false);
  serverA.close();
  serverC.close();
  relayServer.close();
  fs.writeFileSync(path.join(work, 'relay.jsonl'), relayLog.map((e) => JSON.stringify(e)).join('\n') + '\n');
  console.log(`     chromium ran ${browserMs} ms${exitedByItself ? ` (exited before both reports came: ${JSON.stringify(exitedByItself)})` : ''}`);
  check(stop.code === 0, `tracewired exited 0 on SIGTERM (${JSON.stringify(stop)})`);

  // 5. Checks: the allowed origin.
  const ra = reports.get(ALLOWED_SPAN);
  const chromiumTail = () => fs.readFileSync(path.join(work, 'chromium.log'), 'utf8').trim().split('\n').slice(-15);
  check(ra && ra.code === 0 && !ra.error, `origin A: the page's OTLPTraceExporter reported SUCCESS (${ra ? JSON.stringify({ code: ra.code, error: ra.error }) : `no report within ${BROWSER_TIMEOUT_MS} ms`})`, ra ? [] : chromiumTail());
  if (ra && ra.userAgent) console.log(`     user agent: ${ra.userAgent}`);
  const preA = relayLog.filter((e) => e.method === 'OPTIONS' && e.origin === originA);
  const preOk = preA.some(
    (e) =>
      e.path === '/v1/traces' &&
      e.acRequestMethod === 'POST' &&
      /(^|,\s*)content-type(\s*,|$)/i.test(e.acRequestHeaders) &&
      e.status >= 200 &&
      e.status < 300 &&
      e.acao === originA &&
      /\bPOST\b/.test(e.acam) &&
      /content-type/i.test(e.acah),
  );
  check(preOk, `origin A: the browser's preflight (OPTIONS /v1/traces, Access-Control-Request-Method POST, -Headers content-type) got 2xx with Access-Control-Allow-Origin ${originA}, -Methods POST, -Headers content-type`, relayLog.map((e) => JSON.stringify(e)));
  const postA = relayLog.filter((e) => e.method === 'POST' && e.origin === originA);
  check(
    postA.length >= 1 && postA.every((e) => e.path === '/v1/traces' && e.status === 200 && e.acao === originA && /^application\/json/.test(e.contentType)),
    `origin A: after the preflight, ${postA.length} POST /v1/traces (application/json) answered 200 with Access-Control-Allow-Origin ${originA}`,
    relayLog.map((e) => JSON.stringify(e)),
  );
  const spans = readSpans(path.join(work, 'sink', 'traces.jsonl'));
  const got = spans.filter((s) => s.span.name === ALLOWED_SPAN);
  const problems = [];
  if (got.length !== 1) problems.push(`${got.length} spans named ${ALLOWED_SPAN} in traces.jsonl (want 1); spans: ${JSON.stringify(spans.map((s) => s.span.name))}`);
  else {
    const { resource, scope, span } = got[0];
    const want = (what, a, b) => {
      if (JSON.stringify(a) !== JSON.stringify(b)) problems.push(`${what}: got ${JSON.stringify(a)}, want ${JSON.stringify(b)}`);
    };
    want('resource service.name', attr(resource.attributes, 'service.name'), { stringValue: 'tracewire-browser-page' });
    want('resource page.origin', attr(resource.attributes, 'page.origin'), { stringValue: originA });
    want('resource telemetry.sdk.language', attr(resource.attributes, 'telemetry.sdk.language'), { stringValue: 'webjs' });
    want('scope', { name: scope.name, version: scope.version }, { name: 'interop-browser', version: '1.0.0' });
    if (ra) {
      want('traceId', span.traceId, ra.traceId);
      want('spanId', span.spanId, ra.spanId);
    }
    want('kind', span.kind, 3);
    want('attribute page.url', attr(span.attributes, 'page.url'), { stringValue: url });
    want('attribute page.answer', attr(span.attributes, 'page.answer'), { intValue: '42' });
    want('attribute page.ratio', attr(span.attributes, 'page.ratio'), { doubleValue: 0.5 });
    want('attribute page.flag', attr(span.attributes, 'page.flag'), { boolValue: true });
    want('attribute page.tags', attr(span.attributes, 'page.tags'), { arrayValue: { values: [{ stringValue: 'a' }, { stringValue: 'b' }] } });
    want('events', (span.events || []).map((e) => [e.name, e.attributes]), [['page.event', [{ key: 'event.n', value: { intValue: '1' } }]]]);
    want('status', span.status, { code: 1 });
    const start = BigInt(span.startTimeUnixNano || 0);
    const end = BigInt(span.endTimeUnixNano || 0);
    if (!(start > BigInt(t0 - 60000) * 1000000n && end >= start && end < BigInt(Date.now()) * 1000000n)) problems.push(`timestamps ${span.startTimeUnixNano}..${span.endTimeUnixNano} not within the run`);
  }
  check(problems.length === 0, `origin A: tracewired's file sink holds the page's span (${ALLOWED_SPAN}: ids, kind CLIENT, attributes, event, status OK, scope, service.name)`, problems);

  // The origin that is not allowed.
  const rc = reports.get(DISALLOWED_SPAN);
  check(rc && rc.code === 1, `origin C (not allowed): the page's export failed in the browser (${rc ? JSON.stringify({ code: rc.code, error: rc.error }) : `no report within ${BROWSER_TIMEOUT_MS} ms`})`, rc ? [] : chromiumTail());
  const preC = relayLog.filter((e) => e.method === 'OPTIONS' && e.origin === originC);
  check(preC.length >= 1 && preC.every((e) => e.acao === '' && e.acam === ''), `origin C: its preflight${preC.length > 1 ? `s (${preC.length}, the exporter retries)` : ''} got no Access-Control-Allow-Origin/-Methods`, relayLog.map((e) => JSON.stringify(e)));
  const postC = relayLog.filter((e) => e.method !== 'OPTIONS' && e.origin === originC);
  check(postC.length === 0, `origin C: the browser sent no POST (${postC.length})`, postC.map((e) => JSON.stringify(e)));
  const gotC = spans.filter((s) => s.span.name === DISALLOWED_SPAN);
  check(gotC.length === 0, `origin C: the sink holds no span of the not-allowed origin (${gotC.length})`);
  finish(work);
}

main().catch((e) => {
  console.error(e);
  killChildren();
  process.exit(2);
});
