#!/bin/sh
# MCCS installer for the tarball (distributions without dpkg; the Debian package does the same in its
# maintainer scripts). Run as root from the unpacked tarball:
#   ./install.sh [--no-enable]          install or upgrade under /opt/MCCS, enable mccs_agent, mccs on the PATH
#   ./install.sh --uninstall [--purge]  remove the program; keep config/, script/, logs/, plugins/, state/ (and
#                                       the license, config/mccs.lic) unless --purge
# A reinstall uses what an uninstall kept. The home is /opt/MCCS (the program's default MCCS_HOME).
set -eu
H=/opt/MCCS
BIN_DIR=/usr/local/bin
UNIT_DIR=/etc/systemd/system
UNIT=mccs_agent.service
LR=/etc/logrotate.d/mccs
# The logrotate file is the operator's to edit (the Debian package makes it a conffile): the installer changes
# or removes it only while it is the text an install put there, that is, one of the shipped templates given.
lr_stock() { [ ! -e "$LR" ] || { for f in "$@"; do [ -f "$f" ] && cmp -s "$LR" "$f" && return 0; done; return 1; }; }
die() { echo "install.sh: $*" >&2; exit 1; }
systemd_up() { [ -d /run/systemd/system ]; }

mode=install enable=yes purge=no
for a in "$@"; do
  case "$a" in
    --uninstall) mode=uninstall ;;
    --purge) purge=yes ;;
    --no-enable) enable=no ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) die "unknown option $a (see --help)" ;;
  esac
done
[ "$(id -u)" = 0 ] || die "run as root"

if [ "$mode" = uninstall ]; then
  if systemd_up; then systemctl disable --now "$UNIT" >/dev/null 2>&1 || true; fi
  rm -f "$UNIT_DIR/multi-user.target.wants/$UNIT" "$UNIT_DIR/$UNIT"
  if [ "$purge" = yes ] || lr_stock "$H/lib/mccs/config-templates/logrotate.mccs"; then rm -f "$LR"; fi
  if [ "$(readlink "$BIN_DIR/mccs" 2>/dev/null)" = "$H/bin/mccs" ]; then rm -f "$BIN_DIR/mccs"; fi
  rm -rf "$H/lib" "$H/bin" "$H/uninstall"
  if systemd_up; then systemctl daemon-reload || true; fi
  if [ "$purge" = yes ]; then
    for d in config script logs plugins state; do rm -rf "${H:?}/$d"; done
    rmdir "$H" 2>/dev/null || true
    echo "MCCS removed with its configuration, scripts, logs and state (purge)"
  else
    echo "MCCS removed; kept $H/config (main.json, hb.json, cluster key, license), script, logs, plugins, state: a reinstall uses them"
  fi
  exit 0
fi

here=$(cd "$(dirname "$0")" && pwd)
src="$here/payload$H"
[ -x "$src/lib/node/bin/node" ] && [ -f "$src/lib/mccs/dist/mccs.js" ] || die "no payload next to install.sh (run it from the unpacked tarball)"
mkdir -p "$H"
# Decided before the program (and the template it shipped) is replaced.
lr_keep=yes
if lr_stock "$H/lib/mccs/config-templates/logrotate.mccs" "$src/lib/mccs/config-templates/logrotate.mccs"; then lr_keep=no; fi
# The program is replaced whole (an upgrade): copied beside, then swapped in.
rm -rf "$H/lib.new" "$H/lib.old"
cp -a "$src/lib" "$H/lib.new"
[ -d "$H/lib" ] && mv "$H/lib" "$H/lib.old"
mv "$H/lib.new" "$H/lib"
rm -rf "$H/lib.old"
mkdir -p "$H/bin"
cp "$src/bin/mccs" "$H/bin/mccs"
cp "$src/uninstall" "$H/uninstall"
chmod 0755 "$H/bin/mccs" "$H/uninstall"
# A folder kept from an earlier install keeps the modes its operator gave it (config/ closed to other users,
# logs/ opened to a log shipper): only a folder made here gets the default.
mk() { [ -d "$H/$1" ] || install -d -m "$2" "$H/$1"; }
mk config 0755; mk script 0755; mk plugins 0755; mk logs 0750; mk state 0700
[ -e "$H/config/mccs.config.json" ] || install -m 0644 "$H/lib/mccs/config-templates/mccs.config.json" "$H/config/mccs.config.json"
mkdir -p "$UNIT_DIR" "$BIN_DIR"
install -m 0644 "$H/lib/mccs/config-templates/$UNIT" "$UNIT_DIR/$UNIT"
if [ "$lr_keep" = yes ]; then
  echo "kept $LR (changed here); the shipped one is $H/lib/mccs/config-templates/logrotate.mccs"
elif [ -d /etc/logrotate.d ]; then
  install -m 0644 "$H/lib/mccs/config-templates/logrotate.mccs" "$LR"
fi
ln -sfn "$H/bin/mccs" "$BIN_DIR/mccs"
if [ "$enable" = yes ]; then
  if systemd_up; then
    systemctl daemon-reload
    systemctl enable "$UNIT" >/dev/null
  else
    # systemd is not running (a container, a chroot): the link systemctl enable would make.
    mkdir -p "$UNIT_DIR/multi-user.target.wants"
    ln -sfn "$UNIT_DIR/$UNIT" "$UNIT_DIR/multi-user.target.wants/$UNIT"
  fi
fi
if [ -e "$H/config/hb.json" ]; then
  echo "MCCS installed in $H; the configuration kept in $H/config is used: systemctl start mccs_agent"
  if systemd_up && [ "$enable" = yes ]; then systemctl restart "$UNIT" || true; fi
else
  echo "MCCS installed in $H: run 'mccs setup' (or 'mccs setup --join <member> --token <t>'), then systemctl start mccs_agent"
fi
