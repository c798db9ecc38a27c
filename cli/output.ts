/**
 * How the CLI speaks: human text by default, one JSON document with --json.
 * Results go to stdout; warnings and human errors to stderr. With --json an
 * error is also a JSON document on stdout, so scripts read one stream.
 */
import { asStrongroomError } from '../common/errors';
import { EXIT, ExitCode } from '../common/error-codes';

export interface Output {
  readonly json: boolean;
  /** Prints the command's result: `data` as JSON, or the human rendering. */
  result(data: unknown, human: () => string): void;
  warn(message: string): void;
  /** Reports a failure and returns the exit code it maps to. */
  failure(err: unknown): ExitCode;
}

export function makeOutput(json: boolean, stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WritableStream = process.stderr): Output {
  return {
    json,
    result(data, human) {
      stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${human()}\n`);
    },
    warn(message) {
      stderr.write(`warning: ${message}\n`);
    },
    failure(err) {
      const error = asStrongroomError(err);
      if (json) stdout.write(`${JSON.stringify({ error: error.toJSON() }, null, 2)}\n`);
      else if (error.code === 'APPROVAL_REQUIRED' && typeof error.details.requestId === 'string') {
        // Not a failure: the request waits for other officers. Say what they run.
        stderr.write(`approval required: ${error.message}\n`);
        // Votes are refused in local mode (DUAL_CONTROL_LOCAL_MODE): the approver needs --server and their own certificate.
        stderr.write(`next: another officer, with --server and their own --cert and --key, runs \`strongroom approvals show ${error.details.requestId}\`, then \`strongroom approvals approve ${error.details.requestId} --digest ${String(error.details.digest)}\`\n`);
      } else stderr.write(`error [${error.code}]: ${error.message}\n`);
      if (error.code === 'INTERNAL_ERROR' && process.env.STRONGROOM_DEBUG) {
        stderr.write(`${String((error.cause as Error | undefined)?.stack ?? error.cause)}\n`);
      }
      return error.exitCode ?? EXIT.INTERNAL;
    },
  };
}

/** Renders rows as aligned columns for humans. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}
