import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { resolveTemporalBinary } from '../../scripts/temporal-binary';
import { ALL_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';

/*
 * deploy/temporal/create-namespace.sh, the compose stack's namespace job, run for real against the test run's Temporal
 * dev server (same server version as the stack) with the same `temporal` CLI the admin-tools image carries: the
 * namespace gets its retention, the search attributes are registered, and a second run (every `docker compose up`)
 * applies a changed retention and fails on nothing.
 */

const root = path.resolve(__dirname, '..', '..');
const cli = resolveTemporalBinary('temporal');
const address = process.env.TEST_TEMPORAL_ADDRESS!;

const job = (namespace: string, retention: string) =>
  spawnSync('sh', [path.join(root, 'deploy', 'temporal', 'create-namespace.sh')], {
    encoding: 'utf8',
    timeout: 120_000,
    env: {
      PATH: `${path.dirname(cli!.path)}:${process.env.PATH}`,
      HOME: process.env.HOME,
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: namespace,
      NAMESPACE_RETENTION: retention,
    },
  });
const temporal = (...args: string[]) =>
  execFileSync(cli!.path, [...args, '--address', address, '--output', 'json'], { encoding: 'utf8' });

(cli ? test : test.skip)('the namespace job sets the retention and the search attributes, and can run again', () => {
  const namespace = `compose-check-${randomUUID().slice(0, 8)}`;
  const first = job(namespace, '30d');
  expect([first.status, first.stderr]).toEqual([0, expect.anything()]);
  const retention = () =>
    (
      JSON.parse(temporal('operator', 'namespace', 'describe', '--namespace', namespace)) as {
        config: { workflowExecutionRetentionTtl: string };
      }
    ).config.workflowExecutionRetentionTtl;
  expect(retention()).toBe(`${30 * 24 * 3600}s`);

  const listed = JSON.parse(temporal('operator', 'search-attribute', 'list', '--namespace', namespace)) as {
    customAttributes: Record<string, string>;
  };
  for (const key of ALL_SEARCH_ATTRIBUTES) {
    expect([key.name, listed.customAttributes[key.name]]).toEqual([key.name, `INDEXED_VALUE_TYPE_${key.type}`]);
  }

  const second = job(namespace, '45d');
  expect([second.status, second.stdout]).toEqual([0, expect.stringMatching(/retention 45d/)]);
  expect(retention()).toBe(`${45 * 24 * 3600}s`);
});
