import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  decodeOffsetFetchV7,
  decodeTxnOffsetCommitV3,
  encodeOffsetFetchV7,
  encodeTxnOffsetCommitV3,
  installGroupFencing,
  setTransactionalMember,
} from '../../src/kafka/group-fencing.js';

const require = createRequire(import.meta.url);

/** Bytes from hex, one field per line with a `#` comment naming it, as the spec lists them. */
const hex = (s: string) =>
  Buffer.from(
    s
      .split('\n')
      .map((line) => line.replace(/#.*/, ''))
      .join('')
      .replace(/\s+/g, ''),
    'hex',
  );

// The expected bytes are written from the Kafka protocol spec (kafka.apache.org/protocol,
// TxnOffsetCommitRequest.json / OffsetFetchRequest.json), not from the encoder: compact
// strings and arrays are unsigned varint length + 1 (0 = null), every struct and the
// message end with a tagged-field section (varint count, 0 = none), and request header v2
// is header v1 (api key, version, correlation id, INT16-length client id) plus tagged fields.
describe('TxnOffsetCommit v3 (KIP-447)', () => {
  const args = {
    transactionalId: 'tx',
    groupId: 'g',
    producerId: 5,
    producerEpoch: 1,
    topics: [{ topic: 't', partitions: [{ partition: 2, offset: '42' }] }],
  };
  const body = (member: string) =>
    hex(`
      00                        # request header v2: no tagged fields
      03 7478                   # transactional_id "tx"
      02 67                     # group_id "g"
      0000000000000005          # producer_id
      0001                      # producer_epoch
      ${member}
      02                        # topics: 1
        02 74                   # name "t"
        02                      # partitions: 1
          00000002              # partition_index
          000000000000002a      # committed_offset 42
          ffffffff              # committed_leader_epoch -1
          00                    # committed_metadata null
          00                    # partition tags
        00                      # topic tags
      00                        # request tags
    `);

  it('carries generation id, member id and group instance id', () => {
    const bytes = encodeTxnOffsetCommitV3(args, { generationId: 7, memberId: 'm-1', groupInstanceId: 'i' });
    expect(bytes.toString('hex')).toBe(
      body(`
      00000007                  # generation_id 7
      04 6d2d31                 # member_id "m-1"
      02 69                     # group_instance_id "i"
    `).toString('hex'),
    );
  });

  it('without a membership sends what the broker treats as v1: generation -1, member "", no instance', () => {
    const bytes = encodeTxnOffsetCommitV3(args, undefined);
    expect(bytes.toString('hex')).toBe(
      body(`
      ffffffff                  # generation_id -1
      01                        # member_id ""
      00                        # group_instance_id null
    `).toString('hex'),
    );
  });

  it('is framed by KafkaJS as api key 28, version 3, with the registered membership', async () => {
    expect(installGroupFencing().outcome).toMatch(/installed|already/);
    setTransactionalMember('tx', { generationId: 7, memberId: 'm-1', groupInstanceId: null });
    try {
      const { requests, lookup } = require('kafkajs/src/protocol/requests/index.js');
      // A broker offering TxnOffsetCommit up to v5: KafkaJS picks the highest both implement.
      const make = lookup({ 28: { minVersion: 0, maxVersion: 5 } })(28, requests.TxnOffsetCommit);
      const { request } = make(args);
      const createRequest = require('kafkajs/src/protocol/request.js');
      const frame = (await createRequest({ correlationId: 9, clientId: 'c', request })).buffer as Buffer;
      const expected = Buffer.concat([
        hex('001c 0003 00000009 0001 63'), // api key, version, correlation id, client id "c"
        encodeTxnOffsetCommitV3(args, { generationId: 7, memberId: 'm-1', groupInstanceId: null }),
      ]);
      expect(frame.readInt32BE(0)).toBe(expected.length);
      expect(frame.subarray(4).toString('hex')).toBe(expected.toString('hex'));
      // A broker offering only v1 still gets v1.
      expect(
        lookup({ 28: { minVersion: 0, maxVersion: 1 } })(28, requests.TxnOffsetCommit)(args).request.apiVersion,
      ).toBe(1);
    } finally {
      setTransactionalMember('tx', undefined);
    }
  });

  it('decodes the response, skipping tagged fields, and reports a partition error', async () => {
    const payload = hex(`
      00                        # response header v1: no tagged fields
      00000064                  # throttle_time_ms 100
      02                        # topics: 1
        02 74                   # name "t"
        03                      # partitions: 2
          00000002 0000 00      # partition 2, no error
          00000003 0016         # partition 3, ILLEGAL_GENERATION (22)
          01 05 02 abcd         # one tagged field: tag 5, 2 bytes
        00
      00
    `);
    const decoded = decodeTxnOffsetCommitV3(payload);
    expect(decoded).toEqual({
      throttleTime: 0,
      clientSideThrottleTime: 100,
      topics: [
        {
          topic: 't',
          partitions: [
            { partition: 2, errorCode: 0 },
            { partition: 3, errorCode: 22 },
          ],
        },
      ],
    });
    const { requests } = require('kafkajs/src/protocol/requests/index.js');
    const { response } = requests.TxnOffsetCommit.protocol({ version: 3 })(args);
    await expect(response.parse(decoded)).rejects.toMatchObject({ type: 'ILLEGAL_GENERATION' });
  });
});

describe('OffsetFetch v7 (require_stable)', () => {
  const args = { groupId: 'g', topics: [{ topic: 't', partitions: [{ partition: 0 }, { partition: 1 }] }] };

  it('encodes group, topics and require_stable', () => {
    for (const stable of [true, false]) {
      expect(encodeOffsetFetchV7(args, stable).toString('hex')).toBe(
        hex(
          [
            '00', // request header v2 tags
            '02 67', // group_id "g"
            '02', // topics: 1
            '02 74', // name "t"
            '03 00000000 00000001', // partition_indexes [0, 1]
            '00', // topic tags
            stable ? '01' : '00', // require_stable
            '00', // request tags
          ].join(''),
        ).toString('hex'),
      );
    }
  });

  it('decodes offsets and errors in the shape KafkaJS consumers read', () => {
    const payload = hex(
      [
        '00', // response header tags
        '00000000', // throttle
        '02', // topics: 1
        '02 74', // "t"
        '03', // partitions: 2
        '00000000 0000000000000010 ffffffff 01 0000 00', // p0 offset 16, epoch -1, metadata "", ok
        '00000001 ffffffffffffffff ffffffff 00 0058 00', // p1 offset -1, metadata null, UNSTABLE_OFFSET_COMMIT
        '00', // topic tags
        '0000', // error_code
        '00', // tags
      ].join(''),
    );
    expect(decodeOffsetFetchV7(payload)).toEqual({
      throttleTime: 0,
      clientSideThrottleTime: 0,
      errorCode: 0,
      responses: [
        {
          topic: 't',
          partitions: [
            { partition: 0, offset: '16', metadata: '', errorCode: 0 },
            { partition: 1, offset: '-1', metadata: null, errorCode: 88 },
          ],
        },
      ],
    });
  });
});
