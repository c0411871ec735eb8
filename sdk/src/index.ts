// @mccs/sdk: the plugin contract, what a resource-type plugin imports. Only types and small pure helpers
// live here, because the plugin bundle runs inside the sandbox where nothing of Node exists. The AWS
// types' shared answers are a separate entry, @mccs/sdk/aws-answers; the test host, the build and the
// mccs-plugin CLI are @mccs/plugin-kit (sdk/plugin-kit/).
export * from './types.js'
export * from './define.js'
export * from './answers.js'
export * from './caps-net.js'
export * from './caps-aws.js'
export * from './wizard.js'
