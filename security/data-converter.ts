import type { DataConverter } from '@temporalio/common';
import { EncryptionCodec } from './codec';
import type { KeyRing } from './keyring';

/** The one data converter: the worker, the API's client, the replay test and the bundle all use this. */
export function dataConverter(ring: KeyRing): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(ring)], failureConverterPath: FAILURE_CONVERTER_PATH };
}

export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');
