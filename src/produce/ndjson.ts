import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { type SignupEvent, signupEventType } from '../contract/schemas.js';
import { ProcessorError } from '../errors.js';
import type { WireFormat } from './publish-signups.js';

/** One line of a sign-up file, ready to send. */
export interface FileSignup {
  /** The event as the Avro schema has it (occurredAt in epoch milliseconds). */
  event: SignupEvent;
  /** The object as written in the file, with eventId/userId/occurredAt filled in if absent: JSON sends this. */
  object: Record<string, unknown>;
}

export interface LineProblem {
  line: number;
  message: string;
}

const SCHEMA_FIELDS = new Set(['eventId', 'userId', 'email', 'occurredAt', 'source', 'locale']);
// An ISO 8601 date-time (or date), as the processor's JSON decoder reads occurredAt.
const ISO_8601 = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Checks one NDJSON line and builds its sign-up. Every field is kept: with JSON the object
 * goes out as written; with Avro a field the schema does not have is an error, since Avro
 * could not carry it.
 */
export function parseSignupLine(text: string, line: number, format: WireFormat): FileSignup | LineProblem {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (err) {
    return { line, message: `not JSON: ${(err as Error).message}` };
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return { line, message: 'not a JSON object' };
  const obj = o as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof obj.email !== 'string' || obj.email.trim() === '') problems.push('"email" must be a non-empty string');
  for (const f of ['eventId', 'userId'] as const)
    if (obj[f] !== undefined && typeof obj[f] !== 'string') problems.push(`"${f}" must be a string`);
  for (const f of ['source', 'locale'] as const)
    if (obj[f] !== undefined && obj[f] !== null && typeof obj[f] !== 'string')
      problems.push(`"${f}" must be a string or null`);
  let occurredAt = Date.now();
  const at = obj.occurredAt;
  if (typeof at === 'number') {
    if (!Number.isSafeInteger(at) || at < 0) problems.push('"occurredAt" must be epoch milliseconds (a whole number)');
    else occurredAt = at;
  } else if (typeof at === 'string') {
    const ms = ISO_8601.test(at.trim()) ? Date.parse(at) : Number.NaN;
    if (Number.isNaN(ms)) problems.push(`"occurredAt" ${JSON.stringify(at)} is not an ISO 8601 time`);
    else occurredAt = ms;
  } else if (at !== undefined) {
    problems.push('"occurredAt" must be epoch milliseconds or an ISO 8601 string');
  }
  if (format === 'avro') {
    const extra = Object.keys(obj).filter((k) => !SCHEMA_FIELDS.has(k));
    if (extra.length > 0)
      problems.push(
        `field${extra.length > 1 ? 's' : ''} ${extra.map((k) => JSON.stringify(k)).join(', ')} not in the SignupEvent schema (--format json keeps them)`,
      );
  }
  if (problems.length > 0) return { line, message: problems.join('; ') };
  const event: SignupEvent = {
    eventId: typeof obj.eventId === 'string' ? obj.eventId : `ndjson-${line}`,
    userId: typeof obj.userId === 'string' ? obj.userId : `user-${line}`,
    email: obj.email as string,
    occurredAt,
    source: typeof obj.source === 'string' ? obj.source : null,
    locale: typeof obj.locale === 'string' ? obj.locale : null,
  };
  const bad: string[] = [];
  signupEventType.isValid(event, { errorHook: (path) => bad.push(path.join('.')) });
  if (bad.length > 0) return { line, message: `not a valid SignupEvent: ${bad.join(', ')}` };
  return {
    event,
    object: {
      ...obj,
      eventId: event.eventId,
      userId: event.userId,
      occurredAt: obj.occurredAt ?? event.occurredAt,
    },
  };
}

export function isProblem(x: FileSignup | LineProblem): x is LineProblem {
  return 'message' in x;
}

async function* lines(path: string): AsyncGenerator<{ text: string; line: number }> {
  const rl = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  for await (const text of rl) {
    line++;
    if (text.trim() !== '') yield { text, line };
  }
}

/** Reads the whole file once and reports every bad line (its number and why) and how many are good. */
export async function checkSignupFile(
  path: string,
  format: WireFormat,
): Promise<{ count: number; problems: LineProblem[] }> {
  const problems: LineProblem[] = [];
  let count = 0;
  for await (const { text, line } of lines(path)) {
    const r = parseSignupLine(text, line, format);
    if (isProblem(r)) problems.push(r);
    else count++;
  }
  return { count, problems };
}

/** The sign-ups of a file that `checkSignupFile` passed. */
export async function* readSignupFile(path: string, format: WireFormat): AsyncGenerator<FileSignup> {
  for await (const { text, line } of lines(path)) {
    const r = parseSignupLine(text, line, format);
    // Changed since it was checked.
    if (isProblem(r)) throw new ProcessorError('INPUT_FILE_INVALID', `${path}:${r.line}: ${r.message}`);
    yield r;
  }
}
