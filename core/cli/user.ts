// Who runs this command, as operator commands record it. The same answer as currentUser() in
// core/agent/agent.ts (test/cli/thin-bootstrap.test.ts compares them), here so that a command that only
// talks to the agent does not load the agent's code to learn the user's name.
import os from 'node:os'

export const currentUser = (): string => {
  try {
    return os.userInfo().username
  } catch {
    return `uid:${process.getuid?.() ?? '?'}`
  }
}
