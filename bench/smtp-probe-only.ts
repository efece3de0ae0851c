/**
 * The SMTP contenders' probing without Kafka: the bench's slow mail provider (in a process
 * of its own, as in the bench), and in a child process the validator (DNS + SMTP, the settings ours-smtp gets)
 * validating synthetic sign-ups with CONCURRENCY validations in flight. Prints the RCPT
 * rate against the Little's-law bound and what the servers saw (sessions, RCPTs held, hold
 * times, connections). For looking into the SMTP path alone; the benchmark is the measure.
 *
 *   node --import tsx bench/smtp-probe-only.ts [concurrency=512] [seconds=10] [limit=32] [latencyMs=20]
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';
import { syntheticSignups } from '../src/sim/synthetic.js';
import { createValidator } from '../src/validation/validator.js';
import { startSlowSmtp } from './smtp-server.js';

const [concurrency = 512, seconds = 10, limit = 32, latencyMs = 20] = process.argv
  .slice(process.argv[2] === 'child' ? 3 : 2)
  .map(Number);

if (process.argv[2] === 'child') {
  const validator = createValidator(loadConfig({}, process.env).validation);
  const emails = [...syntheticSignups(50_000, 7)].map((s) => s.event.email);
  let next = 0;
  let done = 0;
  const outcomes: Record<string, number> = {};
  // The prober's view of the provider, sampled: slots open, resting, probes waiting.
  const seen = { samples: 0, open: 0, idle: 0, waiting: 0 };
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const sampler = setInterval(() => {
    for (const p of validator.smtpProviders ?? []) {
      seen.samples++;
      seen.open += p.open;
      seen.idle += p.idle;
      seen.waiting += p.waiting;
    }
  }, 20);
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const v = await validator.validate(emails[next++ % emails.length]!, { signal: AbortSignal.timeout(10_000) });
        const smtp = v.checks.find((c) => c.name === 'smtp');
        if (smtp !== undefined) {
          const key = `${smtp.status}:${smtp.detail?.split(' ').slice(0, 2).join(' ') ?? ''}`;
          outcomes[key] = (outcomes[key] ?? 0) + 1;
        }
        done++;
      }
    }),
  );
  clearInterval(sampler);
  const cpu = process.cpuUsage(cpu0);
  const n = Math.max(1, seen.samples);
  process.stdout.write(
    `${JSON.stringify({
      validations: done,
      eventLoopUtilization: Math.round(performance.eventLoopUtilization(elu0).utilization * 100) / 100,
      cpuSeconds: Math.round((cpu.user + cpu.system) / 1e4) / 100,
      meanOpen: Math.round((seen.open / n) * 10) / 10,
      meanIdle: Math.round((seen.idle / n) * 10) / 10,
      meanWaiting: Math.round(seen.waiting / n),
      outcomes,
    })}\n`,
  );
  await validator.close?.();
  process.exit(0);
} else {
  const smtp = await startSlowSmtp(latencyMs);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), 'child', ...process.argv.slice(2)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        PATH: process.env.PATH ?? '',
        CHECK_DNS: 'true',
        DNS_SERVERS: smtp.dns,
        CHECK_SMTP: 'true',
        CHECK_PROVIDER: 'false',
        SMTP_PORT: String(smtp.port),
        SMTP_ALLOW_PRIVATE_NETWORKS: 'true',
        SMTP_CATCH_ALL_CHECK: 'false',
        SMTP_PROVIDER_LIMITS: `${smtp.provider}=${limit}:100000000`,
        SMTP_HELO: 'bench.example.com',
        LOG_LEVEL: 'warn',
        ...(process.env.NODE_OPTIONS ? { NODE_OPTIONS: process.env.NODE_OPTIONS } : {}),
      },
    },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  // Start-up (module loading, first connections) is not the steady state.
  const warm = setInterval(() => {
    if (smtp.requests() > 0) {
      clearInterval(warm);
      setTimeout(() => smtp.resetStats(), 1000);
    }
  }, 50);
  let last = smtp.stats();
  const sampler = setInterval(() => {
    last = smtp.stats();
  }, 250);
  await new Promise((r) => child.once('exit', r));
  clearInterval(sampler);
  const s = last;
  const bound = (limit * 1000) / latencyMs;
  const rate = s.rcpts / s.seconds;
  console.log(
    JSON.stringify(
      {
        child: out.trim(),
        rcptPerSecond: Math.round(rate),
        bound,
        fractionOfBound: Math.round((rate / bound) * 1000) / 1000,
        rcptsPerConnection: Math.round((s.rcpts / Math.max(1, s.connections)) * 10) / 10,
        littleCheck: Math.round(s.meanRcptsHeld / (s.holdMs.mean / 1000)),
        ...s,
      },
      null,
      1,
    ),
  );
  await smtp.close();
}
