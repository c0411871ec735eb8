#!/usr/bin/perl
# The fast path of `mccs status` and the group/resource operator commands (issue 19, What 2): a Node start
# alone costs more CPU than the 50 ms a call may take, so the mccs wrapper runs this first. It finds the
# control socket as core/cli/thin-bootstrap.ts does, asks the agent to run the command (the socket's `cli`
# method, core/api/control-server.ts: the agent runs the thin entry's own code) and prints what comes back.
# Anything it cannot answer plainly (a settings file it cannot judge simply, no agent, a command the agent
# declines, an agent without the method) goes to the Node entry, which gives its own answer: the output and
# exit code are the same either way. Only perl-base (Essential on Debian): no JSON parser, no Socket module.
#   perl mccs-fast.pl NODE ENTRY ARG...     run `mccs ARG...`; otherwise exec NODE ENTRY ARG...
#   perl mccs-fast.pl --paths [SYSTEM_DIR]  (tests) print the control socket and config folder, or "declined"
use strict;

my $MAX_SETTINGS_BYTES = 64 * 1024;    # as core/cli/thin-bootstrap.ts (test/cli/thin-fast.test.ts compares)
my @SETTINGS_FILES = ('mccs.config.json', 'mccs.config.yaml', 'mccs.config.yml');
my %ENV_VARS = (
  MCCS_HOME => 'home', MCCS_CONFIG_DIR => 'configDir', MCCS_STATE_DIR => 'stateDir', MCCS_LOG_DIR => 'logDir',
  MCCS_SCRIPT_DIR => 'scriptDir', MCCS_PLUGIN_DIRS => 'pluginDirs', MCCS_BUILTIN_PLUGIN_DIR => 'builtinPluginDir',
  MCCS_NODE_NAME => 'nodeName', MCCS_CONTROL_SOCKET => 'controlSocket', MCCS_CONSOLE_PORT => 'consolePort',
  MCCS_HEARTBEAT_PORT => 'heartbeatPort',
);
my %SHAPES = (
  home => 'path', configDir => 'path', stateDir => 'path', logDir => 'path', scriptDir => 'path',
  pluginDirs => 'paths', builtinPluginDir => 'pathOrNull', nodeName => 'name', controlSocket => 'path',
  consolePort => 'port', heartbeatPort => 'port',
);
my @PATH_KEYS = qw(home configDir stateDir logDir scriptDir controlSocket builtinPluginDir);
my @COMMANDS = qw(status group resource monitor-all);

my ($node, $entry, @argv);    # the Node entry run otherwise, and the words of the command

sub node_entry {
  exec { $node } $node, $entry, @argv;
  print STDERR "mccs: cannot start $node: $!\n";
  exit 1;
}

# ---- where the control socket is (core/cli/thin-bootstrap.ts's rules, declining on anything unusual) ----

# Values carry their JSON type: [s => string], [n => number], [null], [a => [strings]].
sub control_paths {
  my ($system_dir) = @_;
  return if grep { defined $ENV{$_} && $ENV{$_} ne '' } 'MCCS_CONFIG', 'MCCS_BOOTSTRAP';    # a named file: Node's
  my %raw;
  for my $name (keys %ENV_VARS) {
    my $v = $ENV{$name};
    next if !defined $v || $v eq '';
    return if $v =~ /[^\x20-\x7e]/;    # printable ASCII only: bytes Node would decode are its to judge
    my $k = $ENV_VARS{$name};
    if ($k eq 'pluginDirs') { $raw{$k} = [a => [grep { $_ ne '' } split /:/, $v]] }
    elsif ($k eq 'builtinPluginDir') { $raw{$k} = $v eq 'none' ? ['null'] : [s => $v] }
    elsif ($k eq 'consolePort' || $k eq 'heartbeatPort') { $raw{$k} = $v =~ /\A[0-9]+\z/ ? [n => 0 + $v] : [s => $v] }
    else { $raw{$k} = [s => $v] }
  }
  return unless plainly_valid(\%raw);
  my $from_env = absolutize(\%raw, undef);
  my $home = str($from_env->{home}) // '/opt/MCCS';
  my $from_file = {};
  FOUND: for my $dir ($system_dir, str($from_env->{configDir}) // join_path($home, 'config')) {
    for my $name (@SETTINGS_FILES) {
      my $file = join_path($dir, $name);
      if (!stat $file) {
        next if $! == 2 || $! == 20;    # ENOENT, ENOTDIR (Linux; %! would load Errno on every call)
        return;
      }
      return unless $name =~ /\.json\z/;    # YAML: cosmiconfig's loader, Node's to read
      $from_file = read_settings($file) or return;
      last FOUND;
    }
  }
  my %s = (%$from_file, %$from_env);
  $home = str($s{home}) // '/opt/MCCS';
  my $sock = str($s{controlSocket}) // join_path(str($s{stateDir}) // join_path($home, 'state'), 'mccs.sock');
  return if length($sock) > 107;    # loadBootstrap refuses it: its error, not ours
  my $config = str($s{configDir}) // join_path($home, 'config');
  return if "$sock$config" =~ /[^\x20-\x7e]/;    # (a working folder's name) Node's to decode
  return ($sock, $config);
}

sub str { my ($v) = @_; defined $v && $v->[0] eq 's' ? $v->[1] : undef }

sub is_path { my ($v) = @_; defined $v && $v->[0] eq 's' && length($v->[1]) >= 1 && length($v->[1]) <= 4096 }
my %PLAIN = (
  path => \&is_path,
  paths => sub { my ($v) = @_; defined $v && $v->[0] eq 'a' && @{ $v->[1] } <= 64 && !grep { !is_path([s => $_]) } @{ $v->[1] } },
  pathOrNull => sub { my ($v) = @_; defined $v && ($v->[0] eq 'null' || is_path($v)) },
  name => sub { my ($v) = @_; defined $v && $v->[0] eq 's' && $v->[1] =~ /\A[A-Za-z][A-Za-z0-9_.-]{0,63}\z/ },
  port => sub { my ($v) = @_; defined $v && $v->[0] eq 'n' && $v->[1] >= 1 && $v->[1] <= 65535 },
);

sub plainly_valid {
  my ($s) = @_;
  for my $k (keys %$s) { return 0 unless exists $SHAPES{$k} && $PLAIN{ $SHAPES{$k} }->($s->{$k}) }
  return 1;
}

# Relative paths against `base` (the settings file's folder), or the working folder for the environment's.
sub absolutize {
  my ($s, $base) = @_;
  my %out = %$s;
  for my $k (@PATH_KEYS) {
    my $v = str($out{$k});
    next if !defined $v || $v =~ m{\A/};
    if (!defined $base) { require Cwd; $base = Cwd::getcwd() // return }
    $out{$k} = [s => normalize("$base/$v")];
  }
  return \%out;
}

# path.resolve / path.join of absolute paths: '.', '..' and repeated slashes resolved by the words.
sub normalize {
  my @out;
  for (split m{/}, $_[0]) {
    next if $_ eq '' || $_ eq '.';
    if ($_ eq '..') { pop @out } else { push @out, $_ }
  }
  return '/' . join('/', @out);
}
sub join_path { normalize("$_[0]/$_[1]") }

# A JSON settings file read as core/config/trusted-file.ts allows (owned by root or this user, no folder on
# the way writable by others, except sticky ones above), or undef: declined. Symbolic links are Node's.
sub read_settings {
  my ($file) = @_;
  my $euid = $>;
  my @dirs;
  for (my $d = $file; $d ne '/';) {
    $d =~ s{/[^/]*\z}{};
    $d = '/' if $d eq '';
    push @dirs, $d;
  }
  for my $d (@dirs) {
    my @st = lstat $d or return;
    return if -l _ || !-d _;
    return if $st[4] != 0 && $st[4] != $euid;
    next if $d ne $dirs[0] && ($st[2] & 01000);    # sticky, above the file's own folder
    return if $st[2] & 022;
  }
  my @lst = lstat $file or return;
  return if -l _ || !-f _;
  open(my $fh, '<:raw', $file) or return;
  my @st = stat $fh or return;
  return if $st[0] != $lst[0] || $st[1] != $lst[1];    # the file judged is the file read
  return if $st[4] != 0 && $st[4] != $euid;
  return if $st[2] & 022;
  return if $st[7] > $MAX_SETTINGS_BYTES;
  local $/;
  my $text = <$fh> // '';
  return if $text =~ /[^\x00-\x7f]/;    # ASCII only: Node's to decode anything else
  my $s = parse_settings($text) or return;
  return unless plainly_valid($s);
  (my $dir = $file) =~ s{/[^/]*\z}{};
  return absolutize($s, $dir eq '' ? '/' : $dir);
}

# The settings object when it is plainly one (strings without escapes, unsigned integers, null, arrays of
# strings); undef for anything else, which Node then reads.
sub parse_settings {
  my ($t) = @_;
  return {} if $t =~ /\A[ \t\n\r]*\z/;
  my $ws = qr/[ \t\n\r]*/;
  my $string = qr/"([^"\\\x00-\x1f]*)"/;
  my %o;
  $t =~ /\G$ws\{$ws/gc or return;
  if ($t !~ /\G\}/gc) {
    for (;;) {
      $t =~ /\G$string$ws:$ws/gc or return;
      my $k = $1;
      my $v;
      if ($t =~ /\G$string/gc) { $v = [s => $1] }
      elsif ($t =~ /\G(0|[1-9][0-9]{0,8})(?![0-9.eE])/gc) { $v = [n => 0 + $1] }
      elsif ($t =~ /\Gnull/gc) { $v = ['null'] }
      elsif ($t =~ /\G\[$ws/gc) {
        my @a;
        if ($t !~ /\G\]/gc) {
          for (;;) {
            $t =~ /\G$string$ws/gc or return;
            push @a, $1;
            last if $t =~ /\G\]/gc;
            $t =~ /\G,$ws/gc or return;
          }
        }
        $v = [a => \@a];
      }
      else { return }
      $o{$k} = $v;
      $t =~ /\G$ws/gc;
      last if $t =~ /\G\}/gc;
      $t =~ /\G,$ws/gc or return;
    }
  }
  $t =~ /\G$ws\z/gc or return;
  return \%o;
}

# ---- the command, run by the agent ----

sub utf8_ok {
  $_[0] =~ /\A(?:[\x00-\x7f]|[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}
    |\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2})*\z/x;
}

sub json_string {
  my ($s) = @_;
  $s =~ s/(["\\])/\\$1/g;
  $s =~ s/([\x00-\x1f])/sprintf('\\u%04x', ord $1)/ge;
  return qq("$s");
}

sub run_at_agent {
  my ($sock_path, $config_dir) = @_;
  my $lang = $ENV{MCCS_LANG};
  $lang = undef if defined $lang && $lang eq '';
  # Words Node would decode differently (not UTF-8) are its own to read.
  node_entry() if grep { !utf8_ok($_) } @argv, $lang // '';
  my $user = getpwuid($>) // 'uid:' . $<;
  my $params = '{"argv":[' . join(',', map { json_string($_) } @argv) . ']'
    . (defined $lang ? ',"lang":' . json_string($lang) : '')
    . ',"user":' . json_string($user) . ',"configDir":' . json_string($config_dir) . '}';
  # AF_UNIX and SOCK_STREAM are 1 on Linux; the Socket module would cost more than the whole call.
  socket(my $sock, 1, 1, 0) or node_entry();
  connect($sock, pack('S', 1) . $sock_path) or node_entry();    # no agent: Node says so in the user's language
  write_all($sock, qq({"id":1,"method":"cli","params":$params}\n)) or node_entry();
  my $buf = '';
  my $line = sub {    # the next line, without its "\n"; undef at the end of the stream
    for (;;) {
      my $i = index($buf, "\n");
      return substr($buf, 0, $i + 1, '') =~ s/\n\z//r if $i >= 0;
      return undef unless sysread($sock, $buf, 65536, length $buf);
    }
  };
  my $first = $line->();
  # Declined, refused (an agent without the method answers a JSON error) or gone before accepting: nothing ran.
  node_entry() unless defined $first && $first =~ /\Aa ([0-9]+)\z/;
  my $limit = $1;
  $SIG{ALRM} = sub { print STDERR "mccs: no answer from the agent within $limit s\n"; exit 1 };
  alarm $limit;
  for (;;) {
    my $f = $line->();
    if (defined $f && $f =~ /\A([oe]) ([0-9]+)\z/) {
      my ($kind, $n) = ($1, $2);
      while (length($buf) < $n) { sysread($sock, $buf, 65536, length $buf) or last }
      last if length($buf) < $n;
      write_all($kind eq 'o' ? \*STDOUT : \*STDERR, substr($buf, 0, $n, ''));
    }
    elsif (defined $f && $f =~ /\Ax ([0-9]+)\z/) { exit $1 }
    else { last }
  }
  # The command ran (it may have changed something), so it is not run again by Node.
  print STDERR "mccs: the agent ended the connection before the command finished\n";
  exit 1;
}

sub write_all {
  my ($fh, $data) = @_;
  while (length $data) {
    my $n = syswrite($fh, $data);
    return 0 unless $n;
    substr($data, 0, $n, '');
  }
  return 1;
}

# ---- main (after the tables above are set) ----

if (@ARGV && $ARGV[0] eq '--paths') {
  my ($sock, $config) = control_paths($ARGV[1] // '/etc/mccs');
  print defined $sock ? "$sock\n$config\n" : "declined\n";
  exit 0;
}
($node, $entry, @argv) = @ARGV;
my %thin = map { $_ => 1 } @COMMANDS;
node_entry() unless grep { $thin{$_} } @argv;    # the agent decides exactly; this only spares other commands
my ($sock_path, $config_dir) = control_paths('/etc/mccs');
node_entry() unless defined $sock_path;
run_at_agent($sock_path, $config_dir);
