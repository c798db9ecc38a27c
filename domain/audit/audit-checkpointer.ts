/**
 * Signs the audit chain head with the HSM signing key at intervals
 * (audit_checkpoint_interval_ms) and once at shutdown, when the head moved
 * since the last checkpoint (domain/audit/audit-checkpoint.ts). One HSM
 * signature per interval, never per request. A checkpoint that cannot be
 * made (HSM unreachable) is logged and retried at the next interval: serving
 * goes on, the chain still protects every event, and `audit verify` reports
 * how many events the newest checkpoint does not cover.
 */
import { Clock } from '../../common/clock';
import { Timer, Timers } from '../../common/timers';
import { signCheckpoint } from './audit-checkpoint';
import { HsmPort } from '../../hsm/hsm-port';
import { AuditCheckpointRecord, AuditStore } from '../../storage/audit-store';
import { Logger } from '../../common/logger';

export interface CheckpointerOptions {
  readonly audit: AuditStore;
  readonly hsm: () => Promise<HsmPort>;
  readonly keychainId: string;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly intervalMs: number;
  readonly log: Logger;
}

export class AuditCheckpointer {
  private timer: Timer | null = null;
  private running: Promise<AuditCheckpointRecord | null> | null = null;
  private failures = 0;

  constructor(private readonly options: CheckpointerOptions) {}

  start(): void {
    if (this.timer !== null) return;
    this.timer = this.options.timers.every(this.options.intervalMs, () => void this.checkpoint());
  }

  /** Checkpoints made fail in a row (for status). */
  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Signs the current head unless the newest checkpoint already covers it; resolves with the new checkpoint, or null. Never rejects. */
  checkpoint(): Promise<AuditCheckpointRecord | null> {
    this.running ??= this.signHead().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Stops the timer and makes a last checkpoint. */
  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = null;
    await this.checkpoint();
  }

  private async signHead(): Promise<AuditCheckpointRecord | null> {
    const { audit, log } = this.options;
    try {
      const head = audit.auditHead();
      const last = audit.lastAuditCheckpoint();
      if (head === null || (last !== null && last.seq >= head.seq)) return null;
      const checkpoint = await signCheckpoint(await this.options.hsm(), this.options.keychainId, head, this.options.clock);
      audit.appendAuditCheckpoint(checkpoint);
      this.failures = 0;
      return checkpoint;
    } catch (err) {
      this.failures++;
      log.error('audit checkpoint not signed; retrying at the next interval', { error: String(err), failures: this.failures });
      return null;
    }
  }
}
