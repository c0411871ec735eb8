// JSON Schemas (2020-12) of the configuration files. They mirror core/engine/model.ts (main.json)
// and core/config/hb-model.ts (hb.json) field by field;
// `default`s are applied when a file is loaded, so the rest of MCCS sees complete objects.

export const NAME_PATTERN = '^[A-Za-z][A-Za-z0-9_.-]{0,63}$'
/** The most nodes a cluster has (Corosync's limit). What every heartbeat carries grows with it: the view's
 *  bit masks (core/cluster/view-messages.ts) and the names it hears (validate.ts checks they fit). */
export const MAX_NODES = 32
/** Bytes of node names one heartbeat view of an `n`-node cluster may carry: the names its sender hears and
 *  its coordinator's. The rest of the largest view takes a fixed part, one character per node (`ext.rq`) and
 *  three node masks; test/cluster/view-size.test.ts builds that view for every n and holds it to 1 KiB. */
export function viewNamesBudget(n: number): number {
  return 1024 - (296 + n + 3 * String(2 ** n - 1).length)
}
const name = { type: 'string', pattern: NAME_PATTERN } as const

/** Hard bounds: generous, but they refuse values that can only be typos (a 0 s timeout, a week-long monitor). */
const seconds = { type: 'number', exclusiveMinimum: 0, maximum: 86400 } as const
const count = { type: 'integer', minimum: 0, maximum: 1000 } as const

/** Partial<TypeDefaults>: the per-type, per-cluster and per-resource policy overrides. */
export const POLICY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    monitorIntervalS: seconds,
    monitorTimeoutS: seconds,
    offlineMonitorIntervalS: seconds,
    onlineTimeoutS: seconds,
    offlineTimeoutS: seconds,
    cleanTimeoutS: seconds,
    toleranceLimit: count,
    monitorTimeoutLimit: count,
    restartLimit: count,
    onlineRetryLimit: count,
    confidenceIntervalS: seconds,
    failureTimeoutS: { type: 'number', minimum: 0, maximum: 86400 }, // 0: faults never expire
  },
} as const

const GROUP_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'nodes'],
  properties: {
    name,
    nodes: { type: 'array', items: name, minItems: 1, maxItems: MAX_NODES, uniqueItems: true },
    failoverOnFailure: { type: 'boolean', default: true },
    autoStart: { type: 'boolean', default: true },
    autoFailback: { type: 'boolean', default: false },
  },
} as const

const RESOURCE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'type', 'group'],
  properties: {
    name,
    type: name,
    group: name,
    critical: { type: 'boolean', default: true },
    attrs: { type: 'object', default: {} },
    nodeAttrs: {
      type: 'object',
      default: {},
      propertyNames: { pattern: NAME_PATTERN },
      additionalProperties: { type: 'object' },
    },
    policy: { ...POLICY_SCHEMA, default: {} },
    monitored: { type: 'boolean', default: true },
  },
} as const

const DEPENDENCY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['parent', 'child'],
  properties: { parent: name, child: name },
} as const

export const MAIN_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://mccs.dev/schema/main.json',
  title: 'MCCS main.json: resource groups, resources, dependencies',
  type: 'object',
  additionalProperties: false,
  required: ['generation'],
  properties: {
    generation: { type: 'integer', minimum: 0 },
    groups: { type: 'array', items: GROUP_SCHEMA, default: [] },
    resources: { type: 'array', items: RESOURCE_SCHEMA, default: [] },
    dependencies: { type: 'array', items: DEPENDENCY_SCHEMA, default: [] },
    types: {
      type: 'object',
      default: {},
      propertyNames: { pattern: NAME_PATTERN },
      additionalProperties: POLICY_SCHEMA,
    },
  },
} as const

const port = { type: 'integer', minimum: 1, maximum: 65535 } as const
const address = { type: 'string', anyOf: [{ format: 'ipv4' }, { format: 'ipv6' }, { format: 'hostname' }] } as const

export const HB_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://mccs.dev/schema/hb.json',
  title: 'MCCS hb.json: cluster nodes, heartbeat links and timing',
  type: 'object',
  additionalProperties: false,
  required: ['generation', 'cluster', 'nodes', 'links'],
  properties: {
    generation: { type: 'integer', minimum: 0 },
    cluster: name,
    nodes: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_NODES,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'addresses'],
        properties: {
          name,
          addresses: { type: 'object', propertyNames: { pattern: NAME_PATTERN }, additionalProperties: address, minProperties: 1 },
          votes: { type: 'integer', minimum: 0, maximum: MAX_NODES },
          isolationTestAddresses: { type: 'array', items: address, maxItems: 16, uniqueItems: true },
          fencing: {
            type: 'array',
            maxItems: 4,
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['type'],
              properties: {
                type: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,39}$' },
                attrs: { type: 'object' },
                effectMs: {
                  type: 'integer',
                  minimum: 0,
                  maximum: 120000,
                  description:
                    "how long after this device is asked the node runs nothing (default: the fence type's fenceEffectMs); the two-node fence delay covers it",
                },
              },
            },
          },
        },
      },
    },
    links: {
      type: 'array',
      minItems: 1,
      maxItems: 8,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'priority'],
        properties: { name, priority: { type: 'integer', minimum: 0, maximum: 255 }, port },
      },
    },
    // Defaults are the shipped timing (ANCHORS.md: failover <= 1.1 s); the floor keeps heartbeats from
    // flooding a busy host, the ceiling keeps failure detection within minutes.
    timing: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        intervalMs: { type: 'integer', minimum: 20, maximum: 10000, default: 100 },
        deadMs: { type: 'integer', minimum: 60, maximum: 120000, default: 600 },
      },
    },
    port: { ...port, default: 14321 },
    // Quorum of two-node clusters (docs/cluster.md): the quorum server as tie-breaker, or two-node mode
    // (wait for all at start, then a tie is quorate and fencing decides, the active node first).
    quorum: {
      type: 'object',
      additionalProperties: false,
      properties: {
        twoNode: { type: 'boolean' },
        server: {
          type: 'object',
          additionalProperties: false,
          required: ['host', 'caFile', 'keyFile'],
          properties: {
            host: address,
            port,
            servername: { type: 'string', minLength: 1, maxLength: 253 },
            caFile: {
              type: 'string',
              minLength: 1,
              maxLength: 4096,
              description: "the quorum server's CA certificate (tls/ca.crt), relative to the config folder or absolute",
            },
            keyFile: {
              type: 'string',
              minLength: 1,
              maxLength: 4096,
              description: "the cluster's quorum key as add-cluster printed it, relative to the config folder or absolute",
            },
          },
        },
        fenceDelayMs: {
          type: 'integer',
          minimum: 0,
          maximum: 120000,
          description:
            "a node that runs no resource waits this long before fencing a peer (default in two-node mode: long enough for the peer to detect the loss, ask its isolation test addresses and fence this node with this node's fence devices; 0 otherwise: with a quorum server or a majority only one side fences)",
        },
      },
    },
  },
} as const
