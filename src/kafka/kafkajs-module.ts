import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The KafkaJS release every replacement in src/kafka/ was written against, byte for byte. */
export const KAFKAJS_VERSION = '2.2.4';

/**
 * Null when the installed KafkaJS is that release; otherwise why `what` is not installed
 * (the reason an install reports as `skipped`).
 */
export function kafkajsMismatch(what: string): string | null {
  const version = (require('kafkajs/package.json') as { version: string }).version;
  return version === KAFKAJS_VERSION ? null : `KafkaJS ${version}, ${what} matches ${KAFKAJS_VERSION}`;
}

/**
 * A fresh copy of one of KafkaJS's own modules, loaded past the module cache (where our
 * replacement may sit) and leaving the cache as it was: what the tests compare a replacement
 * with, byte for byte.
 */
export function freshKafkajsModule<T>(specifier: string): T {
  const path = require.resolve(specifier);
  const saved = require.cache[path];
  delete require.cache[path];
  try {
    return require(path) as T;
  } finally {
    if (saved) require.cache[path] = saved;
    else delete require.cache[path];
  }
}
