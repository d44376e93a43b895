// Drives Xen Orchestra's connector (npm xen-api) against xenapi-server for test_xo_events.py: connect, load every class, see other clients' changes through the event loop, barrier().
//
// usage: node events_xo.mjs URL USER PASSWORD TRANSPORT VM_REF NEW_NAME
// Prints one JSON object per line on stdout: {"stage": "loaded", ...} once
// every class is loaded (the caller then renames VM_REF to NEW_NAME from
// another client), {"stage": "seen", ...} once that change arrived through
// the event loop, {"stage": "done", ...} after a change made by a second
// xen-api instance and barrier(). Exits 0 on success, 1 with
// {"stage": "error", ...} otherwise.
import { createClient } from 'xen-api'

const [url, user, password, transport, vmRef, newName] = process.argv.slice(2)
const STEP_TIMEOUT = 20e3

const say = obj => process.stdout.write(JSON.stringify(obj) + '\n')

const withTimeout = (promise, what) =>
  Promise.race([
    promise,
    new Promise((resolve, reject) =>
      setTimeout(() => reject(new Error(`timed out: ${what}`)), STEP_TIMEOUT).unref()
    ),
  ])

// Resolves once predicate() holds, checking whenever the objects cache changes.
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

const client = opts =>
  createClient({ url, auth: { user, password }, transport, allowUnauthorized: true, ...opts })

async function main() {
  const xapi = client({})
  const t0 = Date.now()
  await withTimeout(xapi.connect(), 'connect')
  await withTimeout(xapi.objectsFetched, 'objects fetched')

  const types = xapi._types
  const counts = {}
  for (const type of types) counts[type] = Object.keys(xapi.objects.indexes.type[type] ?? {}).length
  say({
    stage: 'loaded',
    transport,
    ms: Date.now() - t0,
    types,
    counts,
    pool: xapi.pool.$ref,
    vm_name: xapi.getObjectByRef(vmRef).name_label,
  })

  // The caller renames the VM now, from another client.
  const t1 = Date.now()
  await until(xapi, () => xapi.getObjectByRef(vmRef, undefined)?.name_label === newName, 'rename seen')
  say({ stage: 'seen', ms: Date.now() - t1 })

  // A second xen-api instance (no event loop of its own) changes the VM too.
  const writer = client({ watchEvents: false })
  await withTimeout(writer.connect(), 'second client connect')
  const description = `set by a second xen-api instance at ${Date.now()}`
  const t2 = Date.now()
  await writer.call('VM.set_name_description', vmRef, description)
  await until(xapi, () => xapi.getObjectByRef(vmRef).name_description === description, 'description seen')
  const seenMs = Date.now() - t2
  await writer.disconnect()

  // barrier(): pool.add_to_other_config, wait for the pool's mod, remove.
  const t3 = Date.now()
  await withTimeout(xapi.barrier(), 'barrier')
  const vm = await withTimeout(xapi.barrier(vmRef), 'barrier(ref)')
  const barrierMs = Date.now() - t3
  // barrier() removes its key without waiting: see the removals arrive too.
  const isBarrierKey = key => key.startsWith('xo:barrier:')
  await until(xapi, () => !Object.keys(xapi.pool.other_config).some(isBarrierKey), 'barrier keys removed')

  say({
    stage: 'done',
    description_ms: seenMs,
    barrier_ms: barrierMs,
    vm_name: vm.name_label,
    vm_description: vm.name_description,
    watch_events_error: xapi.watchEventsError === undefined ? null : String(xapi.watchEventsError),
    pool_other_config: xapi.pool.other_config,
  })
  await xapi.disconnect()
}

main().then(
  () => process.exit(0),
  error => {
    say({ stage: 'error', message: String(error?.stack ?? error), code: error?.code ?? null })
    process.exit(1)
  }
)
