/**
 * The one field of a stored request's arguments that holds sealed material
 * (a key import's, operations/approval-args.ts): approval views leave it
 * out, and the service rewrites the arguments without it once the request
 * has run or ended any other way (denied, cancelled, expired, failed), so
 * that the blob outlives the request nowhere in the database. The digest
 * officers approved covered it; a finished request's digest is kept as the
 * record of what was approved, and is not checked again (nothing runs twice).
 */

export const SEALED_ARGS_FIELD = 'sealedMaterial';

/** The arguments without the sealed field. */
export function withoutSealed(args: Record<string, unknown>): Record<string, unknown> {
  if (!(SEALED_ARGS_FIELD in args)) return args;
  const { [SEALED_ARGS_FIELD]: _erased, ...rest } = args;
  return rest;
}

/** Whether a stored request's arguments (canonical JSON) still hold sealed material. */
export function holdsSealed(argsJson: string): boolean {
  const parsed = JSON.parse(argsJson) as unknown;
  return typeof parsed === 'object' && parsed !== null && SEALED_ARGS_FIELD in parsed;
}
