#!/usr/bin/env bash
# Installs the Debian packages the tests need when they are missing (CI is a fresh machine).
# Runs `apt-get update` once, only when something must be installed.
set -euo pipefail
need=()
have() { command -v "$1" >/dev/null 2>&1; }
have ip || need+=(iproute2)
have nft || need+=(nftables)
have setpriv || need+=(util-linux)
{ have ps && [ -x /usr/sbin/sysctl ]; } || need+=(procps)   # ps; sysctl (the kernel's IPv6 announcements)
have openssl || need+=(openssl)
have chromium || need+=(chromium)              # console tests (playwright-core drives it headless)
[ -x /usr/bin/aws ] || need+=(awscli)          # Debian's AWS CLI against the EC2-compatible endpoint
have arping || need+=(iputils-arping)          # gratuitous ARP / duplicate address detection (net capability)
have ping || need+=(iputils-ping)              # isolation test addresses, nic monitor host checks, network lab tests
have gcc || need+=(gcc libc6-dev)             # the exec test builds an LD_PRELOAD library (sandbox escape attempt)
have tcpdump || need+=(tcpdump)                # the peer channel capture test (no secret in clear on TCP 14325)
have qemu-storage-daemon || need+=(qemu-system-common)   # mirror disk data plane (test/mirror)
have nbdfuse || need+=(libnbd-bin)             # mirror disk local attach (NBD export -> FUSE file -> loop); nbdinfo
have qemu-io || need+=(qemu-utils)             # the mirror's TLS test writes to an export without the key (it was skipped in CI)
have socat || need+=(socat)                   # the mirror secondary's replication listener (TCP_NODELAY in front of qsd's NBD server)
have fio || need+=(fio)                         # the mirror bench (scripts/bench/mirror.ts)
have mkfs.ext4 || [ -x /usr/sbin/mkfs.ext4 ] || need+=(e2fsprogs)
have sqlite3 || need+=(sqlite3)                # the mirror disk's failover lab test: the service's database (Node 20 has no node:sqlite)
[ -x /usr/lib/ocf/resource.d/heartbeat/Dummy ] || need+=(resource-agents)   # the ocf type's tests run Dummy and IPaddr2
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "test-deps: missing ${need[*]}; run as root or install them" >&2
    exit 1
  fi
  echo "test-deps: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
