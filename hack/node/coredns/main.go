// CoreDNS for the real-node cluster (hack/node): only the plugins its Corefile (hack/node/manifests/coredns.yaml)
// uses, so the build stays small. No `forward`: the node is air-gapped and answers cluster names only.
// Built by hack/install-node.sh at COREDNS_VERSION through the Go module proxy.
package main

import (
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"

	"github.com/coredns/coredns/coremain"
)

func main() { coremain.Run() }
