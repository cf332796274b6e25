package kubenode

import (
	"fmt"
	"path/filepath"
)

// cniBinDir is where Debian's containernetworking-plugins installs them.
const cniBinDir = "/usr/lib/cni"

// containerdConfig keeps every path of containerd's under dir, runs runc
// with cgroupfs (this machine's cgroups are v1, with no systemd), and
// gives pods the bridge network of cniConfig.
func containerdConfig(dir, sandboxImage string) string {
	return fmt.Sprintf(`version = 2
root = %q
state = %q
[grpc]
  address = %q
[ttrpc]
  address = %q
[plugins."io.containerd.internal.v1.opt"]
  path = %q
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  disable_apparmor = true
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = %q
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %q
    conf_dir = %q
`, filepath.Join(dir, "containerd", "root"), filepath.Join(dir, "containerd", "state"),
		containerdSocket(dir), filepath.Join(dir, "containerd", "ttrpc.sock"), filepath.Join(dir, "containerd", "opt"),
		sandboxImage, filepath.Join(dir, "runc"), cniBinDir, filepath.Join(dir, "cni", "net.d"))
}

func containerdSocket(dir string) string { return filepath.Join(dir, "containerd", "containerd.sock") }

// cniConfig is a bridge (cni0, the pods' gateway) with addresses from
// PodCIDR, as kubenet-like clusters and kind's default CNI wire pods.
func cniConfig(dir string) string {
	return fmt.Sprintf(`{
  "cniVersion": "1.0.0",
  "name": "foveak8s",
  "plugins": [{
    "type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false,
    "ipam": {"type": "host-local", "ranges": [[{"subnet": %q}]], "routes": [{"dst": "0.0.0.0/0"}], "dataDir": %q}
  }]
}
`, PodCIDR, filepath.Join(dir, "cni", "ipam"))
}

// kubeletConfig runs the kubelet on cgroup v1 (failCgroupV1: false) with
// cgroupfs, without QoS cgroups or evictions (it shares the machine), with
// its API open to the test only (the node's namespace is private), and
// logs under dir.
func kubeletConfig(dir string) string {
	return fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
containerRuntimeEndpoint: unix://%s
podLogsDir: %s
address: %s
readOnlyPort: 0
authentication:
  anonymous:
    enabled: true
  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow
evictionHard:
  memory.available: "1Mi"
  nodefs.available: "1%%"
  imagefs.available: "1%%"
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
resolvConf: /etc/resolv.conf
`, containerdSocket(dir), filepath.Join(dir, "pod-logs"), NodeAddr)
}

// kernelTunables are the sysctls the kubelet sets at start unless they
// already have these values (kubelet's setupKernelTunables). They are
// global, and this machine is shared, so the kubelet runs in a mount
// namespace of its own where files holding these values cover them.
var kernelTunables = map[string]string{
	"vm/overcommit_memory":      "1",
	"vm/panic_on_oom":           "0",
	"kernel/panic":              "10",
	"kernel/panic_on_oops":      "1",
	"kernel/keys/root_maxkeys":  "1000000",
	"kernel/keys/root_maxbytes": "25000000",
}
