/**
 * `strongroom unseal` and `strongroom seal`, against a running appliance
 * (over mutual TLS, with an officer's certificate: custodians hold officer
 * certificates). unseal submits one custodian's share and prints the
 * progress, k of M; seal zeroes the keychain keys, and the server keeps
 * listening, sealed.
 */
import { Command } from 'commander';
import { remoteRequester } from '../backend/remote-request';
import { runCommand } from '../context';
import { readShare } from '../share-input';
import type { UnsealStatus } from '../../client/types';

interface UnsealOptions {
  shareFile?: string;
  reset?: boolean;
  withdraw?: boolean;
  status?: boolean;
}

export function renderUnsealStatus(status: UnsealStatus): string {
  // An app's certificate is told only sealed or not.
  if (status.mode === undefined) return status.sealed ? 'Sealed' : 'Unsealed';
  if (!status.sealed) return `Unsealed (${status.mode === 'hsm' ? 'HSM alone' : `HSM and ${status.threshold} of ${status.shares} custodian shares`})`;
  if (status.mode === 'hsm') return 'Sealed; this keychain unseals with the HSM alone: run strongroom unseal';
  const held = status.custodians.length > 0 ? ` (custodians ${status.custodians.join(', ')})` : '';
  const expires = status.pendingExpiresAt ? `; forgotten at ${status.pendingExpiresAt} unless completed` : '';
  return `Sealed: ${status.submitted} of ${status.threshold} shares submitted${held}${expires}`;
}

export function unsealCommand(): Command {
  return new Command('unseal')
    .description('submit one custodian share to a sealed appliance (or, with --reset, forget the shares submitted so far)')
    .option('--share-file <file>', 'read the share from this file (first non-empty line) instead of the terminal')
    .option('--reset', 'forget every share submitted in the pending attempt (clearing other custodians\' shares is rate limited and audited)')
    .option('--withdraw', 'take back only the share this certificate submitted')
    .option('--status', 'only show the progress (k of M)')
    .addHelpText(
      'after',
      `
Examples:
  $ strongroom --server 127.0.0.1:5700 unseal                 # type the share (hidden)
  $ strongroom --server 127.0.0.1:5700 unseal --share-file /media/usb/share-2.txt
  $ strongroom --server 127.0.0.1:5700 unseal --status --json
  $ strongroom --server 127.0.0.1:5700 unseal --withdraw
  $ strongroom --server 127.0.0.1:5700 unseal --reset

A share is never taken as an argument (it would leak to ps and the shell
history). Piped input works too: the first non-empty line of stdin. Each
custodian uses their own certificate (init made custodian-1..N): one
certificate submits one share per attempt (UNSEAL_CLIENT_ALREADY_SUBMITTED).
Each share is checked against what init stored for its custodian number: a
wrong one is refused at once (UNSEAL_SHARE_INVALID) and nobody's progress is
lost. Once M shares are in, the appliance combines them, unseals with the
HSM, and zeroes them. Check that you are talking to the genuine appliance
(its address, and the CA you were given at init) before typing a share. A keychain without shares (the demo)
unseals with the HSM alone: plain 'strongroom unseal' after a seal.`,
    )
    .action(
      runCommand(async (ctx, options: UnsealOptions) => {
        const remote = remoteRequester(ctx.config(), 'strongroom unseal');
        try {
          if (options.reset || options.withdraw) {
            const status = await remote.request<UnsealStatus>('UnsealReset', options.withdraw ? { own: true } : {});
            ctx.out.result(status, () => `${options.withdraw ? 'Your share was withdrawn.' : 'Pending shares forgotten.'} ${renderUnsealStatus(status)}`);
            return;
          }
          const before = await remote.request<UnsealStatus>('UnsealStatus');
          if (options.status || !before.sealed) {
            ctx.out.result(before, () => renderUnsealStatus(before));
            return;
          }
          const args = before.mode === 'hsm' ? {} : { share: await readShare(options.shareFile) };
          const after = await remote.request<UnsealStatus>('UnsealSubmit', args);
          ctx.out.result(after, () => (after.sealed ? `Share accepted. ${renderUnsealStatus(after)}` : renderUnsealStatus(after)));
        } finally {
          await remote.close();
        }
      }),
    );
}

export function sealCommand(): Command {
  return new Command('seal')
    .description('seal a running appliance now: the keychain keys are zeroed, it keeps listening, sealed')
    .addHelpText('after', '\nExample:\n  $ strongroom --server 127.0.0.1:5700 seal\n\nUnseal it again with strongroom unseal (custodians, or the HSM alone without shares).')
    .action(
      runCommand(async (ctx) => {
        const remote = remoteRequester(ctx.config(), 'strongroom seal');
        try {
          const status = await remote.request<UnsealStatus>('Seal');
          ctx.out.result(status, () => renderUnsealStatus(status));
        } finally {
          await remote.close();
        }
      }),
    );
}
