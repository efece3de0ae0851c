/**
 * The one publisher interface the processor uses, whichever the delivery mode:
 * `BatchPublisher` (at-least-once: batches on lanes, offsets committed by the consumer once
 * acknowledged) or `TransactionalPublisher` (exactly-once: results and input offsets in one
 * transaction). `createDelivery` (delivery.ts) picks one at start.
 */
import type { OutputTopicsAware } from '../output-topics.js';
import type { RecordPublisher } from '../record-task.js';

export interface Publisher extends RecordPublisher, OutputTopicsAware {
  connect(): Promise<void>;
  /** Records handed in and not yet on the wire. */
  pendingCount(): number;
  /** Sends everything handed in so far and waits for the broker's answers. */
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Exactly-once: the consumer joined its group under this member id (offsets are fenced by it). */
  groupJoined?(memberId: string): void;
}
