/**
 * The appliance's operational log (winston, JSON lines on stderr). It records
 * what happened and to what (codes, names, ids), never key material, PINs or
 * request payloads: callers pass only such fields, and errors are logged by
 * code, message and stack, which never carry bytes (common/errors.ts).
 */
import winston from 'winston';

export type Logger = Pick<winston.Logger, 'error' | 'warn' | 'info' | 'debug'>;

export function createLogger(level: string): Logger {
  return winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] })],
  });
}

/** A logger that drops everything: for tests and embedded use. */
export const silentLogger: Logger = {
  error: () => silentLogger as never,
  warn: () => silentLogger as never,
  info: () => silentLogger as never,
  debug: () => silentLogger as never,
};
