/**
 * A private temporary folder for work the command line does where there is
 * no appliance folder to do it in (`strongroom backup verify FILE` on an
 * operator's machine: the backup's extracted snapshot, a whole keychain).
 * Created 0700, removed when the work ends, and also when the command is
 * stopped by SIGINT (Ctrl-C) or SIGTERM: the copy must not outlive the
 * command. A SIGKILL cannot be caught; the folder's name says what it is.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

export async function withPrivateWorkDir<T>(prefix: string, work: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  // mkdtemp makes it 0700 already; said here so that nothing depends on it.
  chmodSync(dir, 0o700);
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  const detach = (): void => {
    for (const signal of STOP_SIGNALS) process.removeListener(signal, onSignal);
  };
  function onSignal(signal: NodeJS.Signals): void {
    remove();
    detach();
    // Then the signal's own action: the command ends by it, as it would have without this listener.
    process.kill(process.pid, signal);
  }
  for (const signal of STOP_SIGNALS) process.once(signal, onSignal);
  try {
    return await work(dir);
  } finally {
    detach();
    remove();
  }
}
