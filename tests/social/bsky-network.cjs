// A small Bluesky network for the tests: a PLC directory, a PDS and the Bluesky AppView (which
// indexes the PDS's firehose into PostgreSQL and answers app.bsky.feed.getPostThread, getQuotes...),
// from @atproto/dev-env on npm (`make pds` installs it under tests/.node). The AppView needs a
// PostgreSQL server (the tests start one: tests/postgres.py); no Redis (TestNetwork's ozone
// moderation service, which does, is not started).
//   node tests/social/bsky-network.cjs <pds port> <postgres url> <schema>
// Prints "PDS_URL=http://localhost:<port>" and "APPVIEW_URL=..." once all answer; stops on SIGTERM.
const { TestPlc, TestPds, TestBsky, mockNetworkUtilities } = require('@atproto/dev-env')

async function main() {
  const [pdsPort, postgresUrl, schema] = process.argv.slice(2)
  const plc = await TestPlc.create({})
  const bsky = await TestBsky.create({
    plcUrl: plc.url,
    pdsPort: Number(pdsPort),
    repoProvider: `ws://localhost:${pdsPort}`,
    dbPostgresUrl: postgresUrl,
    dbPostgresSchema: schema,
  })
  const pds = await TestPds.create({
    port: Number(pdsPort),
    didPlcUrl: plc.url,
    bskyAppViewUrl: bsky.url,
    bskyAppViewDid: bsky.ctx.cfg.serverDid,
    rateLimitsEnabled: false,
  })
  mockNetworkUtilities(pds, bsky)
  console.log(`APPVIEW_URL=${bsky.url}`)
  console.log(`PDS_URL=http://localhost:${pdsPort}`)
  const stop = async () => {
    await pds.close()
    await bsky.close()
    await plc.close()
    process.exit(0)
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
