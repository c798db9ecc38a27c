/**
 * Nothing ambient: every id the serving appliance makes (audit event ids,
 * key and instance rows, approval requests) comes from the IdSource it was
 * opened with, not from node:crypto directly.
 */
import { IdSource, randomIds } from '../../domain/ids';
import { startTestAppliance } from '../support/appliance-fixture';

const COUNTED_ID = /^counted-\d+$/;

describe('ids on a serving appliance', () => {
  it('all come from the injected id source', async () => {
    let issued = 0;
    const ids: IdSource = { newId: () => `counted-${++issued}`, newInstanceName: randomIds.newInstanceName };
    const app = await startTestAppliance({}, { ids });
    let events: Array<{ type: string; eventId: string }>;
    let keyIds: string[];
    let requestId: string;
    try {
      const officer = await app.connect(app.officer);
      expect((await officer.request('Create', { name: 'ids/k' })).error).toBeUndefined();
      expect((await officer.request('Revoke', { name: 'ids/k', reason: 'superseded' })).error).toBeUndefined();
      const destroy = await officer.request('Destroy', { name: 'ids/k' });
      expect(destroy.error?.code).toBe('APPROVAL_REQUIRED');
      requestId = (destroy.error?.details as { requestId: string }).requestId;
      await app.approve(destroy);
      officer.destroy();
      keyIds = app.appliance.store.listKeys({}).map((key) => key.id);
      await app.server.close(); // the trail then holds every event of the run, server-stop included
      events = app.appliance.store.audit.readAuditRecords(1, 10_000).map((record) => JSON.parse(record.event));
    } finally {
      await app.stop();
    }
    expect(requestId).toMatch(COUNTED_ID);
    expect(keyIds.length).toBeGreaterThan(0);
    for (const id of keyIds) expect(id).toMatch(COUNTED_ID);
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['server-start', 'operation', 'approval', 'approved-operation', 'server-stop']));
    for (const event of events) expect(event.eventId).toMatch(COUNTED_ID);
  });
});
