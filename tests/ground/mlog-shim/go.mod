// A stand-in for monis.app/mlog, which the Go module proxy reachable here refuses (403 on
// every version). It implements only the part of mlog's API that the workload-identity
// webhook's cmd/webhook and pkg/webhook call, over go-logr's funcr. The webhook's own code is
// built unchanged from the proxy.
module monis.app/mlog

go 1.25

require github.com/go-logr/logr v1.4.3
