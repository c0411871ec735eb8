// The `net` capability (network links and addresses): filled in by the network resource types' work.
export interface NetCapability {
  [method: string]: (...args: never[]) => Promise<unknown>
}
