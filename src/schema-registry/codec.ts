import avro from 'avsc';
import { fail, ok, ProcessorError, type Result } from '../errors.js';
import { type SchemaRegistryClient, SchemaRegistryError } from './client.js';
import { frame, unframe, valueSubject } from './wire-format.js';

type WriterEntry = { ok: true; resolver: avro.Resolver } | { ok: false; error: ProcessorError };

/**
 * Avro with a Confluent-compatible registry for one reader schema (ours). Decoding resolves
 * each writer schema against the reader with avsc's `createResolver`, so a producer whose
 * schema evolved compatibly (an added optional field, say) is read without a redeploy.
 *
 * Network calls happen only in the async `prefetch`/`register`; `decode`/`encode` are
 * synchronous lookups so the hot path never waits on HTTP.
 */
export class AvroRegistryCodec<T> {
  private readonly writers = new Map<number, WriterEntry>();
  private readonly loading = new Map<number, Promise<void>>();
  private readonly ids = new Map<string, number>();

  constructor(
    private readonly client: SchemaRegistryClient,
    private readonly readerType: avro.Type,
    private readonly readerSchema: object,
  ) {}

  /**
   * Loads the writer schemas of framed values not seen yet. A registry that cannot be reached
   * throws (the caller retries, nothing is dead-lettered for an outage); an id the registry
   * does not know, a non-Avro or an incompatible schema is remembered as a decode failure.
   */
  async prefetch(values: Iterable<Buffer | null | undefined>): Promise<void> {
    const wanted = new Set<number>();
    for (const v of values) {
      const framed = v ? unframe(v) : undefined;
      if (framed && !this.writers.has(framed.schemaId)) wanted.add(framed.schemaId);
    }
    await Promise.all([...wanted].map((id) => this.load(id)));
  }

  private load(id: number): Promise<void> {
    let p = this.loading.get(id);
    if (!p) {
      p = this.fetchWriter(id).finally(() => this.loading.delete(id));
      this.loading.set(id, p);
    }
    return p;
  }

  private async fetchWriter(id: number): Promise<void> {
    let text: string;
    try {
      text = await this.client.schemaById(id);
    } catch (err) {
      if (err instanceof SchemaRegistryError && err.retriable) throw err;
      this.writers.set(id, { ok: false, error: decodeError(`writer schema ${id}: ${(err as Error).message}`, err) });
      return;
    }
    try {
      const writer = avro.Type.forSchema(JSON.parse(text) as avro.Schema);
      this.writers.set(id, { ok: true, resolver: this.readerType.createResolver(writer) });
    } catch (err) {
      this.writers.set(id, {
        ok: false,
        error: decodeError(`writer schema ${id} cannot be read as ours: ${(err as Error).message}`, err),
      });
    }
  }

  /** Decodes a framed value; undefined when the value is not in wire format. */
  decode(value: Buffer): Result<T> | undefined {
    const framed = unframe(value);
    if (!framed) return undefined;
    const writer = this.writers.get(framed.schemaId);
    if (!writer) {
      return fail(
        new ProcessorError('AVRO_DECODE', `writer schema ${framed.schemaId} was not loaded`, { retriable: true }),
      );
    }
    if (!writer.ok) return fail(writer.error);
    try {
      return ok(this.readerType.fromBuffer(framed.body, writer.resolver) as T);
    } catch (err) {
      return fail(decodeError(`not a value of writer schema ${framed.schemaId}: ${(err as Error).message}`, err));
    }
  }

  /** Loads the writer schema if needed and decodes; throws on failure. For consumers outside the processor. */
  async decodeAsync(value: Buffer): Promise<T> {
    await this.prefetch([value]);
    const r = this.decode(value);
    if (!r) throw new ProcessorError('AVRO_DECODE', 'value is not in Confluent wire format (magic byte 0)');
    if (!r.ok) throw r.error;
    return r.value;
  }

  /** Registers our schema under `<topic>-value` (idempotent at the registry); returns its id. */
  async register(topic: string): Promise<number> {
    const id = await this.client.register(valueSubject(topic), this.readerSchema);
    this.ids.set(topic, id);
    return id;
  }

  /** Wire format with the id registered for the topic; `register(topic)` must have run. */
  encode(topic: string, value: T): Buffer {
    const id = this.ids.get(topic);
    if (id === undefined) throw new Error(`no schema registered for topic ${topic}; call register() first`);
    return frame(id, this.readerType.toBuffer(value));
  }

  async encodeAsync(topic: string, value: T): Promise<Buffer> {
    if (!this.ids.has(topic)) await this.register(topic);
    return this.encode(topic, value);
  }
}

function decodeError(message: string, cause: unknown): ProcessorError {
  return new ProcessorError('AVRO_DECODE', message, { cause });
}
