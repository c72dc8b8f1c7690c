export default async function globalTeardown() {
  await globalThis.__devServer?.stop();
}
