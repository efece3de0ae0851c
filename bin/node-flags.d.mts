/** The V8 flags the processor runs with (the image's ENTRYPOINT, the benchmark's `ours`). */
export declare const NODE_FLAGS: readonly string[];
