// The page of the interop test's "browser" round (browser.mjs bundles it
// with esbuild for the browser). Query parameters: otlp (the OTLP/HTTP base
// URL, another origin than the page's), span (the span's name), timeout (the
// exporter's timeout in ms), child (optional: a URL to load in an iframe,
// the not-allowed origin's page). It sends one span through the official
// JS SDK (WebTracerProvider, OTLPTraceExporter of
// @opentelemetry/exporter-trace-otlp-http: OTLP/JSON over fetch, which is a
// CORS request with a preflight, Content-Type application/json) and reports
// the export result with its ids to its own origin's /report.
import { WebTracerProvider } from '@opentelemetry/sdk-trace-web';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';

const params = new URLSearchParams(location.search);

function report(body) {
  return fetch('/report', { method: 'POST', body: JSON.stringify(body) });
}

window.addEventListener('error', (e) => report({ span: params.get('span'), error: `onerror: ${e.message}` }));
window.addEventListener('unhandledrejection', (e) => report({ span: params.get('span'), error: `unhandledrejection: ${e.reason}` }));

async function main() {
  const child = params.get('child');
  if (child) {
    const frame = document.createElement('iframe');
    frame.src = child;
    document.body.appendChild(frame);
  }
  const exporter = new OTLPTraceExporter({
    url: `${params.get('otlp')}/v1/traces`,
    timeoutMillis: Number(params.get('timeout') || 10000),
  });
  const provider = new WebTracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ 'service.name': 'tracewire-browser-page', 'page.origin': location.origin })),
  });
  const tracer = provider.getTracer('interop-browser', '1.0.0');
  const span = tracer.startSpan(params.get('span'), {
    kind: SpanKind.CLIENT,
    attributes: { 'page.url': location.href, 'page.answer': 42, 'page.ratio': 0.5, 'page.flag': true, 'page.tags': ['a', 'b'] },
  });
  span.addEvent('page.event', { 'event.n': 1 });
  span.setStatus({ code: SpanStatusCode.OK });
  span.end();
  const ctx = span.spanContext();
  const result = await new Promise((resolve) => exporter.export([span], resolve));
  await exporter.shutdown();
  await report({
    span: params.get('span'),
    origin: location.origin,
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    code: result.code, // 0: SUCCESS, 1: FAILED
    error: result.error ? String(result.error.message || result.error) : undefined,
    userAgent: navigator.userAgent,
  });
}

main().catch((e) => report({ span: params.get('span'), error: `main: ${e && e.stack ? e.stack : e}` }));
