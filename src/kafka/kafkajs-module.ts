import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

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
