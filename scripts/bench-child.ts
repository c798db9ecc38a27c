/**
 * A forked benchmark server (the appliance or the echo ceiling), shared by
 * the socket and rollover benchmarks: IPC messages are queued until asked
 * for, every wait is bounded, and stop() always ends with the process gone.
 */
import { ChildProcess } from 'node:child_process';

/** How long stop() waits for a child to exit on its own before SIGKILL. */
const CHILD_STOP_TIMEOUT_MS = 15_000;

/** What a child says over IPC; `ready` carries its ports (kmipPort: the KMIP listener's, null when none). */
export interface ChildMessage {
  readonly type: string;
  readonly port?: number;
  readonly kmipPort?: number | null;
  /** `cpu` answers: process.cpuUsage() of the child, microseconds. */
  readonly user?: number;
  readonly system?: number;
  /** `cpu` answers (the appliance child): its audit group commits so far, the events they carried and the seconds they took. */
  readonly audit?: { readonly commits: number; readonly events: number; readonly seconds: number };
}

/** A forked server: IPC messages queued until asked for, stop() that always ends with the process gone. */
export class Child {
  private readonly messages: ChildMessage[] = [];
  private wake: (() => void) | null = null;
  private readonly exited: Promise<void>;

  constructor(readonly name: string, readonly proc: ChildProcess, private readonly replyTimeoutMs = 60_000) {
    proc.on('message', (message: ChildMessage) => {
      this.messages.push(message);
      this.wake?.();
    });
    // A send to a child that just died fails with EPIPE: the exit is what matters, seen below.
    proc.on('error', () => undefined);
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    proc.once('exit', () => this.wake?.());
  }

  async next(type: string): Promise<ChildMessage> {
    const deadline = Date.now() + this.replyTimeoutMs;
    for (;;) {
      const message = this.messages.shift();
      if (message?.type === type) return message;
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) throw new Error(`the ${this.name} child exited before "${type}"`);
      if (Date.now() > deadline) throw new Error(`the ${this.name} child sent no "${type}" within ${this.replyTimeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  send(message: unknown): void {
    this.proc.send(message as object);
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    if (this.proc.connected) this.proc.send({ type: 'stop' }, () => undefined);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), CHILD_STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
  }
}
