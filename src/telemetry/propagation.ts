import { createRequire } from 'node:module';
import {
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  trace,
} from '@opentelemetry/api';
import type * as Core from '@opentelemetry/core';
import type { IHeaders } from 'kafkajs';

/** Kafka header values arrive as Buffers (or arrays of them); the propagator wants strings. */
const headerGetter: TextMapGetter<IHeaders | undefined> = {
  keys: (carrier) => (carrier ? Object.keys(carrier) : []),
  get(carrier, key) {
    const v = carrier?.[key];
    if (v === undefined) return undefined;
    if (Array.isArray(v)) return v.map((x) => x.toString());
    return v.toString();
  },
};

const headerSetter: TextMapSetter<Record<string, string | Buffer>> = {
  set(carrier, key, value) {
    carrier[key] = value;
  },
};

/**
 * W3C trace context is always carried through, even when no tracing SDK is registered:
 * a downstream consumer then still continues the producer's trace. When the SDK registers a
 * global propagator (e.g. with baggage), that one is used as well.
 *
 * The W3C propagator is @opentelemetry/core's, loaded on first need (a record that carries
 * a `traceparent`, or a context with a span to inject), or handed over by the tracing SDK
 * (`useW3cPropagator`): core and the semantic conventions it loads hold ~1.7 MB of heap
 * that a process without tracing, fed records without trace context, never needs.
 */
let w3cPropagator: TextMapPropagator | undefined;

function w3c(): TextMapPropagator {
  if (w3cPropagator === undefined) {
    const core = createRequire(import.meta.url)('@opentelemetry/core') as typeof Core;
    w3cPropagator = new core.W3CTraceContextPropagator();
  }
  return w3cPropagator;
}

/** The tracing SDK's own copy of the W3C propagator (tracing.ts), so core is not loaded twice. */
export function useW3cPropagator(p: TextMapPropagator): void {
  w3cPropagator = p;
}

export function extractContext(headers: IHeaders | undefined): Context {
  // A record without headers carries no context (the common case: skip both propagators).
  if (!hasAny(headers)) return ROOT_CONTEXT;
  // Without a traceparent the W3C propagator extracts nothing: no need to load it.
  const ctx = headers!.traceparent !== undefined ? w3c().extract(ROOT_CONTEXT, headers, headerGetter) : ROOT_CONTEXT;
  return propagation.extract(ctx, headers, headerGetter);
}

function hasAny(headers: IHeaders | undefined): boolean {
  for (const _ in headers) return true;
  return false;
}

export function injectContext(ctx: Context, headers: Record<string, string | Buffer>): void {
  // Without a span in the context the W3C propagator injects nothing.
  if (trace.getSpanContext(ctx) !== undefined) w3c().inject(ctx, headers, headerSetter);
  propagation.inject(ctx, headers, headerSetter);
}

export function activeContext(): Context {
  return context.active();
}
