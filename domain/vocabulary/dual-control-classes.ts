/**
 * The dual-control classes: the kinds of sensitive operation that M of N
 * officers (never the requester) must approve, each with its own quorum
 * (dual_control_quorum). An operation is marked with one in the operation
 * table (operations/operation.ts); the wire schema, the quorum settings and
 * the CLI's help take the list from here. It imports nothing, so the codecs
 * may import it too.
 */

export const DUAL_CONTROL_CLASSES = [
  'key-destroy',
  'key-export',
  'grant-material',
  'master-key-rotation',
  'restore',
  'client-revoke',
  'quorum-change',
  'key-import',
  'backup-restore',
] as const;

export type DualControlClass = (typeof DUAL_CONTROL_CLASSES)[number];

/** Largest quorum: more officers than this approving one request is a typo, not a policy. */
export const MAX_QUORUM = 16;

export function isDualControlClass(value: string): value is DualControlClass {
  return (DUAL_CONTROL_CLASSES as readonly string[]).includes(value);
}
