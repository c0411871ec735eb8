// A profile's keys changed in the shared credentials file (the console's "Add AWS CLI Profile" replacing a
// profile) are in force at the next call of the running agent's aws.ec2 provider, without a restart: the
// provider makes a new client when the shared files change, and the SDK reads them again.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { startEc2Sim, seedForNodes } from '../../core/ec2sim/server.js'
import { awsEc2Provider } from '../../core/plugins/caps/aws-ec2.js'
import { writeProfile } from '../../core/plugins/caps/aws-files.js'
import { PermissionSet } from '../../core/plugins/permissions.js'

t.test('new keys of a profile are used at the next call, without a restart', async (t) => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'mccs-aws-keys-'))
  t.teardown(() => rmSync(home, { recursive: true, force: true }))
  const sim = await startEc2Sim({ host: '127.0.0.1', port: 0, stateFile: path.join(home, 'ec2.json'), seed: seedForNodes(['n1']) })
  t.teardown(() => sim.close())
  const files = { config: path.join(home, 'aws/config'), credentials: path.join(home, 'aws/credentials') }
  process.env.AWS_CONFIG_FILE = files.config
  process.env.AWS_SHARED_CREDENTIALS_FILE = files.credentials
  writeFileSync(path.join(home, 'aws.json'), JSON.stringify({ profile: 'p', region: 'us-east-1', endpoint: sim.url }))
  const provider = awsEc2Provider({ settingsFile: path.join(home, 'aws.json') })
  const quiet = { debug() {}, info() {}, warn() {}, error() {} }
  const call = () =>
    provider.methods.call!.run(['DescribeNetworkInterfaces', {}], {
      plugin: 't',
      resource: 'r',
      node: 'n1',
      hook: 'online',
      attrs: {},
      permissions: new PermissionSet(['aws.ec2:DescribeNetworkInterfaces']),
      signal: new AbortController().signal,
      deadline: Date.now() + 5000,
      log: quiet,
      paths: { home, scripts: home },
    })

  await writeProfile('p', { accessKeyId: 'wrong', secretAccessKey: 'wrong' }, files)
  await t.rejects(call(), { code: 'MCCS_ERR_AWS_API' }, 'keys EC2 does not know are refused')
  // The mtime resolution of the file system: make sure the rewrite is seen as a change.
  await new Promise((r) => setTimeout(r, 20))
  await writeProfile('p', { accessKeyId: 'test', secretAccessKey: 'test' }, files)
  const r = (await call()) as { NetworkInterfaces?: unknown[] }
  t.equal(r.NetworkInterfaces?.length, 1, 'the new keys are used at the next call')
  await new Promise((r) => setTimeout(r, 20))
  await writeProfile('p', { accessKeyId: 'wrong', secretAccessKey: 'wrong' }, files)
  await t.rejects(call(), { code: 'MCCS_ERR_AWS_API' }, 'and keys taken back are no longer used')
})
