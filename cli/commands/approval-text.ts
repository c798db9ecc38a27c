/**
 * How `strongroom approvals` shows a request to a person: one line per
 * request in `list` (what it does and to what: the key it is bound to, the
 * client it issues or revokes, the grant it makes), and everything about it
 * in `show`. Arguments and results are summarised safely: a PEM becomes what
 * identifies it (a certificate's subject and SHA-256 fingerprint, a public
 * key's type and SHA-256 fingerprint) and any other PEM block (a private key)
 * is withheld, so no line is a wall of base64 and no key material is printed.
 * The --json output is the wire's request object, untouched (docs/protocol.md §6.3).
 */
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import type { ApprovalView } from '../../client/types';

/** Widest TARGET cell in `approvals list`: a long grant pattern must not push the other columns off the screen. */
export const MAX_TARGET_COLUMN = 48;
/** Longest plain string shown whole in `show`; longer ones are cut and their length given. */
const MAX_SHOWN_STRING = 200;
/** Deepest argument or result tree rendered; results are views a few levels deep. */
const MAX_RENDER_DEPTH = 8;

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

function colonHex(digest: Buffer): string {
  return digest.toString('hex').toUpperCase().match(/../g)!.join(':');
}

/** A public key's SHA-256 fingerprint (of its SubjectPublicKeyInfo DER), colon hex: what `show` prints for it. */
export function publicKeyFingerprint(publicKeyPem: string): string {
  return colonHex(createHash('sha256').update(createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' })).digest());
}

/** What identifies one PEM block, never its bytes. */
function pemBlockSummary(label: string, block: string): string {
  try {
    if (label === 'CERTIFICATE') {
      const certificate = new X509Certificate(block);
      return `certificate "${certificate.subject.replace(/\n/g, ', ')}", SHA-256 ${certificate.fingerprint256}`;
    }
    if (label === 'PUBLIC KEY') {
      return `${createPublicKey(block).asymmetricKeyType ?? 'unknown'} public key, SHA-256 ${publicKeyFingerprint(block)}`;
    }
  } catch {
    return `${label.toLowerCase()} (unreadable PEM)`;
  }
  // A private key, or anything else a PEM can hold: not for a screen.
  return `[${label.toLowerCase()} withheld]`;
}

/** A string with PEM blocks in it, summarised; null when it holds none. */
export function pemSummary(text: string): string | null {
  const blocks = [...text.matchAll(PEM_BLOCK)];
  if (blocks.length === 0) return text.includes('-----BEGIN ') ? '[PEM withheld]' : null;
  return blocks.map((m) => pemBlockSummary(m[1], m[0])).join('; ');
}

/** C1 controls and DEL, which JSON.stringify leaves as they are and a terminal may obey. */
const C1_CONTROLS = /[\u007f-\u009f]/g;

function escapeC1(text: string): string {
  return text.replace(C1_CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Text fit for one terminal line: control characters escaped (a requester chose it). */
function escaped(text: string): string {
  return escapeC1(JSON.stringify(text).slice(1, -1));
}

/** A long string cut, with its length given. */
function cut(text: string): string {
  return text.length > MAX_SHOWN_STRING ? `${text.slice(0, MAX_SHOWN_STRING)}… (${text.length} characters)` : text;
}

/** A string fit for one terminal line: escaped, and cut when long. */
function printable(text: string): string {
  return escaped(cut(text));
}

/** A copy of an argument or result tree with every PEM replaced by its summary. */
export function summarised(value: unknown, depth = 0): unknown {
  if (depth > MAX_RENDER_DEPTH) return '[too deep]';
  if (typeof value === 'string') return pemSummary(value) ?? cut(value);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => summarised(v, depth + 1));
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, summarised(v, depth + 1)]));
}

function shown(value: unknown): string {
  const safe = summarised(value);
  if (typeof safe === 'string') return printable(safe);
  if (Array.isArray(safe) && safe.every((v) => typeof v === 'string')) return safe.map((v) => printable(v as string)).join(', ') || '(none)';
  return escapeC1(JSON.stringify(safe));
}

function text(value: unknown): string {
  return typeof value === 'string' ? printable(value) : value === undefined ? '?' : shown(value);
}

/** What a request acts on, resolved where the server resolved it (a key's binding, not the alias typed). */
export function approvalTarget(view: ApprovalView): string {
  const args = view.args;
  if (view.binding) return `key ${printable(view.binding.name)}`;
  switch (view.operation) {
    case 'ClientIssue':
      return `client ${text(args.name)} (${text(args.role)})`;
    case 'ClientRevoke':
      return `client ${text(args.name)}`;
    case 'ClientRenew':
      return `client ${text(args.name)} (renewal: a new key for it)`;
    case 'PolicyGrant':
      return `${shown(args.permissions)} on ${text(args.pattern)} to ${args.client !== undefined ? `client ${text(args.client)}` : `group ${text(args.group)}`}`;
    case 'ApprovalQuorumSet':
      return `quorum ${text(args.class)} to ${text(args.required)}`;
    case 'BackupRestore': {
      const target = (args.target ?? {}) as { older?: unknown; sameKeychain?: unknown; signedHere?: unknown; signerFingerprint?: unknown };
      const notes = [
        target.sameKeychain === false ? "another keychain's" : '',
        target.older === true ? 'older: rolls the keychain back' : '',
        // The restored trail is then vouched for by that key alone: approvers must know it (docs/backup.md §5).
        target.signedHere === false ? `signed by ANOTHER appliance's key ${text(target.signerFingerprint)}: approve only if you know that key` : '',
      ].filter((n) => n !== '');
      return `backup ${text(args.name)} (replaces the keychain${notes.length > 0 ? `; ${notes.join('; ')}` : ''})`;
    }
    case 'MasterKeyRotate':
      return args.destroyOld === true ? 'master key (destroying old versions)' : 'master key';
    default:
      return args.name !== undefined ? `key ${text(args.name)}` : args.instance !== undefined ? `instance ${text(args.instance)}` : '-';
  }
}

/** The TARGET cell: the target, cut to MAX_TARGET_COLUMN. */
export function targetCell(view: ApprovalView): string {
  const target = approvalTarget(view);
  return target.length > MAX_TARGET_COLUMN ? `${target.slice(0, MAX_TARGET_COLUMN - 1)}…` : target;
}

/** A yes/no the server stored, or '?' when the stored value is not a boolean. */
function flag(value: unknown, yes: string, no: string): string {
  return value === true ? yes : value === false ? no : '?';
}

/**
 * What a restore request replaces the keychain with, one fact a line (the
 * request's `target`, as the appliance verified the file before storing the
 * request, and as its digest covers): what an approver reads before
 * approving, rather than a line of JSON. `indent` starts each line.
 */
export function restoreTargetLines(view: ApprovalView, indent: string): string[] {
  const target = (view.args.target ?? {}) as Record<string, unknown>;
  return [
    `${indent}Backup file    ${text(view.args.name)}`,
    `${indent}SHA-256        ${text(target.sha256 ?? view.args.sha256)}`,
    `${indent}Keychain       ${text(target.keychainId)} (${flag(target.sameKeychain, "this appliance's keychain", "ANOTHER keychain than this appliance's")})`,
    `${indent}Made           ${text(target.createdAt)}`,
    `${indent}Audit head     event ${text(target.auditHeadSeq)}`,
    `${indent}Trust counter  ${text(target.trustCounter)}`,
    `${indent}Instances      ${text(target.instances)} (each opened with this HSM when the request was checked)`,
    `${indent}Signed by      ${text(target.signerFingerprint)} (${flag(target.signedHere, "this appliance's key", "ANOTHER appliance's key, named by the requester: approve only if you know that key")})`,
    `${indent}Older          ${flag(target.older, 'YES: older than the current keychain; approving rolls the keychain back', 'no: not older than the current keychain')}`,
  ];
}

/** `approvals show`: everything about one request, arguments and result summarised safely. */
export function describeApproval(view: ApprovalView): string {
  const restore = view.operation === 'BackupRestore';
  // A restore's target is shown as lines of its own below, not as one line of JSON.
  const args = Object.entries(view.args).filter(([name]) => !(restore && name === 'target'));
  const argLines = args.map(([name, value], i) => `${i === 0 ? 'Arguments  ' : '           '}${name}: ${shown(value)}`);
  const lines = [
    `Request    ${view.id}`,
    `State      ${view.state}`,
    `Operation  ${view.operation} (${view.class})`,
    `Target     ${approvalTarget(view)}`,
    ...(argLines.length > 0 ? argLines : ['Arguments  (none)']),
    // What will be used, whatever the arguments name (an alias can be re-pointed; this cannot).
    ...(view.binding ? [`Key        ${view.binding.name} (key id ${view.binding.keyId}, instance ${view.binding.instance})`] : []),
    ...(restore ? ['Restores   the keychain to this backup:', ...restoreTargetLines(view, '  ')] : []),
    `Requester  ${view.requester}`,
    `Approvals  ${view.approvals} of ${view.required}${view.approvedBy.length > 0 ? ` (${view.approvedBy.join(', ')})` : ''}`,
    `Created    ${view.createdAt}`,
    `Expires    ${view.expiresAt}`,
    `Digest     ${view.digest}`,
  ];
  if (view.finishedAt) lines.push(`Finished   ${view.finishedAt}${view.finishedBy ? ` by ${view.finishedBy}` : ''}${view.reason ? `: ${printable(view.reason)}` : ''}`);
  if (view.error) lines.push(`Error      [${view.error.code}] ${view.error.message}`);
  if (view.result !== null) lines.push(`Result     ${shown(view.result)}`);
  if (view.state === 'pending') lines.push('', `To approve exactly this: strongroom approvals approve ${view.id} --digest ${view.digest}`);
  if (view.state === 'approved') lines.push('', `Approved: ${view.requester} collects it with strongroom approvals collect ${view.id}`);
  if (view.state === 'executed' && (view.operation === 'ClientIssue' || view.operation === 'ClientRenew')) lines.push('', `Issued: ${view.requester} writes the certificate beside the kept key with strongroom approvals collect ${view.id} --out DIR`);
  return lines.join('\n');
}
