#!/usr/bin/env bash
# Staged install of a build tree, then a tiny program built with
#   pkg-config --cflags --libs paddock
# against it, linked once with the shared and once with the static library, and run.
#
#   test_install.sh <build-dir> <cc> [extra cflags...]
#
# Installs with `cmake --install <build-dir> --prefix /opt/paddock-test` and
# DESTDIR=<temp dir>, so nothing outside the temp dir is touched. Extra
# cflags (the sanitizer flags of an ASan build) are used for the program too.
set -eu

if [ $# -lt 2 ]; then
    echo "usage: $0 <build-dir> <cc> [cflags...]" >&2
    exit 2
fi
build=$1
cc=$2
shift 2
extra=("$@")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/paddock-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=/opt/paddock-test
stage=$tmp/stage

DESTDIR=$stage cmake --install "$build" --prefix "$prefix" >"$tmp/install.log"
root=$stage$prefix

fail() {
    echo "test_install: $*" >&2
    cat "$tmp/install.log" >&2
    exit 1
}

[ -x "$root/bin/paddock" ] || fail "bin/paddock not installed"
[ -f "$root/include/paddock/client.h" ] || fail "include/paddock/client.h not installed"
pc=$(find "$root" -name paddock.pc | head -n 1)
[ -n "$pc" ] || fail "paddock.pc not installed"
libdir=$(dirname "$(dirname "$pc")")
[ -f "$libdir/libpaddock.a" ] || fail "libpaddock.a not in $libdir"
ls "$libdir"/libpaddock.so* >/dev/null 2>&1 || fail "libpaddock.so not in $libdir"

export PKG_CONFIG_PATH=$(dirname "$pc")
flags=$(pkg-config --cflags --libs paddock) || fail "pkg-config does not know paddock"
echo "pkg-config --cflags --libs paddock: $flags"
[ "$(pkg-config --modversion paddock)" != "" ] || fail "no version"

cat >"$tmp/hello.c" <<'EOF'
#include <paddock/client.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    struct pdk_client *c = NULL;
    /* nobody listens on port 1: the client just keeps trying */
    if (pdk_new("127.0.0.1:1/app", NULL, &c) != PDK_ZOK)
        return 1;
    int events, timeout_ms;
    pdk_interest(c, pdk_now_ms(), &events, &timeout_ms);
    pdk_process(c, 0, pdk_now_ms());
    int state = pdk_state(c);
    pdk_free(c);
    if (state != PDK_STATE_CONNECTING || strcmp(pdk_error_name(PDK_ZNONODE), "NONODE") != 0)
        return 1;
    puts("hello libpaddock");
    return 0;
}
EOF

# shellcheck disable=SC2086
"$cc" -std=c11 -Wall -Werror "${extra[@]}" "$tmp/hello.c" -o "$tmp/hello_shared" $flags ||
    fail "could not build against the shared library"
LD_LIBRARY_PATH=$libdir "$tmp/hello_shared" | grep -q 'hello libpaddock' ||
    fail "the shared-library program did not run"

# shellcheck disable=SC2086
"$cc" -std=c11 -Wall -Werror "${extra[@]}" "$tmp/hello.c" -o "$tmp/hello_static" \
    $(pkg-config --cflags paddock) "$libdir/libpaddock.a" ||
    fail "could not build against the static library"
"$tmp/hello_static" | grep -q 'hello libpaddock' || fail "the static program did not run"
echo "install test passed"
