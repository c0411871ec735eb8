// Seeds: the demo topology, one per lab node set, and checks of a seed read from a JSON file (every field
// named on error), and the state a seed starts as.
import { readFile } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { MccsError } from '../errors.js'
import { cidrsOverlap, inCidr, parseCidr, parseIp, reservedInSubnet, type Cidr } from './ip.js'
import type { Ec2State, SeedSpec } from './types.js'
import { ACTIONS } from './actions/index.js'

const base = (): Omit<SeedSpec, 'instances'> => ({
  region: 'us-east-1',
  keys: [{ accessKeyId: 'test', secretAccessKey: 'test', allow: ['*'] }],
  vpcs: [{ id: 'vpc-0demo', cidr: '10.0.0.0/16', name: 'demo' }],
  subnets: [
    { id: 'subnet-0demo1', vpcId: 'vpc-0demo', cidr: '10.0.1.0/24', az: 'us-east-1a', name: 'demo-a' },
    { id: 'subnet-0demo2', vpcId: 'vpc-0demo', cidr: '10.0.2.0/24', az: 'us-east-1b', name: 'demo-b' },
  ],
  routeTables: [
    { id: 'rtb-0demo1', vpcId: 'vpc-0demo', name: 'main', main: true, routes: [] },
    { id: 'rtb-0demo2', vpcId: 'vpc-0demo', name: 'private', subnetIds: ['subnet-0demo2'], routes: [] },
  ],
  addresses: [
    { allocationId: 'eipalloc-0demo1', publicIp: '203.0.113.10', name: 'demo-eip1' },
    { allocationId: 'eipalloc-0demo2', publicIp: '203.0.113.11', name: 'demo-eip2' },
  ],
})

/** Nodes share subnet 10.0.1.0/24 so a secondary private IP can move between them (it cannot leave its subnet). */
function nodes(list: Array<{ name: string; instanceId: string; eniId: string }>): SeedSpec['instances'] {
  return list.map((n, i) => ({
    id: n.instanceId,
    name: n.name,
    subnetId: 'subnet-0demo1',
    privateIp: `10.0.1.${10 + i}`,
    enis: [{ id: n.eniId, name: `${n.name}-eth0`, subnetId: 'subnet-0demo1', privateIp: `10.0.1.${10 + i}`, sourceDestCheck: true }],
  }))
}

export function demoSeed(): SeedSpec {
  return {
    ...base(),
    instances: nodes([
      { name: 'node1', instanceId: 'i-0node1', eniId: 'eni-0node1' },
      { name: 'node2', instanceId: 'i-0node2', eniId: 'eni-0node2' },
    ]),
  }
}

/** The demo VPC with one instance `i-<name>` and ENI `eni-<name>` per node (up to 200 nodes). */
export function seedForNodes(names: string[]): SeedSpec {
  if (!names.length || names.length > 200) throw new MccsError('MCCS_ERR_INVALID', 'give 1..200 node names', { field: 'names' })
  for (const n of names) {
    if (!/^[0-9A-Za-z][0-9A-Za-z_-]*$/.test(n))
      throw new MccsError('MCCS_ERR_INVALID', `node name ${JSON.stringify(n)} cannot be part of an EC2 id (letters, digits, - and _)`, {
        field: 'names',
      })
  }
  return { ...base(), instances: nodes(names.map((n) => ({ name: n, instanceId: `i-${n}`, eniId: `eni-${n}` }))) }
}

export async function loadSeedFile(file: string): Promise<SeedSpec> {
  let raw: unknown
  try {
    raw = JSON.parse(await readFile(file, 'utf8'))
  } catch (e) {
    throw new MccsError('MCCS_ERR_INVALID', `seed file cannot be read as JSON: ${(e as Error).message}`, { subject: file, field: '--seed' })
  }
  return validateSeed(raw, file)
}

type Obj = Record<string, unknown>
const ID = /^[0-9A-Za-z][0-9A-Za-z_-]*$/

/** Checks a seed's shape and consistency (ids, references, CIDRs, addresses inside their subnets). */
export function validateSeed(raw: unknown, subject = 'seed'): SeedSpec {
  const fail = (field: string, reason: string): never => {
    throw new MccsError('MCCS_ERR_INVALID', reason, { field, subject })
  }
  const obj = (v: unknown, f: string): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : fail(f, 'must be an object'))
  const arr = (v: unknown, f: string): unknown[] => (Array.isArray(v) ? v : fail(f, 'must be an array'))
  const str = (o: Obj, k: string, f: string): string =>
    typeof o[k] === 'string' && o[k] !== '' ? (o[k] as string) : fail(`${f}.${k}`, 'must be a non-empty string')
  const id = (o: Obj, k: string, f: string, prefix: string): string => {
    const v = str(o, k, f)
    if (!v.startsWith(prefix + '-') || !ID.test(v.slice(prefix.length + 1))) fail(`${f}.${k}`, `must look like ${prefix}-<letters/digits>`)
    return v
  }
  const cidr = (o: Obj, k: string, f: string): Cidr =>
    parseCidr(str(o, k, f)) ?? fail(`${f}.${k}`, 'must be an IPv4 CIDR block with its network address (10.0.0.0/16)')
  const seen = new Set<string>()
  const unique = (v: string, f: string) => {
    if (seen.has(v)) fail(f, `${v} is used twice`)
    seen.add(v)
  }

  const s = obj(raw, '$')
  const region = str(s, 'region', '$')
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) fail('region', 'must be a region name such as us-east-1')
  const keys = arr(s.keys, 'keys').map((k, i) => {
    const o = obj(k, `keys[${i}]`)
    const allow =
      o.allow === undefined
        ? undefined
        : arr(o.allow, `keys[${i}].allow`).map((a, j) =>
            typeof a === 'string' && (a === '*' || a === 'ec2:*' || ACTIONS[a.replace(/^ec2:/, '')])
              ? a
              : fail(
                  `keys[${i}].allow[${j}]`,
                  `${JSON.stringify(a)} is not '*' or a supported EC2 action (CreateRoute or ec2:CreateRoute)`,
                ),
          )
    return {
      accessKeyId: str(o, 'accessKeyId', `keys[${i}]`),
      secretAccessKey: str(o, 'secretAccessKey', `keys[${i}]`),
      ...(allow ? { allow } : {}),
    }
  })
  if (!keys.length) fail('keys', 'needs at least one key')
  const vpcCidr = new Map<string, Cidr>()
  const vpcs = arr(s.vpcs, 'vpcs').map((v, i) => {
    const o = obj(v, `vpcs[${i}]`),
      f = `vpcs[${i}]`
    const r = { id: id(o, 'id', f, 'vpc'), cidr: str(o, 'cidr', f), name: str(o, 'name', f) }
    unique(r.id, `${f}.id`)
    vpcCidr.set(r.id, cidr(o, 'cidr', f))
    return r
  })
  const subnetCidr = new Map<string, Cidr>()
  const subnets = arr(s.subnets, 'subnets').map((v, i) => {
    const o = obj(v, `subnets[${i}]`),
      f = `subnets[${i}]`
    const r = {
      id: id(o, 'id', f, 'subnet'),
      vpcId: str(o, 'vpcId', f),
      cidr: str(o, 'cidr', f),
      az: str(o, 'az', f),
      name: str(o, 'name', f),
    }
    unique(r.id, `${f}.id`)
    const c = cidr(o, 'cidr', f)
    const vc = vpcCidr.get(r.vpcId) ?? fail(`${f}.vpcId`, `no VPC ${r.vpcId} in vpcs`)
    if (c.base < vc.base || c.base + c.size > vc.base + vc.size)
      fail(`${f}.cidr`, `${r.cidr} is not inside the VPC's ${vpcs.find((x) => x.id === r.vpcId)!.cidr}`)
    for (const [other, oc] of subnetCidr) if (cidrsOverlap(c, oc)) fail(`${f}.cidr`, `${r.cidr} overlaps subnet ${other}`)
    subnetCidr.set(r.id, c)
    return r
  })
  const usedIps = new Set<string>()
  const ipIn = (o: Obj, k: string, f: string, subnetId: string): string => {
    const ip = str(o, k, f)
    const n = parseIp(ip) ?? fail(`${f}.${k}`, 'must be an IPv4 address')
    const c = subnetCidr.get(subnetId) ?? fail(`${f}.subnetId`, `no subnet ${subnetId} in subnets`)
    if (!inCidr(n, c) || reservedInSubnet(n, c)) fail(`${f}.${k}`, `${ip} is not a usable address of subnet ${subnetId}`)
    return ip
  }
  const eniIds = new Set<string>()
  const instances = arr(s.instances, 'instances').map((v, i) => {
    const o = obj(v, `instances[${i}]`),
      f = `instances[${i}]`
    const subnetId = str(o, 'subnetId', f)
    const r = { id: id(o, 'id', f, 'i'), name: str(o, 'name', f), subnetId, privateIp: ipIn(o, 'privateIp', f, subnetId) }
    unique(r.id, `${f}.id`)
    const enis = arr(o.enis, `${f}.enis`).map((e, j) => {
      const eo = obj(e, `${f}.enis[${j}]`),
        ef = `${f}.enis[${j}]`
      const esub = str(eo, 'subnetId', ef)
      const er = {
        id: id(eo, 'id', ef, 'eni'),
        name: str(eo, 'name', ef),
        subnetId: esub,
        privateIp: ipIn(eo, 'privateIp', ef, esub),
        ...(eo.sourceDestCheck === undefined
          ? {}
          : {
              sourceDestCheck:
                typeof eo.sourceDestCheck === 'boolean' ? eo.sourceDestCheck : fail(`${ef}.sourceDestCheck`, 'must be true or false'),
            }),
      }
      unique(er.id, `${ef}.id`)
      if (usedIps.has(er.privateIp)) fail(`${ef}.privateIp`, `${er.privateIp} is used by another ENI`)
      usedIps.add(er.privateIp)
      eniIds.add(er.id)
      if (subnets.find((x) => x.id === esub)!.vpcId !== subnets.find((x) => x.id === subnetId)!.vpcId)
        fail(`${ef}.subnetId`, "must be in the instance's VPC")
      return er
    })
    if (!enis.length) fail(`${f}.enis`, 'an instance needs at least one ENI (its primary one first)')
    if (enis[0]!.privateIp !== r.privateIp || enis[0]!.subnetId !== subnetId)
      fail(`${f}.enis[0]`, 'the first ENI is the primary one: same subnet and private IP as the instance')
    return { ...r, enis }
  })
  const instanceIds = new Set(instances.map((x) => x.id))
  const routeTables = arr(s.routeTables, 'routeTables').map((v, i) => {
    const o = obj(v, `routeTables[${i}]`),
      f = `routeTables[${i}]`
    const r = { id: id(o, 'id', f, 'rtb'), vpcId: str(o, 'vpcId', f), name: str(o, 'name', f) }
    unique(r.id, `${f}.id`)
    if (!vpcCidr.has(r.vpcId)) fail(`${f}.vpcId`, `no VPC ${r.vpcId} in vpcs`)
    const main =
      o.main === undefined ? undefined : o.main === true || o.main === false ? o.main : fail(`${f}.main`, 'must be true or false')
    const subnetIds =
      o.subnetIds === undefined
        ? undefined
        : arr(o.subnetIds, `${f}.subnetIds`).map((x, j) =>
            typeof x === 'string' && subnets.some((sn) => sn.id === x && sn.vpcId === r.vpcId)
              ? x
              : fail(`${f}.subnetIds[${j}]`, `${JSON.stringify(x)} is not a subnet of ${r.vpcId}`),
          )
    const routes = arr(o.routes, `${f}.routes`).map((x, j) => {
      const ro = obj(x, `${f}.routes[${j}]`),
        rf = `${f}.routes[${j}]`
      cidr(ro, 'destinationCidrBlock', rf)
      const targets = (['gatewayId', 'networkInterfaceId', 'instanceId'] as const).filter((k) => ro[k] !== undefined)
      if (targets.length !== 1) fail(rf, 'needs exactly one of gatewayId, networkInterfaceId, instanceId')
      const t = targets[0]!
      const tv = str(ro, t, rf)
      if (t === 'networkInterfaceId' && !eniIds.has(tv)) fail(`${rf}.${t}`, `no ENI ${tv} in instances`)
      if (t === 'instanceId' && !instanceIds.has(tv)) fail(`${rf}.${t}`, `no instance ${tv} in instances`)
      return { destinationCidrBlock: ro.destinationCidrBlock as string, [t]: tv }
    })
    return { ...r, ...(main !== undefined ? { main } : {}), ...(subnetIds ? { subnetIds } : {}), routes }
  })
  const addresses = arr(s.addresses, 'addresses').map((v, i) => {
    const o = obj(v, `addresses[${i}]`),
      f = `addresses[${i}]`
    const r = { allocationId: id(o, 'allocationId', f, 'eipalloc'), publicIp: str(o, 'publicIp', f), name: str(o, 'name', f) }
    unique(r.allocationId, `${f}.allocationId`)
    if (parseIp(r.publicIp) === null) fail(`${f}.publicIp`, 'must be an IPv4 address')
    unique(r.publicIp, `${f}.publicIp`)
    return r
  })
  return { region, keys, vpcs, subnets, routeTables, instances, addresses }
}

const hex = (seed: string, n = 17): string => createHash('sha256').update(seed).digest('hex').slice(0, n)

/** Deterministic MAC and attachment ids, so a reseeded state looks the same. */
export function seedToState(seed: SeedSpec, now = new Date()): Ec2State {
  const s = validateSeed(seed)
  return {
    format: 'mccs-ec2sim/1',
    region: s.region,
    accountId: '123456789012',
    keys: s.keys,
    vpcs: s.vpcs,
    subnets: s.subnets,
    routeTables: s.routeTables.map((t) => {
      const isMain = t.main ?? s.routeTables.find((x) => x.vpcId === t.vpcId)!.id === t.id
      const vpc = s.vpcs.find((v) => v.id === t.vpcId)!
      const eniOwner = (eni: string) => s.instances.find((i) => i.enis.some((e) => e.id === eni))?.id
      return {
        id: t.id,
        vpcId: t.vpcId,
        name: t.name,
        associations: [
          ...(isMain ? [{ id: `rtbassoc-${hex(t.id + 'main')}`, main: true }] : []),
          ...(t.subnetIds ?? []).map((sn) => ({ id: `rtbassoc-${hex(t.id + sn)}`, main: false, subnetId: sn })),
        ],
        routes: [
          { destinationCidrBlock: vpc.cidr, gatewayId: 'local', origin: 'CreateRouteTable' as const },
          ...t.routes
            .filter((r) => r.destinationCidrBlock !== vpc.cidr)
            .map((r) => {
              const inst = r.instanceId ?? (r.networkInterfaceId ? eniOwner(r.networkInterfaceId) : undefined)
              const eni = r.networkInterfaceId ?? (r.instanceId ? s.instances.find((i) => i.id === r.instanceId)!.enis[0]!.id : undefined)
              return r.gatewayId
                ? { destinationCidrBlock: r.destinationCidrBlock, gatewayId: r.gatewayId, origin: 'CreateRoute' as const }
                : {
                    destinationCidrBlock: r.destinationCidrBlock,
                    networkInterfaceId: eni!,
                    ...(inst ? { instanceId: inst } : {}),
                    origin: 'CreateRoute' as const,
                  }
            }),
        ],
      }
    }),
    instances: s.instances.map((i) => ({
      id: i.id,
      name: i.name,
      subnetId: i.subnetId,
      privateIp: i.privateIp,
      reservationId: `r-${hex(i.id + 'r')}`,
      launchTime: now.toISOString(),
      state: 'running' as const,
      enis: i.enis.map((e, idx) => {
        const h = hex(e.id, 10)
        return {
          id: e.id,
          name: e.name,
          subnetId: e.subnetId,
          privateIp: e.privateIp,
          sourceDestCheck: e.sourceDestCheck ?? true,
          secondaryPrivateIps: [],
          attachmentId: `eni-attach-${hex(e.id + 'a')}`,
          deviceIndex: idx,
          macAddress: `0a:${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4, 6)}:${h.slice(6, 8)}:${h.slice(8, 10)}`,
        }
      }),
    })),
    addresses: s.addresses.map((a) => ({ ...a })),
    calls: {},
  }
}
