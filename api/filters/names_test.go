package filters

import (
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"
)

func TestPodFilter(t *testing.T) {
	pod := func(ns, name string) *flowpb.Endpoint { return &flowpb.Endpoint{Namespace: ns, PodName: name} }
	for _, tc := range []struct {
		pattern string
		cases   []eventCase
	}{
		{"kube-system/coredns-", []eventCase{
			{"prefix", ev{srcEP: pod("kube-system", "coredns-abc")}, true},
			{"other ns", ev{srcEP: pod("default", "coredns-abc")}, false},
			{"other pod", ev{srcEP: pod("kube-system", "etcd")}, false},
		}},
		{"web", []eventCase{
			{"bare name means default", ev{srcEP: pod("default", "web-1")}, true},
			{"not other ns", ev{srcEP: pod("prod", "web-1")}, false},
		}},
		{"demo/", []eventCase{
			{"whole namespace", ev{srcEP: pod("demo", "anything")}, true},
			{"namespace without pod", ev{srcEP: pod("demo", "")}, true},
			{"other ns", ev{srcEP: pod("demo2", "x")}, false},
			{"no endpoint", ev{}, false},
		}},
		{"/api", []eventCase{
			{"any namespace", ev{srcEP: pod("x", "api-0")}, true},
			{"no match", ev{srcEP: pod("x", "web")}, false},
		}},
	} {
		f := mustBuild(t, &flowpb.FlowFilter{SourcePod: []string{tc.pattern}})
		checkEvents(t, f, tc.cases)
	}
	f := mustBuild(t, &flowpb.FlowFilter{DestinationPod: []string{"a/x", "b/y"}})
	checkEvents(t, f, []eventCase{
		{"first", ev{dstEP: pod("a", "x1")}, true},
		{"second", ev{dstEP: pod("b", "y1")}, true},
		{"source ignored", ev{srcEP: pod("a", "x1")}, false},
	})
	wantErr(t, &flowpb.FlowFilter{SourcePod: []string{""}}, `whitelist[0].source_pod: pod name must not be empty`)
	wantErr(t, &flowpb.FlowFilter{DestinationPod: []string{"a/b/c"}}, `whitelist[0].destination_pod: invalid pod "a/b/c": want namespace/name`)
}

func TestServiceFilter(t *testing.T) {
	svc := func(ns, name string) *flowpb.Service { return &flowpb.Service{Namespace: ns, Name: name} }
	f := mustBuild(t, &flowpb.FlowFilter{DestinationService: []string{"kube-system/kube-dns", "api"}})
	checkEvents(t, f, []eventCase{
		{"match", ev{dstSvc: svc("kube-system", "kube-dns")}, true},
		{"bare means default", ev{dstSvc: svc("default", "api-v2")}, true},
		{"other ns", ev{dstSvc: svc("prod", "api")}, false},
		{"no service", ev{}, false},
		{"source ignored", ev{srcSvc: svc("kube-system", "kube-dns")}, false},
	})
	f = mustBuild(t, &flowpb.FlowFilter{SourceService: []string{"prod/"}})
	checkEvents(t, f, []eventCase{{"namespace", ev{srcSvc: svc("prod", "x")}, true}})
	wantErr(t, &flowpb.FlowFilter{SourceService: []string{"a", ""}}, `whitelist[0].source_service: service name must not be empty`)
}
