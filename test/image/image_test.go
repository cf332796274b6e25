package image

import (
	"bytes"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// repoRoot is the build context of the Dockerfile, relative to this package.
const repoRoot = "../.."

func readImage(t *testing.T) *Image {
	t.Helper()
	p := os.Getenv("FOVEA_IMAGE")
	if p == "" {
		t.Fatal("FOVEA_IMAGE is not set: run `make image-test`")
	}
	img, err := ReadImage(p)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// dockerfile returns the Dockerfile's two stages: the build and the image.
func dockerfile(t *testing.T) (build, final Stage) {
	t.Helper()
	stages, err := ReadDockerfile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if len(stages) != 2 || stages[1].Base != "scratch" {
		t.Fatalf("Dockerfile: want a build stage and a final stage FROM scratch, got %+v", stages)
	}
	return stages[0], stages[1]
}

// finalStage is what the Dockerfile's final stage makes of the image.
type finalStage struct {
	from, src, dest string // COPY --from=from src dest
	user            string
	entrypoint      []string
	labels          map[string]string
}

func readFinalStage(t *testing.T, st Stage) finalStage {
	t.Helper()
	fs := finalStage{labels: map[string]string{}}
	for _, in := range st.Instructions {
		switch in.Cmd {
		case "COPY":
			f := strings.Fields(in.Args)
			from, ok := strings.CutPrefix(f[0], "--from=")
			if len(f) != 3 || !ok || fs.dest != "" {
				t.Fatalf("final stage: COPY %s: want one COPY --from=stage src dest", in.Args)
			}
			fs.from, fs.src, fs.dest = from, f[1], f[2]
		case "LABEL":
			for _, kv := range strings.Fields(in.Args) {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || strings.ContainsAny(v, `"'`) {
					t.Fatalf("final stage: LABEL %s: want unquoted key=value pairs", in.Args)
				}
				fs.labels[k] = v
			}
		case "USER":
			fs.user = in.Args
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(in.Args), &fs.entrypoint); err != nil {
				t.Fatalf("final stage: ENTRYPOINT %s: want the JSON form: %v", in.Args, err)
			}
		default:
			t.Fatalf("final stage: %s is not compared with the image: compare it here and pass it to ocibuild in the Makefile", in.Cmd)
		}
	}
	return fs
}

// TestImageIsTheDockerfilesFinalStage checks that the image `make image`
// built is what the Dockerfile's final stage makes: the same file at the
// same path, user, entrypoint and labels, and nothing else (no shell).
func TestImageIsTheDockerfilesFinalStage(t *testing.T) {
	img := readImage(t)
	build, final := dockerfile(t)
	want := readFinalStage(t, final)
	if want.from != build.Name {
		t.Errorf("final stage copies from %q, want the build stage %q", want.from, build.Name)
	}
	cfg := img.Config.Config
	if !slices.Equal(cfg.Entrypoint, want.entrypoint) || cfg.User != want.user || !maps.Equal(cfg.Labels, want.labels) {
		t.Errorf("image config: entrypoint %q user %q labels %v; Dockerfile: entrypoint %q user %q labels %v",
			cfg.Entrypoint, cfg.User, cfg.Labels, want.entrypoint, want.user, want.labels)
	}
	if len(cfg.Cmd) > 0 || len(cfg.Env) > 0 || cfg.WorkingDir != "" {
		t.Errorf("image config sets Cmd %q Env %q WorkingDir %q; the Dockerfile sets none", cfg.Cmd, cfg.Env, cfg.WorkingDir)
	}
	if img.Config.OS != "linux" {
		t.Errorf("image OS %q, want linux", img.Config.OS)
	}
	if len(want.entrypoint) == 0 || want.entrypoint[0] != want.dest {
		t.Errorf("Dockerfile: ENTRYPOINT %q does not run the copied %s", want.entrypoint, want.dest)
	}
	var names []string
	for name, f := range img.Files {
		names = append(names, name)
		if f.Header.Uid != 0 || f.Header.Gid != 0 || f.Header.FileInfo().Mode().Perm()&0o022 != 0 {
			t.Errorf("%s: owner %d:%d mode %v, want root's, writable by root only", name, f.Header.Uid, f.Header.Gid, f.Header.FileInfo().Mode())
		}
	}
	var wantNames []string
	for dir := path.Dir(want.dest); dir != "/"; dir = path.Dir(dir) {
		wantNames = append(wantNames, strings.TrimPrefix(dir, "/"))
	}
	wantNames = append(wantNames, strings.TrimPrefix(want.dest, "/"))
	slices.Sort(names)
	slices.Sort(wantNames)
	if !slices.Equal(names, wantNames) {
		t.Errorf("image files %q, want only %q", names, wantNames)
	}
}

// TestDockerfileBuildsTheImagesBinary runs the Dockerfile's build stage as
// Docker would, in a copy of the build context, and checks that it builds
// the image's binary byte for byte, with the toolchain its FROM names.
func TestDockerfileBuildsTheImagesBinary(t *testing.T) {
	img := readImage(t)
	build, final := dockerfile(t)
	fs := readFinalStage(t, final)
	bin, ok := img.Files[strings.TrimPrefix(fs.dest, "/")]
	if !ok {
		t.Fatalf("image has no %s", fs.dest)
	}
	info, err := buildinfo.Read(bytes.NewReader(bin.Content))
	if err != nil {
		t.Fatal(err)
	}
	goVersion, ok := strings.CutPrefix(build.Base, "golang:")
	if !ok || "go"+goVersion != info.GoVersion {
		t.Fatalf("Dockerfile builds with %s, the image's binary was built by %s: keep them the same", build.Base, info.GoVersion)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	for k, v := range map[string]string{"CGO_ENABLED": "0", "GOOS": "linux", "-trimpath": "true"} {
		if settings[k] != v {
			t.Errorf("image's binary built with %s=%q, want %q", k, settings[k], v)
		}
	}

	ctx := buildContext(t)
	workdir, env := "", []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "GOTOOLCHAIN=local",
		"GOCACHE=" + goEnv(t, "GOCACHE"), "GOMODCACHE=" + goEnv(t, "GOMODCACHE"), "GOPROXY=" + goEnv(t, "GOPROXY"),
	}
	for _, in := range build.Instructions {
		switch in.Cmd {
		case "WORKDIR":
			workdir = in.Args
		case "ENV":
			k, v, ok := strings.Cut(in.Args, "=")
			if !ok {
				t.Fatalf("build stage: ENV %s: want key=value", in.Args)
			}
			env = append(env, k+"="+v)
		case "COPY":
			// The whole context is in ctx already; a COPY into the
			// workdir adds nothing, any other would.
			f := strings.Fields(in.Args)
			if dest := f[len(f)-1]; dest != "." && dest != "./" {
				t.Fatalf("build stage: COPY %s: the test copies into the workdir only", in.Args)
			}
		case "RUN":
			cmd := exec.Command("sh", "-c", in.Args)
			cmd.Dir, cmd.Env = ctx, env
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("build stage: RUN %s: %v\n%s", in.Args, err, out)
			}
		default:
			t.Fatalf("build stage: %s is not emulated by this test", in.Cmd)
		}
	}
	rel, err := filepath.Rel(workdir, fs.src)
	if err != nil || strings.HasPrefix(rel, "..") {
		t.Fatalf("final stage copies %s, outside the build stage's WORKDIR %s", fs.src, workdir)
	}
	docker, err := os.ReadFile(filepath.Join(ctx, rel))
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(docker) != sha256.Sum256(bin.Content) {
		t.Errorf("the Dockerfile's build stage built another %s than the image holds (%d and %d bytes)", fs.src, len(docker), len(bin.Content))
	}

	// The binary reports the image's tag as its version.
	exe := filepath.Join(t.TempDir(), "fovea")
	if err := os.WriteFile(exe, bin.Content, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(exe, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	_, tag, _ := strings.Cut(img.RepoTags[0][strings.LastIndex(img.RepoTags[0], "/"):], ":")
	if got := strings.TrimSpace(string(out)); got != "fovea version "+tag {
		t.Errorf("%s --version: %q, want the image tag %s", fs.dest, got, tag)
	}
}

// buildContext copies what `docker build .` sends, the checkout's files
// less the ignored ones (.dockerignore leaves out only what git ignores or
// does not hold), into a temporary directory.
func buildContext(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("git", "-C", repoRoot, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	dir := t.TempDir()
	for name := range strings.SplitSeq(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(repoRoot, name)
		st, err := os.Lstat(src)
		if os.IsNotExist(err) {
			continue // deleted, not yet committed
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, st.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

// TestImageIsReproducible packs the image's own binary again with the
// settings the image records, and expects the same bytes: nothing but the
// inputs (no clock, no map order) goes into the tarball.
func TestImageIsReproducible(t *testing.T) {
	img := readImage(t)
	tool := os.Getenv("OCIBUILD_BIN")
	if tool == "" {
		t.Fatal("OCIBUILD_BIN is not set: run `make image-test`")
	}
	cfg := img.Config.Config
	dir := t.TempDir()
	bin := filepath.Join(dir, "fovea")
	if err := os.WriteFile(bin, img.Files[strings.TrimPrefix(cfg.Entrypoint[0], "/")].Content, 0o755); err != nil {
		t.Fatal(err)
	}
	var labels []string
	for k, v := range cfg.Labels {
		labels = append(labels, k+"="+v)
	}
	again := filepath.Join(dir, "again.tar")
	cmd := exec.Command(tool, "--binary", bin, "--path", cfg.Entrypoint[0], "--user", cfg.User,
		"--labels", strings.Join(labels, ","), "--epoch", strconv.FormatInt(img.Config.Created.Unix(), 10),
		"--ref", img.RepoTags[0], "--out", again)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	first, err := os.ReadFile(os.Getenv("FOVEA_IMAGE"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := os.ReadFile(again)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Errorf("packing the same binary again gave another tarball (%d and %d bytes)", len(first), len(second))
	}
}
