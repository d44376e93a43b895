// Power-cycles a VM through Xen Orchestra's connector (npm xen-api) for test_lifecycle.py: callAsync('VM.start') and callAsync('VM.clean_shutdown') resolved through its event-fed task cache, a failing callAsync, and a ref result.
//
// usage: node lifecycle_xo.mjs URL USER PASSWORD TRANSPORT VM_REF
// Prints one JSON line: {"start", "running", "shutdown", "halted", "failure",
// "clone", "clone_name", "ms"}; on failure {"error": ...} and exit status 1.
import { createClient } from 'xen-api'

const [url, user, password, transport, vmRef] = process.argv.slice(2)
const TIMEOUT = 30e3

const withTimeout = (promise, what) =>
  Promise.race([
    promise,
    new Promise((resolve, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), TIMEOUT).unref()),
  ])

// Resolves once predicate() holds in the object cache.
const until = (xapi, predicate, what) =>
  withTimeout(
    new Promise(resolve => {
      if (predicate()) return resolve()
      const check = () => {
        if (predicate()) {
          xapi.objects.removeListener('finish', check)
          resolve()
        }
      }
      xapi.objects.on('finish', check)
    }),
    what
  )

async function main() {
  const t0 = Date.now()
  const xapi = createClient({ url, auth: { user, password }, transport, allowUnauthorized: true })
  await withTimeout(xapi.connect(), 'connect')
  await withTimeout(xapi.objectsFetched, 'objects fetched')
  const power = () => xapi.getObjectByRef(vmRef).power_state

  const out = {}
  out.start = await withTimeout(xapi.callAsync('VM.start', vmRef, false, false), 'callAsync VM.start')
  await until(xapi, () => power() === 'Running', 'VM Running in the cache')
  out.running = power()
  out.shutdown = await withTimeout(xapi.callAsync('VM.clean_shutdown', vmRef), 'callAsync VM.clean_shutdown')
  await until(xapi, () => power() === 'Halted', 'VM Halted in the cache')
  out.halted = power()
  try {
    await withTimeout(xapi.callAsync('VM.clean_shutdown', vmRef), 'failing callAsync')
    out.failure = null
  } catch (error) {
    out.failure = { code: error.code, params: error.params }
  }
  out.clone = await withTimeout(xapi.callAsync('VM.clone', vmRef, `xo clone over ${transport}`), 'callAsync VM.clone')
  out.clone_name = await xapi.call('VM.get_name_label', out.clone)
  await withTimeout(xapi.disconnect(), 'disconnect')
  process.stdout.write(JSON.stringify({ ...out, ms: Date.now() - t0 }) + '\n')
  process.exit(0)
}

main().catch(error => {
  process.stdout.write(JSON.stringify({ error: String(error?.stack ?? error), code: error?.code }) + '\n')
  process.exit(1)
})
