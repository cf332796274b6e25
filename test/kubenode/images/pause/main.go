// Command pause is the sandbox image of the single-node cluster's
// containerd (no registry is reachable to pull registry.k8s.io/pause): it
// holds a pod's namespaces open until it is told to stop.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
}
