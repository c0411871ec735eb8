// Another node's support bundle and license over the peer channel's request/answer (frames are at most
// 1 MiB of JSON, so a bundle travels in base64 chunks): what arrives is the bundle the node made.
import t from 'tap'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { loadBootstrap } from '../../core/config/bootstrap.js'
import { createInitial } from '../../core/config/store.js'
import { PeerServices, fetchSupportBundle, type ServiceMessage } from '../../core/agent/peer-services.js'

t.test('a support bundle larger than one frame arrives whole; a license view answers', async (t) => {
  const home = await mkdtemp(path.join(os.tmpdir(), 'mccs-peer-svc-'))
  t.teardown(() => rm(home, { recursive: true, force: true }))
  const b = await loadBootstrap({ cwd: home, env: { MCCS_HOME: home, MCCS_NODE_NAME: 'n2' } })
  await createInitial(b.configDir, { cluster: 't', nodes: [{ name: 'n2', address: '127.0.0.1' }] })
  await mkdir(b.logDir, { recursive: true })
  // 3 MiB of log in 128-character lines, incompressible (a bundle cuts single lines over 256 KiB)
  await writeFile(
    path.join(b.logDir, 'mccs.log'),
    randomBytes(1536 * 1024)
      .toString('hex')
      .replace(/(.{128})/g, '$1\n'),
  )
  const svc = new PeerServices(b, async () => ({ node: 'n2' }))
  let frames = 0
  // As over the wire: JSON both ways, and each answer must fit a 1 MiB frame.
  const request = async (msg: ServiceMessage) => {
    const answer = JSON.stringify(await svc.handle(JSON.parse(JSON.stringify(msg)) as ServiceMessage))
    t.ok(answer.length < 1 << 20, `answer frame ${answer.length} bytes`)
    frames++
    return JSON.parse(answer) as unknown
  }
  const data = await fetchSupportBundle(request)
  t.ok(frames > 3, `${frames} frames`)
  const file = path.join(home, 'n2.tar.gz')
  await writeFile(file, data)
  const { stdout } = await promisify(execFile)('tar', ['-tzf', file])
  t.match(stdout, /logs\/mccs\.log/, 'the node bundle lists its log')
  t.match(stdout, /manifest\.json/)
  t.notMatch(stdout, /cluster\.key/, 'no cluster key')
  await t.rejects(svc.handle({ t: 'supportChunk', id: 'nope', offset: 0 }), { code: 'MCCS_ERR_NOT_FOUND' })
  const lic = (await svc.handle({ t: 'licenseView' })) as { node: string; valid: boolean }
  t.equal(lic.node, 'n2')
  t.equal(lic.valid, false, 'no license installed: limited')
  await t.rejects(svc.handle({ t: 'licenseInstall', text: 'type=term\n' }), /MCCS_ERR_LICENSE/)
})
