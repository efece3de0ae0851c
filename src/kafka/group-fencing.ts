/**
 * Consumer-group fencing of transactional offset commits (KIP-447) for KafkaJS 2.2.4.
 *
 * KafkaJS sends TxnOffsetCommit v1, which carries no group generation: a member that lost a
 * partition in a rebalance can still commit a transaction for it, and its results become
 * visible next to those of the partition's new owner. From v3 on, the request carries the
 * member's generation id, member id and group instance id, and the group coordinator rejects
 * the offsets of a member that is not in the group's current generation (ILLEGAL_GENERATION,
 * UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID): then the whole transaction is aborted.
 *
 * The other half of KIP-447 is on the reading side: a partition's new owner must not start
 * from the committed offset while a transaction of the old owner that commits offsets for
 * it is still open. OffsetFetch v7 with `require_stable` answers UNSTABLE_OFFSET_COMMIT for
 * such a partition, and KafkaJS's consumer retries the fetch until that transaction ended.
 *
 * KafkaJS picks, for each request, the highest version both it and the broker implement,
 * from the `versions` of its request definition, at the time of each call. Installing adds
 * TxnOffsetCommit v3 and OffsetFetch v7 to those definitions (v3 and v7 are flexible
 * versions: compact strings and arrays, tagged fields, request header v2, response header
 * v1). Written by hand: no library speaks these versions for KafkaJS.
 *
 * - TxnOffsetCommit v3 carries the membership registered for the request's transactional id
 *   (`setTransactionalMember`); without one it sends generation -1, member "" and no
 *   instance id, which the broker treats as v1 did.
 * - OffsetFetch v7 asks for stable offsets for the groups registered with
 *   `requireStableOffsets`; for any other group it is what v4 was.
 *
 * KafkaJS's consumer keeps its generation in an object of its own that the consumer does not
 * expose: `consumerGeneration` finds it through a wrapper around `joinAndSync`.
 */
import { createRequire } from 'node:module';
import { kafkajsMismatch } from './kafkajs-module.js';

const require = createRequire(import.meta.url);

const TXN_OFFSET_COMMIT = 28;
const OFFSET_FETCH = 9;
export const TXN_OFFSET_COMMIT_VERSION = 3;
export const OFFSET_FETCH_VERSION = 7;

interface KafkaJSEncoder {
  buf: Buffer;
  buffer: Buffer;
  writeInt8(v: number): KafkaJSEncoder;
  writeInt16(v: number): KafkaJSEncoder;
  writeInt32(v: number): KafkaJSEncoder;
  writeInt64(v: string | number): KafkaJSEncoder;
  writeBoolean(v: boolean): KafkaJSEncoder;
  writeUVarInt(v: number): KafkaJSEncoder;
  writeUVarIntString(v: string | null): KafkaJSEncoder;
  writeEncoder(e: KafkaJSEncoder): KafkaJSEncoder;
}
interface KafkaJSDecoder {
  offset: number;
  readInt16(): number;
  readInt32(): number;
  readInt64(): { toString(): string };
  readUVarInt(): number;
  readUVarIntString(): string | null;
  readUVarIntArray<T>(reader: (d: KafkaJSDecoder) => T): T[] | null;
}

const Encoder = require('kafkajs/src/protocol/encoder.js') as new () => KafkaJSEncoder;
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => KafkaJSDecoder;
const { failure, createErrorFromCode } = require('kafkajs/src/protocol/error.js') as {
  failure(code: number): boolean;
  createErrorFromCode(code: number): Error;
};

/** What the group coordinator checks a transactional offset commit against. */
export interface GroupMember {
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
}

export interface TxnOffsetCommitArgs {
  transactionalId: string;
  groupId: string;
  producerId: number | string;
  producerEpoch: number;
  topics: { topic: string; partitions: { partition: number; offset: string; metadata?: string | null }[] }[];
}

export interface OffsetFetchArgs {
  groupId: string;
  topics: { topic: string; partitions: { partition: number }[] }[] | null;
}

/** A compact array: length + 1 as an unsigned varint, then the elements. */
function compactArray<T>(e: KafkaJSEncoder, items: readonly T[], write: (e: KafkaJSEncoder, item: T) => void): void {
  e.writeUVarInt(items.length + 1);
  for (const item of items) write(e, item);
}

/** An empty tagged-field section. */
const noTags = (e: KafkaJSEncoder) => e.writeUVarInt(0);

/** Skips a tagged-field section: count, then for each a tag, a size and that many bytes. */
function skipTags(d: KafkaJSDecoder): void {
  const n = d.readUVarInt();
  for (let i = 0; i < n; i++) {
    d.readUVarInt();
    d.offset += d.readUVarInt();
  }
}

/**
 * The body of TxnOffsetCommit v3, preceded by the request header's empty tagged fields
 * (KafkaJS writes header v1 — api key, version, correlation id, client id — and v2 adds only
 * those tagged fields after it).
 */
export function encodeTxnOffsetCommitV3(args: TxnOffsetCommitArgs, member: GroupMember | undefined): Buffer {
  const e = new Encoder();
  noTags(e); // request header v2
  e.writeUVarIntString(args.transactionalId)
    .writeUVarIntString(args.groupId)
    .writeInt64(String(args.producerId))
    .writeInt16(args.producerEpoch)
    .writeInt32(member?.generationId ?? -1)
    .writeUVarIntString(member?.memberId ?? '')
    .writeUVarIntString(member?.groupInstanceId ?? null);
  compactArray(e, args.topics, (e, t) => {
    e.writeUVarIntString(t.topic);
    compactArray(e, t.partitions, (e, p) => {
      e.writeInt32(p.partition)
        .writeInt64(String(p.offset))
        .writeInt32(-1) // committed leader epoch: unknown
        .writeUVarIntString(p.metadata ?? null);
      noTags(e);
    });
    noTags(e);
  });
  noTags(e);
  return e.buffer;
}

export interface TxnOffsetCommitResponse {
  throttleTime: number;
  clientSideThrottleTime: number;
  topics: { topic: string; partitions: { partition: number; errorCode: number }[] }[];
}

/** TxnOffsetCommit v3 response, after the correlation id (response header v1 adds tagged fields). */
export function decodeTxnOffsetCommitV3(payload: Buffer): TxnOffsetCommitResponse {
  const d = new Decoder(payload);
  skipTags(d); // response header v1
  const throttle = d.readInt32();
  const topics =
    d.readUVarIntArray((d) => {
      const topic = d.readUVarIntString() ?? '';
      const partitions =
        d.readUVarIntArray((d) => {
          const p = { partition: d.readInt32(), errorCode: d.readInt16() };
          skipTags(d);
          return p;
        }) ?? [];
      skipTags(d);
      return { topic, partitions };
    }) ?? [];
  skipTags(d);
  // Brokers answer before throttling from v1 on (KIP-219): the client waits instead.
  return { throttleTime: 0, clientSideThrottleTime: throttle, topics };
}

export function encodeOffsetFetchV7(args: OffsetFetchArgs, requireStable: boolean): Buffer {
  const e = new Encoder();
  noTags(e); // request header v2
  e.writeUVarIntString(args.groupId);
  // A null array asks for every topic the group committed.
  if (args.topics == null) e.writeUVarInt(0);
  else
    compactArray(e, args.topics, (e, t) => {
      e.writeUVarIntString(t.topic);
      compactArray(e, t.partitions, (e, p) => e.writeInt32(p.partition));
      noTags(e);
    });
  e.writeBoolean(requireStable);
  noTags(e);
  return e.buffer;
}

export interface OffsetFetchResponse {
  throttleTime: number;
  clientSideThrottleTime: number;
  responses: {
    topic: string;
    partitions: { partition: number; offset: string; metadata: string | null; errorCode: number }[];
  }[];
  errorCode: number;
}

export function decodeOffsetFetchV7(payload: Buffer): OffsetFetchResponse {
  const d = new Decoder(payload);
  skipTags(d); // response header v1
  const throttle = d.readInt32();
  const responses =
    d.readUVarIntArray((d) => {
      const topic = d.readUVarIntString() ?? '';
      const partitions =
        d.readUVarIntArray((d) => {
          const partition = d.readInt32();
          const offset = d.readInt64().toString();
          d.readInt32(); // committed leader epoch
          const metadata = d.readUVarIntString();
          const errorCode = d.readInt16();
          skipTags(d);
          return { partition, offset, metadata, errorCode };
        }) ?? [];
      skipTags(d);
      return { topic, partitions };
    }) ?? [];
  const errorCode = d.readInt16();
  skipTags(d);
  return { throttleTime: 0, clientSideThrottleTime: throttle, responses, errorCode };
}

/** KafkaJS's errors for a response: the first failing partition's (or the top-level) code. */
function throwOnError(codes: number[]): void {
  const code = codes.find((c) => failure(c));
  if (code !== undefined) throw createErrorFromCode(code);
}

const members = new Map<string, GroupMember>();
const stableGroups = new Set<string>();

/** The membership TxnOffsetCommit sends for this transactional id from now on (undefined: none). */
export function setTransactionalMember(transactionalId: string, member: GroupMember | undefined): void {
  if (member) members.set(transactionalId, member);
  else members.delete(transactionalId);
}

/** Consumers of this group (in this process) fetch committed offsets only once stable. */
export function requireStableOffsets(groupId: string, on = true): void {
  if (on) stableGroups.add(groupId);
  else stableGroups.delete(groupId);
}

interface RequestDefinition {
  versions: string[];
  protocol(args: { version: number }): (args: never) => unknown;
}

type Versioned = RequestDefinition & { [INSTALLED]?: true };
const INSTALLED = Symbol.for('email-flow-validator.group-fencing');

function txnOffsetCommitV3(args: TxnOffsetCommitArgs) {
  return {
    request: {
      apiKey: TXN_OFFSET_COMMIT,
      apiVersion: TXN_OFFSET_COMMIT_VERSION,
      apiName: 'TxnOffsetCommit',
      encode: async () => bufferEncoder(encodeTxnOffsetCommitV3(args, members.get(args.transactionalId))),
    },
    response: {
      decode: async (payload: Buffer) => decodeTxnOffsetCommitV3(payload),
      parse: async (data: TxnOffsetCommitResponse) => {
        throwOnError(data.topics.flatMap((t) => t.partitions.map((p) => p.errorCode)));
        return data;
      },
    },
  };
}

function offsetFetchV7(args: OffsetFetchArgs) {
  return {
    request: {
      apiKey: OFFSET_FETCH,
      apiVersion: OFFSET_FETCH_VERSION,
      apiName: 'OffsetFetch',
      encode: async () => bufferEncoder(encodeOffsetFetchV7(args, stableGroups.has(args.groupId))),
    },
    response: {
      decode: async (payload: Buffer) => decodeOffsetFetchV7(payload),
      parse: async (data: OffsetFetchResponse) => {
        throwOnError([data.errorCode, ...data.responses.flatMap((t) => t.partitions.map((p) => p.errorCode))]);
        return data;
      },
    },
  };
}

/** A KafkaJS Encoder holding these bytes (what KafkaJS's request framing takes). */
function bufferEncoder(bytes: Buffer): KafkaJSEncoder {
  const e = new Encoder();
  e.buf = bytes;
  (e as unknown as { offset: number }).offset = bytes.length;
  return e;
}

function addVersion(def: Versioned, version: number, make: (args: never) => unknown): void {
  if (def[INSTALLED]) return;
  const original = def.protocol.bind(def);
  def.versions = [...def.versions.filter((v) => Number(v) < version), String(version)];
  def.protocol = ({ version: v }) => (v === version ? make : original({ version: v }));
  def[INSTALLED] = true;
}

interface ConsumerGroupLike {
  groupId: string;
  memberId: string | null;
  generationId: number | null;
}
const joinedGroups = new Set<WeakRef<ConsumerGroupLike>>();

/** The generation and member id of this process's KafkaJS consumer `memberId` of `groupId`, as of its last join. */
export function consumerGeneration(groupId: string, memberId: string): GroupMember | undefined {
  for (const ref of joinedGroups) {
    const g = ref.deref();
    if (!g) {
      joinedGroups.delete(ref);
      continue;
    }
    if (g.groupId === groupId && g.memberId === memberId && g.generationId != null)
      return { generationId: g.generationId, memberId, groupInstanceId: null };
  }
  return undefined;
}

export type FencingInstall = { outcome: 'installed' | 'already' } | { outcome: 'skipped'; reason: string };

/**
 * Adds TxnOffsetCommit v3 and OffsetFetch v7 to KafkaJS's request definitions and makes its
 * consumer groups findable by `consumerGeneration`. Only for the KafkaJS version this was
 * written against: any other is refused (exactly-once then cannot be fenced).
 */
export function installGroupFencing(): FencingInstall {
  const mismatch = kafkajsMismatch('the fencing requests');
  if (mismatch) return { outcome: 'skipped', reason: mismatch };
  const { requests } = require('kafkajs/src/protocol/requests/index.js') as {
    requests: Record<string, Versioned>;
  };
  const txn = requests.TxnOffsetCommit!;
  const fetch = requests.OffsetFetch!;
  if (txn[INSTALLED] && fetch[INSTALLED]) return { outcome: 'already' };
  addVersion(txn, TXN_OFFSET_COMMIT_VERSION, txnOffsetCommitV3 as (args: never) => unknown);
  addVersion(fetch, OFFSET_FETCH_VERSION, offsetFetchV7 as (args: never) => unknown);
  const ConsumerGroup = require('kafkajs/src/consumer/consumerGroup.js') as {
    prototype: ConsumerGroupLike & { joinAndSync(...a: unknown[]): Promise<void>; [INSTALLED]?: true };
  };
  const proto = ConsumerGroup.prototype;
  if (!proto[INSTALLED]) {
    const joinAndSync = proto.joinAndSync;
    proto.joinAndSync = function (this: ConsumerGroupLike, ...a: unknown[]) {
      let known = false;
      for (const ref of joinedGroups) if (ref.deref() === this) known = true;
      if (!known) joinedGroups.add(new WeakRef(this));
      return joinAndSync.apply(this, a);
    };
    proto[INSTALLED] = true;
  }
  return { outcome: 'installed' };
}
