package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"golang.org/x/mod/module"
)

// GetRequiredPackages reports the Pulumi packages a Go program's module requires, by the
// rule of Pulumi's own Go host (sdk/go/pulumi-language-go, GetRequiredPackages): each
// module the program's go.mod requires whose source (its directory, a replacement's, or
// vendor/) holds a pulumi-plugin.json — at its root, in go/, in go/*/ or in */ — saying
// "resource": true. Its plugin is that file's name, else the third segment of the module
// path without its "pulumi-" (github.com/pulumi/pulumi-aws/sdk: aws); its version is the
// file's, else the module's, made semver (a pseudo-version stands for the release before
// it; one with no release before it is no plugin). Anything unreadable is logged and left
// out, and a program outside a module requires nothing, as there.
func (h *goHost) GetRequiredPackages(
	ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	none := &pulumirpc.GetRequiredPackagesResponse{}
	dir := req.Info.ProgramDirectory
	gomod, err := goOutput(ctx, dir, "list", "-m", "-f", "{{.GoMod}}")
	if err != nil || strings.TrimSpace(string(gomod)) == "" {
		logging.V(5).Infof("GetRequiredPackages: no go.mod: %v", err)
		return none, nil
	}
	moduleDir := filepath.Dir(strings.TrimSpace(string(gomod)))
	edited, err := goOutput(ctx, moduleDir, "mod", "edit", "-json")
	if err != nil {
		return nil, err
	}
	var file struct{ Require []struct{ Path string } }
	if err := json.Unmarshal(edited, &file); err != nil {
		return nil, err
	}
	if len(file.Require) == 0 {
		return none, nil
	}
	paths := make([]string, 0, len(file.Require))
	for _, r := range file.Require {
		paths = append(paths, r.Path)
	}
	modules, err := goModules(ctx, moduleDir, paths)
	if err != nil {
		logging.V(5).Infof("GetRequiredPackages: %v", err)
		return none, nil
	}
	packages := []*pulumirpc.PackageDependency{}
	for _, m := range modules {
		dep, err := goPackage(m)
		if err != nil {
			logging.V(5).Infof("GetRequiredPackages: %s %s left out: %v", m.Path, m.Version, err)
			continue
		}
		if dep != nil {
			packages = append(packages, dep)
		}
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: packages}, nil
}

type goModule struct {
	Path, Version, Dir string
}

func goOutput(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

// goModules are the modules at paths with their source directories: `go list -m -json`,
// then vendor/ in vendor mode, else `go mod download` for those not in the cache.
func goModules(ctx context.Context, moduleDir string, paths []string) ([]goModule, error) {
	out, err := goOutput(ctx, moduleDir, append([]string{"list", "-m", "-json"}, paths...)...)
	if err != nil {
		return nil, err
	}
	var modules []goModule
	for decoder := json.NewDecoder(bytes.NewReader(out)); decoder.More(); {
		var m goModule
		if err := decoder.Decode(&m); err != nil {
			return nil, err
		}
		modules = append(modules, m)
	}
	vendor := filepath.Join(moduleDir, "vendor")
	_, err = os.Stat(vendor)
	vendored := err == nil
	found := modules[:0]
	for _, m := range modules {
		if m.Dir == "" && vendored {
			if _, err := os.Stat(filepath.Join(vendor, m.Path)); err == nil {
				m.Dir = filepath.Join(vendor, m.Path)
			}
		} else if m.Dir == "" {
			out, err := goOutput(ctx, moduleDir, "mod", "download", "-json", m.Path)
			var downloaded goModule
			if err == nil && json.Unmarshal(out, &downloaded) == nil {
				m.Dir = downloaded.Dir
			}
		}
		if m.Dir != "" {
			found = append(found, m)
		}
	}
	return found, nil
}

// goPackage is the plugin module m stands for (nil: none).
func goPackage(m goModule) (*pulumirpc.PackageDependency, error) {
	candidates := []string{
		filepath.Join(m.Dir, "pulumi-plugin.json"),
		filepath.Join(m.Dir, "go", "pulumi-plugin.json"),
	}
	for _, pattern := range []string{filepath.Join(m.Dir, "go", "*", "pulumi-plugin.json"), filepath.Join(m.Dir, "*", "pulumi-plugin.json")} {
		more, _ := filepath.Glob(pattern)
		candidates = append(candidates, more...)
	}
	var meta *plugin.PulumiPluginJSON
	for _, path := range candidates {
		data, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		} else if err != nil {
			return nil, err
		}
		meta = &plugin.PulumiPluginJSON{}
		if err := json.Unmarshal(data, meta); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		break
	}
	if meta == nil || !meta.Resource {
		return nil, nil
	}
	name := meta.Name
	if name == "" {
		segments := strings.Split(m.Path, "/")
		if len(segments) < 3 || !strings.Contains(segments[2], "-") {
			return nil, fmt.Errorf("no plugin name: none in pulumi-plugin.json, none in %q", m.Path)
		}
		name = strings.SplitN(segments[2], "-", 2)[1]
	}
	version := m.Version
	if meta.Version != "" {
		version = meta.Version
	}
	version, err := goPluginVersion(version)
	if err != nil {
		return nil, err
	}
	return resourcePackage(meta, name, version), nil
}

// goPluginVersion is a module version as a plugin version (resourcePackage adds the "v"
// a file's version may lack): a pseudo-version (a commit after a release) stands for
// that release, vX.Y.Z-1's patch; a pseudo-version with no release before it (v0.0.0-…,
// a replaced or untagged module) has none.
func goPluginVersion(version string) (string, error) {
	v, err := semver.ParseTolerant(version)
	if err != nil {
		return "", fmt.Errorf("%q is not a semver version", version)
	}
	if module.IsPseudoVersion(version) {
		if v.Major == 0 && v.Minor == 0 && v.Patch == 0 {
			return "", fmt.Errorf("%q is a pseudo-version with no release before it", version)
		}
		patch := v.Patch
		if patch > 0 {
			patch--
		}
		return fmt.Sprintf("v%d.%d.%d", v.Major, v.Minor, patch), nil
	}
	return version, nil
}
