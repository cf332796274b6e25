package kubeclient

import (
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// RetryBackoff paces a reflector's retries of failed lists and watches
// (cache.ReflectorOptions.Backoff). Client-go's default doubles from 0.8 s
// to 30 s, plus up to as much again of jitter, and resets only after two
// minutes without a retry: an agent refused for half a minute took up to
// 48 s more to list again once the API server served it, and the relay as
// long to see Nodes come and go. The shared informer factory cannot change
// it (client-go's TODO(#136943)), so the agent's caches and the relay's
// node discovery run their own reflectors with the doubling capped at 5 s:
// once capped, a retry every 5 to 10 s, so a server that serves again is
// noticed within 10 s. A retry sends at most two requests (a watch-list
// refused, then the list it falls back to): a failing server gets at most
// 0.4 requests a second per reflector (client-go's default: 0.07), 2 from
// an agent's five; the jitter keeps a DaemonSet's agents out of step, and
// the client's own rate limit (5 a second) holds throughout.
func RetryBackoff() *wait.Backoff {
	return &wait.Backoff{
		Duration: 800 * time.Millisecond, Factor: 2, Jitter: 1, Cap: 5 * time.Second,
		Steps: 10, // more than the doublings to the cap, which ends them
	}
}
