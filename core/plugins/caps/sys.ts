// Host services every hook has without a permission: sleep (there are no timers in the isolate).
import type { CapabilityProvider } from '../capabilities.js'
import { MccsError } from '../../errors.js'

export const sysProvider: CapabilityProvider = {
  name: 'sys',
  methods: {
    sleep: {
      authorize: () => null,
      run: ([ms], call) => {
        if (typeof ms !== 'number' || !(ms >= 0))
          throw new MccsError('MCCS_ERR_CAPABILITY_ARGS', 'must be a number of ms >= 0', { field: 'sleep(ms)' })
        // sleep(0) yields to the host and back (no timer: Node's setTimeout(0) waits >= 1 ms).
        if (ms === 0) return Promise.resolve()
        const signal = call.signal
        return new Promise((resolve, reject) => {
          const cancelled = () => reject(new MccsError('MCCS_ERR_CANCELLED', 'sleep cancelled'))
          if (signal.aborted) return cancelled()
          // A sleep that would pass the hook's deadline never wakes: the call times out as a whole.
          // (Waking it early at the deadline let the hook carry on as if the delay had elapsed and
          // report success, racing the host's own deadline.) The call's end aborts the signal.
          const t = ms < call.deadline - Date.now() ? setTimeout(resolve, ms) : undefined
          signal.addEventListener(
            'abort',
            () => {
              clearTimeout(t)
              cancelled()
            },
            { once: true },
          )
        })
      },
    },
  },
}
