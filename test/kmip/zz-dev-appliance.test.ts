// TEMPORARY dev harness, not committed.
import { existsSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { PERMISSIONS } from '../../protocol/op-schemas';
import { startTestAppliance } from '../support/appliance-fixture';
jest.setTimeout(3_600_000);
test('dev appliance', async () => {
  const t = await startTestAppliance({ destruction_wait: 'P0D' });
  const c = t.issue('pykmip-app', 'app');
  mkdirSync('/tmp/pyk-dev', { recursive: true });
  rmSync('/tmp/pyk-dev/stop', { force: true });
  writeFileSync('/tmp/pyk-dev/client.pem', c.certificatePem); writeFileSync('/tmp/pyk-dev/client.key', c.privateKeyPem, { mode: 0o600 }); writeFileSync('/tmp/pyk-dev/ca.pem', c.caPem);
  const officer = await t.connect(t.officer);
  const g = await t.approve(await officer.request('PolicyGrant', { client: 'pykmip-app', pattern: 'pykmip/*', permissions: [...PERMISSIONS] }));
  writeFileSync('/tmp/pyk-dev/port', String(t.server.kmipPort));
  console.log('grant', g.state);
  while (!existsSync('/tmp/pyk-dev/stop')) {
    if (existsSync('/tmp/pyk-dev/approve')) {
      const id = require('fs').readFileSync('/tmp/pyk-dev/approve', 'utf8').trim(); rmSync('/tmp/pyk-dev/approve');
      const shown = (await officer.request('ApprovalGet', { id })).result as any;
      const r = await t.approve({ error: { code: 'APPROVAL_REQUIRED', message: '', details: { requestId: id, digest: shown.request.digest } } } as any);
      writeFileSync('/tmp/pyk-dev/approved', JSON.stringify(r));
    }
    if (existsSync('/tmp/pyk-dev/create')) {
      const name = require('fs').readFileSync('/tmp/pyk-dev/create', 'utf8').trim(); rmSync('/tmp/pyk-dev/create');
      const appc = await t.connect(c);
      const r = await appc.request('Create', { name, activateAt: new Date(Date.now() + 3600_000).toISOString() });
      writeFileSync('/tmp/pyk-dev/created', JSON.stringify(r));
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  await t.stop();
});
