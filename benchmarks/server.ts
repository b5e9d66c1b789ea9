import { buildServer } from './variants.js'

// One variant per process, so a variant's garbage and JIT state never
// touch another's numbers. Prints the port for the runner.
const app = await buildServer(process.argv[2] as string)
await app.listen({ port: 0, host: '127.0.0.1' })
const { port } = app.server.address() as { port: number }
process.send?.({ port })
// The runner asks for CPU time around each load run: server CPU per request
// is steadier than req/s on a shared 2-core machine, where the load
// generator competes for the same cores.
process.on('message', (msg) => {
  if (msg === 'cpu') {
    const { user, system } = process.cpuUsage()
    process.send?.({ cpu: user + system })
  }
})
process.on('disconnect', () => {
  app.close().then(() => process.exit(0), () => process.exit(1))
})
