/**
 * An HSM port whose token can be made to vanish: while `token.gone`, every
 * call fails as a removed token's does (CKR_DEVICE_REMOVED), and answers
 * again once it is back. For the HSM watch's tests (test/server/
 * hsm-watch.test.ts, test/security/32); with a real SoftHSM2 token and
 * server: test/integration/hsm-gone.test.ts.
 */
import { HsmError } from '../../common/errors';
import { HsmPort } from '../../hsm/hsm-port';

export function vanishingHsm(hsm: HsmPort, token: { gone: boolean }): HsmPort {
  return new Proxy(hsm, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (token.gone) return Promise.reject(new HsmError('HSM_ERROR', 'PKCS#11 C_GetTokenInfo failed: CKR_DEVICE_REMOVED', { details: { ckr: 'CKR_DEVICE_REMOVED' } }));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
