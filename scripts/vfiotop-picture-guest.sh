# SPDX-License-Identifier: GPL-2.0
# In the bench guest (scripts/vfiotop-picture.sh runs it): the demo
# (tests/vm/demo.sh) in a 100x14 tmux pane, so vfiotop runs interactively
# over its named VMs; once every VM shows with rates, the pane is captured
# with its colours into build/picture/vfiotop.ansi, then q ends the demo.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
OUT=$VFIOSCOPE_REPO/build/picture
S=/tmp/picture.sock
export TERM=xterm
mkdir -p $OUT
rm -f $OUT/vfiotop.ansi $OUT/pane.log $OUT/demo.rc $OUT/guest.log

exec > >(tee $OUT/guest.log) 2>&1
tmux -S $S new-session -d -s demo -x 100 -y 14 \
	"bash $VFIOSCOPE_REPO/tests/vm/demo.sh; echo \$? > $OUT/demo.rc; sleep 1"
tmux -S $S pipe-pane -t demo -o "cat >> $OUT/pane.log"
note "demo started in tmux"
# every VM of the demo on the screen (at most 150 s), then a few frames
# more for the rates; the screen so far stays in $OUT/screen.txt
end=$(($(date +%s) + 150))
n=0
while [ "$(date +%s)" -lt $end ]; do
	tmux -S $S capture-pane -p -t demo > $OUT/screen.txt 2> /dev/null || true
	n=$(grep -cE 'vm-(jobs|edu|hammer|mig)' $OUT/screen.txt || true)
	[ "$n" -ge 4 ] && break
	sleep 1
done
[ "$n" -ge 4 ] || { cat $OUT/screen.txt; cat /tmp/demo/top.err 2> /dev/null; fail "the demo's four VMs did not show"; }
sleep 8
tmux -S $S capture-pane -e -p -t demo > $OUT/vfiotop.ansi
cat $OUT/screen.txt
# q ends vfiotop; the demo then stops its VMs (at most 90 s here: the
# guest powers off after this script anyway)
tmux -S $S send-keys -t demo q
end=$(($(date +%s) + 90))
while [ "$(date +%s)" -lt $end ] && tmux -S $S has-session -t demo 2> /dev/null; do
	sleep 1
done
if [ -s $OUT/demo.rc ]; then
	note "the demo ended with status $(cat $OUT/demo.rc)"
else
	# its VMs, their loops and tmux must not keep the guest from powering off
	note "the demo did not end in 90 s: stopping its VMs and tmux"
	touch /tmp/demo/stop
	kill -TERM $(cat /tmp/demo/pids 2> /dev/null) 2> /dev/null || true
	tmux -S $S kill-server 2> /dev/null || true
fi
note "captured $(wc -l < $OUT/vfiotop.ansi) lines"
