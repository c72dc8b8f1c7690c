/**
 * `npx tsx tests/browser/staff-system.ts`: the whole system with the Temporal UI (its codec endpoint on this API)
 * and a few applications in different states, for the README's screenshots of the staff's view. Not a test: it
 * runs until stopped, and prints the addresses and a sign-in token for an operator.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { buildApi } from '../../client/api/server';
import { ApplicationService } from '../../client/service/applications';
import { applicationView } from '../../client/service/register';
import { territoryLoader } from '../../config/comuni';
import { loadConfig } from '../../config/env';
import { connectDb } from '../../db/connect';
import { migrateToLatest } from '../../db/migrate';
import { createUser } from '../../db/repositories/users';
import { freePort, startDevServer } from '../../scripts/dev-server';
import { dataConverter } from '../../security/data-converter';
import { createWorker } from '../../worker';
import { applicationForm, preProject, rules2023 } from '../support/fixtures';
import {
  admitted,
  assign,
  decide,
  eightHours,
  inAccompaniment,
  inCommission,
  registered,
  send,
} from '../support/journeys';
import { TEST_KEY_ENV, testKeyRing } from '../support/keys';

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const [apiPort, uiPort] = [await freePort(), await freePort()];
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const server = await startDevServer({ uiPort, uiCodecEndpoint: `${apiUrl}/codec` });
  const callsDir = mkdtempSync(path.join(tmpdir(), 'innosocial-calls-'));
  writeFileSync(path.join(callsDir, 'innosocialmetro-2023.v1.json'), JSON.stringify(rules2023));
  const config = loadConfig({
    ...process.env,
    APP_ENV: 'development',
    LOG_LEVEL: 'warn',
    ...TEST_KEY_ENV,
    CALLS_DIR: callsDir,
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_UI_ORIGIN: server.uiUrl!,
    API_PORT: String(apiPort),
  });
  const ring = testKeyRing();
  const db = await connectDb({ pgliteDir: 'memory://' });
  await migrateToLatest(db);
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const now = () => new Date(Date.now() + 30 * 86_400_000);
  const worker = await createWorker({ config, db, ring, connection: nativeConnection, now });
  void worker.run();
  const client = new Client({
    connection: await Connection.connect({ address: server.address }),
    dataConverter: dataConverter(ring),
  });
  const api = buildApi({ config, client, db, ring });
  await api.listen({ host: '127.0.0.1', port: apiPort });
  const service = new ApplicationService({ config, client, db, territory: territoryLoader(config.projectRoot) });
  const sys = {
    service,
    db,
    config,
    view: (id: string) => applicationView(db, id),
    form: (o = {}) => applicationForm(o),
  };

  const companies = [
    { legalName: 'Cooperativa Filo Rosso', operatingSite: { comune: 'Pinerolo', address: 'Via Roma 1' } },
    { legalName: 'Bottega del Riuso Srl', operatingSite: { comune: 'Chieri', address: 'Via Vittorio 3' } },
    { legalName: 'Sentieri Alti Snc', operatingSite: { comune: 'Susa', address: 'Piazza Savoia 2' } },
    { legalName: 'Officina Sociale Srl', operatingSite: { comune: 'Ivrea', address: 'Via Jervis 11' } },
  ];
  const form = (i: number, themes: string[]) => applicationForm({ company: companies[i], themes: themes as never });
  await registered(sys, form(0, ['community_wellbeing']));
  const a = await registered(sys, form(1, ['environment']));
  await assign(sys, a, 'socialfare');
  const b = await registered(sys, form(2, ['sustainable_tourism', 'employment']));
  await assign(sys, b, 'nemo');
  await eightHours(sys, b);
  await send(sys, b, { type: 'COMPLETE_ACCOMPANIMENT' });
  await send(sys, b, {
    type: 'SUBMIT_PRE_PROJECT',
    preProject: preProject({ themes: ['employment', 'sustainable_tourism'] }),
  });
  await send(sys, b, { type: 'FORWARD_TO_COMMISSION' });
  const c = await registered(sys, form(3, ['employment', 'environment']));
  await assign(sys, c);
  await eightHours(sys, c);
  await send(sys, c, { type: 'COMPLETE_ACCOMPANIMENT' });
  await send(sys, c, { type: 'SUBMIT_PRE_PROJECT', preProject: preProject() });
  await send(sys, c, { type: 'FORWARD_TO_COMMISSION' });
  await decide(sys, c, 'APPROVE', 'solid social impact plan');
  void inAccompaniment;
  void inCommission;
  void admitted;
  const { token } = await createUser(db, { name: 'Olga Operatrice', role: 'operator', email: 'olga@example.org' });
  console.log(JSON.stringify({ api: apiUrl, ui: server.uiUrl, token, apps: [a, b, c] }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
