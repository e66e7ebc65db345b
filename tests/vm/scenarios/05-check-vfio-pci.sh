# vfio-exercise check (the conformance walk for driver developers) passes on
# plain vfio-pci - edu (INTx, MSI) and an NVMe VF (MSI-X, reset) - and
# reports migration as unsupported; migrate refuses such devices clearly.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
set -- $NVME_VFS
for dev in "$EDU_BDF" "$1"; do
	vfio-exercise check "$dev" > /tmp/check.$dev || { cat /tmp/check.$dev; fail "check $dev failed"; }
	grep -q '^note migration: not supported' /tmp/check.$dev ||
		fail "check $dev did not report migration as unsupported"
	note "$dev: $(tail -n1 /tmp/check.$dev)"
done
grep -q '^ok IRQ index 2: a test trigger signals the eventfd' /tmp/check.$1 ||
	fail "MSI-X of $1 was not exercised"
grep -q '^ok VFIO_DEVICE_RESET' /tmp/check.$1 || fail "reset of $1 was not exercised"
if vfio-exercise migrate "$EDU_BDF" "$EDU2_BDF" > /tmp/mig 2> /tmp/mig.err; then
	fail "migrate of a device without migration ops succeeded"
fi
grep -q 'does not support VFIO migration' /tmp/mig.err || fail "unclear refusal: $(cat /tmp/mig.err)"
[ -z "$(kernel_complaints)" ] || fail "kernel complained: $(kernel_complaints)"
echo "conformance walk on vfio-pci OK"
