// Package buildinfo says which build of Shop a binary is. The image build
// stamps Version and Revision with the linker
// (-X github.com/shop-oss/shop/pkg/buildinfo.Version=...); a plain `go build`
// inside the repository falls back to the VCS data Go records.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Stamped by the linker (deploy/docker/gobuild.sh); empty in a plain build.
var (
	Version  string
	Revision string
)

// Info is a binary's build.
type Info struct {
	Version, Revision, GoVersion string
	// Modified is true when the working tree had uncommitted changes.
	Modified bool
}

// Get returns the build of the running binary.
func Get() Info {
	info := Info{Version: Version, Revision: Revision, GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && info.Revision == "":
				info.Revision = s.Value
			case s.Key == "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
	}
	if info.Version == "" {
		info.Version = "dev"
	}
	if info.Revision == "" {
		info.Revision = "unknown"
	}
	return info
}

// String is "<version> (<revision>[, modified], <go version>)".
func (i Info) String() string {
	rev := i.Revision
	if i.Modified {
		rev += ", modified"
	}
	return i.Version + " (" + rev + ", " + i.GoVersion + ")"
}
