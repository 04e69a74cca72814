/**
 * Structured JSON logs on stderr, one object per line. Callers pass fields, never raw request data:
 * nothing here can see a secret unless a caller hands it one, and `redact` drops the usual suspects
 * as a second line of defence.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

const SENSITIVE = /secret|token|password|authorization|cookie|code_verifier|^code$|kek|pepper|private/i;

export interface Logger {
  /** Whether `debug` writes anything: a caller can skip building fields nobody will read. */
  readonly debugging: boolean;
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(level: LogLevel, write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const emit = (lvl: Exclude<LogLevel, 'silent'>, msg: string, fields: Record<string, unknown> = {}) => {
    if (RANK[lvl] < RANK[level]) return;
    write(`${JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...redact(fields) })}\n`);
  };
  return {
    debugging: RANK.debug >= RANK[level],
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

export function redact(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (SENSITIVE.test(k)) out[k] = '[redacted]';
    else if (v instanceof Error) out[k] = { name: v.name, message: v.message, stack: v.stack };
    else out[k] = v;
  }
  return out;
}

/**
 * A URL path fit for logs: any segment long enough to be a bearer secret (session tokens may appear
 * in `DELETE /admin/v1/sessions/<token>`) is replaced, so paths never carry tokens into logs (S-06).
 */
export const redactPath = (path: string): string => path.replace(/[^/]{32,}/g, '[redacted]');
