// Package terminal is the reception terminal's engine (ARCHITECTURE
// "Reception terminal"): a hospital's desk where the patient presents the
// health-insurance card, and the staff see at once whether the patient
// is insured, then the patient's results at the other hospitals, and
// can link the hospital's own patient number to the patient.
//
// The terminal is the reception desk of the institution whose entityID
// its WSP serves under: an SP role of that entity with a PAOS consumer.
// Terminal.Login runs the ECP profile (SAML Profiles §4.2) with the
// terminal as its own enhanced client: the institution's signed
// AuthnRequest goes to the IdP's SOAP single sign-on service over a TLS
// connection whose client authentication the card performs (one
// signature on the card per login, never a resumed TLS session); the
// answer's ecp:Response must name the terminal's consumer, and the
// Response passes every check of wsc/sp. The Visit it returns holds the
// login and two WSC sessions of its discovery bootstrap, one per purpose
// (wsf.PurposeEligibility, wsf.PurposeTreatment), each stating its
// purpose on its disco:Query so that the DS's reception-desk rule
// applies: the card's presence is the consent.
//
//   - Visit.Eligibility asks the insurers' eligibility services;
//   - Visit.Records the lab results and prescriptions at the other
//     institutions (the institution's own are in its own system);
//   - Visit.Enrol sends the ManageNameID NewID of the hospital's patient
//     number (the IdP takes it only shortly after a card login at this
//     institution), then associates the institution's services at the
//     DS, with sb:Consent obtained;
//   - Visit.End drops every token at once, then sends a signed SOAP
//     LogoutRequest to the IdP.
//
// A login serves TokenLife (120 s by default) and is renewed by a fresh
// card handshake while the card stays in.
//
// Desk drives a Visit from the card reader (Reader; PCSC through pcscd):
// a card in asks for the PIN, a verified PIN logs in and shows the
// eligibility, then the other hospitals' results; the card out clears
// the Screen first, then ends the visit; an answer of a visit that is
// over is dropped, never shown. Staff (staff_http.go) is the staff page
// over the Desk, on loopback; HTTPTransport carries the SAML SOAP
// requests. The engine files import no HTTP package.
package terminal
