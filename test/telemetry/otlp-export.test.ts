import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { consumeRecords, createTopics, deleteTopics, testBrokers, uniqueName } from '../helpers/kafka.js';

const bin = fileURLToPath(new URL('../../bin/email-flow-validator.mjs', import.meta.url));

interface Export {
  path: string;
  contentType: string;
  body: Buffer;
}

/** A real OTLP/HTTP receiver: records every export request and answers as a collector does. */
let receiver: Server;
let endpoint: string;
const exports: Export[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      exports.push({
        path: req.url ?? '',
        contentType: req.headers['content-type'] ?? '',
        body: Buffer.concat(chunks),
      });
      const json = req.headers['content-type'] === 'application/json';
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
      res.end(json ? '{}' : undefined);
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => receiver?.close(resolve));
});

/** The CLI as an operator runs it: only the standard OTEL_* variables say where spans go. */
function cli(
  args: string[],
  env: Record<string, string>,
): { child: ChildProcess; exited: Promise<number | null>; stderr: () => string } {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
  const child = spawn(process.execPath, [bin, ...args], {
    env: { ...base, EFV_FROM_SOURCE: '1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, stderr: () => err };
}

interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
}

function jsonSpans(e: Export): { service: string; spans: JsonSpan[] }[] {
  const doc = JSON.parse(e.body.toString('utf8')) as {
    resourceSpans: {
      resource: { attributes: { key: string; value: { stringValue?: string } }[] };
      scopeSpans: { spans: JsonSpan[] }[];
    }[];
  };
  return doc.resourceSpans.map((rs) => ({
    service: rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '',
    spans: rs.scopeSpans.flatMap((ss) => ss.spans),
  }));
}

describe('spans leave the process through OTLP/HTTP when the standard variables are set', () => {
  const base = uniqueName('signups');
  const topics = { input: base, valid: `${base}.valid`, invalid: `${base}.invalid`, deadLetter: `${base}.dlq` };
  const kafkaEnv = {
    KAFKA_BROKERS: testBrokers().join(','),
    INPUT_TOPIC: topics.input,
    VALID_TOPIC: topics.valid,
    INVALID_TOPIC: topics.invalid,
    DLQ_TOPIC: topics.deadLetter,
    RETRY_DELAYS: '',
  };
  afterAll(() => deleteTopics(Object.values(topics)));

  it('produce (http/json) → run (default http/protobuf): one trace per event, across both processes', {
    timeout: 120_000,
  }, async () => {
    await createTopics(Object.values(topics), 2);
    const count = 5;
    const producer = cli(['produce', '--count', String(count)], {
      ...kafkaEnv,
      OTEL_SERVICE_NAME: 'efv-test-producer',
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    });
    expect(await producer.exited, producer.stderr()).toBe(0);
    // The producer flushed its spans before exiting.
    const produced = exports
      .filter((e) => e.path === '/v1/traces' && e.contentType === 'application/json')
      .flatMap(jsonSpans);
    expect(produced.every((r) => r.service === 'efv-test-producer')).toBe(true);
    const producerSpans = produced.flatMap((r) => r.spans).filter((s) => s.name === `send ${topics.input}`);
    expect(producerSpans).toHaveLength(count);

    const run = cli(['run'], {
      ...kafkaEnv,
      KAFKA_GROUP_ID: uniqueName('group'),
      CHECK_DNS: 'false',
      HTTP_PORT: '-1',
      OTEL_SERVICE_NAME: 'efv-test-processor',
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    try {
      // The child compiles the sources through tsx first: allow for a slow start on a busy machine.
      const results = await consumeRecords([topics.valid, topics.invalid, topics.deadLetter], count, 90_000);
      expect(results, run.stderr()).toHaveLength(count);
      // The protobuf export of the processor holds, for each produced span, its trace id and
      // its span id (as the process span's parent), as raw bytes.
      await vi.waitFor(
        () => {
          const proto = Buffer.concat(
            exports
              .filter((e) => e.path === '/v1/traces' && e.contentType === 'application/x-protobuf')
              .map((e) => e.body),
          );
          expect(proto.includes('efv-test-processor')).toBe(true);
          for (const s of producerSpans) {
            expect(proto.includes(Buffer.from(s.traceId, 'hex')), `trace ${s.traceId}`).toBe(true);
            expect(proto.includes(Buffer.from(s.spanId, 'hex')), `parent ${s.spanId}`).toBe(true);
          }
        },
        { timeout: 20_000, interval: 200 },
      );
      // Results carry the producer's trace on to downstream consumers.
      const traceIds = new Set(producerSpans.map((s) => s.traceId));
      for (const r of results) expect(traceIds.has(String(r.message.headers?.traceparent).split('-')[1]!)).toBe(true);
    } finally {
      run.child.kill('SIGTERM');
    }
    expect(await run.exited, run.stderr()).toBe(0);
    expect(run.stderr()).toContain('"msg":"tracing started"');
  });
});
