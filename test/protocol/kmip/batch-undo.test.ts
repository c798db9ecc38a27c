/** Which operations a KMIP batch with Undo may hold, and how each is undone (protocol/kmip/batch-undo.ts, docs/kmip.md §3.15). */
import { canUndo, undoKindOf } from '../../../protocol/kmip/batch-undo';

describe('the operations a batch with Undo may hold', () => {
  it('Activate is undone from what the server captured; the reads that change nothing need no undo', () => {
    expect(undoKindOf('Activate')).toBe('captured');
    expect(['Check', 'GetAttributes', 'GetAttributeList', 'Locate', 'Query'].map(undoKindOf)).toEqual(['no-effect', 'no-effect', 'no-effect', 'no-effect', 'no-effect']);
  });

  it('refuses what cannot be taken back: material disclosed, objects made, destroyed or revoked, attributes changed', () => {
    for (const operation of ['Get', 'Create', 'Register', 'ReKey', 'Revoke', 'Destroy', 'AddAttribute', 'ModifyAttribute', 'DeleteAttribute', 'SetAttribute', 'Encrypt', 'Decrypt', 'Log']) {
      expect([operation, canUndo(operation), undoKindOf(operation)]).toEqual([operation, false, null]);
    }
  });
});
