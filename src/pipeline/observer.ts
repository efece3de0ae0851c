import type { ErrorCode } from '../errors.js';
import type { Verdict } from '../validation/types.js';
import type { Destination } from './routing.js';

/** Hooks for metrics; every one is optional and called on the hot path, so keep them cheap. */
export interface ProcessorObserver {
  /** A record got its verdict (its checks and their durations); called when it is routed, before it is published. */
  judged?(verdict: Verdict): void;
  /** A record's output was acknowledged (the verdict's kind and reason only: the verdict is not kept that long). */
  routed?(
    destination: Destination,
    verdict: Pick<Verdict, 'verdict' | 'reason'> | null,
    errorCode: ErrorCode | null,
    durationMs: number,
  ): void;
  inFlight?(topic: string, partition: number, count: number): void;
  committed?(topic: string, partition: number, offset: number): void;
  paused?(topic: string, partition: number, paused: boolean): void;
  rebalanced?(assigned: Record<string, number[]>): void;
  /** Records behind the high watermark and not yet committed (fetched but waiting count). */
  lag?(topic: string, partition: number, lag: number): void;
  publishBatch?(records: number, durationMs: number, error?: Error): void;
  state?(state: ProcessorState): void;
}

export type ProcessorState = 'idle' | 'starting' | 'running' | 'rebalancing' | 'draining' | 'stopped' | 'failed';
