// One process spawn per turn of the agent's event loop, spaced by what the last one cost. A spawn forks
// the agent on its own thread, and a fork copies the page tables of the whole process: with plugin
// isolates holding hundreds of MB, one fork took 20-85 ms in the hostile-plugin tests, and four granted
// together held the loop for their sum. After a spawn that held the loop t ms, the next waits t ms
// (at most MAX_SPACING_MS), so forks never take more than about half of the loop's time.
const MAX_SPACING_MS = 500

let nextAt = 0
let queue: Promise<void> = Promise.resolve()

/** Resolves when this caller may spawn: in a turn of its own, after the spacing the last spawn earned. */
export function spawnTurn(): Promise<void> {
  const turn = queue.then(
    () =>
      new Promise<void>((resolve) => {
        const wait = nextAt - performance.now()
        if (wait > 0) setTimeout(resolve, wait)
        else setImmediate(resolve)
      }),
  )
  queue = turn
  return turn
}

/** Records how long a spawn held the loop. */
export function spawned(heldMs: number): void {
  nextAt = performance.now() + Math.min(heldMs, MAX_SPACING_MS)
}
