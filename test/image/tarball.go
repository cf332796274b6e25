package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"time"
)

// Image is what an image tarball (`docker save` format, as ocibuild
// writes it) holds.
type Image struct {
	RepoTags []string
	Config   ConfigFile
	// Files are the layers' entries by path without the leading slash.
	Files map[string]File
}

// ConfigFile is the part of an OCI image config the tests compare.
type ConfigFile struct {
	Architecture string    `json:"architecture"`
	OS           string    `json:"os"`
	Created      time.Time `json:"created"`
	Config       struct {
		User       string            `json:"User"`
		Entrypoint []string          `json:"Entrypoint"`
		Cmd        []string          `json:"Cmd"`
		Env        []string          `json:"Env"`
		Labels     map[string]string `json:"Labels"`
		WorkingDir string            `json:"WorkingDir"`
	} `json:"config"`
}

// File is one layer entry; Content is set for regular files.
type File struct {
	Header  tar.Header
	Content []byte
}

// ReadImage reads the single image in the tarball at p.
func ReadImage(p string) (*Image, error) {
	members, err := untar(p)
	if err != nil {
		return nil, err
	}
	var manifest []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	if err := json.Unmarshal(members["manifest.json"].Content, &manifest); err != nil {
		return nil, fmt.Errorf("%s: manifest.json: %w", p, err)
	}
	if len(manifest) != 1 {
		return nil, fmt.Errorf("%s: %d images, want 1", p, len(manifest))
	}
	img := &Image{RepoTags: manifest[0].RepoTags, Files: map[string]File{}}
	if err := json.Unmarshal(members[manifest[0].Config].Content, &img.Config); err != nil {
		return nil, fmt.Errorf("%s: config: %w", p, err)
	}
	for _, l := range manifest[0].Layers {
		layer, ok := members[l]
		if !ok {
			return nil, fmt.Errorf("%s: layer %s missing", p, l)
		}
		files, err := readTar(bytes.NewReader(layer.Content), true)
		if err != nil {
			return nil, fmt.Errorf("%s: layer %s: %w", p, l, err)
		}
		for name, f := range files {
			img.Files[path.Clean(name)] = f
		}
	}
	return img, nil
}

func untar(p string) (map[string]File, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readTar(f, false)
}

func readTar(r io.Reader, gz bool) (map[string]File, error) {
	if gz {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		r = zr
	}
	files := map[string]File{}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, err
		}
		f := File{Header: *hdr}
		if hdr.Typeflag == tar.TypeReg {
			if f.Content, err = io.ReadAll(tr); err != nil {
				return nil, err
			}
		}
		files[hdr.Name] = f
	}
}
