// Runs the official ClickHouse JS client (@clickhouse/client) against
// furrow's ClickHouse HTTP interface; TestClickHouseJSClient starts the
// server, runs this with node and checks what it prints (one JSON object).
'use strict'
const { createClient } = require('@clickhouse/client')

async function main() {
  const client = createClient({
    url: process.env.FURROW_TEST_CH_URL,
    // furrow serves the interface under /clickhouse on its API port.
    pathname: '/clickhouse',
    username: 'analyst',
    password: process.env.FURROW_TEST_CH_PASSWORD,
    compression: { response: true, request: false },
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
  })
  const out = {}
  out.ping = (await client.ping()).success

  let rs = await client.query({
    query: 'SELECT src_namespace AS ns, sum(bytes) AS bytes FROM flow_logs GROUP BY ns ORDER BY ns',
    format: 'JSONEachRow',
  })
  out.byNamespace = await rs.json()

  rs = await client.query({
    query: 'SELECT count() AS n FROM flow_logs WHERE src_namespace = {ns: String}',
    format: 'JSON',
    query_params: { ns: 'payments' },
  })
  const json = await rs.json()
  out.meta = json.meta
  out.payments = json.data[0].n
  out.queryId = rs.query_id

  rs = await client.query({ query: 'SELECT number FROM numbers(3)', format: 'CSV' })
  out.csv = await rs.text()

  out.refused = {}
  const attempt = async (name, fn) => {
    try {
      await fn()
      out.refused[name] = 'not refused'
    } catch (e) {
      out.refused[name] = String(e.code || e.message)
    }
  }
  await attempt('create', () => client.command({ query: 'CREATE TABLE x (a UInt8) ENGINE = Memory' }))
  await attempt('drop', () => client.command({ query: 'DROP TABLE flow_logs' }))
  await attempt('insert', () => client.insert({ table: 'flow_logs', values: [{ bytes: 1 }], format: 'JSONEachRow' }))
  await attempt('file', () => client.query({ query: "SELECT * FROM file('/etc/passwd', 'LineAsString')", format: 'JSONEachRow' }))
  await attempt('readonly', () => client.query({ query: 'SELECT 1', format: 'JSONEachRow', clickhouse_settings: { readonly: '0' } }))

  const wrong = createClient({ url: process.env.FURROW_TEST_CH_URL, pathname: '/clickhouse', username: 'analyst', password: 'wrong' })
  try {
    await wrong.query({ query: 'SELECT 1', format: 'JSONEachRow' })
    out.wrongPassword = 'accepted'
  } catch (e) {
    out.wrongPassword = String(e.code)
  }
  await wrong.close()
  await client.close()
  process.stdout.write(JSON.stringify(out))
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
