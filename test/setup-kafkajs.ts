import { installRequestQueueTimer } from '../src/kafka/request-queue.js';

// Tests that use KafkaJS directly (admins, plain producers and consumers) get the same timer
// fix as the processor's client, so Node 24 prints no TimeoutNegativeWarning for each of them.
installRequestQueueTimer();
