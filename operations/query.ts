/**
 * Query (docs/protocol.md §6): what this server is, what it does, its limits, and who the caller is;
 * for officers and auditors also the delivery counters of each audit sink (docs/audit-sinks.md)
 * the state of the server's scheduled backups (docs/backup.md) and the certificates near their end (docs/certificates.md).
 */
import { OperationContext } from './context';
import { Operation } from './operation';

/** The server's own backups: the schedule (off, or its period), the last scheduled backup's time and outcome, the next due time, and the retention count. */
function backupsStatus(ctx: OperationContext): Record<string, unknown> | null {
  const backups = ctx.services.backups;
  if (!backups) return null;
  const schedule = backups.schedule?.status() ?? { schedule: 'off', lastScheduled: null, nextDueAt: null };
  return { ...schedule, retention: backups.retention };
}

/** Every certificate's end and whether it is within cert_expiry_warning (docs/certificates.md); null while sealed. */
function certificatesStatus(ctx: OperationContext): Record<string, unknown> | null {
  const lifecycle = ctx.services.certificates;
  const certificates = lifecycle?.expiries() ?? null;
  return lifecycle === undefined || certificates === null ? null : { warningPeriod: lifecycle.warningPeriod, complete: true, certificates };
}

export function makeQuery(operationNames: () => readonly string[]): Operation<'Query'> {
  return {
    name: 'Query',
    access: 'any',
    run: (_args, ctx) => ({
      server: 'strongroom',
      version: ctx.services.version,
      protocol: 1,
      operations: operationNames(),
      limits: ctx.services.limits,
      identity: { name: ctx.identity.name, role: ctx.identity.role, groups: ctx.identity.groups },
      // Where the trail goes is for those who run or audit the appliance, not for applications.
      ...(ctx.identity.role === 'officer' || ctx.identity.role === 'auditor' ? { auditSinks: ctx.services.auditSinkStats?.() ?? [], backups: backupsStatus(ctx), certificates: certificatesStatus(ctx) } : {}),
      // Sealed or not, and the custodians' progress (k of M): what `strongroom status --server` shows.
      unseal: ctx.services.unsealing?.statusFor(ctx.identity) ?? null,
      // Whether the HSM answers; when it does not, the appliance is sealed and this says since when and how it comes back.
      hsm: ctx.services.hsmHealth?.status() ?? null,
    }),
  };
}
