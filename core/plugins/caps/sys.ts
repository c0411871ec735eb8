// Host services every hook has without a permission: sleep (there are no timers in the isolate).
import type { CapabilityProvider } from '../capabilities.js'
import { MccsError } from '../../errors.js'

export const sysProvider: CapabilityProvider = {
  name: 'sys',
  methods: {
    sleep: {
      authorize: () => null,
      run: ([ms], call) => {
        if (typeof ms !== 'number' || !(ms >= 0)) throw new MccsError('MCCS_ERR_CAPABILITY_ARGS', 'must be a number of ms >= 0', { field: 'sleep(ms)' })
        const wait = Math.min(ms, Math.max(0, call.deadline - Date.now()))
        return new Promise((resolve, reject) => {
          const t = setTimeout(resolve, wait)
          call.signal.addEventListener('abort', () => { clearTimeout(t); reject(new MccsError('MCCS_ERR_CANCELLED', 'sleep cancelled')) }, { once: true })
        })
      },
    },
  },
}
