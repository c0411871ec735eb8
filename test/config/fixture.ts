// Shared test material: a valid configuration pair, a type catalog like the plugin host's, temp dirs.

import { cp, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { MainConfig } from '../../core/engine/model.js'
import type { HbConfig } from '../../core/config/hb-model.js'
import type { TypeCatalog } from '../../core/config/validate.js'

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url))
export const VALID_DIR = join(FIXTURES, 'valid')

const S = 'https://json-schema.org/draft/2020-12/schema'
export const TYPE_SCHEMAS: Record<string, object> = {
  nic: {
    $schema: S,
    type: 'object',
    additionalProperties: false,
    required: ['device'],
    properties: { device: { type: 'string', minLength: 1, 'x-mccs': { scope: 'node', discover: 'nics' } } },
  },
  vip: {
    $schema: S,
    $id: 'urn:mccs:vip',
    type: 'object',
    additionalProperties: false,
    required: ['ip', 'nic'],
    properties: {
      ip: { type: 'string', format: 'ipv4' },
      mask: { type: 'integer', minimum: 1, maximum: 32, default: 24 },
      nic: { type: 'string', 'x-mccs': { scope: 'node' } },
    },
  },
  process: {
    $schema: S,
    type: 'object',
    additionalProperties: false,
    required: ['command'],
    properties: { command: { type: 'string', pattern: '^/' }, args: { type: 'array', items: { type: 'string' } } },
  },
}

export const TYPES: TypeCatalog = {
  has: (t) => t in TYPE_SCHEMAS,
  attributeSchema: (t) => TYPE_SCHEMAS[t],
}

export async function validPair(): Promise<{ main: MainConfig; hb: HbConfig; mainText: string; hbText: string }> {
  const mainText = await readFile(join(VALID_DIR, 'main.json'), 'utf8')
  const hbText = await readFile(join(VALID_DIR, 'hb.json'), 'utf8')
  return { main: JSON.parse(mainText) as MainConfig, hb: JSON.parse(hbText) as HbConfig, mainText, hbText }
}

/** A temp dir removed when the test ends, pass or fail. */
export async function tempDir(t: { teardown(fn: () => unknown): void }, copyValid = false): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mccs-config-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  if (copyValid) await cp(VALID_DIR, dir, { recursive: true })
  return dir
}
