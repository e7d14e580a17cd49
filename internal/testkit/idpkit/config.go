package idpkit

import "github.com/renkei-idwsf/renkei/internal/idpconf"

// Config is the JSON configuration file of cmd/renkei-idp, in the one
// definition the binary reads (internal/idpconf). The kit fills it and
// Options.Tweak may change it before it is written.
type Config = idpconf.File

// The parts of Config, as internal/idpconf names them.
type (
	KeyPair        = idpconf.KeyPair
	MetadataSource = idpconf.MetadataSource
	DiscoveryRef   = idpconf.DiscoveryRef
	Lifetimes      = idpconf.Lifetimes
	SPQuirks       = idpconf.SPQuirks
)
