/** Activate, Revoke and Destroy (docs/protocol.md §6) over the lifecycle service. */
import { KeychainError } from '../common/errors';
import { authorizeRef } from './context';
import { resolveBinding } from './approval-binding';
import { Operation } from './operation';

export const activate: Operation<'Activate'> = {
  name: 'Activate',
  access: 'key',
  changesState: true,
  commitsWithItsEvent: true,
  // captureActivation is set only in-process, by a KMIP batch with Undo (operations/undo-activation.ts).
  run: (args, ctx) => ({ instance: ctx.services.lifecycle.activate(authorizeRef(ctx, 'activate', args), ctx.captureActivation) }),
};

export const revoke: Operation<'Revoke'> = {
  name: 'Revoke',
  access: 'key',
  changesState: true,
  commitsWithItsEvent: true,
  run: (args, ctx) => ({
    instance: ctx.services.lifecycle.revoke(authorizeRef(ctx, 'revoke', args), args.reason, args.compromiseDate),
  }),
};

/** Schedules the destruction after the configured waiting period (destruction_wait; 0 destroys at once). */
export const destroy: Operation<'Destroy'> = {
  name: 'Destroy',
  access: 'key',
  changesState: true,
  // Checked before a request is stored: officers are not asked to approve what cannot run (no permission, an Active instance).
  dualControl: (args, ctx) => {
    if (ctx.services.keychain.describeInstance(authorizeRef(ctx, 'destroy', args)).state === 'Active') {
      throw new KeychainError('WRONG_STATE', 'the instance is Active: revoke (deactivate) it before destroying it');
    }
    return 'key-destroy';
  },
  approvalBinding: (args, ctx) => resolveBinding(ctx, args),
  run: (args, ctx) => ({ instance: ctx.services.lifecycle.scheduleDestruction(authorizeRef(ctx, 'destroy', args), ctx.services.destructionWaitMs) }),
};

export const destroyCancel: Operation<'DestroyCancel'> = {
  name: 'DestroyCancel',
  access: 'key',
  changesState: true,
  commitsWithItsEvent: true,
  run: (args, ctx) => ({ instance: ctx.services.lifecycle.cancelDestruction(authorizeRef(ctx, 'destroy', args)) }),
};
