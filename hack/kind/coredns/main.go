// CoreDNS for the kind node image (hack/kind/node-image.sh): the plugins of the Corefile kubeadm writes (errors,
// health, ready, kubernetes, prometheus, forward, cache, loop, reload, loadbalance), which the real node's build
// (hack/node/coredns) leaves out. `forward` has no upstream to reach in the test's network namespace; kubeadm's
// Corefile still names it. Built by hack/install-node.sh kind-coredns at COREDNS_VERSION.
package main

import (
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/metrics"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"

	"github.com/coredns/coredns/coremain"
)

func main() { coremain.Run() }
