# vfiotop's interactive view in an 80x24 tmux pane, driven by keys and
# judged on the captured screen: "vm-a" (4 x 1 MiB of DMA mappings, held)
# and "vm-b" (5000 GET_INFO ioctls) show with the exercisers' counts; a
# sort key change reorders them; a filter hides the other VM; each view
# switch changes the column titles; Enter drills into vm-b's ioctls with
# the per-command count of its summary and a latency histogram; h lists
# the keys; an unknown key changes nothing; F10 exits (htop's F-keys: F1
# help, F4 filter, F6 sort, F10 quit), leaving no process.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
O=$VFIOSCOPE_OUT
S=/tmp/vfiotop-tmux.sock
export TERM=xterm

screen() { tmux -S $S capture-pane -p -t top; }
# screen_wait WHAT REGEX: until the screen shows a line matching REGEX
screen_wait() {
	local i
	for i in $(seq 1 100); do
		screen > $O/screen.txt 2>/dev/null || true
		grep -Eq -- "$2" $O/screen.txt && return 0
		sleep 0.1
	done
	cat $O/screen.txt
	fail "$1: no line matching '$2' on the screen"
}
keys() { tmux -S $S send-keys -t top "$@"; }
line_of() { grep -n -- "$1" $O/screen.txt | head -n 1 | cut -d: -f1; }

tmux -S $S new-session -d -s top -x 80 -y 24 \
	"vfiotop -d 0.5 2> $O/top.err; echo \$? > $O/top.rc"
screen_wait "attached" '^vfiotop .* frame [0-9]+'
vfio-exercise --name vm-a dma "$EDU2_BDF" -n 4 --size 1M --hold 120 > $O/vma.txt 2> $O/vma.err &
vma=$!
wait_for_line $O/vma.err mapped 30 $vma
vfio-exercise --name vm-b ioctls "$EDU_BDF" --cmd get-info -n 5000 > $O/vmb.txt ||
	fail "vfio-exercise ioctls failed"
pidb=$(awk '$1 == "pid" { print $2 }' $O/vmb.txt)
ioctls_b=$(awk '$1 == "ioctl" { n += $5 } END { print n }' $O/vmb.txt)
getinfo_b=$(awk '$1 == "ioctl" && $4 == "VFIO_DEVICE_GET_INFO" { print $5 }' $O/vmb.txt)

# both VMs, with vm-b's exact ioctl count and vm-a's 4 DMA maps
screen_wait "vm-b's ioctls" "^ *$pidb vm-b +[0-9]+ +$ioctls_b "
screen_wait "vm-a's maps" "^ *[0-9]+ vm-a +1 +[0-9]+ .* 4 +[-0-9.]+ *\$"
cat $O/screen.txt
grep -q 'sort ioctls desc' $O/screen.txt || fail "not sorted on ioctls"
[ "$(line_of ' vm-b ')" -lt "$(line_of ' vm-a ')" ] || fail "vm-b (more ioctls) is not first"

# an unknown key changes nothing
keys x
sleep 0.3
screen_wait "after an unknown key" "^ *$pidb vm-b "

# sort on the VM name (two columns to the left), ascending: vm-a first
keys '<' '<'
screen_wait "sort by name" 'sort name asc'
screen_wait "rows re-sorted" ' vm-b '
[ "$(line_of ' vm-a ')" -lt "$(line_of ' vm-b ')" ] || fail "sorting by name did not put vm-a first"
keys r
screen_wait "reversed" 'sort name desc'
[ "$(line_of ' vm-b ')" -lt "$(line_of ' vm-a ')" ] || fail "reversing did not put vm-b first"
note "sort by name and reverse reorder the rows"

# filter: only vm-a, then cleared
keys -l /vm-a
keys Enter
screen_wait "filter applied" 'filter: vm-a'
grep -q ' vm-b ' $O/screen.txt && fail "the filter left vm-b on the screen"
grep -q ' vm-a ' $O/screen.txt || fail "the filter hid vm-a"
keys F4 Escape
sleep 0.3
screen_wait "filter cleared (F4, as in htop)" ' vm-b '
note "the filter hides the other VM"

# a regular expression, any case (short: the header line has 80 columns):
# both VMs; then a bad one is refused and the old one kept
keys -l '/^VM-.$'
keys Enter
screen_wait "regex filter applied" 'filter: \^VM-\.\$'
grep -q ' vm-a ' $O/screen.txt && grep -q ' vm-b ' $O/screen.txt ||
	fail "the regular expression did not keep both VMs"
keys -l '/(x'
keys Enter
screen_wait "bad regex refused" "not a regular expression"
grep -q 'filter: ^VM-.\$' $O/screen.txt || fail "a bad expression replaced the filter"
keys / Escape
sleep 0.3
note "regular-expression filter; a bad one is refused and the old one kept"

# pick columns: only pid, name and ioctls
keys -l cpid,name,ioctls
keys Enter
screen_wait "columns picked" '^ *PID +VM +IOCTLS *$'
screen_wait "picked columns' values" "^ *$pidb +vm-b +$ioctls_b *\$"
keys c
sleep 0.2
keys C-u 2>/dev/null || true
for i in $(seq 20); do keys BSpace; done
keys Enter
screen_wait "all columns back" '^ *PID +VM +DEVS +IOCTLS'
note "column picking shows just the chosen columns, and all again"

# every view has its own titles
keys 2
screen_wait "devices view" '^DEVICE +KIND +GROUP +OWNER'
grep -q "^$EDU_BDF " $O/screen.txt || fail "$EDU_BDF missing from the devices view"
keys 3
screen_wait "queues view" '^DEVICE +QID +PATH +OWNER +KICKS'
keys 4
screen_wait "migrations view" '^DEVICE +ROLE +VM +PHASE +STATUS'
keys 5
screen_wait "events view" '^ +SEQ +AGE +PID COMM +EVENT'
keys 1
screen_wait "VMs view" '^ +PID VM +DEVS +IOCTLS'
note "views 1-5 switch the column titles"

# drill into vm-b: sorted on ioctls again, vm-b is the first row
keys '>' '>'
screen_wait "sort by ioctls" 'sort ioctls desc'
keys Enter
screen_wait "drill-down" "^drill-down: VM vm-b \\(pid $pidb\\)"
screen_wait "GET_INFO count" "^VFIO_DEVICE_GET_INFO +$getinfo_b "
screen_wait "histogram" '^latency histogram of VFIO_DEVICE_GET_INFO'
grep -Eq '^ +[0-9.]+[num]?s \.\. [0-9.]+[num]?s +[0-9]+ \|#+' $O/screen.txt ||
	fail "no histogram bar"
cat $O/screen.txt
keys Escape
screen_wait "back from the drill-down" '^ +PID VM +DEVS +IOCTLS'
note "drill-down shows vm-b's $getinfo_b GET_INFO calls and their histogram"

# F3 searches (htop's): the row showing "VM-A" (any case) is selected, so
# Enter drills into vm-a, not into the first row
keys F3
screen_wait "search prompt" '^search: _'
keys -l VM-A
keys Enter Enter
screen_wait "drill-down after the search" "^drill-down: VM vm-a \\(pid $vma\\)"
keys Escape
screen_wait "back from vm-a's drill-down" '^ +PID VM +DEVS +IOCTLS'

# help lists every key (F1 opens it, as in htop)
keys F1
screen_wait "help" '^vfiotop keys'
for k in 'q  F10' 'v  Tab' '< >' 'r ' 'F3 ' '/  F4' 'Enter' 'p  Space' '+ -' 'h ?  F1'; do
	grep -q "^  $k" $O/screen.txt || fail "help does not list '$k'"
done
keys Space
screen_wait "help closed" '^ +PID VM +DEVS +IOCTLS'
keys h
screen_wait "help (h)" '^vfiotop keys'
keys Space
screen_wait "help closed again" '^ +PID VM +DEVS +IOCTLS'

# quitting detaches every probe (about a hundred fentry links, each a
# trampoline update under TCG): allow it 30 s, and say how long it took
keys F10
t0=$(date +%s%N)
for i in $(seq 1 300); do
	[ -s $O/top.rc ] && break
	sleep 0.1
done
note "vfiotop exited $((($(date +%s%N) - t0) / 1000000)) ms after F10"
if [ ! -s $O/top.rc ]; then
	screen > $O/screen.txt 2>/dev/null || true
	cat $O/screen.txt
	fail "vfiotop did not exit within 30 s of F10 (the screen above): $(cat $O/top.err)"
fi
expect_eq "vfiotop exit status" "$(cat $O/top.rc 2>/dev/null)" 0
sleep 0.3
pgrep -x vfiotop && fail "a vfiotop process is left"
tmux -S $S has-session -t top 2>/dev/null && fail "the tmux session is left"
kill -USR1 $vma
wait $vma || fail "vfio-exercise dma failed: $(cat $O/vma.err)"
expect_eq "vm-a DMA maps (its summary), as the screen showed" \
	"$(awk '$1 == "ioctl" && $4 == "VFIO_IOMMU_MAP_DMA" { print $5 }' $O/vma.txt)" 4
echo "vfiotop's screen follows the keys and the exercisers' counts"
