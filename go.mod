module github.com/renkei-idwsf/renkei

go 1.26

require (
	github.com/beevik/etree v1.8.1
	github.com/mattermost/xml-roundtrip-validator v0.1.0
)

require github.com/stretchr/testify v1.11.1 // indirect
