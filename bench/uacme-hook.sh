#!/bin/sh
# uacme challenge hook for the benchmark: answer http-01 by writing the token file into the web root
# that the benchmark's static file server serves on Pebble's http-01 port; decline other types.
# Arguments (uacme(1)): method type identifier token key-authorization.
ROOT="${UACME_CHALLENGE_PATH:?}"
case "$1:$2" in
    begin:http-01) printf '%s' "$5" > "$ROOT/$4" ;;
    done:http-01|failed:http-01) rm -f "$ROOT/$4" ;;
    *) exit 1 ;;
esac
