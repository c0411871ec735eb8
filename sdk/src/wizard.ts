// Helpers to write a wizard schema (JSON Schema 2020-12 with `x-mccs` UI hints) with less noise.
// The console renders every wizard from the schema alone, so a third-party type gets a wizard for free.

export interface UiHints {
  /** "node": the value differs per node (the manual's Active / StandBy columns). */
  scope?: 'global' | 'node'
  /** Name passed to the plugin's discover hook to fill a list. */
  discover?: string
  widget?: 'text' | 'password' | 'select' | 'textarea' | 'checkbox' | 'number' | 'list'
  order?: number
  group?: string
  /** Shown on the console when a value is secret (never logged, never in support bundles). */
  secret?: boolean
}

type Schema = Record<string, unknown>
const withUi = (s: Schema, title: string, ui: UiHints | undefined, description?: string): Schema => ({
  ...s,
  title,
  ...(description ? { description } : {}),
  ...(ui ? { 'x-mccs': ui } : {}),
})

export const field = {
  string: (
    title: string,
    o: {
      ui?: UiHints
      description?: string
      pattern?: string
      minLength?: number
      maxLength?: number
      enum?: string[]
      default?: string
      format?: string
    } = {},
  ): Schema => {
    const { ui, description, ...rest } = o
    return withUi({ type: 'string', ...rest }, title, ui, description)
  },
  integer: (
    title: string,
    o: { ui?: UiHints; description?: string; minimum?: number; maximum?: number; default?: number } = {},
  ): Schema => {
    const { ui, description, ...rest } = o
    return withUi({ type: 'integer', ...rest }, title, ui, description)
  },
  boolean: (title: string, o: { ui?: UiHints; description?: string; default?: boolean } = {}): Schema => {
    const { ui, description, ...rest } = o
    return withUi({ type: 'boolean', ...rest }, title, ui, description)
  },
  stringList: (
    title: string,
    o: { ui?: UiHints; description?: string; minItems?: number; maxItems?: number; items?: Schema } = {},
  ): Schema => {
    const { ui, description, items, ...rest } = o
    return withUi({ type: 'array', items: items ?? { type: 'string' }, ...rest }, title, ui, description)
  },
}

/** An object schema for the attributes of a type. */
export function attributes(properties: Record<string, Schema>, required: string[] = []): Schema {
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties, required, additionalProperties: false }
}
