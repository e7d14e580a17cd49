//go:build cgo

package xsd

/*
#cgo pkg-config: libxml-2.0
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

// The accumulator keeps the first RENKEI_MAX_ERRS errors libxml2 reports and
// counts the rest. Each message is copied with a bound, so an attacker's
// oversized value cannot grow it without limit.
#define RENKEI_MAX_ERRS 32
#define RENKEI_MAX_MSG 1024

typedef struct {
	char *msg[RENKEI_MAX_ERRS];
	char *file[RENKEI_MAX_ERRS];
	int line[RENKEI_MAX_ERRS];
	int cut[RENKEI_MAX_ERRS];
	int n;
	int total;
} renkei_errs;

static void renkei_collect(void *data, xmlErrorPtr e) {
	renkei_errs *acc = (renkei_errs *)data;
	if (e == NULL || e->level < XML_ERR_ERROR) {
		return;
	}
	acc->total++;
	if (acc->n >= RENKEI_MAX_ERRS) {
		return;
	}
	const char *m = e->message != NULL ? e->message : "";
	int i = acc->n++;
	acc->msg[i] = strndup(m, RENKEI_MAX_MSG);
	acc->cut[i] = strnlen(m, RENKEI_MAX_MSG + 1) > RENKEI_MAX_MSG;
	acc->file[i] = e->file != NULL ? strndup(e->file, 4096) : NULL;
	acc->line[i] = e->line;
}

static void renkei_errs_free(renkei_errs *acc) {
	for (int i = 0; i < acc->n; i++) {
		free(acc->msg[i]);
		free(acc->file[i]);
	}
	acc->n = 0;
}

// renkei_validate validates doc with the validation context v, which one
// validation uses at a time (so that one schema serves many threads), and
// leaves v without the error collector.
static int renkei_validate(uintptr_t vp, uintptr_t doc, renkei_errs *acc) {
	xmlSchemaValidCtxtPtr v = (xmlSchemaValidCtxtPtr)vp;
	xmlSchemaSetValidStructuredErrors(v, (xmlStructuredErrorFunc)renkei_collect, acc);
	int rc = xmlSchemaValidateDoc(v, (xmlDocPtr)doc);
	xmlSchemaSetValidStructuredErrors(v, NULL, NULL);
	return rc;
}

// renkei_valid_ctxt returns a new validation context of schema (0 when
// libxml2 cannot make one); one context serves one validation at a time.
static uintptr_t renkei_valid_ctxt(uintptr_t schema) {
	return (uintptr_t)xmlSchemaNewValidCtxt((xmlSchemaPtr)schema);
}

static void renkei_free_valid_ctxt(uintptr_t v) { xmlSchemaFreeValidCtxt((xmlSchemaValidCtxtPtr)v); }

// renkei_compile_errors compiles path again only to collect the reasons of
// a failure, which the binding's ParseFromFile sends to stderr.
static int renkei_compile_errors(const char *path, renkei_errs *acc) {
	xmlSchemaParserCtxtPtr p = xmlSchemaNewParserCtxt(path);
	if (p == NULL) {
		return -1;
	}
	xmlSchemaSetParserStructuredErrors(p, (xmlStructuredErrorFunc)renkei_collect, acc);
	xmlSchemaPtr s = xmlSchemaParse(p);
	xmlSchemaFreeParserCtxt(p);
	if (s == NULL) {
		return 1;
	}
	xmlSchemaFree(s);
	return 0;
}

// renkei_unbound reports whether a name kept its prefix because the prefix
// was never declared: libxml2 only warns about that and goes on.
static int renkei_unbound(const xmlChar *name, xmlNsPtr ns) {
	return ns == NULL && name != NULL && strchr((const char *)name, ':') != NULL;
}

// renkei_check_doc returns 1 if doc has a DTD, 2 if an element or attribute
// uses an undeclared prefix, else 0. The walk is iterative, each node once.
static int renkei_check_doc(uintptr_t doc) {
	xmlDocPtr d = (xmlDocPtr)doc;
	if (d->intSubset != NULL || d->extSubset != NULL) {
		return 1;
	}
	xmlNodePtr n = xmlDocGetRootElement(d);
	while (n != NULL) {
		if (n->type == XML_ELEMENT_NODE) {
			if (renkei_unbound(n->name, n->ns)) {
				return 2;
			}
			for (xmlAttrPtr a = n->properties; a != NULL; a = a->next) {
				if (renkei_unbound(a->name, a->ns)) {
					return 2;
				}
			}
			if (n->children != NULL) {
				n = n->children;
				continue;
			}
		}
		while (n != NULL && n->next == NULL) {
			n = n->parent;
			if (n == NULL || n->type != XML_ELEMENT_NODE) {
				return 0;
			}
		}
		if (n != NULL) {
			n = n->next;
		}
	}
	return 0;
}

// renkei_parser returns a new parser context, 0 when libxml2 cannot make
// one. One context parses one document at a time; reused, it keeps its
// dictionary of the names already seen and its buffers.
static uintptr_t renkei_parser(void) { return (uintptr_t)xmlNewParserCtxt(); }

static void renkei_free_parser(uintptr_t p) { xmlFreeParserCtxt((xmlParserCtxtPtr)p); }

// renkei_parser_worn reports whether the context's dictionary has grown
// past names entries or bytes: a reused context keeps every name and ID
// it has seen, and long or many unique ones must not grow it for ever nor
// reach libxml2's own dictionary limit, past which parses fail.
static int renkei_parser_worn(uintptr_t pp, size_t names, size_t bytes) {
	xmlParserCtxtPtr p = (xmlParserCtxtPtr)pp;
	if (p->dict == NULL) {
		return 0;
	}
	return xmlDictSize(p->dict) > names || xmlDictGetUsage(p->dict) > bytes;
}

// The stages at which renkei_parse_validate stops.
#define RENKEI_VALIDATED 0
#define RENKEI_PARSE_FAILED 1
#define RENKEI_DTD 2
#define RENKEI_UNBOUND 3

// renkei_parse_validate parses the len bytes at buf with the parser
// context pp (without network access, entity substitution or DTD loading,
// and without messages on stderr; short text kept inside its node, which
// saves an allocation for each), refuses a DTD or an undeclared prefix
// (renkei_check_doc), validates the document with vp and frees it: one
// call into C for the whole check. The context is reset before returning
// (its dictionary kept): libxml2 copies buf into an input buffer that
// would otherwise stay on the context, with a pointer to buf, until the
// next parse. *stage says where it stopped; on a parse failure the
// parser's message is copied to perr.
static int renkei_parse_validate(uintptr_t pp, uintptr_t vp, const char *buf, int len,
		renkei_errs *acc, int *stage, char *perr, int perrlen) {
	xmlParserCtxtPtr p = (xmlParserCtxtPtr)pp;
	xmlDocPtr d = xmlCtxtReadMemory(p, buf, len, NULL, NULL,
		XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_COMPACT);
	if (d == NULL) {
		*stage = RENKEI_PARSE_FAILED;
		const char *m = p->lastError.message != NULL ? p->lastError.message : "no document";
		strncpy(perr, m, perrlen - 1);
		perr[perrlen - 1] = 0;
		xmlCtxtReset(p);
		return -1;
	}
	int rc = -1;
	switch (renkei_check_doc((uintptr_t)d)) {
	case 1:
		*stage = RENKEI_DTD;
		break;
	case 2:
		*stage = RENKEI_UNBOUND;
		break;
	default:
		*stage = RENKEI_VALIDATED;
		rc = renkei_validate(vp, (uintptr_t)d, acc);
	}
	xmlFreeDoc(d);
	xmlCtxtReset(p);
	return rc;
}
*/
import "C"

import (
	"unicode/utf8"
	"unsafe"
)

// The C accumulator keeps exactly MaxErrors messages: these two arrays have
// a negative length, which does not compile, if the sizes ever differ.
var (
	_ [MaxErrors - C.RENKEI_MAX_ERRS]struct{}
	_ [C.RENKEI_MAX_ERRS - MaxErrors]struct{}
)

// cInit initializes libxml2 once, before any concurrent use.
func cInit() { C.xmlInitParser() }

// cParseValidate parses doc with the parser context p, checks it as
// cCheckDoc does and validates it with v, in one call into C. stage is
// where it stopped (stageValidated, stageParseFailed, stageDTD,
// stageUnbound); perr is the parser's message when parsing failed.
func cParseValidate(p, v uintptr, doc []byte) (rc int, msgs []Message, omitted int, stage int, perr string) {
	if len(doc) == 0 {
		return -1, nil, 0, stageParseFailed, "empty document"
	}
	var acc C.renkei_errs
	defer C.renkei_errs_free(&acc)
	var st C.int
	var buf [256]C.char
	// doc holds no Go pointers, and C keeps no reference to it after the
	// call (cgo's pointer-passing rules).
	rc = int(C.renkei_parse_validate(C.uintptr_t(p), C.uintptr_t(v), (*C.char)(unsafe.Pointer(&doc[0])), C.int(len(doc)),
		&acc, &st, &buf[0], C.int(len(buf))))
	stage = int(st)
	if stage == stageParseFailed {
		return rc, nil, 0, stage, trimMessage(C.GoString(&buf[0]), false)
	}
	msgs = collected(&acc)
	return rc, msgs, int(acc.total) - len(msgs), stage, ""
}

// The stages at which cParseValidate stops.
const (
	stageValidated   = C.RENKEI_VALIDATED
	stageParseFailed = C.RENKEI_PARSE_FAILED
	stageDTD         = C.RENKEI_DTD
	stageUnbound     = C.RENKEI_UNBOUND
)

// cParser returns a new parser context, 0 if none.
func cParser() uintptr { return uintptr(C.renkei_parser()) }

// cFreeParser frees a context cParser made.
func cFreeParser(p uintptr) { C.renkei_free_parser(C.uintptr_t(p)) }

// cParserWorn reports whether p's dictionary holds more than names
// entries or bytes.
func cParserWorn(p uintptr, names, bytes int) bool {
	return C.renkei_parser_worn(C.uintptr_t(p), C.size_t(names), C.size_t(bytes)) != 0
}

// cValidCtxt returns a new validation context of schema, 0 if none.
func cValidCtxt(schema uintptr) uintptr { return uintptr(C.renkei_valid_ctxt(C.uintptr_t(schema))) }

// cFreeValidCtxt frees a context cValidCtxt made.
func cFreeValidCtxt(v uintptr) { C.renkei_free_valid_ctxt(C.uintptr_t(v)) }

// cCompileErrors compiles the schema at path and returns libxml2's messages.
func cCompileErrors(path string) []Message {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var acc C.renkei_errs
	defer C.renkei_errs_free(&acc)
	C.renkei_compile_errors(cpath, &acc)
	return collected(&acc)
}

// The findings of renkei_check_doc.
const (
	docOK      = 0
	docDTD     = 1 // an internal or external DTD subset
	docUnbound = 2 // an element or attribute prefix that no xmlns declares
)

func collected(acc *C.renkei_errs) []Message {
	n := int(acc.n)
	msgs := make([]Message, 0, n)
	for i := 0; i < n; i++ {
		m := Message{Line: int(acc.line[i]), Text: trimMessage(C.GoString(acc.msg[i]), acc.cut[i] != 0)}
		if acc.file[i] != nil {
			m.File = C.GoString(acc.file[i])
		}
		msgs = append(msgs, m)
	}
	return msgs
}

// trimMessage drops libxml2's trailing newline and, for a message cut at
// maxMessageBytes, the partial rune at the cut.
func trimMessage(s string, cut bool) string {
	if !cut {
		for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == ' ') {
			s = s[:len(s)-1]
		}
		return s
	}
	for i := 0; i < utf8.UTFMax && !utf8.ValidString(s); i++ {
		s = s[:len(s)-1]
	}
	return s + "… [message cut]"
}
