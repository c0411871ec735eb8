// Broken variants of fixtures/valid/main.json and what each must be rejected with.

import type { ErrorCode } from '../../core/errors.js'

type Doc = Record<string, any>

export interface BadCase {
  name: string
  /** Turns the valid main.json text into the broken one. */
  edit: (text: string) => string
  path: string
  code: ErrorCode
  reason: RegExp
}

const viaJson =
  (f: (d: Doc) => void) =>
  (text: string): string => {
    const d = JSON.parse(text) as Doc
    f(d)
    return JSON.stringify(d, null, 2)
  }

export const BAD_MAIN: BadCase[] = [
  {
    name: 'syntax error',
    edit: (t) => t.replace('"critical": false,', '"critical": false,,'),
    path: '',
    code: 'MCCS_ERR_CONFIG_SYNTAX',
    reason: /^line 14, column 75: expected a double-quoted property name/,
  },
  {
    name: 'unknown type',
    edit: viaJson((d) => {
      d.resources[1].type = 'vipp'
    }),
    path: '/resources/1/type',
    code: 'MCCS_ERR_CONFIG_REF',
    reason: /unknown resource type "vipp"/,
  },
  {
    name: 'missing required attribute',
    edit: viaJson((d) => {
      delete d.resources[1].attrs.ip
    }),
    path: '/resources/1/attrs/ip',
    code: 'MCCS_ERR_CONFIG_ATTRS',
    reason: /required attribute 'ip' is missing/,
  },
  {
    name: 'missing per-node attribute',
    edit: viaJson((d) => {
      delete d.resources[1].nodeAttrs.node2
    }),
    path: '/resources/1/nodeAttrs/node2/nic',
    code: 'MCCS_ERR_CONFIG_ATTRS',
    reason: /required attribute 'nic' is missing/,
  },
  {
    name: 'dependency cycle',
    edit: viaJson((d) => {
      d.dependencies.push({ parent: 'nic', child: 'app' })
    }),
    path: '/dependencies/2',
    code: 'MCCS_ERR_DEP_CYCLE',
    reason: /cycle: nic -> app -> vip -> nic/,
  },
  {
    name: 'per-node value for an unknown node',
    edit: viaJson((d) => {
      d.resources[1].nodeAttrs.node9 = { nic: 'eth9' }
    }),
    path: '/resources/1/nodeAttrs/node9',
    code: 'MCCS_ERR_CONFIG_REF',
    reason: /"node9", which is not a node in hb.json/,
  },
  {
    name: 'wrong attribute type',
    edit: viaJson((d) => {
      d.resources[1].attrs.mask = '24'
    }),
    path: '/resources/1/attrs/mask',
    code: 'MCCS_ERR_CONFIG_ATTRS',
    reason: /must be integer, not string "24"/,
  },
  {
    name: 'wrong per-node attribute type',
    edit: viaJson((d) => {
      d.resources[0].nodeAttrs.node2.device = 5
    }),
    path: '/resources/0/nodeAttrs/node2/device',
    code: 'MCCS_ERR_CONFIG_ATTRS',
    reason: /must be string, not number 5/,
  },
  {
    name: 'wrong type in the file schema',
    edit: viaJson((d) => {
      d.groups[1].autoStart = 'yes'
    }),
    path: '/groups/1/autoStart',
    code: 'MCCS_ERR_CONFIG_SCHEMA',
    reason: /must be boolean, not string "yes"/,
  },
  {
    name: 'duplicate resource names',
    edit: viaJson((d) => {
      d.resources.push({ name: 'vip', type: 'process', group: 'db', attrs: { command: '/bin/true' } })
    }),
    path: '/resources/4/name',
    code: 'MCCS_ERR_CONFIG_DUPLICATE',
    reason: /resource name "vip" is already used by \/resources\/1/,
  },
  {
    name: 'duplicate group names',
    edit: viaJson((d) => {
      d.groups.push({ name: 'web', nodes: ['node1'] })
    }),
    path: '/groups/2/name',
    code: 'MCCS_ERR_CONFIG_DUPLICATE',
    reason: /group name "web" is already used by \/groups\/0/,
  },
  {
    name: 'group names an unknown node',
    edit: viaJson((d) => {
      d.groups[0].nodes.push('node3')
    }),
    path: '/groups/0/nodes/2',
    code: 'MCCS_ERR_CONFIG_REF',
    reason: /no node named "node3" in hb.json/,
  },
  {
    name: 'resource in an unknown group',
    edit: viaJson((d) => {
      d.resources[3].group = 'dbx'
    }),
    path: '/resources/3/group',
    code: 'MCCS_ERR_CONFIG_REF',
    reason: /no group named "dbx"/,
  },
  {
    name: 'dependency across groups',
    edit: viaJson((d) => {
      d.dependencies.push({ parent: 'pg', child: 'vip' })
    }),
    path: '/dependencies/2',
    code: 'MCCS_ERR_CONFIG_DEPENDENCY',
    reason: /different groups/,
  },
  {
    name: 'dependency on a missing resource',
    edit: viaJson((d) => {
      d.dependencies.push({ parent: 'app', child: 'cache' })
    }),
    path: '/dependencies/2/child',
    code: 'MCCS_ERR_CONFIG_REF',
    reason: /no resource named "cache"/,
  },
  {
    name: 'invalid name',
    edit: viaJson((d) => {
      d.groups[1].name = '9db'
    }),
    path: '/groups/1/name',
    code: 'MCCS_ERR_CONFIG_SCHEMA',
    reason: /not a valid name/,
  },
  {
    name: 'unknown property',
    edit: viaJson((d) => {
      d.resources[2].critcal = true
    }),
    path: '/resources/2/critcal',
    code: 'MCCS_ERR_CONFIG_SCHEMA',
    reason: /unknown property 'critcal'/,
  },
]
