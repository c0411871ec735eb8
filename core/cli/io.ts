export interface CliIO {
  out(s: string): void
  err(s: string): void
}
export const stdio: CliIO = { out: (s) => process.stdout.write(s + '\n'), err: (s) => process.stderr.write(s + '\n') }
