/**
 * One opening of a chaos child's data folder (chaos-child.ts), as the CLI's
 * local mode opens it: openAppliance (which also finishes a restore staged
 * before it, docs/backup.md §5), the in-process audit pipeline, the one
 * dispatcher of composeServices, the unseal with the HSM, and the start-up
 * recovery a serving appliance runs (approvals.start()). The restore
 * scenario closes a session and opens a new one on the same folder, as
 * `strongroom serve` restarts in-process after an approved restore.
 *
 * SoftHSM2 rewrites its token files in place (login, objects): a SIGKILL
 * inside one can lose the whole token, which no appliance code can prevent.
 * So the session says `hsm` (and waits for the parent's `go`) before it
 * logs in or closes its HSM session, and before each call that writes to the
 * token (a master key made or destroyed by a rotation, the freshness anchor,
 * the signing key), and `unsealed` / `hsm-done` after: the parent holds a
 * kill that falls due in between (chaos-child-runner.ts; the marks nest).
 * A rotation killed while its token write ran lost a token under seed 2.
 * Everything else (the restore's swap at open included) stays killable.
 */
import { writeSync } from 'node:fs';
import { HsmPort } from '../../hsm/hsm-port';
import { systemClock } from '../../common/clock';
import { ApplianceConfig } from '../../common/config';
import { Logger, silentLogger } from '../../common/logger';
import { systemTimers } from '../../common/timers';
import { ClientIdentity } from '../../domain/policy/identity';
import { Requester } from '../../protocol/requester';
import { AuditPipeline, openAuditPipeline } from '../../server/compose/audit-pipeline';
import { Appliance, openAppliance } from '../../server/compose/open-appliance';
import { composeServices } from '../../server/compose/services';
import { inProcessRequester } from '../../server/local/in-process-transport';
import { CHAOS_OFFICERS } from './chaos-scenarios';

export interface ChildSession {
  readonly appliance: Appliance;
  readonly audit: AuditPipeline;
  /** A requester with this identity, through the one dispatcher. */
  as(identity: ClientIdentity): Requester;
  /** The three officers (CHAOS_OFFICERS), by their directory rows. */
  readonly officers: readonly Requester[];
  /**
   * Resolves once an approved BackupRestore is staged (intent written: the
   * session must be closed and the folder opened again); rejects when the
   * restore failed instead (its `backup-restored` event with a code).
   */
  readonly restoreStaged: Promise<{ readonly name: string; readonly keptAs: string }>;
  /** Closes the audit pipeline and the appliance (HSM session, store). */
  close(): Promise<void>;
}

/** Tells the parent a write-prone HSM step begins; resolves once it answered (the next stdin line). */
export type HsmHandshake = () => Promise<void>;

/**
 * The restorer logs its failure and records it as a `backup-restored`
 * event with a code; the child takes the event as the failure, so a
 * restore that failed is an error of the run, not a hang until the kill.
 */
function restoreWatch(audit: AuditPipeline): { staged: (outcome: { name: string; keptAs: string }) => void; promise: Promise<{ name: string; keptAs: string }> } {
  let staged: (outcome: { name: string; keptAs: string }) => void = () => undefined;
  const promise = new Promise<{ name: string; keptAs: string }>((resolve, reject) => {
    staged = resolve;
    audit.events.subscribe((live) => {
      if (live.kind === 'audit' && live.event.type === 'backup-restored' && live.event.result !== 'ok') reject(new Error(`the approved restore failed: ${live.event.result} ${JSON.stringify(live.event.custom)}`));
    });
  });
  promise.catch(() => undefined);
  return { staged, promise };
}

/** The port with each call that writes to the token marked `hsm` … `hsm-done` for the parent. */
function markTokenWrites(hsm: HsmPort, handshake: HsmHandshake): HsmPort {
  const marked = async <T>(write: () => Promise<T>): Promise<T> => {
    writeSync(1, 'hsm\n');
    await handshake();
    try {
      return await write();
    } finally {
      writeSync(1, 'hsm-done\n');
    }
  };
  const writes: Partial<HsmPort> = {
    generateMasterKey: (version) => marked(() => hsm.generateMasterKey(version)),
    destroyMasterKey: (version) => marked(() => hsm.destroyMasterKey(version)),
    writeAnchor: (label, value) => marked(() => hsm.writeAnchor(label, value)),
    ensureSigningKey: () => marked(() => hsm.ensureSigningKey()),
  };
  // Every other member is the port's own, called on the port itself.
  return new Proxy(hsm, {
    get(target, name) {
      if (Object.prototype.hasOwnProperty.call(writes, name)) return writes[name as keyof HsmPort];
      const value: unknown = Reflect.get(target, name, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

export async function openChildSession(config: ApplianceConfig, handshake: HsmHandshake, log: Logger = silentLogger): Promise<ChildSession> {
  const appliance = openAppliance(config, { decorateHsm: (hsm) => markTokenWrites(hsm, handshake) });
  const audit = openAuditPipeline(appliance, { clock: systemClock, timers: systemTimers, log, inProcess: true });
  const watch = restoreWatch(audit);
  const { services, dispatcher } = composeServices(appliance, { clock: systemClock, timers: systemTimers, log, audit, hooks: { onRestoreStaged: watch.staged } });
  writeSync(1, 'hsm\n');
  await handshake();
  await appliance.unseal();
  writeSync(1, 'unsealed\n');
  // As a serving appliance's start does once unsealed: requests a kill left `executing` are failed, not run again.
  services.approvals.start();
  const as = (identity: ClientIdentity): Requester => inProcessRequester({ dispatcher, limits: services.limits, identity });
  const officers = CHAOS_OFFICERS.map((name) => {
    const row = appliance.keychain.directory.getClientByName(name);
    if (row === null) throw new Error(`no client ${name}`);
    return as({ name: row.name, role: row.role, groups: row.groups, fingerprint256: row.fingerprint256, subject: `CN=${row.name}` });
  });
  return {
    appliance,
    audit,
    as,
    officers,
    restoreStaged: watch.promise,
    async close() {
      await audit.close();
      writeSync(1, 'hsm\n');
      await handshake();
      await appliance.close();
      writeSync(1, 'hsm-done\n');
    },
  };
}
