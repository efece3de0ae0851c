import { ProxyTracerProvider, trace } from '@opentelemetry/api';

// A global provider without a delegate hands out the API's no-op provider, the same object every time.
const NO_OP_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * Whether an OpenTelemetry SDK (any tracer provider) is registered globally, so spans are
 * recorded. Cheap, no allocation: asked per provider request.
 */
export function tracerProviderRegistered(): boolean {
  const registered = trace.getTracerProvider();
  const delegate = registered instanceof ProxyTracerProvider ? registered.getDelegate() : registered;
  return delegate !== NO_OP_TRACER_PROVIDER;
}
