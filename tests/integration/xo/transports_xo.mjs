// Connects Xen Orchestra's connector (npm xen-api) to xenapi-server over one URL and transport, for test_xo_transports.py.
//
// usage: node transports_xo.mjs URL USER PASSWORD TRANSPORT
// Logs in, waits until the object cache holds every class, makes a few calls,
// logs out, and prints one JSON line: {"types", "counts", "pool", "host_name",
// "vm_refs", "ms"}; on failure {"error": ...} and exit status 1.
import { createClient } from 'xen-api'

const [url, user, password, transport] = process.argv.slice(2)
const TIMEOUT = 30e3

const withTimeout = (promise, what) =>
  Promise.race([
    promise,
    new Promise((resolve, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), TIMEOUT).unref()),
  ])

async function main() {
  const t0 = Date.now()
  const xapi = createClient({ url, auth: { user, password }, transport, allowUnauthorized: true })
  await withTimeout(xapi.connect(), 'connect')
  await withTimeout(xapi.objectsFetched, 'objects fetched')

  const types = xapi._types
  const counts = {}
  for (const type of types) counts[type] = Object.keys(xapi.objects.indexes.type[type] ?? {}).length
  const host = await xapi.call('host.get_record', xapi.pool.master)
  const vms = await xapi.call('VM.get_all')
  const result = { types, counts, pool: xapi.pool.$ref, host_name: host.name_label, vm_refs: vms.length }
  await withTimeout(xapi.disconnect(), 'disconnect')
  process.stdout.write(JSON.stringify({ ...result, ms: Date.now() - t0 }) + '\n')
  process.exit(0)
}

main().catch(error => {
  process.stdout.write(JSON.stringify({ error: String(error?.stack ?? error), code: error?.code }) + '\n')
  process.exit(1)
})
