// EC2 filters: a resource matches when, for every filter, one of its values for that name matches one of
// the filter's values (`*` and `?` wildcards as EC2 allows). Unknown filter names are refused, not ignored,
// so a client relying on an unsupported filter learns it instead of getting every resource back.
import { Ec2Error } from './errors.js'
import type { Filter } from './query.js'

/** filter name → the resource's values for it; `tag:<Key>` and `tag-key` come from `tags`. */
export type FilterFields<T> = Record<string, (r: T) => Array<string | undefined>>

function wildcard(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')
  return new RegExp(`^${body}$`)
}

export function applyFilters<T>(items: T[], filters: Filter[], fields: FilterFields<T>, tags: (r: T) => Record<string, string>): T[] {
  const compiled = filters.map((f) => {
    let get: (r: T) => Array<string | undefined>
    if (f.name.startsWith('tag:')) {
      const key = f.name.slice(4)
      get = (r) => [tags(r)[key]]
    } else if (f.name === 'tag-key') {
      get = (r) => Object.keys(tags(r))
    } else if (f.name === 'tag-value') {
      get = (r) => Object.values(tags(r))
    } else {
      const g = fields[f.name]
      if (!g) throw new Ec2Error('InvalidParameterValue', `The filter '${f.name}' is invalid`)
      get = g
    }
    return { get, res: f.values.map(wildcard) }
  })
  return items.filter((r) =>
    compiled.every(({ get, res }) => {
      const vals = get(r).filter((v): v is string => v !== undefined)
      return vals.some((v) => res.some((re) => re.test(v)))
    }),
  )
}

/** Resources named by id: every id must exist, else the kind's NotFound error naming the missing ones. */
export function selectByIds<T>(items: T[], ids: string[], id: (r: T) => string, code: string, what: string): T[] {
  if (!ids.length) return items
  const missingIds = ids.filter((x) => !items.some((r) => id(r) === x))
  if (missingIds.length) {
    throw new Ec2Error(
      code,
      `The ${what}${missingIds.length > 1 ? 's' : ''} '${missingIds.join(', ')}' ${missingIds.length > 1 ? 'do' : 'does'} not exist`,
    )
  }
  return items.filter((r) => ids.includes(id(r)))
}
