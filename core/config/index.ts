// The configuration layer: bootstrap settings, main.json / hb.json validation and the atomic store.
export { loadBootstrap, findBuiltinPluginDir, ENV_VARS, ENV_FILE, SETTINGS_FILES, SYSTEM_DIR, DEFAULT_HOME, type Bootstrap } from './bootstrap.js'
export { validateMain, validateHb, type TypeCatalog, type Validated, type MainContext } from './validate.js'
export { ConfigStore, createInitial, MAIN_FILE, HB_FILE, PENDING_FILE, type ConfigPair, type ConfigBundle, type StoreOptions } from './store.js'
export { configValidate, configExport, configImport, type CommandResult, type ValidateResult } from './commands.js'
export { formatIssue, formatIssues, issuesOf, type ConfigIssue } from './issue.js'
export { MAIN_SCHEMA, HB_SCHEMA, POLICY_SCHEMA, NAME_PATTERN } from './schema.js'
export { writeFileAtomic } from './atomic.js'
