/** A small client for the Confluent Schema Registry REST API (what Karapace and Apicurio's ccompat API serve too). */
import { ProcessorError } from '../errors.js';

export interface SchemaRegistryClientOptions {
  /** Base URL, including a path prefix if the registry has one (e.g. Apicurio's /apis/ccompat/v7). */
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  timeoutMs?: number;
}

/** SCHEMA_REGISTRY_FAILED: a request the registry refused, or could not answer. */
export class SchemaRegistryError extends ProcessorError {
  /** HTTP status, or 0 when the registry could not be reached. */
  readonly status: number;
  /** The registry's own error code (e.g. 40403 schema not found), when it sent one. */
  readonly errorCode: number | undefined;

  constructor(message: string, status: number, errorCode?: number, cause?: unknown) {
    // Not found (or not a schema we can read) stays so; anything else may pass.
    const retriable = status === 0 || status === 408 || status === 429 || status >= 500;
    super('SCHEMA_REGISTRY_FAILED', message, { cause, retriable });
    this.name = 'SchemaRegistryError';
    this.status = status;
    this.errorCode = errorCode;
  }
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

export class SchemaRegistryClient {
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;

  constructor(options: SchemaRegistryClientOptions) {
    // Credentials in the URL (`https://user:pass@registry`) move to the Authorization header:
    // fetch refuses such URLs with an error that quotes them, and requests, errors and HTTP
    // client spans then carry the URL without them.
    const url = new URL(options.url);
    const fromUrl =
      url.username || url.password
        ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) }
        : undefined;
    url.username = '';
    url.password = '';
    this.base = url.href.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.headers = { accept: `${CONTENT_TYPE}, application/json` };
    const username = options.username ?? fromUrl?.username;
    const password = options.username !== undefined ? options.password : fromUrl?.password;
    if (username !== undefined) {
      const token = Buffer.from(`${username}:${password ?? ''}`).toString('base64');
      this.headers.authorization = `Basic ${token}`;
    }
  }

  /** The schema text of a registered id (GET /schemas/ids/{id}); only Avro schemas are accepted. */
  async schemaById(id: number): Promise<string> {
    const body = (await this.request('GET', `/schemas/ids/${id}`)) as { schema?: unknown; schemaType?: unknown };
    if (body.schemaType !== undefined && body.schemaType !== 'AVRO') {
      throw new SchemaRegistryError(`schema ${id} is ${String(body.schemaType)}, not Avro`, 200);
    }
    if (typeof body.schema !== 'string') throw new SchemaRegistryError(`schema ${id}: no schema in the answer`, 200);
    return body.schema;
  }

  /**
   * The ids of every version registered under a subject (GET /subjects/{s}/versions, then
   * each version); empty when the subject does not exist.
   */
  async idsUnderSubject(subject: string, concurrency = 4): Promise<Set<number>> {
    const path = `/subjects/${encodeURIComponent(subject)}/versions`;
    let versions: unknown;
    try {
      versions = await this.request('GET', path);
    } catch (err) {
      if (err instanceof SchemaRegistryError && err.status === 404) return new Set();
      throw err;
    }
    if (!Array.isArray(versions)) throw new SchemaRegistryError(`${path}: not a list of versions`, 200);
    const ids = new Set<number>();
    const queue = versions.filter((v): v is number => Number.isInteger(v));
    const worker = async () => {
      for (let v = queue.shift(); v !== undefined; v = queue.shift()) {
        const body = (await this.request('GET', `${path}/${v}`)) as { id?: unknown };
        if (typeof body.id === 'number') ids.add(body.id);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
    return ids;
  }

  /**
   * Registers a schema under a subject, or finds it if it is already there (the registry
   * answers the existing id); returns the schema id.
   */
  async register(subject: string, schema: object | string): Promise<number> {
    const text = typeof schema === 'string' ? schema : JSON.stringify(schema);
    const body = (await this.request('POST', `/subjects/${encodeURIComponent(subject)}/versions`, {
      schema: text,
    })) as { id?: unknown };
    if (typeof body.id !== 'number') throw new SchemaRegistryError(`register ${subject}: no id in the answer`, 200);
    return body.id;
  }

  private async request(method: 'GET' | 'POST', path: string, json?: unknown): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: json === undefined ? this.headers : { ...this.headers, 'content-type': CONTENT_TYPE },
        ...(json === undefined ? {} : { body: JSON.stringify(json) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new SchemaRegistryError(`schema registry unreachable: ${(err as Error).message}`, 0, undefined, err);
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      body = { message: text.slice(0, 200) };
    }
    if (!res.ok) {
      const b = body as { error_code?: unknown; message?: unknown };
      throw new SchemaRegistryError(
        `schema registry ${method} ${path}: ${res.status} ${typeof b.message === 'string' ? b.message : ''}`.trim(),
        res.status,
        typeof b.error_code === 'number' ? b.error_code : undefined,
      );
    }
    return body;
  }
}
