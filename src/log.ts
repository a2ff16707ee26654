// Logging for all programs: pino, JSON lines on stderr (stdout stays free for data output).
import { pino, type Logger } from 'pino';

/** The original's --log_level names, mapped onto pino levels. */
export const LOG_LEVELS = { CRITICAL: 'fatal', ERROR: 'error', WARNING: 'warn', INFO: 'info', DEBUG: 'debug' } as const;
export type LogLevelName = keyof typeof LOG_LEVELS;
export const LOG_LEVEL_NAMES = Object.keys(LOG_LEVELS) as LogLevelName[];

export type { Logger };

export function createLogger(name: string, level: LogLevelName = 'INFO'): Logger {
  return pino({ name, level: LOG_LEVELS[level], base: { name } }, pino.destination({ fd: 2, sync: true }));
}

/** A logger that drops everything, for library use and tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
