"""Lasso's ECP (lasso.Ecp, SAML Profiles 4.2) as a client that does only
the message processing; the Go side carries the messages over HTTP(S), so
that the TLS handshake with the IdP (the card's signature) stays in Go.

Usage: ecp.py IDP-METADATA; one JSON object a line on stdin, one answer a
line on stdout:
  {"paos": ENVELOPE}          -> {"toIdP": ENVELOPE, "idpURL": ..., "responseConsumerURL": ..., "relayState": ...}
  {"idpResponse": ENVELOPE}   -> {"toSP": ENVELOPE, "acs": ..., "relayState": ...}
and {"error": TEXT, "code": N} when Lasso refuses a message.
"""

import json
import sys

import lasso


def idp_url(ecp, srv):
    """The IdP's SOAP SingleSignOnService, which Lasso finds in the IdP's
    metadata by entity ID (it leaves msgUrl empty; the choice of IdP is the
    ECP's, and this one knows a single IdP)."""
    if ecp.msgUrl:
        return ecp.msgUrl
    known = list(ecp.knownIdpEntityIdsSupportingEcp or ()) or list(srv.providers.keys())
    return ecp.getEndpointUrlByEntityId(known[0]) if len(known) == 1 else ""


def main():
    srv = lasso.Server()
    srv.addProvider(lasso.PROVIDER_ROLE_IDP, sys.argv[1], None, None)
    ecp = lasso.Ecp(srv)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for _ in range(2):
        line = sys.stdin.readline()
        if not line:
            return
        msg = json.loads(line)
        try:
            if "paos" in msg:
                ecp.processAuthnRequestMsg(msg["paos"])
                out = {"toIdP": ecp.msgBody, "idpURL": idp_url(ecp, srv),
                       "responseConsumerURL": ecp.responseConsumerUrl or "",
                       "relayState": ecp.msgRelayState or ""}
            else:
                ecp.processResponseMsg(msg["idpResponse"])
                out = {"toSP": ecp.msgBody, "acs": ecp.msgUrl or "", "relayState": ecp.msgRelayState or ""}
        except lasso.Error as e:
            out = {"error": "%s" % e, "code": getattr(e, "code", 0)}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()
        if "error" in out:
            return


if __name__ == "__main__":
    main()
