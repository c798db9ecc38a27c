/**
 * The dual-control classes, and the settings that size dual control:
 * `dual_control_quorum` (a number for every class, then class=M pairs:
 * "2, key-destroy=3") and `approval_ttl` (ISO 8601 PT24H, PT30M, P2D).
 * Parsed at server start; a bad value is CONFIG_INVALID naming the setting.
 */
import { ConfigError } from '../../common/errors';

/** Every class an operation can be marked with (operations/operation.ts DualControlClass). */
export const DUAL_CONTROL_CLASSES = [
  'key-destroy',
  'key-export',
  'grant-material',
  'master-key-rotation',
  'restore',
  'client-revoke',
  'quorum-change',
] as const;

export type DualControlClassName = (typeof DUAL_CONTROL_CLASSES)[number];

/**
 * The class of issuing an officer (ClientIssue of role officer): a future
 * approver can be minted only with approvals, so its quorum also sizes the
 * officers `strongroom init` makes (domain/pki/init-officers.ts).
 */
export const OFFICER_ISSUE_CLASS: DualControlClassName = 'grant-material';

/** Default approvals per class when the setting names none. */
export const DEFAULT_QUORUM = 2;
/** Largest quorum: more officers than this approving one request is a typo, not a policy. */
export const MAX_QUORUM = 16;
/** Longest approval_ttl: a request older than this is stale, whatever was meant. */
export const MAX_APPROVAL_TTL_MS = 30 * 86_400_000;

export function isDualControlClass(value: string): value is DualControlClassName {
  return (DUAL_CONTROL_CLASSES as readonly string[]).includes(value);
}

function quorumValue(text: string, what: string): number {
  if (!/^\d{1,3}$/.test(text) || Number(text) < 1 || Number(text) > MAX_QUORUM) {
    throw new ConfigError(`dual_control_quorum: ${what} must be a whole number from 1 to ${MAX_QUORUM}, not "${text}"`);
  }
  return Number(text);
}

/** "2, key-destroy=3" → every class 2 but key-destroy 3. */
export function parseQuorumSetting(text: string): Map<DualControlClassName, number> {
  const quorums = new Map<DualControlClassName, number>(DUAL_CONTROL_CLASSES.map((c) => [c, DEFAULT_QUORUM]));
  const parts = text.split(',').map((p) => p.trim()).filter((p) => p !== '');
  parts.forEach((part, index) => {
    const eq = part.indexOf('=');
    if (eq < 0) {
      if (index !== 0) throw new ConfigError(`dual_control_quorum: a bare number (for every class) comes first, not "${part}"`);
      const all = quorumValue(part, 'the number for every class');
      for (const c of DUAL_CONTROL_CLASSES) quorums.set(c, all);
      return;
    }
    const name = part.slice(0, eq).trim();
    if (!isDualControlClass(name)) throw new ConfigError(`dual_control_quorum: unknown class "${name}"; use ${DUAL_CONTROL_CLASSES.join(', ')}`);
    quorums.set(name, quorumValue(part.slice(eq + 1).trim(), name));
  });
  return quorums;
}

/** ISO 8601 days, hours, minutes (P2D, PT24H, PT30M, P1DT12H) in milliseconds; at least a minute, at most MAX_APPROVAL_TTL_MS. */
export function parseApprovalTtl(text: string): number {
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$/.exec(text);
  if (!match || text === 'P' || text.endsWith('T')) throw new ConfigError(`approval_ttl must be an ISO 8601 duration (PT24H, PT30M, P2D), not "${text}"`);
  const ms = ((Number(match[1] ?? 0) * 24 + Number(match[2] ?? 0)) * 60 + Number(match[3] ?? 0)) * 60_000;
  if (ms < 60_000 || ms > MAX_APPROVAL_TTL_MS) throw new ConfigError(`approval_ttl must be between PT1M and P30D, not "${text}"`);
  return ms;
}
