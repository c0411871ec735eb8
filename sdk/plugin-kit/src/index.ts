// @mccs/plugin-kit: the plugin author's tools, run by Node (never bundled into a plugin): the build and
// the test host. The CLI is bin/mccs-plugin (src/cli.ts).
export * from './build.js'
export * from './testing.js'
