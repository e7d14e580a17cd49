// Package idpserver assembles Renkei's SAML 2.0 Identity Provider from its
// configuration file: it reads the keys, certificates and CRLs the file
// names, opens the store, loads the metadata set, builds the idp engine
// (Web SSO, ECP, Single Logout, ManageNameID) and serves it on its two
// listeners, the main one and the card-login one, in one httpx.Group, with
// the background work a running IdP needs: the metadata refresh, the CRL
// files read again, expired rows collected.
//
// cmd/renkei-idp and the all-in-one demo (cmd/renkei) both call Build, so
// that the demo's IdP is the IdP an operator runs, endpoint for endpoint
// (ARCHITECTURE.md "Direction of dependencies": one assembly per role).
// The package lives outside idp/ so that the engine never imports files,
// stores and listeners, and under internal/ because it is wiring, not an
// API; it imports no test kit.
package idpserver
