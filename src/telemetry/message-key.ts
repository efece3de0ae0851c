import { createHash } from 'node:crypto';

/**
 * The record key (a user id) as it may appear on a span: a short SHA-256 prefix, so the
 * spans of one user's events can be found together without the id leaving the process.
 * Hashed whatever LOG_ADDRESSES says: traces are exported, logs stay local.
 */
export function hashMessageKey(key: Buffer): string {
  return `sha256:${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}
