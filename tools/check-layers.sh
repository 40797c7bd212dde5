#!/bin/sh
# check-layers.sh [ROOT] — fails when an #include runs up the dependency
# picture of docs/design.md: gdbstub → lua → hv → serial → platform.
#   - hv/ names no front end: only the composition root (hv/main.c,
#     hv/hv_start.c) includes gdbstub/ or lua/ headers; the rest of hv/
#     calls front ends through what they registered (hv/frontend.h);
#   - lua/ includes nothing of gdbstub/;
#   - serial/ and platform/ include nothing above them (and platform/
#     nothing of serial/).
# Prints each offending line.  `check-layers.sh --selftest` checks that a
# planted upward include is caught (the check can fail).
set -eu

# up DIR LAYERS [ALLOWED...]: lines of DIR's sources that include a header
# of one of LAYERS (a|b|c), except in the files ALLOWED.
up() {
	dir=$1 layers=$2
	shift 2
	[ -d "$root/$dir" ] || return 0
	(cd "$root" && grep -rnE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"](\.\./)*($layers)/" \
		--include='*.c' --include='*.h' --include='*.S' "$dir" || true) |
	while IFS= read -r hit; do
		file=${hit%%:*}
		ok=
		for a in "$@"; do [ "$file" = "$a" ] && ok=1; done
		[ -n "$ok" ] || echo "$hit"
	done
}

check() {
	root=$1
	bad=$( up hv 'gdbstub|lua' hv/main.c hv/hv_start.c
	       up lua 'gdbstub'
	       up serial 'gdbstub|lua|hv'
	       up platform 'gdbstub|lua|hv|serial' )
	if [ -n "$bad" ]; then
		echo "check-layers: includes that run up the picture (docs/design.md, \"Layout\"):" >&2
		echo "$bad" >&2
		return 1
	fi
}

if [ "${1:-}" = --selftest ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	mkdir -p "$tmp/hv" "$tmp/lua"
	printf '#include "gdbstub/gdbstub.h"\n' > "$tmp/hv/main.c"	# allowed
	printf '#include "hv/target.h"\n' > "$tmp/lua/ok.c"		# downward
	check "$tmp" 2>/dev/null || { echo "check-layers: selftest: a clean tree failed" >&2; exit 1; }
	printf '#include "../lua/lhv.h"\n' > "$tmp/hv/debugger.c"
	if check "$tmp" 2>/dev/null; then
		echo "check-layers: selftest: hv/debugger.c including lua/ passed" >&2
		exit 1
	fi
	rm "$tmp/hv/debugger.c"
	printf '  #  include <gdbstub/stub.h>\n' > "$tmp/lua/bad.c"
	if check "$tmp" 2>/dev/null; then
		echo "check-layers: selftest: lua/ including gdbstub/ passed" >&2
		exit 1
	fi
	echo "check-layers: selftest: upward includes are caught"
	exit 0
fi

check "${1:-.}"
echo "check-layers: every include runs down the picture"
