package chart

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
)

// ChartDir is the chart under test, relative to this package.
const ChartDir = "../../helm/fovea"

// Tools are the programs and files `make chart` names in the environment.
type Tools struct {
	Helm, Kubeconform, Valuesdoc string
	// Schemas is the directory of kubeconform schemas, KubeVersion the
	// Kubernetes release they and the tests' API server are of.
	Schemas, KubeVersion string
	// CRDs is the directory of the CustomResourceDefinitions the chart's
	// optional objects need (cert-manager's, the Prometheus Operator's).
	CRDs string
	// Image is the image reference `make image` builds.
	Image string
}

// ToolsFromEnv reads Tools from the environment; all must be set.
func ToolsFromEnv() (Tools, error) {
	t := Tools{
		Helm: os.Getenv("HELM_BIN"), Kubeconform: os.Getenv("KUBECONFORM_BIN"), Valuesdoc: os.Getenv("VALUESDOC_BIN"),
		Schemas: os.Getenv("KUBE_SCHEMAS"), KubeVersion: strings.TrimPrefix(os.Getenv("KUBE_VERSION"), "v"),
		CRDs: os.Getenv("KUBE_CRDS"), Image: os.Getenv("FOVEA_IMAGE_REF"),
	}
	for env, v := range map[string]string{"HELM_BIN": t.Helm, "KUBECONFORM_BIN": t.Kubeconform, "VALUESDOC_BIN": t.Valuesdoc,
		"KUBE_SCHEMAS": t.Schemas, "KUBE_VERSION": t.KubeVersion, "KUBE_CRDS": t.CRDs, "FOVEA_IMAGE_REF": t.Image} {
		if v == "" {
			return t, fmt.Errorf("%s is not set: run the chart tests with `make chart`", env)
		}
	}
	return t, nil
}

// Run runs a tool and returns its stdout, or an error carrying its
// stderr.
func Run(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes(), nil
}

// Template renders the chart as release "fovea" in namespace
// "kube-system" for the tools' Kubernetes release, with more helm
// template arguments (--set, --api-versions).
func (t Tools) Template(chart string, args ...string) ([]byte, error) {
	base := []string{"template", "fovea", chart, "--namespace", "kube-system", "--kube-version", t.KubeVersion}
	return Run(t.Helm, append(base, args...)...)
}

// Validate runs kubeconform -strict on a manifest: every object must have
// a schema and match it.
func (t Tools) Validate(manifest []byte) error {
	cmd := exec.Command(t.Kubeconform, "-strict", "-summary", "-kubernetes-version", t.KubeVersion,
		"-schema-location", t.Schemas+"/{{ .ResourceKind }}{{ .KindSuffix }}.json", "-")
	cmd.Stdin = bytes.NewReader(manifest)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("kubeconform: %w\n%s", err, out)
	}
	return nil
}

// Parse splits a rendered manifest into its objects.
func Parse(manifest []byte) ([]*unstructured.Unstructured, error) {
	dec := k8syaml.NewYAMLOrJSONDecoder(bytes.NewReader(manifest), 4096)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, err
		}
		if len(m) > 0 {
			objs = append(objs, &unstructured.Unstructured{Object: m})
		}
	}
}
