// The protocol range this agent advertises on its heartbeats and peer channel (core/cluster/protocol-version.ts):
// the build's, or, TEST ONLY, another one from MCCS_TEST_PROTOCOL_RANGE (test/cluster/protocol-version-lab.test.ts
// shows an agent with a range that overlaps nobody's kept out). Not a setting: the settings file has no key for
// it, and the hook is refused for the installed agent.
import path from 'node:path'
import { MccsError } from '../errors.js'
import { DEFAULT_HOME } from '../config/bootstrap.js'
import { PROTOCOL, checkRange, type ProtocolRange } from '../cluster/protocol-version.js'

/** TEST ONLY: advertise another range (`min..max`). */
export const TEST_RANGE_ENV = 'MCCS_TEST_PROTOCOL_RANGE'

/**
 * The range this agent advertises: PROTOCOL, or, TEST ONLY, the range in MCCS_TEST_PROTOCOL_RANGE. The hook
 * is refused for an agent whose home is the installed one (/opt/MCCS: a production node), and a malformed
 * value is refused: the agent does not start (it exits with the reason naming the variable).
 */
export function advertisedRange(env: NodeJS.ProcessEnv, home: string): { range: ProtocolRange; testHook: boolean } {
  const raw = env[TEST_RANGE_ENV]
  if (raw === undefined || raw === '') return { range: { ...PROTOCOL }, testHook: false }
  if (path.resolve(home) === DEFAULT_HOME)
    throw new MccsError('MCCS_ERR_INVALID', `a test hook: refused for the installed agent (home ${DEFAULT_HOME})`, {
      field: TEST_RANGE_ENV,
    })
  const m = /^(\d{1,3})\.\.(\d{1,3})$/.exec(raw)
  if (!m) throw new MccsError('MCCS_ERR_INVALID', "must be 'min..max' (e.g. 3..4)", { field: TEST_RANGE_ENV })
  return { range: checkRange({ min: Number(m[1]), max: Number(m[2]) }, TEST_RANGE_ENV), testHook: true }
}
