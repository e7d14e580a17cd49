"""Shared pieces of the Lasso peers: configuration, the TLS listener that
the Go side hands over as file descriptor 3, and HTML forms."""

import html
import json
import socket
import ssl
import sys
from http.server import HTTPServer

import lasso

PAOS_TYPE = "application/vnd.paos+xml"


def load_config():
    with open(sys.argv[1]) as f:
        return json.load(f)


def signature_method(cfg):
    return {"rsa-sha256": lasso.SIGNATURE_METHOD_RSA_SHA256,
            "rsa-sha1": lasso.SIGNATURE_METHOD_RSA_SHA1}[cfg.get("signatureMethod") or "rsa-sha256"]


class Server(HTTPServer):
    """An HTTPServer on the listening socket inherited as fd 3, wrapped in
    TLS; a client certificate is requested but optional."""

    def __init__(self, cfg, handler):
        super().__init__(("127.0.0.1", 0), handler, bind_and_activate=False)
        self.socket.close()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cfg["tlsCert"], cfg["tlsKey"])
        if cfg.get("clientCA"):
            ctx.load_verify_locations(cfg["clientCA"])
            ctx.verify_mode = ssl.CERT_OPTIONAL
        self.socket = ctx.wrap_socket(socket.socket(fileno=3), server_side=True)
        self.cfg = cfg


def ready():
    sys.stdout.write("ready\n")
    sys.stdout.flush()


def post_form(url, fields):
    """The HTTP-POST binding page (SAML Bindings 3.5.4): hidden fields and a
    script that submits them."""
    inputs = "".join('<input type="hidden" name="%s" value="%s">' % (html.escape(k), html.escape(v))
                     for k, v in fields.items() if v)
    return ('<!DOCTYPE html><html><head><title>POST</title></head>'
            '<body onload="document.forms[0].submit()"><form method="post" action="%s">%s'
            '<noscript><input type="submit" value="Continue"></noscript></form></body></html>'
            % (html.escape(url), inputs)).encode()


def lasso_error(e):
    return {"error": "%s" % e, "code": getattr(e, "code", 0)}


def peer_subject(handler):
    try:
        cert = handler.connection.getpeercert()
    except (AttributeError, ValueError):
        return ""
    if not cert:
        return ""
    for rdn in cert.get("subject", ()):
        for k, v in rdn:
            if k == "commonName":
                return v
    return ""


def body_of(handler, limit=4 << 20):
    n = int(handler.headers.get("Content-Length") or 0)
    if n > limit:
        raise ValueError("body too large")
    return handler.rfile.read(n)
