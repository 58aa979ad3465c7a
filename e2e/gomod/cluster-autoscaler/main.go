// ca-observe runs the real Cluster Autoscaler (1.33.0, kwok cloud provider) against a
// cluster and reports, loop after loop, the nodes its scale-down planner marks unneeded.
// It never acts: it is meant to run with --scale-down-unneeded-time far beyond its own
// lifetime, node groups whose max size is their current size, and no soft taints (see
// e2e/ca-compare.sh, which sets all of that). It is the e2e harness's peer, not a product.
//
// Flags: every Cluster Autoscaler flag, plus
//
//	--observe-stable-loops N   stop once N consecutive loops give the same unneeded set (default 2)
//	--observe-max-loops N      stop after N loops whatever happens (default 20)
//
// Output: one JSON object a loop on stdout:
//
//	{"loop":1,"seconds":4.2,"unneeded":["node-a","node-b"]}
//
// and a final {"final":true,...} with the stable set. A loop that fails or ends before
// scale-down planning ("noScaleDown") counts for no stability. Exit code 0 when the set became
// stable, 3 when --observe-max-loops ran out first, 1 on errors.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	apiv1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/informers"
	kube_flag "k8s.io/component-base/cli/flag"
	"k8s.io/klog/v2"

	"k8s.io/autoscaler/cluster-autoscaler/config/flags"
	"k8s.io/autoscaler/cluster-autoscaler/core"
	"k8s.io/autoscaler/cluster-autoscaler/core/podlistprocessor"
	"k8s.io/autoscaler/cluster-autoscaler/core/scaleup/orchestrator"
	"k8s.io/autoscaler/cluster-autoscaler/debuggingsnapshot"
	"k8s.io/autoscaler/cluster-autoscaler/metrics"
	ca_processors "k8s.io/autoscaler/cluster-autoscaler/processors"
	"k8s.io/autoscaler/cluster-autoscaler/processors/nodegroupset"
	"k8s.io/autoscaler/cluster-autoscaler/processors/nodeinfosprovider"
	"k8s.io/autoscaler/cluster-autoscaler/processors/scaledowncandidates"
	"k8s.io/autoscaler/cluster-autoscaler/processors/scaledowncandidates/emptycandidates"
	"k8s.io/autoscaler/cluster-autoscaler/processors/scaledowncandidates/previouscandidates"
	"k8s.io/autoscaler/cluster-autoscaler/simulator/clustersnapshot/predicate"
	"k8s.io/autoscaler/cluster-autoscaler/simulator/clustersnapshot/store"
	"k8s.io/autoscaler/cluster-autoscaler/simulator/drainability/rules"
	"k8s.io/autoscaler/cluster-autoscaler/simulator/framework"
	"k8s.io/autoscaler/cluster-autoscaler/simulator/options"
	"k8s.io/autoscaler/cluster-autoscaler/simulator/scheduling"
	kube_util "k8s.io/autoscaler/cluster-autoscaler/utils/kubernetes"
	"k8s.io/autoscaler/cluster-autoscaler/version"
)

var (
	stableLoops = flag.Int("observe-stable-loops", 2, "stop once this many consecutive loops give the same unneeded set")
	maxLoops    = flag.Int("observe-max-loops", 20, "stop after this many loops")
)

// recorder is a scale-down candidates observer: the planner hands it the unneeded nodes
// at the end of every loop.
type recorder struct {
	mu     sync.Mutex
	last   []string
	called bool
}

func (r *recorder) UpdateScaleDownCandidates(nodes []*apiv1.Node, _ time.Time) {
	names := make([]string, 0, len(nodes))
	for _, n := range nodes {
		names = append(names, n.Name)
	}
	sort.Strings(names)
	r.mu.Lock()
	r.last = names
	r.called = true
	r.mu.Unlock()
}

// take returns the set the planner reported since the last call, and whether it reported
// one at all (a loop that stops early, e.g. "cluster is not ready for autoscaling", does not).
func (r *recorder) take() ([]string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out, called := r.last, r.called
	r.last, r.called = nil, false
	return out, called
}

func same(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

type line struct {
	Loop    int     `json:"loop"`
	Final   bool    `json:"final,omitempty"`
	Stable  bool    `json:"stable,omitempty"`
	Seconds float64 `json:"seconds"`
	Error   string  `json:"error,omitempty"`
	// NoScaleDown: the loop ended before scale-down planning; it counts for no stability.
	NoScaleDown bool     `json:"noScaleDown,omitempty"`
	Unneeded    []string `json:"unneeded"`
}

func emit(l line) {
	if l.Unneeded == nil {
		l.Unneeded = []string{}
	}
	b, err := json.Marshal(l)
	if err != nil {
		klog.Fatalf("encoding a result line: %v", err)
	}
	fmt.Println(string(b))
}

// build assembles the autoscaler the way Cluster Autoscaler's own main does for a
// cluster without ProvisioningRequests or proactive scale-up, and registers rec.
func build(rec *recorder) (core.Autoscaler, error) {
	opts := flags.AutoscalingOptions()
	kubeClient := kube_util.CreateKubeClient(opts.KubeClientOpts)
	trim := func(obj interface{}) (interface{}, error) {
		if accessor, err := meta.Accessor(obj); err == nil {
			accessor.SetManagedFields(nil)
		}
		return obj, nil
	}
	informerFactory := informers.NewSharedInformerFactoryWithOptions(kubeClient, 0, informers.WithTransform(trim))
	fwHandle, err := framework.NewHandle(informerFactory, opts.SchedulerConfig, opts.DynamicResourceAllocationEnabled)
	if err != nil {
		return nil, err
	}
	deleteOptions := options.NewNodeDeleteOptions(opts)
	drainabilityRules := rules.Default(deleteOptions)
	snapshot := predicate.NewPredicateSnapshot(store.NewDeltaSnapshotStore(opts.ClusterSnapshotParallelism), fwHandle, opts.DynamicResourceAllocationEnabled)
	ao := core.AutoscalerOptions{
		AutoscalingOptions:   opts,
		FrameworkHandle:      fwHandle,
		ClusterSnapshot:      snapshot,
		KubeClient:           kubeClient,
		InformerFactory:      informerFactory,
		DebuggingSnapshotter: debuggingsnapshot.NewDebuggingSnapshotter(false),
		DeleteOptions:        deleteOptions,
		DrainabilityRules:    drainabilityRules,
		ScaleUpOrchestrator:  orchestrator.New(),
	}
	ao.Processors = ca_processors.DefaultProcessors(opts)
	ao.Processors.TemplateNodeInfoProvider = nodeinfosprovider.NewDefaultTemplateNodeInfoProvider(&opts.NodeInfoCacheExpireTime, opts.ForceDaemonSets)
	ao.Processors.PodListProcessor = podlistprocessor.NewDefaultPodListProcessor(scheduling.ScheduleAnywhere)

	// Scale-down candidates in CA's order: empty nodes first, then the previous loop's
	// unneeded nodes.
	previous := previouscandidates.NewPreviousCandidates()
	comparers := []scaledowncandidates.CandidatesComparer{
		emptycandidates.NewEmptySortingProcessor(emptycandidates.NewNodeInfoGetter(ao.ClusterSnapshot), deleteOptions, drainabilityRules),
		previous,
	}
	ao.Processors.ScaleDownCandidatesNotifier.Register(previous)
	ao.Processors.ScaleDownCandidatesNotifier.Register(rec)
	combined := scaledowncandidates.NewCombinedScaleDownCandidatesProcessor()
	combined.Register(scaledowncandidates.NewScaleDownCandidatesSortingProcessor(comparers))
	if opts.ScaleDownDelayTypeLocal {
		delay := scaledowncandidates.NewScaleDownCandidatesDelayProcessor()
		combined.Register(delay)
		ao.Processors.ScaleStateNotifier.Register(delay)
	}
	ao.Processors.ScaleDownNodeProcessor = combined
	ao.Processors.NodeGroupSetProcessor = &nodegroupset.BalancingNodeGroupSetProcessor{
		Comparator: nodegroupset.CreateGenericNodeInfoComparator(opts.BalancingExtraIgnoredLabels, opts.NodeGroupSetRatios),
	}

	metrics.RegisterAll(false)
	metrics.InitMetrics()
	autoscaler, err := core.NewAutoscaler(ao, informerFactory)
	if err != nil {
		return nil, err
	}
	stop := make(chan struct{})
	informerFactory.Start(stop)
	for informer, synced := range informerFactory.WaitForCacheSync(stop) {
		if !synced {
			return nil, fmt.Errorf("informer for %v did not sync", informer)
		}
	}
	return autoscaler, nil
}

func main() {
	klog.InitFlags(nil)
	kube_flag.InitFlags()
	opts := flags.AutoscalingOptions()
	klog.V(1).Infof("ca-observe: Cluster Autoscaler %s", version.ClusterAutoscalerVersion)

	rec := &recorder{}
	autoscaler, err := build(rec)
	if err != nil {
		klog.Fatalf("building the autoscaler: %v", err)
	}
	// No signal handler calls ExitCleanUp: with the kwok provider that deletes every node
	// of every node group.
	if err := autoscaler.Start(); err != nil {
		klog.Fatalf("starting the autoscaler: %v", err)
	}

	var previous []string
	stableFor := 0
	for loop := 1; loop <= *maxLoops; loop++ {
		start := time.Now()
		l := line{Loop: loop}
		if err := autoscaler.RunOnce(start); err != nil {
			l.Error = err.Error()
		}
		l.Seconds = time.Since(start).Seconds()
		var planned bool
		l.Unneeded, planned = rec.take()
		l.NoScaleDown = !planned
		emit(l)
		ok := l.Error == "" && planned
		switch {
		case !ok:
			stableFor = 0
		case previous != nil && same(previous, l.Unneeded):
			stableFor++
		default:
			stableFor = 1
		}
		if ok {
			previous = l.Unneeded
		} else {
			previous = nil
		}
		if ok && stableFor >= *stableLoops {
			emit(line{Loop: loop, Final: true, Stable: true, Seconds: l.Seconds, Unneeded: previous})
			return
		}
		if wait := opts.ScanInterval - time.Since(start); wait > 0 && loop < *maxLoops {
			time.Sleep(wait)
		}
	}
	emit(line{Loop: *maxLoops, Final: true, Unneeded: previous})
	os.Exit(3)
}
