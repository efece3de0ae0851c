import { bool, int, oneOf } from '../config-fields.js';

export const telemetryFields = {
  logLevel: oneOf({
    env: 'LOG_LEVEL',
    description: 'pino log level.',
    default: 'info',
    values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
  }),
  logAddresses: bool({
    env: 'LOG_ADDRESSES',
    description: 'Debug switch: log email addresses in clear at debug level. Off: addresses are hashed.',
    default: false,
  }),
  httpPort: int({
    env: 'HTTP_PORT',
    description: 'Port of /healthz, /readyz and /metrics; 0 picks a free port; -1 disables the server.',
    default: 9464,
    min: -1,
    max: 65_535,
  }),
};
