// The V8 flags the processor runs with: the image's ENTRYPOINT (Dockerfile) starts Node with
// exactly these, and the benchmark starts its `ours` contenders with them, so the memory it
// measures is the memory a pod uses (test/deploy/dockerfile.test.ts checks the two agree).
// Outside the image, pass them to `node` yourself: `node $FLAGS bin/email-flow-validator.mjs run`.
//
// Measured on Node 24 over 100,000 to 1,000,000 events (docs/ARCHITECTURE.md, "Memory budget"):
// - Young generation. V8 sizes the semi-spaces from the heap limit, and the heap limit from the
//   machine's (or the container's) memory: on a 24 GB host a semi-space is 64 MB, the young
//   generation 128 MB resident once a backlog runs, about a third of the peak RSS. 8 MB
//   semi-spaces (16 MB resident) cost no measurable CPU per event against 16 or 64 (a
//   scavenge takes a few ms and the records that survive one are the in-flight ones,
//   promoted at any of these sizes); 8 instead of 16 took 13 MB off the peak.
// - Old generation. After a full GC V8 lets the old generation grow to up to 4× what survived
//   (it picks the factor from the heap limit, so again from the host) before the next one.
//   The processor's live heap is ~45 MB (two thirds of it there at idle); the rest of a 200 MB
//   old generation is promoted garbage. 2× caps that at about twice the live heap, at the cost
//   of more frequent concurrent marking: about 10 % more CPU per event.
// Neither flag caps the heap (no --max-old-space-size): Node still sizes the heap limit from
// the container's memory limit.
export const NODE_FLAGS = ['--max-semi-space-size=8', '--heap-growing-percent=100'];

// The C allocator's settings the processor runs with (the image's ENV, the benchmark's `ours`).
// glibc raises its mmap threshold to the size of each large block freed, up to 32 MB, so once
// a few fetch responses and produce requests (0.1–8 MB each) were freed, later ones come from
// the heap arenas, which keep their pages: 20–30 MB of the peak RSS was freed buffers. Fixed
// thresholds give every block over 128 KB its own mapping, returned when it is freed; two
// arenas instead of eight per core for the threads' small allocations. Over five runs each
// (200,000 events): peak RSS 162–170 MB against 183–208 MB without, CPU within the noise.
// No effect on a musl libc (Alpine); Node's official images are glibc.
export const MALLOC_ENV = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: '131072',
  MALLOC_TRIM_THRESHOLD_: '131072',
};
