import { describe, expect, it } from 'vitest';
import { DLQ_HEADERS, REPLAY_HEADERS } from '../../src/contract/headers.js';
import {
  describeFilter,
  failureTimeOf,
  matchesFilter,
  parseReplayFilter,
  ReplayOptionError,
  replayGroupId,
} from '../../src/dlq/filter.js';
import { replayedRecord } from '../../src/dlq/replay.js';

function dlq(code: string | undefined, lastFailureAt: string | undefined, timestamp = '1767225600000') {
  const headers: Record<string, string | Buffer> = {};
  if (code) headers[DLQ_HEADERS.code] = code;
  if (lastFailureAt) headers[DLQ_HEADERS.lastFailureAt] = lastFailureAt;
  return { headers, timestamp };
}

describe('parseReplayFilter', () => {
  it('normalizes codes (case, spaces, order, repeats) so equal filters name the same group', () => {
    const a = parseReplayFilter({ code: 'avro_decode, NULL_VALUE,AVRO_DECODE' });
    const b = parseReplayFilter({ code: 'NULL_VALUE,AVRO_DECODE' });
    expect(a.codes).toEqual(['AVRO_DECODE', 'NULL_VALUE']);
    expect(replayGroupId('g', a, 'in')).toBe(replayGroupId('g', b, 'in'));
    expect(replayGroupId('g', a, 'in')).toMatch(/^g\.replay-dlq\.[0-9a-f]{12}$/);
  });

  it('gives another group to another filter or another destination', () => {
    const all = parseReplayFilter({});
    const some = parseReplayFilter({ code: 'NULL_VALUE' });
    const since = parseReplayFilter({ since: '2026-01-01' });
    const ids = new Set([
      replayGroupId('g', all, 'in'),
      replayGroupId('g', some, 'in'),
      replayGroupId('g', since, 'in'),
      replayGroupId('g', all, 'other'),
    ]);
    expect(ids.size).toBe(4);
  });

  it('accepts dates, date-times with a zone, and leap days', () => {
    expect(parseReplayFilter({ since: '2028-02-29' }).since).toBe(Date.UTC(2028, 1, 29));
    expect(parseReplayFilter({ since: '2026-03-01T12:30:15.250+02:00' }).since).toBe(
      Date.parse('2026-03-01T10:30:15.250Z'),
    );
    expect(() => parseReplayFilter({ since: '2027-02-29' })).toThrow(ReplayOptionError);
    // Without a zone, a time is UTC whatever the host's zone.
    expect(parseReplayFilter({ since: '2026-03-01T10:00' }).since).toBe(Date.UTC(2026, 2, 1, 10));
    expect(parseReplayFilter({ since: '2026-03-01 10:00:05' }).since).toBe(Date.UTC(2026, 2, 1, 10, 0, 5));
  });

  it('treats times that are the same instant as the same filter', () => {
    const a = parseReplayFilter({ since: '2026-01-01T01:00:00+01:00' });
    const b = parseReplayFilter({ since: '2026-01-01T00:00:00.000Z' });
    expect(describeFilter(a)).toBe(describeFilter(b));
    expect(describeFilter(a)).toBe('codes=* since=2026-01-01T00:00:00.000Z until=*');
  });

  it.each([
    [{ code: 'NOPE' }, /unknown error code NOPE; known: NULL_VALUE/],
    [{ code: 'NOPE,ALSO_NOPE' }, /unknown error codes NOPE, ALSO_NOPE/],
    [{ code: 'AVRO_DECODE,' }, /comma-separated list/],
    [{ code: '' }, /comma-separated list/],
    [{ since: 'yesterday' }, /--since "yesterday" is not an ISO 8601 time/],
    [{ until: '1' }, /--until "1" is not an ISO 8601 time/],
    [{ since: '2026-13-45' }, /--since "2026-13-45"/],
    [{ since: '2026-02-30' }, /--since "2026-02-30" is not an ISO 8601 time/],
    [{ until: '2026-04-31T10:00:00Z' }, /--until "2026-04-31T10:00:00Z"/],
    [{ until: '2026-04-01T24:30:00Z' }, /--until "2026-04-01T24:30:00Z"/],
    [{ since: '2026-02-01', until: '2026-01-01' }, /--since \(2026-02-01T00:00:00.000Z\) must be before --until/],
    [{ since: '2026-02-01', until: '2026-02-01' }, /must be before/],
  ])('rejects %j with a clear message', (input, message) => {
    expect(() => parseReplayFilter(input)).toThrow(ReplayOptionError);
    expect(() => parseReplayFilter(input)).toThrow(message);
  });
});

describe('matchesFilter', () => {
  it('filters by code; a record without a code matches only the empty code filter', () => {
    const f = parseReplayFilter({ code: 'AVRO_DECODE' });
    expect(matchesFilter(dlq('AVRO_DECODE', undefined), f)).toBe(true);
    expect(matchesFilter(dlq('NULL_VALUE', undefined), f)).toBe(false);
    expect(matchesFilter(dlq(undefined, undefined), f)).toBe(false);
    expect(matchesFilter(dlq(undefined, undefined), parseReplayFilter({}))).toBe(true);
  });

  it('takes the last failure time, since inclusive and until exclusive', () => {
    const f = parseReplayFilter({ since: '2026-02-01T00:00:00Z', until: '2026-03-01T00:00:00Z' });
    expect(matchesFilter(dlq('X', '2026-02-01T00:00:00.000Z'), f)).toBe(true);
    expect(matchesFilter(dlq('X', '2026-02-28T23:59:59.999Z'), f)).toBe(true);
    expect(matchesFilter(dlq('X', '2026-03-01T00:00:00.000Z'), f)).toBe(false);
    expect(matchesFilter(dlq('X', '2026-01-31T23:59:59.999Z'), f)).toBe(false);
  });

  it('falls back to the record timestamp when the header is missing or unreadable', () => {
    const feb = String(Date.parse('2026-02-10T00:00:00Z'));
    expect(failureTimeOf(dlq('X', undefined, feb))).toBe(Number(feb));
    expect(failureTimeOf(dlq('X', 'garbage', feb))).toBe(Number(feb));
    const f = parseReplayFilter({ since: '2026-02-01', until: '2026-03-01' });
    expect(matchesFilter(dlq('X', undefined, feb), f)).toBe(true);
    expect(matchesFilter(dlq('X', 'garbage', '0'), f)).toBe(false);
  });
});

describe('replayedRecord', () => {
  it('keeps key, value and non-efv headers (bytes and repeats), drops efv-*, adds the replay headers', () => {
    const binary = Buffer.from([0x00, 0xff, 0xfe]);
    const value = Buffer.from([1, 2, 3]);
    const r = replayedRecord(
      {
        key: Buffer.from('k'),
        value,
        offset: '17',
        headers: {
          [DLQ_HEADERS.code]: 'AVRO_DECODE',
          [DLQ_HEADERS.lastFailureAt]: '2026-01-01T00:00:00Z',
          'efv-replay-of': 'old/0/1',
          'x-bin': binary,
          'x-repeat': [Buffer.from('a'), Buffer.from('b')],
          traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        },
      },
      { topic: 'signups.dlq', partition: 2 },
      '2026-04-01T00:00:00.000Z',
    );
    expect(r.key).toEqual(Buffer.from('k'));
    expect(r.value).toBe(value);
    expect(r.headers).toEqual({
      'x-bin': binary,
      'x-repeat': [Buffer.from('a'), Buffer.from('b')],
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      [REPLAY_HEADERS.replayOf]: 'signups.dlq/2/17',
      [REPLAY_HEADERS.replayedAt]: '2026-04-01T00:00:00.000Z',
    });
  });
});
