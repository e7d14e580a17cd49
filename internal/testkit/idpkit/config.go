package idpkit

import (
	"github.com/renkei-idwsf/renkei/internal/idpserver"
	kitproc "github.com/renkei-idwsf/renkei/internal/testkit/proc"
)

// Config is the JSON configuration file of cmd/renkei-idp, in the one
// definition the binary reads (internal/idpserver). The kit fills it and
// Options.Tweak may change it before it is written.
type Config = idpserver.File

// The parts of Config, as internal/idpserver names them.
type (
	KeyPair        = idpserver.KeyPair
	MetadataSource = idpserver.MetadataSource
	DiscoveryRef   = idpserver.DiscoveryRef
	Lifetimes      = idpserver.Lifetimes
	SPQuirks       = idpserver.SPQuirks
)

// Module and Command name what the kit builds.
const (
	Module  = kitproc.Module
	Command = Module + "/cmd/renkei-idp"
)

// Binary builds cmd/renkei-idp with tags, once per test process and tag
// set (internal/testkit/proc.Binary), and returns the executable's path.
func Binary(tags []string) (string, error) { return kitproc.Binary("./cmd/renkei-idp", tags) }
