/**
 * The dispatch table (operations/table.ts) against the schemas
 * (protocol/op-schemas.ts): every operation the table runs has a schema,
 * every schema has an operation (Batch's being the dispatcher's own), and
 * each entry is filed under its own name. The compiler checks the same
 * (OperationTable); this holds the run-time objects to it too.
 */
import { Dispatcher } from '../../operations/dispatcher';
import { Services } from '../../operations/context';
import { allOperations } from '../../operations/table';
import { OP_SCHEMAS, OPERATION_NAMES } from '../../protocol/op-schemas';
import { REPLAYABLE_OPERATIONS } from '../../protocol/idempotency-key';

describe('operation table', () => {
  const table = allOperations(() => []);

  it('has an operation for every schema but Batch, and a schema for every operation', () => {
    const tableNames = Object.keys(table).sort();
    const schemaNames = Object.keys(OP_SCHEMAS).filter((op) => op !== 'Batch').sort();
    expect(tableNames).toEqual(schemaNames);
    for (const name of tableNames) expect(Object.prototype.hasOwnProperty.call(OP_SCHEMAS, name)).toBe(true);
  });

  it('files each operation under its own name', () => {
    for (const [key, operation] of Object.entries(table)) expect(operation.name).toBe(key);
  });

  it('the dispatcher offers every operation of the protocol, Batch included, each once', () => {
    const names = new Dispatcher({} as Services, table).operationNames();
    expect([...names].sort()).toEqual([...OPERATION_NAMES].sort());
    expect(new Set(names).size).toBe(names.length);
  });

  it('commits every operation that takes an idempotency key with its event: the dispatcher records the key only there', () => {
    for (const name of REPLAYABLE_OPERATIONS) expect([name, table[name].commitsWithItsEvent]).toEqual([name, true]);
  });
});
