// A real Bluesky PDS for the tests, with its own PLC directory: @atproto/pds and @did-plc/server
// from npm (`make pds` installs them under tests/.node), on loopback ports chosen by the caller.
//   node tests/social/pds.cjs <pds port> <plc port> <data folder>
// Prints "PDS_URL=http://localhost:<port>" once both answer; stops on SIGTERM.
const path = require('node:path')
const crypto = require('node:crypto')
const { PDS, envToCfg, envToSecrets } = require('@atproto/pds')
const { PlcServer, Database } = require('@did-plc/server')

async function main() {
  const [pdsPort, plcPort, folder] = process.argv.slice(2)
  require('node:fs').mkdirSync(path.join(folder, 'blobs'), { recursive: true })
  const plc = PlcServer.create({ db: Database.mock(), port: Number(plcPort) })
  await plc.start()
  const env = {
    port: Number(pdsPort),
    hostname: 'localhost',
    devMode: true,
    dataDirectory: folder,
    blobstoreDiskLocation: path.join(folder, 'blobs'),
    didPlcUrl: `http://localhost:${plcPort}`,
    serviceHandleDomains: ['.test'],
    inviteRequired: false,
    rateLimitsEnabled: false,
    crawlers: [],
    jwtSecret: crypto.randomBytes(16).toString('hex'),
    adminPassword: 'admin-pass',
    plcRotationKeyK256PrivateKeyHex: crypto.randomBytes(32).toString('hex'),
  }
  const pds = await PDS.create(envToCfg(env), envToSecrets(env))
  await pds.start()
  console.log(`PDS_URL=http://localhost:${pdsPort}`)
  const stop = async () => {
    await pds.destroy()
    await plc.destroy()
    process.exit(0)
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
