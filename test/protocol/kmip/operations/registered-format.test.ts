/**
 * The Key Format Type a symmetric key was registered in
 * (protocol/kmip/operations/registered-format.ts): kept only when not the
 * default, as the KMIP JSON list of its one value under the reserved
 * `kmip.KeyFormatType`; read back only when it is a format Get serves, so a
 * value written natively that is not one leaves Get answering the default.
 */
import { REGISTERED_FORMAT_NAME, registeredFormatAttribute, registeredFormatOf } from '../../../../protocol/kmip/operations/registered-format';

describe('the format a symmetric key was registered in', () => {
  it('keeps Transparent Symmetric Key and reads it back; keeps nothing for Raw, the default', () => {
    const kept = registeredFormatAttribute('SymmetricKey', 'TransparentSymmetricKey');
    expect(kept).toEqual({ [REGISTERED_FORMAT_NAME]: '[{"tag":"KeyFormatType","type":"Enumeration","value":"TransparentSymmetricKey"}]' });
    expect(registeredFormatOf('SymmetricKey', kept)).toBe('TransparentSymmetricKey');
    expect(registeredFormatAttribute('SymmetricKey', 'Raw')).toEqual({});
    expect(registeredFormatOf('SymmetricKey', {})).toBeUndefined();
  });

  it('keeps Raw for Secret Data (whose default is Opaque), and reads a kept format only for the type it serves', () => {
    const kept = registeredFormatAttribute('SecretData', 'Raw');
    expect(registeredFormatOf('SecretData', kept)).toBe('Raw');
    expect(registeredFormatAttribute('SecretData', 'Opaque')).toEqual({});
    expect(registeredFormatOf('SecretData', registeredFormatAttribute('SymmetricKey', 'TransparentSymmetricKey'))).toBeUndefined();
  });

  it('ignores a kept value that is not JSON, not one KeyFormatType, or not a format Get serves', () => {
    for (const value of ['Transparent', '[]', '[{"tag":"KeyFormatType","type":"TextString","value":"Raw"}]', '[{"tag":"KeyFormatType","type":"Enumeration","value":"PKCS_8"}]', '[{"tag":"ObjectGroup","type":"Enumeration","value":"Raw"}]']) {
      expect(registeredFormatOf('SymmetricKey', { [REGISTERED_FORMAT_NAME]: value })).toBeUndefined();
    }
  });
});
