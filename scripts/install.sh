#!/bin/sh
# MCCS installer for the tarball (distributions without dpkg; the Debian package does the same in its
# maintainer scripts). Run as root from the unpacked tarball:
#   ./install.sh [--lang ko|en] [--no-enable]          install or upgrade under /opt/MCCS, enable mccs_agent,
#                                                      mccs on the PATH
#   ./install.sh --uninstall [--purge] [--lang ko|en]  remove the program; keep config/, script/, logs/,
#                                                      plugins/, state/ (and the license) unless --purge
# A reinstall uses what an uninstall kept. The home is /opt/MCCS (the program's default MCCS_HOME).
# Its language (manual 3.2.1: Korean or English, Korean by default): --lang, else MCCS_LANG, else the one this
# node was set up with (config/setup.json, kept over a reinstall), else asked on a terminal, else Korean. It
# speaks that language and hands it on to the product: the setup command it prints carries it.
set -eu
H=/opt/MCCS
BIN_DIR=/usr/local/bin
UNIT_DIR=/etc/systemd/system
UNIT=mccs_agent.service
LR=/etc/logrotate.d/mccs
# The logrotate file is the operator's to edit (the Debian package makes it a conffile): the installer changes
# or removes it only while it is the text an install put there, that is, one of the shipped templates given.
lr_stock() { [ ! -e "$LR" ] || { for f in "$@"; do [ -f "$f" ] && cmp -s "$LR" "$f" && return 0; done; return 1; }; }
systemd_up() { [ -d /run/systemd/system ]; }

# What the installer says, in Korean and in English (no Node runs before the install, so its words live here,
# not in core/i18n; test/install/install-lang.test.ts checks that every key has both and that nothing is said
# outside say()). say KEY [ARG...]: the text of KEY in $L, a printf format filled with the ARGs.
L=ko
msg() {
  case "$L:$1" in
    en:usage) printf '%s' 'usage: ./install.sh [--lang ko|en] [--no-enable]          install or upgrade under %s, enable mccs_agent, mccs on the PATH\n       ./install.sh --uninstall [--purge] [--lang ko|en]  remove the program; keep config/, script/, logs/, plugins/, state/ (and the license) unless --purge\nA reinstall uses what an uninstall kept. --lang: the language of the installer and of MCCS (ko, the default, or en).' ;;
    ko:usage) printf '%s' '사용법: ./install.sh [--lang ko|en] [--no-enable]          %s에 설치 또는 업그레이드, mccs_agent 사용 설정, PATH에 mccs\n        ./install.sh --uninstall [--purge] [--lang ko|en]  프로그램 제거; --purge가 없으면 config/, script/, logs/, plugins/, state/(와 라이선스)는 남김\n다시 설치하면 제거할 때 남긴 것을 씁니다. --lang: 설치 프로그램과 MCCS의 언어(ko, 기본값, 또는 en).' ;;
    en:ask) printf '%s' 'Language / 언어 (ko: 한국어, en: English) [ko]: ' ;;
    ko:ask) printf '%s' 'Language / 언어 (ko: 한국어, en: English) [ko]: ' ;;
    en:badLang) printf '%s' "%s: '%s' is not a language MCCS offers: ko (Korean, the default) or en (English)" ;;
    ko:badLang) printf '%s' "%s: '%s'은(는) MCCS가 제공하는 언어가 아닙니다: ko(한국어, 기본값) 또는 en(영어)" ;;
    en:unknown) printf '%s' 'unknown option %s (see --help)' ;;
    ko:unknown) printf '%s' '알 수 없는 옵션 %s (--help 참고)' ;;
    en:root) printf '%s' 'run as root' ;;
    ko:root) printf '%s' 'root로 실행하십시오' ;;
    en:noPayload) printf '%s' 'no payload next to install.sh (run it from the unpacked tarball)' ;;
    ko:noPayload) printf '%s' 'install.sh 옆에 설치할 파일이 없습니다 (압축을 푼 tarball 안에서 실행하십시오)' ;;
    en:purged) printf '%s' 'MCCS removed with its configuration, scripts, logs and state (purge)' ;;
    ko:purged) printf '%s' 'MCCS를 구성, 스크립트, 로그, 상태와 함께 제거했습니다 (purge)' ;;
    en:removed) printf '%s' 'MCCS removed; kept %s/config (main.json, hb.json, cluster key, license), script, logs, plugins, state: a reinstall uses them' ;;
    ko:removed) printf '%s' 'MCCS를 제거했습니다; %s/config(main.json, hb.json, 클러스터 키, 라이선스), script, logs, plugins, state는 남겼습니다: 다시 설치하면 이것을 씁니다' ;;
    en:lrKept) printf '%s' 'kept %s (changed here); the shipped one is %s' ;;
    ko:lrKept) printf '%s' '%s은(는) 여기서 바뀌었으므로 그대로 두었습니다; 함께 제공된 파일은 %s입니다' ;;
    en:installedKept) printf '%s' 'MCCS installed in %s; the configuration kept in %s/config is used: systemctl start mccs_agent' ;;
    ko:installedKept) printf '%s' 'MCCS를 %s에 설치했습니다; %s/config에 남아 있던 구성을 씁니다: systemctl start mccs_agent' ;;
    en:installed) printf '%s' "MCCS installed in %s: run 'mccs setup --lang %s' (or 'mccs setup --join <member> --token <t> --lang %s'), then systemctl start mccs_agent" ;;
    ko:installed) printf '%s' "MCCS를 %s에 설치했습니다: 'mccs setup --lang %s'(또는 'mccs setup --join <멤버> --token <토큰> --lang %s')을 실행한 다음 systemctl start mccs_agent" ;;
    *) printf '%s' "$1" ;;
  esac
}
# shellcheck disable=SC2059 # the format is one of the texts above
say() { k=$1; shift; printf "$(msg "$k")\n" "$@"; }
die() { printf 'install.sh: ' >&2; say "$@" >&2; exit 1; }
# A language MCCS offers ("ko", "ko_KR.UTF-8", "EN" as core/i18n/locale.ts reads them), or nothing.
lang_of() { case "$(printf '%s' "$1" | tr 'A-Z' 'a-z' | sed 's/[-_.].*//')" in ko) echo ko ;; en) echo en ;; esac; }

mode=install enable=yes purge=no lang='' help=no bad=''
while [ $# -gt 0 ]; do
  case "$1" in
    --uninstall) mode=uninstall ;;
    --purge) purge=yes ;;
    --no-enable) enable=no ;;
    --lang) [ $# -gt 1 ] || { bad=--lang; break; }; lang=$2; shift ;;
    --lang=*) lang=${1#--lang=} ;;
    -h|--help) help=yes ;;
    *) [ -n "$bad" ] || bad=$1 ;;
  esac
  shift
done
# The language first: every word after this is in it. An unknown --lang or MCCS_LANG is refused (in Korean,
# the default: the operator's choice is what is wrong).
if [ -n "$lang" ]; then
  [ -n "$(lang_of "$lang")" ] || die badLang --lang "$lang"
  L=$(lang_of "$lang")
elif [ -n "${MCCS_LANG:-}" ]; then
  [ -n "$(lang_of "$MCCS_LANG")" ] || die badLang MCCS_LANG "$MCCS_LANG"
  L=$(lang_of "$MCCS_LANG")
elif [ -f "$H/config/setup.json" ] && [ -n "$(lang_of "$(sed -n 's/.*"language" *: *"\([A-Za-z_.-]*\)".*/\1/p' "$H/config/setup.json" | head -n 1)")" ]; then
  L=$(lang_of "$(sed -n 's/.*"language" *: *"\([A-Za-z_.-]*\)".*/\1/p' "$H/config/setup.json" | head -n 1)")
elif [ "$mode" = install ] && [ "$help" = no ] && [ -z "$bad" ] && [ -t 0 ]; then
  while :; do
    printf '%s' "$(msg ask)"
    IFS= read -r answer || answer=ko
    [ -n "$answer" ] || answer=ko
    if [ -n "$(lang_of "$answer")" ]; then L=$(lang_of "$answer"); break; fi
    say badLang language "$answer" >&2
  done
fi
if [ "$help" = yes ]; then say usage "$H"; exit 0; fi
[ -z "$bad" ] || die unknown "$bad"
[ "$(id -u)" = 0 ] || die root

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
    say purged
  else
    say removed "$H"
  fi
  exit 0
fi

here=$(cd "$(dirname "$0")" && pwd)
src="$here/payload$H"
[ -x "$src/lib/node/bin/node" ] && [ -f "$src/lib/mccs/dist/mccs.js" ] || die noPayload
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
  say lrKept "$LR" "$H/lib/mccs/config-templates/logrotate.mccs"
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
  say installedKept "$H" "$H"
  if systemd_up && [ "$enable" = yes ]; then systemctl restart "$UNIT" || true; fi
else
  say installed "$H" "$L" "$L"
fi
