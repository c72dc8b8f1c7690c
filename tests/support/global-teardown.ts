export default async function globalTeardown() {
  await globalThis.__devServer?.stop();
  await globalThis.__embeddedPostgres?.stop();
}
