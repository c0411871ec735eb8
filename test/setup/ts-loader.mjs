// Test processes only (.taprc node-arg): TypeScript test files and the sources they import, see ts-hooks.mjs.
import { register } from 'node:module'

register('./ts-hooks.mjs', import.meta.url)
