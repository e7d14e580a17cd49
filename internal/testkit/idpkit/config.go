package idpkit

import "github.com/renkei-idwsf/renkei/internal/idpserver"

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
