import { loadKeyRing } from '../../security/keyring';

/** The payload keys every test worker, client and replay shares (the histories recorded with them replay too). */
export const TEST_PAYLOAD_KEYS = 'test-1:dGVzdC1rZXktZm9yLWlubm9zb2NpYWwtcGF5bG9hZHM=';
export const TEST_KEY_ENV = { PAYLOAD_KEYS: TEST_PAYLOAD_KEYS, PAYLOAD_ACTIVE_KEY: 'test-1' };
export const testKeyRing = () => loadKeyRing(TEST_KEY_ENV);
