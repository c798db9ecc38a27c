/**
 * The details of an APPROVAL_REQUIRED answer (docs/protocol.md §6.3), for
 * tests of dual control: asserts the response is one and returns them.
 */
import { DecodedResponse } from '../../protocol/response';

export interface ApprovalDetails {
  requestId: string;
  digest: string;
  required: number;
  expiresAt: string;
}

export function required(response: DecodedResponse): ApprovalDetails {
  expect(response.error?.code).toBe('APPROVAL_REQUIRED');
  return response.error?.details as unknown as ApprovalDetails;
}
