/**
 * Every Kafka compression codec, each decompressing under an output cap.
 *
 * KafkaJS 2.2.4 implements only gzip, and gzip without a cap (a 1 MiB batch can inflate to
 * ~1 GiB); snappy, lz4 and zstd throw `KafkaJSNotImplemented`, which stops the consumer on
 * every restart. Here: gzip and zstd from `node:zlib` (in the thread pool, `maxOutputLength`),
 * snappy from `snappy` (napi-rs; the raw format states its length up front, checked first;
 * snappyjs was dropped: a 4-byte literal length can be negative there and loop forever),
 * lz4 frames parsed here and their blocks decoded by `lz4-napi` (lz4_flex), each block into
 * a buffer of the frame's block size, so no block can write past it.
 *
 * The same codecs compress for our producers (`KAFKA_PRODUCER_COMPRESSION`).
 */
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { compressFrameSync, uncompressSync as lz4Block } from 'lz4-napi';
import { compressSync as snappyCompress, uncompressSync as snappyUncompress } from 'snappy';

/** The codec ids of a record batch's attributes (bits 0-2). */
export const CODECS = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export type CodecName = keyof typeof CODECS;
export const CODEC_NAMES: readonly CodecName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

export function codecName(id: number): string {
  return CODEC_NAMES[id] ?? `unknown(${id})`;
}

/** Why a batch could not be decompressed: the reason goes into its dead letter. */
export class DecompressError extends Error {
  constructor(
    readonly kind: 'unknown-codec' | 'over-cap' | 'corrupt',
    message: string,
  ) {
    super(message);
    this.name = 'DecompressError';
  }
}

const unzip = promisify(zlib.unzip);
// zstd is in node:zlib from Node 22.15 / 23.8; on an older Node a zstd batch is undecodable, not a crash at load.
const zstdDecompress = zlib.zstdDecompress ? promisify(zlib.zstdDecompress) : undefined;
const gzip = promisify(zlib.gzip);
const zstdCompress = zlib.zstdCompress ? promisify(zlib.zstdCompress) : undefined;

function overCap(cap: number): DecompressError {
  return new DecompressError('over-cap', `decompressed size exceeds the ${cap}-byte cap`);
}

async function viaZlib(run: () => Promise<Buffer>, cap: number, name: string): Promise<Buffer> {
  try {
    return await run();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw overCap(cap);
    throw new DecompressError('corrupt', `${name}: ${(err as Error).message}`);
  }
}

// ---- snappy -------------------------------------------------------------------------------

/** snappy-java's stream header: Java clients (and Kafka brokers) frame snappy this way. */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;

/** The uncompressed length a raw snappy block states (its varint preamble), or -1. */
function snappyLength(buf: Buffer, at: number, end: number): number {
  let result = 0;
  let shift = 0;
  for (let i = at; i < end && shift <= 28; i++, shift += 7) {
    const b = buf[i]!;
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return result;
  }
  return -1;
}

function snappyBlock(buf: Buffer, budget: number, cap: number): Buffer {
  const length = snappyLength(buf, 0, buf.length);
  if (length < 0) throw new DecompressError('corrupt', 'snappy: invalid length preamble');
  if (length > budget) throw overCap(cap);
  try {
    // The stated length is checked above; the Rust decoder holds the output to it.
    return snappyUncompress(buf, { asBuffer: true }) as Buffer;
  } catch (err) {
    throw new DecompressError('corrupt', `snappy: ${(err as Error).message}`);
  }
}

function decompressSnappy(buf: Buffer, cap: number): Buffer {
  if (buf.length < XERIAL_HEADER_BYTES || !buf.subarray(0, 8).equals(XERIAL_MAGIC)) return snappyBlock(buf, cap, cap);
  // Framed: [magic 8][version 4][compatible 4] then chunks of [length int32 BE][raw snappy].
  const chunks: Buffer[] = [];
  let total = 0;
  let at = XERIAL_HEADER_BYTES;
  while (at < buf.length) {
    if (at + 4 > buf.length) throw new DecompressError('corrupt', 'snappy: truncated chunk length');
    const n = buf.readInt32BE(at);
    at += 4;
    if (n < 0 || at + n > buf.length) throw new DecompressError('corrupt', 'snappy: truncated chunk');
    const out = snappyBlock(buf.subarray(at, at + n), cap - total, cap);
    at += n;
    total += out.length;
    chunks.push(out);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}

// ---- lz4 ----------------------------------------------------------------------------------

const LZ4_MAGIC = 0x184d2204;
const LZ4_BLOCK_SIZES: Record<number, number> = { 4: 65_536, 5: 262_144, 6: 1_048_576, 7: 4_194_304 };
/** A dependent block may refer back this far into what came before it. */
const LZ4_WINDOW = 65_536;

/**
 * An LZ4 frame (the format Kafka uses since message format v1), block by block: each block
 * is decoded into at most the frame's block size, and the running total is held to the cap.
 */
async function decompressLz4(buf: Buffer, cap: number): Promise<Buffer> {
  const corrupt = (why: string) => new DecompressError('corrupt', `lz4: ${why}`);
  if (buf.length < 7 || buf.readUInt32LE(0) !== LZ4_MAGIC) throw corrupt('not an LZ4 frame (bad magic)');
  const flg = buf[4]!;
  if (flg >> 6 !== 1) throw corrupt(`unsupported frame version ${flg >> 6}`);
  const independent = (flg & 0x20) !== 0;
  const blockChecksum = (flg & 0x10) !== 0;
  const contentSize = (flg & 0x08) !== 0;
  const dictId = (flg & 0x01) !== 0;
  if (dictId) throw corrupt('frames with a dictionary id are not supported');
  const blockMax = LZ4_BLOCK_SIZES[(buf[5]! >> 4) & 0x07];
  if (!blockMax) throw corrupt('invalid block size');
  let at = 6;
  if (contentSize) {
    if (at + 8 > buf.length) throw corrupt('truncated header');
    const stated = Number(buf.readBigUInt64LE(at));
    if (stated > cap) throw overCap(cap);
    at += 8;
  }
  at += 1; // header checksum
  const chunks: Buffer[] = [];
  let total = 0;
  const prefix = Buffer.allocUnsafe(4);
  prefix.writeUInt32LE(blockMax);
  for (;;) {
    if (at + 4 > buf.length) throw corrupt('truncated block header');
    const word = buf.readUInt32LE(at);
    at += 4;
    if (word === 0) break; // end mark
    const size = word & 0x7fffffff;
    if (size > blockMax || at + size > buf.length) throw corrupt('block larger than the frame allows');
    const data = buf.subarray(at, at + size);
    at += size + (blockChecksum ? 4 : 0);
    let out: Buffer;
    if ((word & 0x80000000) !== 0) out = data;
    else {
      try {
        // lz4-napi takes a size-prepended block: the prefix bounds its output buffer.
        const dict = independent || chunks.length === 0 ? undefined : lastBytes(chunks, LZ4_WINDOW);
        // Synchronous: a block is at most 4 MiB of native decoding (~1 ms).
        out = lz4Block(Buffer.concat([prefix, data]), dict);
      } catch (err) {
        throw corrupt((err as Error).message);
      }
    }
    total += out.length;
    if (total > cap) throw overCap(cap);
    chunks.push(out);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}

function lastBytes(chunks: Buffer[], n: number): Buffer {
  const parts: Buffer[] = [];
  let have = 0;
  for (let i = chunks.length - 1; i >= 0 && have < n; i--) {
    parts.unshift(chunks[i]!);
    have += chunks[i]!.length;
  }
  const all = Buffer.concat(parts);
  return all.subarray(Math.max(0, all.length - n));
}

// ---- public -------------------------------------------------------------------------------

/**
 * The records section of a compressed batch, decompressed; at most `cap` bytes, else a
 * DecompressError('over-cap'). Never returns more than the cap, never hangs on bad input.
 */
export async function decompress(codec: number, buf: Buffer, cap: number): Promise<Buffer> {
  switch (codec) {
    case CODECS.gzip:
      return viaZlib(() => unzip(buf, { maxOutputLength: cap }), cap, 'gzip');
    case CODECS.zstd:
      if (!zstdDecompress)
        throw new DecompressError('unknown-codec', `zstd needs Node >= 22.15 (this is ${process.version})`);
      return viaZlib(() => zstdDecompress(buf, { maxOutputLength: cap }), cap, 'zstd');
    case CODECS.snappy:
      return decompressSnappy(buf, cap);
    case CODECS.lz4:
      return decompressLz4(buf, cap);
    default:
      throw new DecompressError('unknown-codec', `unknown compression codec ${codec}`);
  }
}

export async function compress(codec: Exclude<CodecName, 'none'>, buf: Buffer): Promise<Buffer> {
  switch (codec) {
    case 'gzip':
      return gzip(buf);
    case 'zstd':
      if (!zstdCompress) throw new Error(`zstd needs Node >= 22.15 (this is ${process.version})`);
      return zstdCompress(buf);
    case 'snappy':
      // Raw snappy, as librdkafka writes it; Java clients and brokers read both forms.
      return snappyCompress(buf);
    case 'lz4':
      return compressFrameSync(buf);
  }
}

/**
 * Makes snappy, lz4 and zstd (and our gzip) available to KafkaJS producers of this process
 * (`sendBatch({ compression })`), through KafkaJS's public codec table. Decompression in the
 * consumer does not go through it: see batch-decoder.ts.
 */
export function registerCompressionCodecs(codecs: Record<number, () => unknown> = kafkajsCodecs()): void {
  for (const name of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
    const codec = {
      compress: (encoder: { buffer: Buffer }) => compress(name, encoder.buffer),
      // Only legacy message sets (format v0/v1) decompress through here.
      decompress: (buf: Buffer) => decompress(CODECS[name], buf, DEFAULT_LEGACY_CAP),
    };
    codecs[CODECS[name]] = () => codec;
  }
}

const DEFAULT_LEGACY_CAP = 16 * 1024 * 1024;

/** KafkaJS's codec table (`CompressionCodecs`; a CommonJS export ESM cannot name). */
export function kafkajsCodecs(): Record<number, () => unknown> {
  return (createRequire(import.meta.url)('kafkajs') as { CompressionCodecs: Record<number, () => unknown> })
    .CompressionCodecs;
}
