/**
 * The officers `strongroom init` makes at the ceremony. After init, issuing
 * an officer is dual-controlled everywhere (OFFICER_ISSUE_CLASS: M officers
 * other than the requester approve), so a new appliance needs M + 1 officers
 * before any of them can add another, grant material or destroy a key. init
 * makes them while it holds the keychain open, in this order: `admin`
 * (bootstrap-pki.ts), the custodians when there are shares (custodian-1..N:
 * officers already, so they count), then officer-2, officer-3… for what is
 * still missing. Each certificate and its key (mode 0600) go to a folder of
 * the data folder for the operator to hand over, and each is an audit event
 * (type and actor `init`).
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventStamper } from '../audit/audit-event';
import { ValidationError } from '../../common/errors';
import { ClientRecord } from '../../storage/directory-store';
import { AuditStore } from '../../storage/audit-store';
import { AuditWriter } from '../audit/audit-writer';
import { initIssueEvent } from '../audit/audit-events';
import { OFFICER_ISSUE_CLASS, parseQuorumSetting } from '../approvals/quorum-settings';
import { PkiService } from './pki-service';

/** Most officers one init makes: more is a typo (officers beyond these are issued later, with approvals). */
export const MAX_INIT_OFFICERS = 64;

/** Approvals an officer's issue needs, from `dual_control_quorum` (CONFIG_INVALID when it does not parse). */
export function officerIssueQuorum(dualControlQuorum: string): number {
  return parseQuorumSetting(dualControlQuorum).get(OFFICER_ISSUE_CLASS) as number;
}

export interface InitOfficerRequest {
  /** Approvals the officer-issue class needs (officerIssueQuorum). */
  readonly quorum: number;
  /** Custodian officers init makes for the shares (0 without shares). */
  readonly custodians: number;
  /** `--officers`: every officer init makes, admin and custodians included; null for the default (quorum + 1). */
  readonly requested: number | null;
  /** `--accept-fewer-officers`: the operator knowingly asks for fewer than quorum + 1. */
  readonly acceptFewer: boolean;
}

export interface InitOfficerPlan {
  /** Officers init makes in all. */
  readonly total: number;
  /** Officers dual control needs for one of them to have another issued: quorum + 1. */
  readonly needed: number;
  /** Names of the officers beyond admin and the custodians: officer-2, officer-3… */
  readonly extra: readonly string[];
}

/**
 * How many officers init makes, and which beyond admin and the custodians.
 * INVALID_ARGUMENT (before anything is created) for a count out of range,
 * one below quorum + 1 unless accepted, or one below what the custodians
 * already make.
 */
export function planInitOfficers(request: InitOfficerRequest): InitOfficerPlan {
  const needed = request.quorum + 1;
  const base = 1 + request.custodians;
  const total = request.requested ?? Math.max(needed, base);
  if (!Number.isInteger(total) || total < 1 || total > MAX_INIT_OFFICERS) {
    throw new ValidationError(`--officers must be a whole number from 1 to ${MAX_INIT_OFFICERS}`);
  }
  if (total < needed && !request.acceptFewer) {
    throw new ValidationError(
      `--officers ${total} is fewer than dual control needs: issuing an officer takes ${request.quorum} approvals from officers other than the requester (dual_control_quorum, ${OFFICER_ISSUE_CLASS}), so ${needed} officers; with fewer, no officer can ever be added. Give --officers ${needed} or more, or --accept-fewer-officers for a lab`,
      { details: { requested: total, needed } },
    );
  }
  if (total < base) {
    throw new ValidationError(
      `--officers counts admin and the custodians: with --shares ${request.custodians} init makes ${base} officers already; give --officers ${base} or more, or leave it out`,
      { details: { requested: total, minimum: base } },
    );
  }
  return { total, needed, extra: Array.from({ length: total - base }, (_, i) => `officer-${i + 2}`) };
}

export interface OfficerFiles {
  readonly client: ClientRecord;
  readonly certFile: string;
  readonly keyFile: string;
}

/**
 * Issues officers `names` and writes NAME.crt (0644) and NAME.key (0600) to
 * `dir` (made 0700). Each key pair comes from `newKeyPair`, made on the
 * client's side like every client's (init passes client/credentials.ts
 * generateClientKeyPair), and the private key goes only to its file.
 */
export function issueOfficerFiles(pki: PkiService, names: readonly string[], dir: string, newKeyPair: () => { publicKeyPem: string; privateKeyPem: string }): OfficerFiles[] {
  if (names.length > 0) mkdirSync(dir, { recursive: true, mode: 0o700 });
  return names.map((name) => {
    const pair = newKeyPair();
    const issued = pki.issueClient({ name, role: 'officer', groups: [], publicKeyPem: pair.publicKeyPem });
    const certFile = join(dir, `${name}.crt`);
    const keyFile = join(dir, `${name}.key`);
    writeFileSync(certFile, issued.certificatePem, { mode: 0o644 });
    writeFileSync(keyFile, `${pair.privateKeyPem.trim()}\n`, { mode: 0o600 });
    // The mode above applies only to a new file: one left by an earlier attempt is narrowed too.
    chmodSync(keyFile, 0o600);
    return { client: issued.client, certFile, keyFile };
  });
}

/** One `init` audit event per client init made, in one group commit; AUDIT_UNAVAILABLE if the trail cannot be written. */
export async function recordInitIssues(audit: AuditStore, stamper: EventStamper, clients: readonly ClientRecord[], operator: { name: string; subject: string }): Promise<void> {
  const writer = new AuditWriter(audit);
  await Promise.all(clients.map((client) => writer.record(initIssueEvent(stamper, client, operator))));
}
