// The V8 flags the processor runs with: the image's ENTRYPOINT (Dockerfile) starts Node with
// exactly these, and the benchmark starts its `ours` contenders with them, so the memory it
// measures is the memory a pod uses (test/deploy/dockerfile.test.ts checks the two agree).
// Outside the image, pass them to `node` yourself: `node $FLAGS bin/email-flow-validator.mjs run`.
//
// Measured on Node 24 over 100,000 to 1,000,000 events (docs/ARCHITECTURE.md, "Memory budget"):
// - Young generation. V8 sizes the semi-spaces from the heap limit, and the heap limit from the
//   machine's (or the container's) memory: on a 24 GB host a semi-space is 64 MB, the young
//   generation 128 MB resident once a backlog runs, about a third of the peak RSS. 16 MB
//   semi-spaces cost no measurable CPU per event (a scavenge takes 2–6 ms and the records that
//   survive one are the in-flight ones, promoted at any of these sizes).
// - Old generation. After a full GC V8 lets the old generation grow to up to 4× what survived
//   (it picks the factor from the heap limit, so again from the host) before the next one.
//   The processor's live heap is ~45 MB (two thirds of it there at idle); the rest of a 200 MB
//   old generation is promoted garbage. 2× caps that at about twice the live heap, at the cost
//   of more frequent concurrent marking: about 10 % more CPU per event.
// Neither flag caps the heap (no --max-old-space-size): Node still sizes the heap limit from
// the container's memory limit.
export const NODE_FLAGS = ['--max-semi-space-size=16', '--heap-growing-percent=100'];
