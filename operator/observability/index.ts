export { createLogger, parseLogLevel, LOG_LEVELS } from './logger.js';
export type { Logger, LogLevel, LogFields, LogSink } from './logger.js';
export { startHealthServer, parseListenAddress } from './health-server.js';
export type { HealthServer, HealthServerOptions } from './health-server.js';
export { createOperatorMetrics } from './metrics.js';
export type { OperatorMetrics } from './metrics.js';
