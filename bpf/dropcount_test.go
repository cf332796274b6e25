package bpf

import (
	"reflect"
	"testing"
)

func TestDropCounter(t *testing.T) {
	var d dropCounter
	d.add(3, "NO_SOCKET", "", Ingress, 60)
	d.add(12, "NETFILTER_DROP", "veth1", Egress, 100)
	d.add(3, "NO_SOCKET", "", Ingress, 40)
	d.add(3, "NO_SOCKET", "veth1", Ingress, 1)
	d.add(12, "NETFILTER_DROP", "veth1", Ingress, 50)
	want := []DropCount{
		{Reason: "NETFILTER_DROP", Interface: "veth1", Dir: Ingress, Packets: 1, Bytes: 50},
		{Reason: "NETFILTER_DROP", Interface: "veth1", Dir: Egress, Packets: 1, Bytes: 100},
		{Reason: "NO_SOCKET", Interface: "", Packets: 2, Bytes: 100},
		{Reason: "NO_SOCKET", Interface: "veth1", Packets: 1, Bytes: 1},
	}
	if got := d.snapshot(); !reflect.DeepEqual(got, want) {
		t.Fatalf("snapshot\n got %+v\nwant %+v", got, want)
	}
}
