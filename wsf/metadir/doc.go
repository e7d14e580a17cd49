// Package metadir is the ID-WSF trust directory over the operator's SAML
// metadata aggregate (ARCHITECTURE "Trust": one signed aggregate lists
// every entity with its keys and endpoints, and every role loads it).
//
// Directory implements wsf.Directory over a metadata set (*md.Set): a
// peer's keys are the signing certificates of every live role of its
// entity, whether an IdP, an SP or an ID-WSF web service. Which peers
// issue ID-WSF tokens, and which quirk profile applies to a peer, are the
// role's configuration, never inferred from metadata: the Discovery
// Service trusts the IdP and itself as token issuers, a WSP trusts the
// Discovery Service. Directory also answers what a token minter needs of
// its audience (Recipient: the encryption key; ARCHITECTURE "Tokens from
// the DS": a provider without one gets no token) and where a service
// listens (Service: its SOAP endpoints).
//
// # The ID-WSF role in metadata
//
// SAML metadata has no role descriptor type for an ID-WSF web service, and
// the ID-WSF 2.0 specifications define none: the digest (spec/IDWSF2.md)
// is silent, and ZXID and Lasso describe an ID-WSF provider as an ordinary
// SAML entity with keys, its endpoints travelling only in EPRs. Renkei's
// providers find each other in the aggregate, so the Discovery Service and
// every WSP publish a Renkei extension role: an md:RoleDescriptor whose
// xsi:type is {urn:renkei:metadata:1.0}WebServiceDescriptorType (schema
// renkei-metadata-1.0.xsd in xmlsec/xsd's embedded set, derived from
// md:RoleDescriptorType), with protocolSupportEnumeration
// urn:liberty:sb:2006-08 (the ID-WSF 2.0 SOAP binding). After the
// md:KeyDescriptor elements it lists the service types it offers
// (rmd:ServiceType, such as urn:liberty:disco:2006-08 for the Discovery
// Service) and then its SOAP endpoints (rmd:Endpoint, md:EndpointType with
// Binding urn:oasis:names:tc:SAML:2.0:bindings:SOAP; endpoints of any
// other binding are ignored). WebService writes and reads the role through
// md.RoleDescriptor (Content holds the children; md reads the endpoints
// into Endpoints).
//
// The package reads metadata only: it holds no store, no HTTP and no
// engine.
package metadir
