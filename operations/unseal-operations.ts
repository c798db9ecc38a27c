/**
 * Unsealing, sealing and the master key (docs/protocol.md §6):
 * UnsealStatus (anyone; apps see only sealed or not, officers and auditors
 * the progress a custodian needs to see), UnsealSubmit, UnsealReset (own:
 * withdraw only one's own share) and Seal (officers: custodians hold officer
 * certificates, so an app cannot fill or clear the pending shares),
 * MasterKeyStatus and MasterKeyRotate (officers; rotation is dual
 * controlled: the approvals gate holds it until a quorum approves).
 */
import { ValidationError } from '../common/errors';
import { ProtocolError } from '../protocol/protocol-error';
import { UnsealService } from '../domain/unseal/unseal-service';
import { ArgsOf } from '../protocol/op-schemas';
import { OperationContext } from './context';
import { Operation } from './operation';

function unsealing(ctx: OperationContext): UnsealService {
  const service = ctx.services.unsealing;
  if (!service) throw new ProtocolError('INVALID_REQUEST', 'this server does not unseal over the wire');
  return service;
}

function masterKeys(ctx: OperationContext): NonNullable<OperationContext['services']['masterKeys']> {
  const service = ctx.services.masterKeys;
  if (!service) throw new ProtocolError('INVALID_REQUEST', 'this server does not manage the master key over the wire');
  return service;
}

/**
 * Runs a step of the ceremony; the audit events it recorded are awaited
 * before the answer (ctx.awaitAudit), once the step ends (a submit that
 * unseals ends after the HSM call).
 */
function audited<T>(ctx: OperationContext, service: UnsealService, step: () => T): T {
  const handOn = (): void => {
    for (const pending of service.takeAudits()) ctx.awaitAudit?.(pending);
  };
  let result: T;
  try {
    result = step();
  } catch (err) {
    handOn();
    throw err;
  }
  if (result instanceof Promise) return result.finally(handOn) as T;
  handOn();
  return result;
}

/** Anyone may ask; an app learns only sealed or not (custodian numbers and progress are for officers and auditors). */
export const unsealStatus: Operation<'UnsealStatus'> = {
  name: 'UnsealStatus',
  access: 'any',
  run: (_args, ctx) => unsealing(ctx).statusFor(ctx.identity),
};

export const unsealSubmit: Operation<'UnsealSubmit'> = {
  name: 'UnsealSubmit',
  access: 'officer',
  changesState: true,
  run: (args, ctx) => {
    const service = unsealing(ctx);
    return audited(ctx, service, () => service.submit(ctx.identity, args.share));
  },
};

export const unsealReset: Operation<'UnsealReset'> = {
  name: 'UnsealReset',
  access: 'officer',
  changesState: true,
  run: (args, ctx) => {
    const service = unsealing(ctx);
    return audited(ctx, service, () => service.reset(ctx.identity, args.own === true));
  },
};

export const seal: Operation<'Seal'> = {
  name: 'Seal',
  access: 'officer',
  changesState: true,
  run: (_args, ctx) => {
    const service = unsealing(ctx);
    return audited(ctx, service, () => service.seal(ctx.identity));
  },
};

export const masterKeyStatus: Operation<'MasterKeyStatus'> = {
  name: 'MasterKeyStatus',
  access: 'officer',
  run: (_args, ctx) => masterKeys(ctx).status(),
};

/** keepOld is what rotation does by default now; it stays accepted for older scripts, never with destroyOld. */
function checkRotationArgs(args: ArgsOf<'MasterKeyRotate'>): void {
  if (args.keepOld === true && args.destroyOld === true) throw new ValidationError('give keepOld or destroyOld, not both');
}

export const masterKeyRotate: Operation<'MasterKeyRotate'> = {
  name: 'MasterKeyRotate',
  access: 'officer',
  changesState: true,
  // Checked here too, so that a contradictory request is refused before officers are asked to approve it.
  dualControl: (args) => (checkRotationArgs(args), 'master-key-rotation'),
  run: (args, ctx) => {
    checkRotationArgs(args);
    return masterKeys(ctx).rotate({ destroyOld: args.destroyOld === true });
  },
};
