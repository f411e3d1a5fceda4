//go:build tools

// Package tools pins the Pulumi CLI's main package in this module, so that `go build
// github.com/pulumi/pulumi/pkg/v3/cmd/pulumi` from here builds the CLI at the version this
// go.mod requires: the same pkg/v3 and sdk/v3 as the language hosts in ./langhost.
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)
