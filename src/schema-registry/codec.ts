import avro from 'avsc';
import pLimit from 'p-limit';
import { fail, ok, ProcessorError, type Result } from '../errors.js';
import { type SchemaRegistryClient, SchemaRegistryError } from './client.js';
import { frame, unframe, valueSubject } from './wire-format.js';

type WriterEntry = { ok: true; resolver: avro.Resolver } | { ok: false; error: ProcessorError; expiresAt: number };

export interface RegistryCodecLimits {
  /** Writer schemas (and failures) remembered; the least recently used goes first. */
  maxEntries?: number;
  /** How long an id the registry did not have (or refused) is remembered as a failure. */
  negativeTtlMs?: number;
  /** Registry requests in flight at once. */
  concurrency?: number;
  /**
   * When set, only ids registered under this subject are read (the input topic's
   * `<topic>-value`): a value naming any other id is AVRO_DECODE without fetching it. The
   * subject's ids are read again on a miss, at most once per `subjectRefreshMs` (1 s).
   */
  subject?: string;
  subjectRefreshMs?: number;
}

/**
 * Whether a type can be encoded in zero bytes (null, an empty fixed, a record of such
 * fields). An array or map of those lets a block count of a few bytes make avsc loop for
 * billions of items without reading a byte: a writer schema with one is refused.
 */
function zeroSize(t: avro.Type, seen = new Set<avro.Type>()): boolean {
  if (seen.has(t)) return false;
  seen.add(t);
  const any = t as unknown as {
    typeName: string;
    size?: number;
    fields?: { type: avro.Type }[];
    underlyingType?: avro.Type;
  };
  if (any.underlyingType) return zeroSize(any.underlyingType, seen);
  switch (any.typeName) {
    case 'null':
      return true;
    case 'fixed':
      return any.size === 0;
    case 'record':
    case 'error':
      return (any.fields ?? []).every((f) => zeroSize(f.type, seen));
    default:
      return false;
  }
}

/** The path of an array or map of zero-size items in `t`, or undefined. */
export function spinningPart(t: avro.Type, path = '', seen = new Set<avro.Type>()): string | undefined {
  if (seen.has(t)) return undefined;
  seen.add(t);
  const any = t as unknown as {
    typeName: string;
    fields?: { name: string; type: avro.Type }[];
    itemsType?: avro.Type;
    valuesType?: avro.Type;
    types?: avro.Type[];
    underlyingType?: avro.Type;
  };
  if (any.underlyingType) return spinningPart(any.underlyingType, path, seen);
  // avsc names unions 'union:unwrapped' / 'union:wrapped'.
  switch (any.typeName.startsWith('union') ? 'union' : any.typeName) {
    case 'array':
      return zeroSize(any.itemsType!)
        ? `${path || '(root)'}: array of zero-size items`
        : spinningPart(any.itemsType!, `${path}[]`, seen);
    case 'map':
      return zeroSize(any.valuesType!)
        ? `${path || '(root)'}: map of zero-size values`
        : spinningPart(any.valuesType!, `${path}{}`, seen);
    case 'union':
      for (const u of any.types ?? []) {
        const found = spinningPart(u, path, seen);
        if (found) return found;
      }
      return undefined;
    case 'record':
    case 'error':
      for (const f of any.fields ?? []) {
        const found = spinningPart(f.type, path ? `${path}.${f.name}` : f.name, seen);
        if (found) return found;
      }
      return undefined;
    default:
      return undefined;
  }
}

/**
 * Avro with a Confluent-compatible registry for one reader schema (ours). Decoding resolves
 * each writer schema against the reader with avsc's `createResolver`, so a producer whose
 * schema evolved compatibly (an added optional field, say) is read without a redeploy.
 *
 * Network calls happen only in the async `prefetch`/`register`; `decode`/`encode` are
 * synchronous lookups so the hot path never waits on HTTP.
 */
export class AvroRegistryCodec<T> {
  /** Insertion order is recency order (an entry used is moved to the end): an LRU. */
  private readonly writers = new Map<number, WriterEntry>();
  private readonly loading = new Map<number, Promise<void>>();
  private readonly ids = new Map<string, number>();
  private readonly maxEntries: number;
  private readonly negativeTtlMs: number;
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly subject: string | undefined;
  private readonly subjectRefreshMs: number;
  private subjectIds = new Set<number>();
  private subjectReadAt = Number.NEGATIVE_INFINITY;
  private subjectReading: Promise<void> | undefined;
  /** Registry requests made (schemas by id and subject reads), for operators and tests. */
  requests = 0;

  constructor(
    private readonly client: SchemaRegistryClient,
    private readonly readerType: avro.Type,
    private readonly readerSchema: object,
    limits: RegistryCodecLimits = {},
  ) {
    this.maxEntries = limits.maxEntries ?? 1000;
    this.negativeTtlMs = limits.negativeTtlMs ?? 60_000;
    this.limit = pLimit(limits.concurrency ?? 4);
    this.subject = limits.subject;
    this.subjectRefreshMs = limits.subjectRefreshMs ?? 1000;
  }

  /** Entries remembered (bounded by maxEntries). */
  cachedSchemas(): number {
    return this.writers.size;
  }

  private entry(id: number): WriterEntry | undefined {
    const e = this.writers.get(id);
    if (!e) return undefined;
    if (!e.ok && e.expiresAt <= Date.now()) {
      this.writers.delete(id);
      return undefined;
    }
    this.writers.delete(id);
    this.writers.set(id, e);
    return e;
  }

  private remember(id: number, e: WriterEntry): void {
    this.writers.delete(id);
    this.writers.set(id, e);
    while (this.writers.size > this.maxEntries) this.writers.delete(this.writers.keys().next().value!);
  }

  private refused(id: number, error: ProcessorError): void {
    this.remember(id, { ok: false, error, expiresAt: Date.now() + this.negativeTtlMs });
  }

  /** Whether `id` is registered under the input subject, reading the subject again on a miss (rate-limited). */
  private async underSubject(id: number, seenAt: number): Promise<boolean> {
    if (!this.subject || this.subjectIds.has(id)) return true;
    // The id may have been registered after the last read: decide on a read that started
    // after it was seen, waiting for the next one allowed (one per subjectRefreshMs), so a
    // producer's new schema version is never refused, and unknown ids cost one read a period.
    while (this.subjectReadAt < seenAt) {
      if (!this.subjectReading) {
        const wait = this.subjectReadAt + this.subjectRefreshMs - Date.now();
        if (wait > 0) {
          await new Promise((r) => setTimeout(r, wait));
          continue;
        }
        const startedAt = Date.now();
        this.subjectReading = (async () => {
          try {
            this.requests++;
            this.subjectIds = await this.limit(() => this.client.idsUnderSubject(this.subject!));
            this.subjectReadAt = startedAt;
          } finally {
            this.subjectReading = undefined;
          }
        })();
      }
      await this.subjectReading;
    }
    return this.subjectIds.has(id);
  }

  /**
   * Loads the writer schemas of framed values not seen yet. A registry that cannot be reached
   * throws (the caller retries, nothing is dead-lettered for an outage); an id the registry
   * does not know, a non-Avro or an incompatible schema is remembered as a decode failure.
   */
  async prefetch(values: Iterable<Buffer | null | undefined>): Promise<void> {
    const wanted = new Set<number>();
    for (const v of values) {
      const framed = v ? unframe(v) : undefined;
      if (framed && !this.entry(framed.schemaId)) wanted.add(framed.schemaId);
    }
    const seenAt = Date.now();
    await Promise.all([...wanted].map((id) => this.load(id, seenAt)));
  }

  private load(id: number, seenAt: number): Promise<void> {
    let p = this.loading.get(id);
    if (!p) {
      p = this.fetchWriter(id, seenAt).finally(() => this.loading.delete(id));
      this.loading.set(id, p);
    }
    return p;
  }

  private async fetchWriter(id: number, seenAt: number): Promise<void> {
    if (!(await this.underSubject(id, seenAt))) {
      this.refused(id, decodeError(`schema id ${id} is not registered under subject ${this.subject}`, undefined));
      return;
    }
    let text: string;
    try {
      this.requests++;
      text = await this.limit(() => this.client.schemaById(id));
    } catch (err) {
      if (err instanceof SchemaRegistryError && err.retriable) throw err;
      this.refused(id, decodeError(`writer schema ${id}: ${(err as Error).message}`, err));
      return;
    }
    try {
      const writer = avro.Type.forSchema(JSON.parse(text) as avro.Schema);
      const spin = spinningPart(writer);
      if (spin) {
        this.refused(id, decodeError(`writer schema ${id} is refused: ${spin} (decoding could spin)`, undefined));
        return;
      }
      this.remember(id, { ok: true, resolver: this.readerType.createResolver(writer) });
    } catch (err) {
      this.refused(id, decodeError(`writer schema ${id} cannot be read as ours: ${(err as Error).message}`, err));
    }
  }

  /** Decodes a framed value; undefined when the value is not in wire format. */
  decode(value: Buffer): Result<T> | undefined {
    const framed = unframe(value);
    if (!framed) return undefined;
    const writer = this.entry(framed.schemaId);
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
    if (id === undefined)
      throw new ProcessorError(
        'SCHEMA_NOT_REGISTERED',
        `no schema registered for topic ${topic}; call register() first`,
      );
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
