package bpf

import (
	"strings"
	"testing"
)

// TestClassify covers the layouts of ../shared/cni-layouts.md and nested
// nodes: what each device is, and whether the default selection captures
// it.
func TestClassify(t *testing.T) {
	pod := linkFacts{veth: true, peerElsewhere: true}
	for _, tc := range []struct {
		name    string
		facts   linkFacts
		capture bool
		role    role
	}{
		// Calico, Cilium, flannel's cni0 ports, ptp (its gateway /32 is
		// no subnet): all look alike.
		{"pod veth", pod, true, roleEndpoint},
		{"kind node eth0 (veth, default route)", linkFacts{veth: true, peerElsewhere: true, defaultRoute: true}, true, roleNetwork},
		{"physical, macvlan or bridge uplink", linkFacts{defaultRoute: true}, true, roleNetwork},
		{"second network of a container node", linkFacts{veth: true, peerElsewhere: true, subnetAddr: true}, false, roleNetwork},
		{"NIC in the uplink bridge", linkFacts{veth: true, peerElsewhere: true, uplinkPort: true}, false, roleNetwork},
		{"cilium_host/cilium_net pair", linkFacts{veth: true}, false, roleNetwork},
		{"flannel.1, vxlan.calico, cilium_vxlan, genev_sys_6081", linkFacts{tunnel: true}, true, roleOverlay},
		{"wireguard.cali, cilium_wg0", linkFacts{tunnel: true, encrypted: true}, true, roleOverlay},
		{"bond or second NIC without the default route", linkFacts{}, false, roleNetwork},
	} {
		d := classify(tc.facts)
		if d.capture != tc.capture || d.role != tc.role || d.reason == "" || d.encrypted != tc.facts.encrypted {
			t.Errorf("%s: %+v, want capture %v role %v and a reason", tc.name, d, tc.capture, tc.role)
		}
	}
}

func TestDecideSelectors(t *testing.T) {
	sels, err := parseSelectors([]string{"eth1=endpoint", "eth*", "lxc*=network"})
	if err != nil {
		t.Fatal(err)
	}
	pod := linkFacts{veth: true, peerElsewhere: true}
	for _, tc := range []struct {
		facts   linkFacts
		capture bool
		role    role
	}{
		{linkFacts{name: "eth1", defaultRoute: true}, true, roleEndpoint}, // fixed beats classify
		{linkFacts{name: "eth0", defaultRoute: true}, true, roleNetwork},  // auto role
		{linkFacts{name: "eth2", veth: true, peerElsewhere: true, subnetAddr: true}, true, roleNetwork},
		{linkFacts{name: "lxc12", veth: true, peerElsewhere: true}, true, roleNetwork},
		{func() linkFacts { f := pod; f.name = "cali1"; return f }(), false, roleNetwork}, // unmatched
	} {
		d := decide(tc.facts, sels)
		if d.capture != tc.capture || (d.capture && d.role != tc.role) {
			t.Errorf("%s: %+v, want capture %v role %v", tc.facts.name, d, tc.capture, tc.role)
		}
	}
	if d := decide(pod, nil); !d.capture || d.role != roleEndpoint {
		t.Errorf("no selectors: %+v, want classify's endpoint", d)
	}
}

func TestParseSelector(t *testing.T) {
	for in, want := range map[string]selector{
		"eth0":          {glob: "eth0"},
		"lxc*=endpoint": {glob: "lxc*", role: roleEndpoint, fixed: true},
		"bond?=network": {glob: "bond?", role: roleNetwork, fixed: true},
	} {
		got, err := parseSelector(in)
		if err != nil || got != want {
			t.Errorf("parseSelector(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for in, wantErr := range map[string]string{
		"eth[":        "bad glob",
		"=network":    "bad glob",
		"eth0=uplink": "want endpoint, network or overlay",
		"eth0=":       "want endpoint, network or overlay",
	} {
		if _, err := parseSelector(in); err == nil || !strings.Contains(err.Error(), wantErr) || !strings.Contains(err.Error(), in) {
			t.Errorf("parseSelector(%q) error %v, want one naming the entry and %q", in, err, wantErr)
		}
	}
}
