#!/bin/sh
# Every command in rinkictl's command table (ctl_help[] in tools/rinkictl.c: the help text
# and the usage list) has an entry in rinkictl(1): a .TP tag line that starts with the
# command's words. Run from the top of the tree; part of make lint (make test).
set -eu
src=tools/rinkictl.c
man=tools/man/rinkictl.1

# The table: the first string of each {"cmd", "synopsis", ...} entry of ctl_help[].
cmds=$(sed -n '/^} ctl_help\[\] = {$/,/^};$/p' "$src" |
	sed -n 's/^    {"\([a-z][a-z -]*\)",.*/\1/p')
[ -n "$cmds" ] || { echo "check-man: no commands found in $src's ctl_help[]" >&2; exit 1; }

# The man page's tag lines (the line after each .TP), fonts and quotes removed, \- as -.
tags=$(awk 'prev == ".TP" { print } { prev = $0 }' "$man" |
	sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' -e 's/"//g' -e 's/^\.B[IR]* *//')

fail=0 n=0
for c in $(printf '%s\n' "$cmds" | tr ' ' '@'); do
	c=$(printf '%s' "$c" | tr '@' ' ')
	n=$((n + 1))
	if ! printf '%s\n' "$tags" | grep -q -e "^$c\$" -e "^$c "; then
		echo "check-man: rinkictl $c is not documented in $man" >&2
		fail=1
	fi
done
[ $fail -eq 0 ] && echo "check-man: all $n rinkictl commands have an entry in $man"
exit $fail
