/**
 * KafkaJS 2.2.4's producer groups a send's messages by partition with
 * `[...current, message]` per message: each message copies its partition's array so far, so
 * a send costs the square of its partition's size (a thousand-record send, a microsecond a
 * record; profiles put it at ~5 % of the processor's CPU time). The same grouping in linear
 * time: same object, same arrays, same order (test/kafka/producer-grouping.test.ts).
 *
 * KafkaJS loads that module with its main module, so it must be in the module cache first:
 * importing this module does it (client.ts imports it before KafkaJS); once KafkaJS is
 * loaded it is too late, and `groupingOutcome` says so.
 */
import { createRequire } from 'node:module';
import { freshKafkajsModule, kafkajsMismatch } from './kafkajs-module.js';

const require = createRequire(import.meta.url);

const GROUPING_MODULE = 'kafkajs/src/producer/groupMessagesPerPartition.js';
const SEND_MESSAGES_MODULE = 'kafkajs/src/producer/sendMessages.js';

interface GroupingArgs<M> {
  topic: string;
  partitionMetadata: readonly unknown[];
  messages: readonly M[];
  partitioner(args: { topic: string; partitionMetadata: readonly unknown[]; message: M }): number;
}

export function groupMessagesPerPartition<M>({
  topic,
  partitionMetadata,
  messages,
  partitioner,
}: GroupingArgs<M>): Record<number, M[]> {
  if (partitionMetadata.length === 0) return {};
  const result: Record<number, M[]> = {};
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    const current = result[partition];
    if (current) current.push(message);
    else result[partition] = [message];
  }
  return result;
}

function install(): { outcome: 'installed' | 'skipped'; reason?: string } {
  const mismatch = kafkajsMismatch('the grouping');
  if (mismatch) return { outcome: 'skipped', reason: mismatch };
  const path = require.resolve(GROUPING_MODULE);
  if (require.cache[path]?.exports === groupMessagesPerPartition) return { outcome: 'installed' };
  if (require.cache[require.resolve(SEND_MESSAGES_MODULE)])
    return { outcome: 'skipped', reason: 'KafkaJS was loaded before its producer grouping could be replaced' };
  // Load KafkaJS's module normally (so the cache entry is a real module), then swap its exports.
  require(path);
  require.cache[path]!.exports = groupMessagesPerPartition;
  return { outcome: 'installed' };
}

/** Whether KafkaJS producers of this process group with `groupMessagesPerPartition`. */
export const groupingOutcome = install();

/** KafkaJS's own grouping (a fresh copy of its module), for comparison in tests. */
export function kafkajsGrouping(): typeof groupMessagesPerPartition {
  return freshKafkajsModule(GROUPING_MODULE);
}
