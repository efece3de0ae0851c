/**
 * A SignupEvent read from its Avro binary by hand, for the schema of schemas/SignupEvent.avsc:
 * the same value, or the same refusal (the same Error message), as avsc's
 * `signupEventType.fromBuffer` for any bytes (test/contract/signup-reader.test.ts compares
 * them over generated, truncated, corrupted and random values).
 *
 * Why by hand: every input record is decoded once on the processor's hot path. avsc builds a
 * Tap per value, reads each field through a type object's method, and decodes each string
 * with a call into C++ (`utf8Slice`). Here the bytes are read in one function, and an ASCII
 * string (nearly every field) of up to 32 bytes is made in JavaScript; longer or non-ASCII
 * ones are decoded by Node as avsc does.
 *
 * To refuse exactly what avsc refuses, the reads follow avsc's (lib/utils.js `Tap`) step by
 * step: a read past the end sees `undefined` bytes (which read as 0) and the value is refused
 * as truncated only once all fields are read; a negative string length moves the position past
 * the end; a union index other than 0 or 1 and a long outside ±(2^53 - 2) throw where they
 * are read.
 *
 * The reader is only used while the schema's parsing canonical form is the one it was written
 * for (SIGNUP_SCHEMA_FINGERPRINT); otherwise `decodeSignupEvent` (schemas.ts) keeps to avsc.
 */
import type { SignupEvent } from './record-types.js';

/** SHA-256 of the parsing canonical form of the SignupEvent schema this reader follows. */
export const SIGNUP_SCHEMA_FINGERPRINT = '25f055aa52cdfdca8ea409770a214acf8394247dbf2d1ab46c8d4f5572b244f9';

/** Node's Buffer methods avsc itself uses; not in @types/node. */
type NodeBuffer = Buffer & { utf8Slice(start: number, end: number): string };

let buf: NodeBuffer;
let pos = 0;

/** avsc's `Tap.readLong`, bytes past the end reading as 0 (`undefined & 0x7f`). */
function readLong(): number {
  const b0 = buf;
  let n = 0;
  let k = 0;
  let b: number;
  let h: number;
  do {
    b = b0[pos++] as number;
    h = b & 0x80;
    n |= (b & 0x7f) << k;
    k += 7;
  } while (h && k < 28);
  if (h) {
    // Past 28 bits, float arithmetic (as avsc), so long varints give avsc's value, NaN or Infinity included.
    let f = n;
    let fk = 268435456;
    do {
      b = b0[pos++] as number;
      f += (b & 0x7f) * fk;
      fk *= 128;
    } while (b & 0x80);
    return (f % 2 ? -(f + 1) : f) / 2;
  }
  return (n >> 1) ^ -(n & 1);
}

/** avsc's `Tap.readString`: undefined when it runs past the end (the value is then refused as truncated). */
function readString(): string | undefined {
  const len = readLong();
  if (len < 0) {
    pos = buf.length + 1;
    return '';
  }
  const p = pos;
  pos += len;
  if (pos > buf.length) return undefined;
  // Also a length that is not a number (a NaN varint): avsc's own call, with its outcome.
  return buf.utf8Slice(p, pos);
}

/**
 * The strings last read for the optional fields (source, locale), by a hash of their bytes:
 * these come from a small vocabulary ("web", "ios", "en-US"), so most values are a string
 * already made. A hit is compared byte for byte; only strings of one unit per byte are kept (ASCII, or U+FFFD units, which match no byte), so a hit is exact.
 */
const VOCABULARY_SLOTS = 64;
const MAX_VOCABULARY_BYTES = 24;
const vocabulary: (string | undefined)[] = new Array(VOCABULARY_SLOTS).fill(undefined);

function readVocabularyString(): string | undefined {
  const start = pos;
  const len = readLong();
  if (!(len > 0 && len <= MAX_VOCABULARY_BYTES) || pos + len > buf.length) {
    pos = start;
    return readString();
  }
  const p = pos;
  const end = p + len;
  const slot = (len * 31 + (buf[p] as number) * 7 + (buf[end - 1] as number)) & (VOCABULARY_SLOTS - 1);
  const known = vocabulary[slot];
  if (known !== undefined && known.length === len) {
    let i = 0;
    while (i < len && known.charCodeAt(i) === buf[p + i]) i++;
    if (i === len) {
      pos = end;
      return known;
    }
  }
  pos = end;
  const s = buf.utf8Slice(p, end);
  // As many units as bytes: ASCII (a non-ASCII string is fewer units), so a later hit compares bytes to units.
  if (s.length === len) vocabulary[slot] = s;
  return s;
}

/** avsc's unwrapped ["null", "string"] union. */
function readOptionalString(): string | null | undefined {
  const index = readLong();
  if (index === 0) return null;
  if (index === 1) return readVocabularyString();
  throw new Error(`invalid union index: ${index}`);
}

/** avsc's long type: a value past ±(2^53 - 2) is refused (NaN too). */
function readSafeLong(): number {
  const n = readLong();
  if (!(n >= -9007199254740990 && n <= 9007199254740990)) throw new Error('potential precision loss');
  return n;
}

/**
 * The SignupEvent in `value`, all of it: throws an Error with avsc's message ("truncated
 * buffer", "trailing data", "invalid union index: N", "potential precision loss") otherwise.
 */
export function readSignupEvent(value: Buffer): SignupEvent {
  buf = value as NodeBuffer;
  pos = 0;
  try {
    // Fields in schema order (as avsc's generated reader evaluates its arguments).
    const eventId = readString();
    const userId = readString();
    const email = readString();
    const occurredAt = readSafeLong();
    const source = readOptionalString();
    const locale = readOptionalString();
    if (!(pos <= value.length)) throw new Error('truncated buffer');
    if (pos < value.length) throw new Error('trailing data');
    return {
      eventId: eventId as string,
      userId: userId as string,
      email: email as string,
      occurredAt,
      source: source as string | null,
      locale: locale as string | null,
    };
  } finally {
    // The record's bytes are not kept alive by the reader.
    buf = EMPTY;
  }
}

const EMPTY = Buffer.alloc(0) as NodeBuffer;
buf = EMPTY;
