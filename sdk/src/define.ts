// definePlugin / defineFencePlugin: what a plugin's src/index.ts exports by default.
import type { Attrs, FenceHooks, ResourceHooks } from './types.js'

/** Declares a resource-type plugin. The returned object is what the host calls. */
export function definePlugin<A extends Attrs = Attrs>(hooks: ResourceHooks<A>): ResourceHooks<A> {
  return hooks
}
/** Declares a fence plugin (kind "fence" in plugin.json). */
export function defineFencePlugin<A extends Attrs = Attrs>(hooks: FenceHooks<A>): FenceHooks<A> {
  return hooks
}
