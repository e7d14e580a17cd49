// Package lassoidp holds only tests: Debian's Lasso (python3-lasso, through
// internal/testkit/lasso) as the SP and the ECP client of Renkei's IdP, run
// as the real renkei-idp binary (internal/testkit/idpkit), with the user's
// virtual card reached through real PC/SC (internal/testkit/vcard) signing
// every TLS handshake with the card-login listener. Lasso is given our
// metadata exactly as served.
package lassoidp
