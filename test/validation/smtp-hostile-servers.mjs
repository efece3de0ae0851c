// Hostile SMTP servers on 127.0.0.1 in a process of their own, so that a test measuring the
// prober's event loop does not measure the flooding too. Prints {"mode": port, …} as one
// JSON line once every server listens; runs until killed.
import { createServer } from 'node:net';

const modes = {
  flood: (s) => pump(s, Buffer.alloc(64 * 1024, 'x')),
  endless: (s) => drip(s, 'a'.repeat(40), 20, '220 '),
  continuation: (s) => pump(s, Buffer.from(`220-${'a'.repeat(100)}\r\n`.repeat(500))),
  replies: (s) => pump(s, Buffer.from('220 ok\r\n'.repeat(2000))),
  drip: (s) => drip(s, '2', 100),
};

function pump(s, piece) {
  const go = () => {
    while (!s.destroyed && s.write(piece));
    if (!s.destroyed) s.once('drain', go);
  };
  go();
}

function drip(s, piece, ms, first = '') {
  if (first) s.write(first);
  const t = setInterval(() => (s.destroyed ? clearInterval(t) : s.write(piece)), ms);
  s.on('close', () => clearInterval(t));
}

const ports = {};
for (const [mode, behave] of Object.entries(modes)) {
  const server = createServer((s) => {
    s.on('error', () => {});
    behave(s);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  ports[mode] = server.address().port;
}
process.stdout.write(`${JSON.stringify(ports)}\n`);
