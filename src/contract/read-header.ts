import type { IHeaders } from 'kafkajs';

/**
 * A Kafka header as text. KafkaJS hands a repeated header as an array: the first one counts,
 * as most clients read it. Undefined when the header is absent.
 */
export function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  const v = headers?.[name];
  if (v === undefined) return undefined;
  return (Array.isArray(v) ? v[0] : v)?.toString();
}
