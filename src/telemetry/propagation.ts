import {
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
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
 */
const w3c = new W3CTraceContextPropagator();

export function extractContext(headers: IHeaders | undefined): Context {
  // A record without headers carries no context (the common case: skip both propagators).
  if (!hasAny(headers)) return ROOT_CONTEXT;
  const ctx = w3c.extract(ROOT_CONTEXT, headers, headerGetter);
  return propagation.extract(ctx, headers, headerGetter);
}

function hasAny(headers: IHeaders | undefined): boolean {
  for (const _ in headers) return true;
  return false;
}

export function injectContext(ctx: Context, headers: Record<string, string | Buffer>): void {
  w3c.inject(ctx, headers, headerSetter);
  propagation.inject(ctx, headers, headerSetter);
}

export function activeContext(): Context {
  return context.active();
}
