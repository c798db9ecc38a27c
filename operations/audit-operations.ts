/**
 * AuditSearch, AuditVerify and Report (docs/protocol.md §6): reading the
 * audit trail and the compliance report over the wire, for officers and
 * auditors (access `audit`; apps get PERMISSION_DENIED). Each is itself
 * recorded in the trail by the dispatcher, so reading the trail leaves a
 * trace too. Search returns export lines' fields (seq, prevHash, hash,
 * event) so a remote export is byte-for-byte the local one.
 */
import { AuditEvent } from '../domain/audit/audit-event';
import { parseAuditFilter } from '../domain/audit/audit-filter';
import { searchAudit } from '../domain/audit/audit-search';
import { chainStatus, compileReport } from '../domain/report/compile-report';
import { reportPeriod } from '../domain/report/report-builder';
import { Operation } from './operation';

/** Lets the server answer other requests between the pages of a long report. */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export const auditSearch: Operation<'AuditSearch'> = {
  name: 'AuditSearch',
  access: 'audit',
  batchable: false,
  run: (args, ctx) => {
    const filter = parseAuditFilter({
      from: args.from,
      to: args.to,
      identity: args.identity,
      key: args.key,
      operation: args.operation,
      result: args.result,
      type: args.type,
    });
    const audit = ctx.services.auditTrail;
    const found = searchAudit(audit, filter, { fromSeq: args.fromSeq, limit: args.limit });
    const head = audit.auditHead();
    return {
      events: found.records.map((r) => ({ seq: r.seq, prevHash: r.prevHash.toString('hex'), hash: r.hash.toString('hex'), event: JSON.parse(r.event) as AuditEvent })),
      nextSeq: found.nextSeq,
      scanned: found.scanned,
      head: head === null ? null : { seq: head.seq, hash: head.hash.toString('hex') },
    };
  },
};

export const auditVerify: Operation<'AuditVerify'> = {
  name: 'AuditVerify',
  access: 'audit',
  batchable: false,
  run: async (_args, ctx) => chainStatus(ctx.services.auditTrail, await ctx.services.auditTrust()),
};

export const report: Operation<'Report'> = {
  name: 'Report',
  access: 'audit',
  batchable: false,
  run: (args, ctx) => {
    const { keychain, auditTrail, clock } = ctx.services;
    const period = reportPeriod(clock, args.from, args.to);
    return ctx.services.auditTrust().then((trust) => compileReport({ keychain, audit: auditTrail, clock, pause: yieldToEventLoop, trust }, period));
  },
};
