package main

import (
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// resourcePackage is the required package a plugin's metadata stands for (a
// pulumi-plugin.json, or a package.json's "pulumi" section), once each language's rule
// has resolved the plugin's name and version: the version with its "v", the metadata's
// server and parameterization, as every official host reports them.
func resourcePackage(meta *plugin.PulumiPluginJSON, name, version string) *pulumirpc.PackageDependency {
	if !strings.HasPrefix(version, "v") {
		version = "v" + version
	}
	dep := &pulumirpc.PackageDependency{Name: name, Version: version, Kind: "resource", Server: meta.Server}
	if p := meta.Parameterization; p != nil {
		dep.Parameterization = &pulumirpc.PackageParameterization{Name: p.Name, Version: p.Version, Value: p.Value}
	}
	return dep
}

// dependencyInfos is what a host answers GetProgramDependencies: the packages its
// toolchain (pip, the project's package manager) lists, by name and version.
func dependencyInfos(installed []plugin.DependencyInfo) []*pulumirpc.DependencyInfo {
	dependencies := make([]*pulumirpc.DependencyInfo, 0, len(installed))
	for _, pkg := range installed {
		dependencies = append(dependencies, &pulumirpc.DependencyInfo{Name: pkg.Name, Version: pkg.Version})
	}
	return dependencies
}
