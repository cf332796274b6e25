// Command ocibuild packs one static binary into an OCI image, written as an
// image tarball that `docker load`, `ctr images import` and `podman load`
// read, without a container engine. The output depends only on its inputs:
// every time in the image (layer entries, config) is the --epoch, so the
// same binary always gives the same image digest.
//
//	ocibuild --binary .bin/image/fovea --path /usr/bin/fovea --user 65532:65532 \
//	  --ref ghcr.io/foveanet/fovea:0.1.0 --out .bin/image/fovea.tar
package main

import (
	"archive/tar"
	"bytes"
	"debug/buildinfo"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

type options struct {
	binary, path, user, ref, out string
	epoch                        int64
	labels                       map[string]string
}

func main() {
	var o options
	var labels string
	flag.StringVar(&o.binary, "binary", "", "the static binary to pack")
	flag.StringVar(&o.path, "path", "", "where the binary lives in the image; it is the entrypoint")
	flag.StringVar(&o.user, "user", "", "the user (uid:gid) the image runs as")
	flag.StringVar(&o.ref, "ref", "", "the image's name:tag")
	flag.StringVar(&o.out, "out", "", "the image tarball to write")
	flag.Int64Var(&o.epoch, "epoch", 0, "the time of every file and of the image, in seconds since 1970 (SOURCE_DATE_EPOCH)")
	flag.StringVar(&labels, "labels", "", "image labels, key=value,key=value")
	flag.Parse()
	var err error
	if o.labels, err = parseLabels(labels); err == nil {
		err = run(o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ocibuild:", err)
		os.Exit(1)
	}
}

func parseLabels(s string) (map[string]string, error) {
	labels := map[string]string{}
	if s == "" {
		return labels, nil
	}
	for kv := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--labels: %q is not key=value", kv)
		}
		labels[k] = v
	}
	return labels, nil
}

func run(o options) error {
	for flagName, v := range map[string]string{"binary": o.binary, "path": o.path, "user": o.user, "ref": o.ref, "out": o.out} {
		if v == "" {
			return fmt.Errorf("--%s must be set", flagName)
		}
	}
	if !path.IsAbs(o.path) {
		return fmt.Errorf("--path %q: must be absolute", o.path)
	}
	tag, err := name.NewTag(o.ref, name.StrictValidation)
	if err != nil {
		return fmt.Errorf("--ref: %w", err)
	}
	bin, err := os.ReadFile(o.binary)
	if err != nil {
		return err
	}
	arch, err := staticLinuxArch(bin)
	if err != nil {
		return fmt.Errorf("--binary %s: %w", o.binary, err)
	}
	epoch := time.Unix(o.epoch, 0).UTC()
	layerTar, err := layerOf(o.path, bin, epoch)
	if err != nil {
		return err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return fmt.Errorf("layer: %w", err)
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{
		Layer:   layer,
		History: v1.History{Created: v1.Time{Time: epoch}, CreatedBy: "ocibuild: " + o.path},
	})
	if err != nil {
		return fmt.Errorf("append layer: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", arch
	cfg.Created = v1.Time{Time: epoch}
	cfg.Config = v1.Config{Entrypoint: []string{o.path}, User: o.user, Labels: o.labels}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if err := tarball.WriteToFile(o.out, tag, img); err != nil {
		return fmt.Errorf("write %s: %w", o.out, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("%s %s@%s\n", o.out, tag, digest)
	return nil
}

// staticLinuxArch returns the GOARCH of bin, a Go binary, and fails
// unless it was built for Linux without cgo: the image has no C library
// for it to load.
func staticLinuxArch(bin []byte) (string, error) {
	info, err := buildinfo.Read(bytes.NewReader(bin))
	if err != nil {
		return "", err
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if settings["GOOS"] != "linux" || settings["CGO_ENABLED"] != "0" {
		return "", fmt.Errorf("built with GOOS=%q CGO_ENABLED=%q: want a static Linux binary (GOOS=linux CGO_ENABLED=0)", settings["GOOS"], settings["CGO_ENABLED"])
	}
	return settings["GOARCH"], nil
}

// layerOf is a tar of the directories leading to file and file itself,
// owned by root, read-only but executable by everyone, all of time epoch.
func layerOf(file string, content []byte, epoch time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := strings.Split(strings.Trim(path.Dir(file), "/"), "/")
	for i := range dirs {
		if dirs[i] == "" {
			continue
		}
		hdr := &tar.Header{Typeflag: tar.TypeDir, Name: strings.Join(dirs[:i+1], "/") + "/", Mode: 0o755, ModTime: epoch, Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
	}
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(file, "/"), Mode: 0o555, Size: int64(len(content)), ModTime: epoch, Format: tar.FormatUSTAR}
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, err
	}
	if _, err := tw.Write(content); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
