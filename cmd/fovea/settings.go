package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"
)

const envPrefix = "FOVEA_"

// envName is the environment variable that sets a flag: --ring-capacity is
// FOVEA_RING_CAPACITY.
func envName(flag string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// fillUnsetFlags gives every flag not set on the command line the value of its
// environment variable, or else of its key in the YAML file at configPath (if
// any), so the precedence is command line, environment, file, default. A bad
// value is an error naming the flag and where the value came from.
func fillUnsetFlags(fs *pflag.FlagSet, configPath string) error {
	file, err := readConfigFile(configPath)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	var firstErr error
	fs.VisitAll(func(f *pflag.Flag) {
		known[f.Name] = true
		if f.Changed || firstErr != nil {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if err := fs.Set(f.Name, v); err != nil {
				firstErr = fmt.Errorf("invalid value %q for flag --%s (from %s): %w", v, f.Name, envName(f.Name), err)
			}
			return
		}
		if v, ok := file[f.Name]; ok {
			if err := fs.Set(f.Name, v); err != nil {
				firstErr = fmt.Errorf("invalid value %q for flag --%s (from %s): %w", v, f.Name, configPath, err)
			}
		}
	})
	if firstErr != nil {
		return firstErr
	}
	for k := range file {
		if !known[k] {
			return fmt.Errorf("config file %s: unknown key %q (keys are flag names)", configPath, k)
		}
	}
	return nil
}

// readConfigFile reads a flat YAML map of flag names to values; a list value
// becomes the comma-separated form the flag accepts.
func readConfigFile(path string) (map[string]string, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config file: %w", err)
	}
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("parse config file %s: %w", path, err)
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		switch v := v.(type) {
		case []any:
			parts := make([]string, len(v))
			for i, p := range v {
				parts[i] = fmt.Sprint(p)
			}
			out[k] = strings.Join(parts, ",")
		case map[string]any:
			return nil, fmt.Errorf("config file %s: key %q: nested maps are not supported", path, k)
		default:
			out[k] = fmt.Sprint(v)
		}
	}
	return out, nil
}
