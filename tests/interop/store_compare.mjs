// The store round's comparison: what the JS SDK sent (sent.json, written by
// `interop.mjs send`) against what tracewired's store sink kept, read back
// through the CLI as a user would (`tracewire trace ID --json`, `tracewire
// logs --trace ID --json`, `tracewire metrics --json`).
//
// usage: node store_compare.mjs <tracewire binary> <store.db> <workdir>
// Writes <workdir>/compare-result.json ({passed, failed}); prints a line per
// check.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const [cli, db, workdir] = process.argv.slice(2);
if (!cli || !db || !workdir) {
  console.error('usage: node store_compare.mjs <tracewire> <store.db> <workdir>');
  process.exit(2);
}
let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'PASS' : 'FAIL'} store: ${name}${ok || !detail ? '' : `: ${detail}`}`);
}
// The CLI prints nanosecond times as JSON numbers, past 2^53: read them as
// strings so that no digit is lost (JSON.parse would round them).
function query(args) {
  const text = execFileSync(cli, [...args, '--store', db, '--json'], { encoding: 'utf8' });
  return JSON.parse(text.replace(/([:\[,]\s*)(-?\d{16,})(?=\s*[,\]}])/g, '$1"$2"'));
}

// An OTLP/JSON AnyValue as the store renders it (store/otlp_items.h:
// strings as they are, numbers and bools in their usual form, bytes as hex,
// arrays and maps as JSON-like text). Doubles are compared as numbers.
function hexOfBase64(b64) {
  return Buffer.from(b64, 'base64').toString('hex');
}
function sameValue(sent, stored) {
  if ('stringValue' in sent) return stored === sent.stringValue;
  if ('boolValue' in sent) return stored === String(sent.boolValue);
  if ('intValue' in sent) return stored === BigInt(sent.intValue).toString();
  if ('doubleValue' in sent) {
    const d = Number(sent.doubleValue);
    return Number(stored) === d || (Number.isNaN(d) && /nan/i.test(stored));
  }
  if ('bytesValue' in sent) return stored === hexOfBase64(sent.bytesValue);
  if ('arrayValue' in sent || 'kvlistValue' in sent) {
    let parsed;
    try {
      parsed = JSON.parse(stored);
    } catch {
      return false;
    }
    return deepEqualPlain(plain(sent), parsed);
  }
  return stored === '';
}
function plain(v) {
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return Number(v.doubleValue);
  if ('bytesValue' in v) return hexOfBase64(v.bytesValue);
  if ('arrayValue' in v) return (v.arrayValue.values ?? []).map(plain);
  if ('kvlistValue' in v) {
    const o = {};
    for (const kv of v.kvlistValue.values ?? []) o[kv.key ?? ''] = plain(kv.value);
    return o;
  }
  return null;
}
function deepEqualPlain(a, b) {
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqualPlain(x, b[i]));
  if (a && typeof a === 'object') {
    if (!b || typeof b !== 'object' || Array.isArray(b)) return false;
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    return ka.length === kb.length && ka.every((k, i) => k === kb[i] && deepEqualPlain(a[k], b[k]));
  }
  return a === b;
}
// Differences between sent attributes (OTLP/JSON KeyValue list) and the
// CLI's {key: text} map.
function attrDiffs(sent = [], stored = {}) {
  const out = [];
  for (const kv of sent) {
    if (!(kv.key in stored)) out.push(`${kv.key} missing`);
    else if (!sameValue(kv.value, stored[kv.key])) {
      out.push(`${kv.key}: sent ${JSON.stringify(kv.value)}, stored ${JSON.stringify(stored[kv.key])}`);
    }
  }
  const keys = new Set(sent.map((kv) => kv.key));
  for (const k of Object.keys(stored)) if (!keys.has(k)) out.push(`${k} not sent`);
  return out;
}
const KIND = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const STATUS = ['unset', 'ok', 'error'];

const sent = JSON.parse(fs.readFileSync(path.join(workdir, 'sent.json'), 'utf8'));

// ---------------------------------------------------------------- traces
const sentSpans = []; // {span, service, scope}
for (const req of sent.traces) {
  for (const rs of req.resourceSpans ?? []) {
    const svc = (rs.resource?.attributes ?? []).find((kv) => kv.key === 'service.name')?.value?.stringValue ?? '';
    for (const ss of rs.scopeSpans ?? []) {
      for (const span of ss.spans ?? []) sentSpans.push({ span, service: svc, scope: ss.scope?.name ?? '' });
    }
  }
}
const byTrace = new Map();
for (const s of sentSpans) {
  if (!byTrace.has(s.span.traceId)) byTrace.set(s.span.traceId, []);
  byTrace.get(s.span.traceId).push(s);
}
check(`the JS SDK sent spans (${sentSpans.length} in ${byTrace.size} traces)`, sentSpans.length > 0);
const listed = new Set(query(['traces', '--limit', '1000', '--since', '2000-01-01T00:00:00Z']).map((t) => t.trace_id));
for (const [traceId, spans] of byTrace) {
  check(`trace ${traceId} is listed by \`tracewire traces\``, listed.has(traceId));
  let tree;
  try {
    tree = query(['trace', traceId]);
  } catch (e) {
    check(`\`tracewire trace ${traceId}\` answers`, false, String(e.message).split('\n')[0]);
    continue;
  }
  check(`trace ${traceId}: ${spans.length} spans stored`, tree.spans.length === spans.length,
    `stored ${tree.spans.length}`);
  const stored = new Map(tree.spans.map((s) => [s.span_id, s]));
  for (const { span, service, scope } of spans) {
    const st = stored.get(span.spanId);
    const label = `span ${span.name} (${span.spanId})`;
    if (!st) {
      check(`${label} stored`, false);
      continue;
    }
    const diffs = [];
    const want = {
      parent_span_id: span.parentSpanId ?? '',
      name: span.name ?? '',
      kind: KIND[span.kind ?? 0],
      service,
      scope,
      start_unix_nano: BigInt(span.startTimeUnixNano),
      duration_ns: BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano),
      status: STATUS[span.status?.code ?? 0],
      status_message: span.status?.message ?? '',
    };
    for (const [k, v] of Object.entries(want)) {
      const got = typeof v === 'bigint' ? BigInt(st[k]) : st[k];
      if (got !== v) diffs.push(`${k}: sent ${v}, stored ${st[k]}`);
    }
    diffs.push(...attrDiffs(span.attributes, st.attributes).map((d) => `attribute ${d}`));
    const events = span.events ?? [];
    if (events.length !== st.events.length) diffs.push(`events: sent ${events.length}, stored ${st.events.length}`);
    else {
      events.forEach((e, i) => {
        const se = st.events[i];
        if ((e.name ?? '') !== se.name) diffs.push(`event ${i} name: sent ${e.name}, stored ${se.name}`);
        if (BigInt(e.timeUnixNano) !== BigInt(se.time_unix_nano)) diffs.push(`event ${i} time`);
        diffs.push(...attrDiffs(e.attributes, se.attributes).map((d) => `event ${i} attribute ${d}`));
      });
    }
    const links = span.links ?? [];
    if (links.length !== st.links.length) diffs.push(`links: sent ${links.length}, stored ${st.links.length}`);
    else {
      links.forEach((l, i) => {
        if (l.traceId !== st.links[i].trace_id || l.spanId !== st.links[i].span_id) diffs.push(`link ${i}`);
      });
    }
    check(`${label}: every field the CLI shows matches`, diffs.length === 0, diffs.join('; '));
  }
}

// ---------------------------------------------------------------- logs
const sentLogs = [];
for (const req of sent.logs) {
  for (const rl of req.resourceLogs ?? []) {
    for (const sl of rl.scopeLogs ?? []) for (const rec of sl.logRecords ?? []) sentLogs.push(rec);
  }
}
const withTrace = sentLogs.filter((r) => r.traceId);
const logTraces = new Set(withTrace.map((r) => r.traceId));
check(`the JS SDK sent log records in a trace (${withTrace.length})`, withTrace.length > 0);
for (const traceId of logTraces) {
  const storedLogs = query(['logs', '--trace', traceId, '--limit', '1000']);
  const want = withTrace.filter((r) => r.traceId === traceId);
  check(`logs of trace ${traceId}: ${want.length} stored`, storedLogs.length === want.length,
    `stored ${storedLogs.length}`);
  for (const rec of want) {
    const t = BigInt(rec.timeUnixNano ?? rec.observedTimeUnixNano ?? 0);
    const st = storedLogs.find((s) => s.span_id === rec.spanId && BigInt(s.time_unix_nano) === t);
    const label = `log record at ${t} in span ${rec.spanId}`;
    if (!st) {
      check(`${label} stored`, false);
      continue;
    }
    const diffs = [];
    if ((rec.severityNumber ?? 0) !== st.severity_number) diffs.push(`severity_number: sent ${rec.severityNumber}, stored ${st.severity_number}`);
    if (rec.body && !sameValue(rec.body, st.body)) diffs.push(`body: sent ${JSON.stringify(rec.body)}, stored ${JSON.stringify(st.body)}`);
    diffs.push(...attrDiffs(rec.attributes, st.attributes).map((d) => `attribute ${d}`));
    check(`${label}: severity, body and attributes match`, diffs.length === 0, diffs.join('; '));
  }
}

// ---------------------------------------------------------------- metrics
const sentMetricNames = new Set();
for (const req of sent.metrics) {
  for (const rm of req.resourceMetrics ?? []) {
    for (const sm of rm.scopeMetrics ?? []) for (const m of sm.metrics ?? []) sentMetricNames.add(m.name);
  }
}
const storedSeries = query(['metrics']);
const storedNames = new Set(storedSeries.map((m) => m.name));
const missing = [...sentMetricNames].filter((n) => !storedNames.has(n));
check(`every metric the JS SDK sent is listed by \`tracewire metrics\` (${sentMetricNames.size})`,
  sentMetricNames.size > 0 && missing.length === 0, `missing: ${missing.join(', ')}`);

fs.writeFileSync(path.join(workdir, 'compare-result.json'), JSON.stringify({ passed, failed }));
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
