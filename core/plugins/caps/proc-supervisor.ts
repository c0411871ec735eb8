// The supervisor of one managed process: a fixed POSIX sh script, run as
//   /bin/sh -c SUPERVISOR_SCRIPT mccs-supervisor <dir> <command...>   3< the environment stream
// where <command...> is the full argv of the service prefixed by the host's fixed launch chain
// (`env -i --default-signal setsid [setpriv ...] -- /bin/sh -c LAUNCH_SCRIPT mccs-launch`). Every
// value reaches the scripts as a positional parameter or as data read with `read`: nothing the plugin
// or operator supplies is ever part of shell text.
//
// The service's environment never appears on a command line (`ps` shows every argv to every local
// user, and support bundles copy `ps`): the host writes it to the supervisor's fd 3 (a socket, never
// a file) in the format of encodeEnv(), and the last link of the chain, LAUNCH_SCRIPT, reads it,
// exports it and execs the service. It runs after setpriv, as the service's user: a variable such as
// LD_PRELOAD in the spec never reaches a process that still has the agent's privileges.
//
// Why a shell and not a Node process per service: one dash process costs ~1 MB RSS and no CPU while
// it sits in `wait`; it survives the agent (the agent spawns it detached, in its own session), and it
// is the parent of the service, so it alone can learn the exact wait status the instant the service
// dies and record it durably (exit.json, tmp + rename) even while no agent runs.
//
// The chain run in the background by the script:
//   env -i --default-signal   empty environment, and every signal back to
//                             its default: a non-interactive sh makes SIGINT/SIGQUIT ignored in
//                             background jobs, and an ignored signal survives exec (the service would
//                             then ignore `stop(signal: 'SIGINT')`).
//   setsid                    the service gets its own session and process group (pgid == its pid), so
//                             stop() signals the whole group and never the supervisor. The sh child is
//                             not a group leader, so setsid(1) does not fork: the pid stays the same.
//   setpriv --reuid --regid --init-groups --   (only when user/group is given) drop privileges.
//   sh -c LAUNCH_SCRIPT       reads the environment from fd 3, closes it, exports, execs the service.
//
// Files the script writes in <dir> (each atomically: tmp + rename):
//   supervisor.pid  "<pid> <starttime>"   before the service starts
//   child.pid       "<pid> <starttime>"   right after it is forked (starttime: field 22 of /proc/<pid>/stat)
//   exit.hint       {"code","signal","status","pid","up"} the instant the service has been reaped,
//                   written by builtins only (no fork: the fastest way to wake the agent's inotify
//                   watch); "up" is /proc/uptime at the exit. Not atomic: the host uses it only once
//                   it parses.
//   exit.json       {"code","signal","status","pid","at"} right after: the durable, atomic record.
// A wait status above 128 is reported as a signal (128+n), as every shell does: a service that itself
// calls exit(137) is indistinguishable from SIGKILL here; the raw value is kept in "status".
//
// Latency: between the service's death and exit.hint the script does not fork; the signal name comes
// from a case table built from this platform's os.constants.signals.
import os from 'node:os'

const signalCases = Object.entries(os.constants.signals)
  .filter(([name, n]) => /^SIG[A-Z0-9]+$/.test(name) && Number.isInteger(n) && n > 0 && n < 65)
  .sort((x, y) => x[1] - y[1])
  .filter(([, n], i, all) => i === 0 || all[i - 1]![1] !== n) // one name per number (SIGIOT = SIGABRT ...)
  .map(([name, n]) => `${n}) s=${name};;`)
  .join(' ')

export const SUPERVISOR_SCRIPT = [
  'd=$1; shift',
  // field 22 of /proc/<pid>/stat into $st; the comm field may hold spaces and ")" so cut after the
  // last ") ". No command substitution: that would fork.
  'stime() { st=0; read -r l < "/proc/$1/stat" || return 1; l=${l##*) }; set -- $l; st=${20}; }',
  'put() { printf \'%s\\n\' "$2" > "$d/.$1.tmp" && mv -f "$d/.$1.tmp" "$d/$1"; }',
  // A stray TERM/HUP/INT to the supervisor must not make it abandon the service: trap (not ignore,
  // ignored signals would be inherited) and go back to waiting.
  "trap 'i=1' HUP INT TERM",
  'stime $$; put supervisor.pid "$$ $st"',
  '"$@" &',
  'c=$!',
  // fd 3 (the environment stream) is the launcher's alone.
  'exec 3<&-',
  'stime "$c"; put child.pid "$c $st"',
  'while :; do i=; wait "$c" 2>/dev/null; rc=$?; if [ -n "$i" ] && kill -0 "$c" 2>/dev/null; then continue; fi; break; done',
  `if [ "$rc" -gt 128 ] && [ "$rc" -lt 193 ]; then code=null; n=$((rc - 128)); case $n in ${signalCases} *) s=SIG$n;; esac; sig="\\"$s\\""; else code=$rc; sig=null; fi`,
  // Fast path for the agent: builtins only (no fork), so the event leaves within one wake-up of the
  // shell. Not atomic: the host ignores it until it parses, and exit.json (atomic) is the record.
  'read -r up _ < /proc/uptime',
  'j="\\"code\\":$code,\\"signal\\":$sig,\\"status\\":$rc,\\"pid\\":$c"',
  'printf \'{%s,"up":%s}\\n\' "$j" "$up" > "$d/exit.hint"',
  't=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)',
  'put exit.json "{$j,\\"at\\":\\"$t\\"}"',
  // one line for the operator reading output.log
  'printf \'[%s] mccs-supervisor: pid %s exited (status %s)\\n\' "$t" "$c" "$rc"',
].join('\n')

/** argv[0] of the supervisor as seen in `ps`: makes the supervisors easy to spot. */
export const SUPERVISOR_NAME = 'mccs-supervisor'

/** argv[0] of the launcher (the last link before the service's exec), as seen in `ps`. */
export const LAUNCH_NAME = 'mccs-launch'

// The launcher: run as `sh -c LAUNCH_SCRIPT mccs-launch <service argv...>` with fd 3 open on the
// stream encodeEnv() wrote. Each variable is a header line "NAME N" followed by N+1 lines holding
// the value (N = the number of newlines in it, so any value without NUL passes verbatim); "." ends
// the stream. The pairs are kept as positional parameters, not shell variables, until every one is
// read: a service variable named like one of the loop's (k, v, IFS ...) is then exported last and
// cannot be overwritten. A stream without its end marker (the agent died mid-write) starts nothing.
// `command export` keeps a read-only name in bash-as-sh (PPID, UID) from ending the launcher: that
// one variable is left out, with a line in output.log.
export const LAUNCH_SCRIPT = [
  'set -- -- "$@"',
  'h=',
  'while IFS= read -r h <&3 && [ "$h" != . ]; do',
  '  k=${h%% *}; n=${h##* }; IFS= read -r v <&3',
  '  while [ "$n" -gt 0 ]; do IFS= read -r l <&3; v="$v',
  '$l"; n=$((n - 1)); done',
  '  set -- "$k" "$v" "$@"',
  'done',
  'exec 3<&-',
  'if [ "$h" != . ]; then printf \'mccs-launch: the environment did not arrive; not started\\n\' >&2; exit 125; fi',
  // what the shell itself put in the environment (dash: PWD; bash: PWD, SHLVL) goes, unless the spec sets it
  'unset h k n v l PWD OLDPWD SHLVL',
  'while [ "$1" != -- ]; do command export "$1=$2" || printf \'mccs-launch: %s not set\\n\' "$1" >&2; shift 2; done',
  'shift',
  'exec "$@"',
].join('\n')

/** The environment stream LAUNCH_SCRIPT reads (names already validated: [A-Za-z_][A-Za-z0-9_]*,
 *  values without NUL). */
export function encodeEnv(env: Record<string, string>): string {
  let out = ''
  for (const [k, v] of Object.entries(env)) {
    const lines = v.split('\n')
    out += `${k} ${lines.length - 1}\n${lines.join('\n')}\n`
  }
  return out + '.\n'
}
