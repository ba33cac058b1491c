#!/usr/bin/env bash
# Installs the peer IMEs' Debian packages and builds our stdin/stdout drivers for them.
#
#   evaluation/peers/setup.sh [--no-install] [rime] [libime] [libpinyin] [sunpinyin]
#
# With no peer named, all four. --no-install only builds (used by peers.py, which must never
# run apt-get behind the user's back). Drivers go to $PEERS_BUILD_DIR (default: build/ beside
# this script, git-ignored). One peer failing never stops the others.
#
# Exit status: 0 when every requested peer is ready; otherwise the sum of the failed peers'
# bits, rime=1 libime=2 libpinyin=4 sunpinyin=8; 64 for a usage error.

# Package lists and pkg-config output are split into words on purpose:
# shellcheck disable=SC2046,SC2086
set -u

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD="${PEERS_BUILD_DIR:-$HERE/build}"
ALL_PEERS=(rime libime libpinyin sunpinyin)

# The packages each peer needs, to run and to compile a driver against (names checked with
# apt-cache on Debian 12).
declare -A PACKAGES=(
  [rime]="librime-bin librime-dev librime-data rime-data-luna-pinyin rime-data-pinyin-simp"
  [libime]="libime-bin libime-data libime-data-language-model libimepinyin-dev libimecore-dev libfcitx5utils-dev libboost-dev"
  [libpinyin]="libpinyin-utils libpinyin-data libpinyin15-dev"
  [sunpinyin]="sunpinyin-utils sunpinyin-data libsunpinyin-dev"
)
declare -A BIT=([rime]=1 [libime]=2 [libpinyin]=4 [sunpinyin]=8)
TOOLCHAIN="gcc g++ pkg-config"

install=1
peers=()
for arg in "$@"; do
  case "$arg" in
    --no-install) install=0 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    rime|libime|libpinyin|sunpinyin) peers+=("$arg") ;;
    *) echo "setup.sh: unknown argument '$arg' (peers: ${ALL_PEERS[*]})" >&2; exit 64 ;;
  esac
done
[ ${#peers[@]} -eq 0 ] && peers=("${ALL_PEERS[@]}")

say() { echo "[peers] $*"; }
fail() { echo "[peers] FAILED: $*" >&2; }

missing_packages() {  # prints those of "$@" that dpkg does not report as installed
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}

# apt-get as root, or through passwordless sudo; the package lists are refreshed at most once,
# and only when an install first fails (a fresh container has none).
APT_UPDATED=0
apt_install() {
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo -n"
    else echo "not root and no passwordless sudo, so apt-get cannot run" >&2; return 1; fi
  fi
  command -v apt-get >/dev/null || { echo "apt-get not found (not a Debian system?)" >&2; return 1; }
  if DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "$@"; then
    return 0
  fi
  [ $APT_UPDATED -eq 1 ] && return 1
  APT_UPDATED=1
  $sudo apt-get update && DEBIAN_FRONTEND=noninteractive \
    $sudo apt-get install -y --no-install-recommends "$@"
}

# Installs what is missing of "$@"; on failure says which packages, for which peer.
ensure_packages() {
  local peer="$1"; shift
  local missing
  missing="$(missing_packages "$@" | tr '\n' ' ')"
  [ -z "${missing// /}" ] && return 0
  if [ $install -eq 0 ]; then
    fail "$peer: Debian packages not installed: $missing(run evaluation/peers/setup.sh $peer)"
    return 1
  fi
  say "$peer: installing $missing"
  if ! apt_install $missing >"$BUILD/$peer.apt.log" 2>&1; then
    tail -n 5 "$BUILD/$peer.apt.log" >&2
    fail "$peer: could not install Debian packages: $(missing_packages "$@" | tr '\n' ' ')"
    return 1
  fi
}

# The file a package installs whose path ends with "$2", e.g. the language model's location.
package_file() { dpkg -L "$1" 2>/dev/null | grep -m1 -- "$2\$"; }

CFLAGS=(-O2 -Wall -Wextra)
# The library package whose version a driver reports in its "ready" line.
declare -A VERSION_OF=([rime]=librime-dev [libime]=libimepinyin-dev [libpinyin]=libpinyin15-dev
                       [sunpinyin]=libsunpinyin-dev)

compile() {  # compile PEER: builds $BUILD/PEER_driver from its source
  local peer="$1" out="$BUILD/${1}_driver" lm dict data version
  version="$(dpkg-query -W -f='${Version}' "${VERSION_OF[$peer]}" 2>/dev/null)"
  local flags=("${CFLAGS[@]}" -DPEER_VERSION="\"${version:-unknown}\"")
  case "$peer" in
    rime)
      gcc -std=gnu11 "${flags[@]}" -o "$out" "$HERE/rime_driver.c" \
        $(pkg-config --cflags --libs rime) ;;
    libime)
      lm="$(package_file libime-data-language-model /zh_CN.lm)"
      dict="$(package_file libime-data /sc.dict)"
      g++ -std=c++17 "${flags[@]}" -o "$out" "$HERE/libime_driver.cpp" \
        ${lm:+-DLIBIME_LM_PATH="\"$lm\""} ${dict:+-DLIBIME_DICT_PATH="\"$dict\""} \
        -isystem /usr/include/LibIME $(pkg-config --cflags --libs Fcitx5Utils) \
        -lIMEPinyin -lIMECore ;;
    libpinyin)
      data="$(pkg-config --variable=pkgdatadir libpinyin)/data"
      gcc -std=gnu11 "${flags[@]}" -o "$out" "$HERE/libpinyin_driver.c" \
        -DLIBPINYIN_DATA_DIR="\"$data\"" $(pkg-config --cflags --libs libpinyin) ;;
    sunpinyin)
      data="$(dirname "$(package_file sunpinyin-data /lm_sc.t3g)")"
      # -isystem: the sunpinyin headers are not warning-clean
      g++ -std=c++17 "${flags[@]}" -o "$out" "$HERE/sunpinyin_driver.cpp" \
        ${data:+-DSUNPINYIN_DATA_DIR_PATH="\"$data\""} \
        $(pkg-config --cflags sunpinyin-2.0 | sed 's/-I/-isystem /g') \
        $(pkg-config --libs sunpinyin-2.0) ;;
  esac
}

# A driver that starts and converts "nihao" is ready; anything else is reported.
smoke_test() {
  local peer="$1" answer
  answer="$(printf 'convert\tnihao\n' | timeout 60 "$BUILD/${peer}_driver" 2>/dev/null | tail -n 1)"
  case "$answer" in
    ok*) return 0 ;;
    *) fail "$peer: the driver built but does not answer (got: '${answer:-nothing}')"; return 1 ;;
  esac
}

mkdir -p "$BUILD"
status=0
toolchain_ok=1
ensure_packages toolchain $TOOLCHAIN || toolchain_ok=0
for peer in "${peers[@]}"; do
  rm -f "$BUILD/${peer}_driver"  # never leave a stale driver that looks ready
  if [ $toolchain_ok -eq 0 ]; then
    fail "$peer: no C/C++ toolchain (Debian packages: $TOOLCHAIN)"
  elif ! ensure_packages "$peer" ${PACKAGES[$peer]}; then
    :  # ensure_packages said which packages
  elif ! compile "$peer" >"$BUILD/$peer.build.log" 2>&1; then
    tail -n 15 "$BUILD/$peer.build.log" >&2
    fail "$peer: the driver did not compile (Debian packages: ${PACKAGES[$peer]}; log: $BUILD/$peer.build.log)"
  elif smoke_test "$peer"; then
    say "$peer: ready ($BUILD/${peer}_driver)"
    continue
  fi
  rm -f "$BUILD/${peer}_driver"
  status=$((status + ${BIT[$peer]}))
done
exit $status
