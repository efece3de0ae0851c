import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchReport, ContenderResult, ProviderResult } from './bench-report.js';

const fmt = (n: number) => Math.round(n).toLocaleString('en');
const ratio = (x: number | null) => (x === null ? '–' : `${x.toFixed(2)}×`);

/**
 * Where the bound went, as the provider measured it: Little's L and W at the provider, and
 * the bound's two factors (slots busy at the provider, advertised latency / its hold).
 */
export function atProviderNote(p: ProviderResult): string {
  const a = p.atProvider!;
  const busy = a.meanInFlight / p.concurrency;
  const hold = p.latencyMs / a.meanHoldMs;
  return (
    `at the provider: ${a.meanInFlight.toFixed(1)} of ${p.concurrency} in flight on average (${busy.toFixed(3)}), ` +
    `hold ${a.meanHoldMs.toFixed(2)} ms (p50 ${a.p50HoldMs.toFixed(1)}, p99 ${a.p99HoldMs.toFixed(1)}; ` +
    `${a.meanLateMs.toFixed(2)} ms late on average; ${(hold).toFixed(3)}), ${a.connections} connections, ` +
    `at most ${a.maxPerConnection} request(s) at once on one; provider at nice ${a.priority}`
  );
}

/** The Markdown table of one run, as pasted into the README. */
export function markdownTable(r: BenchReport): string {
  const lines = [
    '| contender | events | events/s | latency p50 / p99 (ms) | peak RSS (MB) | CPU s / 1M events | notes |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const c of r.contenders) {
    const lat = c.latency ? `${c.latency.p50Ms} / ${c.latency.p99Ms}` : '–';
    const notes: string[] = [];
    if (c.provider) {
      notes.push(
        `provider ${fmt(c.provider.requestsPerSecond)} req/s = ${c.provider.fractionOfBound.toFixed(2)}× Little's-law bound (${c.provider.concurrency} / ${c.provider.latencyMs} ms = ${fmt(c.provider.boundPerSecond)}/s)`,
      );
      if (c.provider.atProvider) notes.push(atProviderNote(c.provider));
    }
    if (c.provider?.server) {
      const v = c.provider.server;
      notes.push(
        `mail servers: ${fmt(v.connections)} connections for ${fmt(v.rcpts)} RCPTs, connections open ${v.meanSessions} on average (max ${v.maxSessions}), RCPTs held ${v.meanRcptsHeld} (max ${v.maxRcptsHeld}), hold ${v.holdMs.p50} / ${v.holdMs.p99} ms p50 / p99` +
          // Absent from reports made before the servers had a process of their own.
          (v.meanNextMailMs === undefined
            ? ''
            : ` (mean ${v.holdMs.mean}, ${v.meanLateMs} ms late), the next MAIL ${v.meanNextMailMs} ms after an answer (${(v.slowNextMail * 100).toFixed(1)} % over 1 ms), servers at nice ${v.priority}`),
      );
    }
    if (c.transactionMarkers !== undefined)
      notes.push(
        `${fmt(c.processed)} committed results; ${fmt(c.transactionMarkers)} more output offsets are transaction markers`,
      );
    if (!c.drained && !c.error) notes.push('time bound hit');
    if (c.error) notes.push(`FAILED: ${c.error.replace(/\|/g, '/').replace(/\s+/g, ' ').slice(0, 200)}`);
    lines.push(
      `| ${c.name} | ${fmt(c.events)} | ${c.error ? '–' : fmt(c.eventsPerSecond)} | ${lat} | ${c.peakRssMb} | ${c.cpuSecondsPerMillion} | ${notes.join('; ')} |`,
    );
  }
  return lines.join('\n');
}

export function markdownReport(r: BenchReport): string {
  const m = r.machine;
  const s = r.settings;
  return [
    `# Benchmark — ${r.startedAt}`,
    '',
    `Commit \`${r.commit}\`${r.note ? ` — ${r.note}` : ''}. ${fmt(s.events)} events over ${s.partitions} partitions` +
      `${s.quick ? ' (--quick)' : ''}; ${r.durationSeconds} s in all.`,
    '',
    `Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGb} GB, ${m.platform}, Node ${m.node}, Kafka ${m.kafka} ` +
      `(single node, loopback), kcat ${m.kcat}; load average at the end ${m.loadAverage.join(' / ')} ` +
      '(the machine is shared: compare contenders within a run, by their ratios).',
    '',
    markdownTable(r),
    '',
    `Ratios in this run: ours / ceiling **${ratio(r.ratios.oursToCeiling)}**, ours / KafkaJS copy **${ratio(r.ratios.oursToKafkajsCopy)}**, ours / naive **${ratio(r.ratios.oursToNaive)}**, ` +
      `ours exactly-once / ours **${ratio(r.ratios.oursEosToOurs)}**, ` +
      `ours+slow / naive+slow **${ratio(r.ratios.oursSlowToNaiveSlow)}**, ours+slow / Little's-law bound ` +
      `**${ratio(r.ratios.oursSlowToBound)}**, ours+smtp / Little's-law bound of the mail provider's limit ` +
      `**${ratio(r.ratios.oursSmtpToBound ?? null)}**, ours+smtp / naive+smtp **${ratio(r.ratios.oursSmtpToNaiveSmtp ?? null)}**, ` +
      `ours / Parallel Consumer copy **${ratio(r.ratios.oursToPcCopy ?? null)}**, ours+slow / Parallel Consumer+slow **${ratio(r.ratios.oursSlowToPcSlow ?? null)}**.`,
    '',
    `Validator alone (no Kafka, one core): local checks ${fmt(r.validatorOnly.localChecksPerSecond)}/s, ` +
      `with DNS against a loopback server, warm cache ${fmt(r.validatorOnly.dnsWarmCachePerSecond)}/s.`,
    '',
    '- events/s: sustained rate of the steady state — results published from 1 s after the first result to the end ' +
      `of the backlog, divided by the time taken — from the end offsets of the contender's output topics, sampled every ${s.sampleIntervalMs} ms ` +
      "(ours-eos: from its group's committed input offsets, which commit in the same transactions as its results; " +
      'its end offsets also count transaction markers).',
    `- latency: result record timestamp − input record timestamp, for live events offered at a steady rate ` +
      `(at most half the contender's throughput, ≤ 1,000/s, ${s.liveSeconds} s) once the backlog is done.`,
    "- peak RSS: VmHWM of the contender's processes (both kcat processes for the ceiling); CPU: utime + stime " +
      'from /proc between its first result and the end of its backlog.',
    "- at the provider (HTTP provider contenders): the provider's own measurements over the same steady-state window, " +
      'on its own clock — the time-weighted mean of the requests in flight at it (request arrival to response ' +
      "written; Little's L, of the contender's concurrency) and its hold per request (Little's W, against the " +
      'advertised latency); the fraction of the bound is about the product of the two factors in brackets.',
    `- ceiling: ${s.kcatMethod}`,
    `- preload: ${fmt(s.preloadPerSecond)} events/s with KafkaJS (${s.preloadSeconds} s).`,
    '',
  ].join('\n');
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2'];

/** Throughput over time per contender, one line each; hand-rolled so it needs no dependency. */
export function svgChart(r: BenchReport): string {
  const W = 760;
  const H = 360;
  const left = 70;
  const right = 180;
  const top = 30;
  const bottom = 40;
  const series = r.contenders.filter((c) => c.series.length > 0);
  const maxT = Math.max(1, ...series.flatMap((c) => c.series.map((p) => p.t)));
  // Logarithmic: the kcat ceiling runs two orders of magnitude above the slow contenders.
  const maxR = 10 ** Math.ceil(Math.log10(Math.max(100, ...series.flatMap((c) => c.series.map((p) => p.rate)))));
  const minR = 10;
  const x = (t: number) => left + (t / maxT) * (W - left - right);
  const y = (v: number) =>
    H - bottom - ((Math.log10(Math.max(v, minR)) - 1) / (Math.log10(maxR) - 1)) * (H - top - bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${left}" y="18" font-size="13">Throughput over time (events/s, log scale), ${fmt(r.settings.events)} events, ${r.startedAt.slice(0, 16)}</text>`,
  ];
  for (let v = minR; v <= maxR; v *= 10) {
    parts.push(
      `<line x1="${left}" x2="${W - right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${fmt(v)}</text>`,
    );
  }
  for (let i = 0; i <= 5; i++) {
    const t = (maxT * i) / 5;
    parts.push(`<text x="${x(t)}" y="${H - bottom + 16}" text-anchor="middle">${t.toFixed(0)} s</text>`);
  }
  parts.push(
    `<line x1="${left}" x2="${left}" y1="${top}" y2="${H - bottom}" stroke="#333"/>`,
    `<line x1="${left}" x2="${W - right}" y1="${H - bottom}" y2="${H - bottom}" stroke="#333"/>`,
    `<text x="${(left + W - right) / 2}" y="${H - 6}" text-anchor="middle">seconds since the contender started</text>`,
  );
  series.forEach((c, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = [{ t: 0, rate: 0 }, ...c.series].map((p) => `${x(p.t).toFixed(1)},${y(p.rate).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="1.8" points="${pts}"/>`);
    const ly = top + 14 + i * 18;
    parts.push(
      `<line x1="${W - right + 12}" x2="${W - right + 32}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${W - right + 38}" y="${ly}">${escapeXml(c.name)} (${fmt(c.eventsPerSecond)}/s)</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

const HISTORY_HEADER = [
  '# Benchmark history',
  '',
  'One line per `npm run bench`; numbers from one run are comparable with each other, across runs only roughly',
  '(shared machine). Newest last.',
  '',
  '| date | commit | events | ours/s | ceiling/s | kafkajs-copy/s | naive/s | ours+slow/s | ours/ceiling | ours/naive | ours+slow/bound | ours+slow/naive+slow | ours peak RSS (MB) | ours-eos/s | ours-eos/ours | note |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
].join('\n');

function historyLine(r: BenchReport): string {
  const rate = (name: string) => {
    const c: ContenderResult | undefined = r.contenders.find((x) => x.name === name && !x.error);
    return c ? fmt(c.eventsPerSecond) : '–';
  };
  const ours = r.contenders.find((c) => c.name === 'ours');
  return `| ${r.startedAt.slice(0, 16).replace('T', ' ')} | ${r.commit} | ${fmt(r.settings.events)} | ${rate('ours')} | ${rate('ceiling')} | ${rate('kafkajs-copy')} | ${rate('naive')} | ${rate('ours-slow')} | ${ratio(r.ratios.oursToCeiling)} | ${ratio(r.ratios.oursToNaive)} | ${ratio(r.ratios.oursSlowToBound)} | ${ratio(r.ratios.oursSlowToNaiveSlow)} | ${ours?.peakRssMb ?? '–'} | ${rate('ours-eos')} | ${ratio(r.ratios.oursEosToOurs)} | ${(r.note ?? '').replace(/\|/g, '/')} |`;
}

/** Writes <timestamp>.json, latest.json, latest.md, latest.svg and appends to history.md. */
export function writeReports(r: BenchReport, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const stamp = r.startedAt.replace(/[:.]/g, '-');
  const json = `${JSON.stringify(r, null, 2)}\n`;
  const files = [join(dir, `${stamp}.json`), join(dir, 'latest.json'), join(dir, 'latest.md'), join(dir, 'latest.svg')];
  writeFileSync(files[0]!, json);
  writeFileSync(files[1]!, json);
  writeFileSync(files[2]!, markdownReport(r));
  writeFileSync(files[3]!, svgChart(r));
  const history = join(dir, 'history.md');
  if (!existsSync(history)) writeFileSync(history, `${HISTORY_HEADER}\n`);
  appendFileSync(history, `${historyLine(r)}\n`);
  files.push(history);
  return files;
}
