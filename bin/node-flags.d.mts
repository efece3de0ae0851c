/** The V8 flags the processor runs with (the image's ENTRYPOINT, the benchmark's `ours`). */
export declare const NODE_FLAGS: readonly string[];
/** The glibc malloc settings the processor runs with (the image's ENV, the benchmark's `ours`). */
export declare const MALLOC_ENV: Readonly<Record<string, string>>;
