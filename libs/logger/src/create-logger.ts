import { Writable } from 'node:stream';
import winston from 'winston';
import { isSensitiveKey, REDACTED, redact, redactString } from './redact';

/** Fields that tie a log line to the flow (STYLE.md): delivery, event, run, stack, integration. */
export interface CorrelationFields {
  deliveryId?: string;
  eventId?: string;
  runId?: string;
  stackId?: string;
  integrationId?: string;
  requestId?: string;
  [key: string]: unknown;
}

export interface Logger {
  error(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  debug(message: string, meta?: Record<string, unknown>): void;
  /** A logger whose every line carries these fields. */
  child(fields: CorrelationFields): Logger;
}

export interface LoggerOptions {
  /** Process role, e.g. `webhook-gateway`, present on every line. */
  service: string;
  level?: string;
  /** Where JSON lines go; stdout by default. */
  stream?: Writable;
  /** Called synchronously with every finished (redacted) JSON line; tests use it to capture logs. */
  onLine?: (line: string) => void;
}

const MESSAGE = Symbol.for('message');

const redactFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    const value = info[key];
    if (key === 'level' || key === 'timestamp') continue;
    if (isSensitiveKey(key) && value !== undefined && value !== null && value !== '') info[key] = REDACTED;
    else info[key] = key === 'message' && typeof value === 'string' ? redactString(value) : redact(value);
  }
  return info;
});

class WinstonLogger implements Logger {
  constructor(private readonly inner: winston.Logger) {}
  error(message: string, meta?: Record<string, unknown>): void {
    this.inner.error(message, meta);
  }
  warn(message: string, meta?: Record<string, unknown>): void {
    this.inner.warn(message, meta);
  }
  info(message: string, meta?: Record<string, unknown>): void {
    this.inner.info(message, meta);
  }
  debug(message: string, meta?: Record<string, unknown>): void {
    this.inner.debug(message, meta);
  }
  child(fields: CorrelationFields): Logger {
    return new WinstonLogger(this.inner.child(fields));
  }
}

/** JSON lines through winston, redacted by field name and by registered secret value. */
export function createLogger(options: LoggerOptions): Logger {
  const inner = winston.createLogger({
    level: options.level ?? 'info',
    defaultMeta: { service: options.service },
    format: winston.format.combine(
      winston.format.timestamp(),
      redactFormat(),
      winston.format.json(),
      winston.format((info) => {
        options.onLine?.(String((info as unknown as Record<symbol, unknown>)[MESSAGE]));
        return info;
      })(),
    ),
    transports: [
      options.stream
        ? new winston.transports.Stream({ stream: options.stream })
        : new winston.transports.Console({ stderrLevels: [] }),
    ],
  });
  return new WinstonLogger(inner);
}

/** A logger that writes nothing; for tests that do not look at logs. */
export function createSilentLogger(): Logger {
  const inner = winston.createLogger({
    silent: true,
    transports: [new winston.transports.Console({ silent: true })],
  });
  return new WinstonLogger(inner);
}

/** Collects log lines in memory (parsed JSON) — for tests that assert on what was logged. */
export function createCapturingLogger(
  service = 'test',
  level = 'debug',
): { logger: Logger; lines: Record<string, unknown>[]; text: () => string } {
  const raw: string[] = [];
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write: (_chunk, _enc, done) => done() });
  const onLine = (line: string): void => {
    raw.push(line);
    lines.push(JSON.parse(line) as Record<string, unknown>);
  };
  const logger = createLogger({ service, level, stream: sink, onLine });
  return { logger, lines, text: () => raw.join('\n') };
}
