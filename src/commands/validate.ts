import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import pLimit from 'p-limit';
import type { AddressValidator } from '../address-validator.js';
import { isProcessorError } from '../errors.js';

/**
 * `validate ADDRESS…` (or one address a line on stdin): one JSON verdict a line on stdout,
 * in input order, validated a few at a time. Returns how many could not be validated.
 */
export async function validateCommand(
  validator: AddressValidator,
  addresses: string[] | Readable,
  out: NodeJS.WritableStream = process.stdout,
  concurrency = 16,
): Promise<number> {
  const limit = pLimit(concurrency);
  let failed = 0;
  const one = (address: string) =>
    limit(async () => {
      try {
        return JSON.stringify(await validator.validate(address));
      } catch (err) {
        failed++;
        const msg = isProcessorError(err) ? `${err.code}: ${err.message}` : (err as Error).message;
        return JSON.stringify({ email: address, error: msg });
      }
    });
  // Pending lines in input order; written as soon as the oldest is done.
  const pending: Promise<string>[] = [];
  const drain = async (keep: number) => {
    while (pending.length > keep) out.write(`${await pending.shift()!}\n`);
  };
  const inputs: Iterable<string> | AsyncIterable<string> = Array.isArray(addresses)
    ? addresses
    : createInterface({ input: addresses, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const address of inputs) {
    // The address as given (the engine trims and normalises it, as for a Kafka event).
    if (address.trim() === '') continue;
    pending.push(one(address));
    await drain(concurrency * 4);
  }
  await drain(0);
  return failed;
}
