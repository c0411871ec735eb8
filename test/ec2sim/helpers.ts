// Shared by the ec2-sim tests: a temp dir per test, an endpoint that is closed at teardown, SDK clients,
// and raw SigV4-signed requests (for what the SDK will not send: garbage, unknown actions, missing params).
import type { Test } from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { EC2Client } from '@aws-sdk/client-ec2'
import { SignatureV4 } from '@smithy/signature-v4'
import { startEc2Sim, type Ec2Sim, type Ec2SimOptions } from '../../core/ec2sim/server.js'
import { NodeSha256 } from '../../core/ec2sim/sigv4.js'

// The SDK warns once per process about Node 20; it says nothing about the endpoint.
process.env.AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING ??= '1'

export function tempDir(t: Test): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mccs-ec2sim-')))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

export async function sim(t: Test, o: Partial<Ec2SimOptions> = {}): Promise<Ec2Sim & { stateFile: string }> {
  const stateFile = o.stateFile ?? path.join(tempDir(t), 'state.json')
  const s = await startEc2Sim({ ...o, stateFile })
  t.teardown(() => s.close())
  return Object.assign(s, { stateFile })
}

export function client(
  url: string,
  key = { accessKeyId: 'test', secretAccessKey: 'test' },
  extra: Record<string, unknown> = {},
): EC2Client {
  return new EC2Client({ endpoint: url, region: 'us-east-1', credentials: key, maxAttempts: 1, ...extra })
}

/** An SDK call expected to fail: its exception's name, HTTP status and message. */
export async function failure(p: Promise<unknown>): Promise<{ name: string; status: number | undefined; message: string }> {
  try {
    await p
  } catch (e) {
    const x = e as Error & { $metadata?: { httpStatusCode?: number } }
    return { name: x.name, status: x.$metadata?.httpStatusCode, message: x.message }
  }
  return { name: '(no error)', status: 200, message: '' }
}

/** POSTs `body` signed as the SDK would (or with the given secret), and returns status and XML. */
export async function rawCall(
  url: string,
  body: string | Buffer,
  o: { secret?: string; contentType?: string; date?: Date } = {},
): Promise<{ status: number; text: string }> {
  const u = new URL(url)
  const signer = new SignatureV4({
    credentials: { accessKeyId: 'test', secretAccessKey: o.secret ?? 'test' },
    region: 'us-east-1',
    service: 'ec2',
    sha256: NodeSha256,
  })
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: u.hostname,
      port: Number(u.port),
      path: '/',
      query: {},
      headers: { host: u.host, 'content-type': o.contentType ?? 'application/x-www-form-urlencoded; charset=utf-8' },
      body,
    },
    o.date ? { signingDate: o.date } : {},
  )
  const res = await fetch(url + '/', {
    method: 'POST',
    headers: signed.headers,
    body: typeof body === 'string' ? body : new Uint8Array(body),
  })
  return { status: res.status, text: await res.text() }
}

export const errorCode = (xml: string): string | undefined => /<Code>([^<]+)<\/Code>/.exec(xml)?.[1]
